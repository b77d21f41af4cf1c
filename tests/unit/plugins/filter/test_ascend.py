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
    degraded = facts(faults={"hccs_link_down": [1]})
    _code, text = tools.ascend_dmi(["--bw", "-t", "p2p", "-ds", "0", "-dd", "1", "-q"], degraded)
    assert ascend.ascend_dmi_bandwidth(text) == tools.HCCS_DEGRADED_GBPS
    for device, rate in ((1, tools.HCCS_DEGRADED_GBPS), (2, tools.HCCS_GBPS)):
        _code, text = tools.ascend_dmi(["--bw", "-t", "h2d", "-d", str(device), "-q"], degraded)
        assert ascend.ascend_dmi_bandwidth(text) == rate


def test_health_facts_flag_sick_hot_and_ecc_chips():
    sick = facts(chip="snt9b23", faults={"unhealthy_chips": [3]})
    _code, table = tools.npu_smi(["info"], sick)
    details = [tools.npu_smi(["info", "-t", "board", "-i", "0"], sick)[1]]
    for chip in ascend.npu_smi_info(table)["chips"]:
        details += ["@@chip %d" % chip["phy_id"],
                    tools.npu_smi(["info", "-t", "ecc", "-i", str(chip["npu"]), "-c", str(chip["chip"])], sick)[1]]
    health = ascend.npu_health_facts(table, "\n".join(details))
    assert health["chip_count"] == 16 and health["dies_per_npu"] == 2 and health["firmware_version"] == "7.5.0.109.220"
    assert health["unhealthy_chips"] == [3] and health["healthy"] is False
    assert health["chips"][3]["problems"] == ["health Critical", "4 HBM double-bit ECC errors"]
    cool = ascend.npu_health_facts(table, "\n".join(details), max_temperature=40, max_hbm_double_bit_errors=10)
    assert 3 in cool["unhealthy_chips"] and 0 not in cool["unhealthy_chips"]  # chip 0 runs at 36 C


TOOLKIT = "package_name=Ascend-cann-toolkit\nversion=%s\narch=aarch64\nos=linux\n"


@pytest.mark.parametrize("chip, driver, cann, supported", [
    ("snt9b23", "24.1.rc3.10", "8.1.RC1", True), ("snt9b23", "25.2.1", "8.5.0", True),
    ("snt9b23", "24.1.rc3.4", "8.1.RC1", False), ("snt9b23", "24.1.rc2", "8.2.RC1", False),
    ("snt9b", "25.2.1", "8.2.RC1", False), ("snt9b23", "24.1.rc3.10", "8.0.0", False),
    ("snt9b23", "24.1.rc3.10", "8.0.RC3", False), ("snt9b23", "24.1.rc3.10", None, False)])
def test_hccl_retry_support(chip, driver, cann, supported):
    _code, table = tools.npu_smi(["info"], facts(chip=chip, driver=driver))
    support = ascend.hccl_retry_support(table, TOOLKIT % cann if cann else "")
    assert support["supported"] is supported
    assert ("Atlas A3" in support["reason"]) is (chip == "snt9b")
    assert support["cann_version"] == (cann or "")
    if chip == "snt9b23" and not driver.startswith("24.1.rc2") and driver != "24.1.rc3.4" and not supported:
        assert "needs CANN 8.1.RC1 or later" in support["reason"]
        assert ("runs CANN %s" % cann if cann else "has no CANN toolkit") in support["reason"]


def test_driver_version_order():
    ordered = ["23.0.6", "24.1.rc2", "24.1.rc3", "24.1.rc3.5", "24.1.rc3.10", "24.1.0", "24.1.0.3", "25.0.rc1.1"]
    assert sorted(ordered, key=ascend.driver_version_key) == ordered
    cann = ["7.0.0", "8.0.RC3", "8.0.0", "8.1.RC1", "8.2.RC1", "8.5.0"]
    assert sorted(reversed(cann), key=ascend.driver_version_key) == cann


def test_stress_test_summary_names_the_failed_link():
    report = {"server": "sn-a-1", "passed": False, "results": [
        {"item": "hccs_links", "target": "device 0", "status": "PASS", "value": 196.0, "detail": ""},
        {"item": "hccs_links", "target": "device 5", "status": "FAIL", "value": 3.1, "detail": "3.1 GB/s < 150 GB/s"},
        {"item": "storage_io", "target": "/data", "status": "PASS", "value": 900.0, "detail": ""},
        {"item": "npu_compute", "target": "aicore", "status": "SKIP", "value": "SKIP", "detail": ""}]}
    summary = ascend.stress_test_summary(report)
    assert summary == {"server": "sn-a-1", "passed": False, "failed": ["hccs_links device 5: 3.1 GB/s < 150 GB/s"],
                       "items": {"hccs_links": "FAIL", "storage_io": "PASS", "npu_compute": "SKIP"}}
