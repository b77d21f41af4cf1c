"""The Ascend output parsers read the formats of ascend-facts.md (rendered by the simulator's stand-ins)."""
import pytest

from ansible_collections.modelarts.lite.plugins.filter import ascend
from modelarts_sim import ascend as tools

A2_SAMPLE = """\
+------------------------------------------------------------------------------------------------+
| npu-smi 24.1.rc1                 Version: 24.1.rc1                                             |
+---------------------------+---------------+----------------------------------------------------+
| NPU   Name                | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|
| Chip                      | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |
+===========================+===============+====================================================+
| 0     910B3               | OK            | 93.6        40                0    / 0             |
| 0                         | 0000:C1:00.0  | 0           0    / 0          3382 / 65536         |
+===========================+===============+====================================================+
| 1     910B3               | Warning       | 90.2        52                0    / 0             |
| 0                         | 0000:C2:00.0  | 12          0    / 0          3382 / 65536         |
+===========================+===============+====================================================+
+---------------------------+---------------+----------------------------------------------------+
| NPU     Chip              | Process id    | Process name             | Process memory(MB)      |
+===========================+===============+====================================================+
| No running processes found in NPU 0                                                            |
+===========================+===============+====================================================+
"""


def facts(**extra):
    return dict(tools.DEFAULT_FACTS, **extra)


def test_a2_table_without_phy_id():
    info = ascend.npu_smi_info(A2_SAMPLE)
    assert info["version"] == "24.1.rc1" and len(info["chips"]) == 2
    first, second = info["chips"]
    assert first == {"npu": 0, "chip": 0, "phy_id": 0, "name": "910B3", "health": "OK", "power_w": 93.6,
                     "temp_c": 40, "bus_id": "0000:C1:00.0", "aicore_pct": 0, "memory_used_mb": 0,
                     "memory_total_mb": 0, "hbm_used_mb": 3382, "hbm_total_mb": 65536}
    assert second["health"] == "Warning" and second["aicore_pct"] == 12 and second["phy_id"] == 1


def test_a3_table_has_sixteen_dies_and_the_sick_one():
    _code, text = tools.npu_smi(["info"], facts(chip="snt9b23", faults={"unhealthy_chips": [5]}))
    chips = ascend.npu_smi_info(text)["chips"]
    assert [c["phy_id"] for c in chips] == list(range(16))
    assert [c["phy_id"] for c in chips if c["health"] != "OK"] == [5]
    assert chips[1]["power_w"] is None and chips[1]["npu"] == 0 and chips[1]["chip"] == 1


def test_garbage_is_an_error_not_an_empty_list():
    with pytest.raises(ascend.AscendParseError, match="found no NPU"):
        ascend.npu_smi_info("command not found")


def test_fields_and_diagnosis():
    _code, board = tools.npu_smi(["info", "-t", "board", "-i", "2"], facts())
    fields = ascend.npu_smi_fields(board)
    assert fields["Software Version"] == "24.1.rc3.10" and fields["Firmware Version"] == "7.5.0.109.220"
    code, text = tools.ascend_dmi(["--dg", "-i", "device,aicore,hbm", "-q"], facts(faults={"unhealthy_chips": [3]}))
    report = ascend.ascend_dmi_diagnosis(text)
    assert code == 1 and report["items"] == {"device": "FAIL", "aicore": "FAIL", "hbm": "FAIL"}
    assert report["devices"]["aicore"] == {3: "FAIL"} and report["summary"]["Arch"] == "Ascend910_93"
    _code, text = tools.ascend_dmi(["--bw", "-t", "p2p", "-ds", "0", "-dd", "2", "-q"],
                                   facts(faults={"hccs_link_down": [1]}))
    assert ascend.ascend_dmi_bandwidth(text) == tools.HCCS_DEGRADED_GBPS
