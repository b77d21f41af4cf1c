"""lite_server_os against the simulator: the system-disk-erasing operations and their guards."""
import pytest

OS = "modelarts.lite.lite_server_os"
INFO = "modelarts.lite.lite_server_info"
CURRENT = "EulerOS-2.10-Arm-rc3-64bit-for-Snt9B-BareMetal-with-CANN7.0"
TARGET = "HCE2.0-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0"


def one_server(sim, name, **spec):
    return sim.admin("POST", "seed", {"servers": [dict(spec, name=name)]})["servers"][0]["id"]


def show(sim, server_id):
    return sim.request("GET", "/v1/{project_id}/dev-servers/" + server_id)[1]


def test_switch_lifecycle(ansible, sim, audit):
    """check mode shows what is erased -> apply (stops first) -> apply again -> info confirms."""
    server_id = one_server(sim, "os-switch")
    raw = show(sim, server_id)
    root = [v for v in raw["volumes"] if v["type"] == "ROOT"][0]
    args = {"name": "os-switch", "image": TARGET, "allow_erase_system_disk": True, "stop_if_running": True}
    mark = audit.mark()
    preview = ansible.module(OS, args, check=True, diff=True)
    change = preview["os_change"]
    assert preview["changed"] is True and change["stops_server"] is True
    assert change["erased_volumes"] == [{"type": "ROOT", "size": root["size"], "evs_type": root["evs_type"],
                                         "evs_id": root["evs_id"]}]
    assert [v["type"] for v in change["kept_volumes"]] == ["DATA"]
    assert change["from_image"]["name"] == CURRENT and change["to_image"]["name"] == TARGET
    assert preview["diff"]["after"]["image_name"] == TARGET
    assert audit.since(mark) == []

    history_mark = len(sim.history())
    switched = ansible.module(OS, args)
    assert switched["changed"] is True and switched["server"]["image_name"] == TARGET, switched
    assert switched["server"]["status"] == "RUNNING"
    assert [e["path"].rsplit("/", 1)[-1] for e in audit.since(mark)] == ["stop", "changeos"]
    assert audit.since(mark)[1]["body"] == {"key_pair_name": "kp-sim", "image_id": switched["server"]["image_id"]}
    assert [h["erased_volume"] for h in sim.history(history_mark) if h.get("erased_volume")] == [root["evs_id"]]

    mark = audit.mark()
    again = ansible.module(OS, args)
    assert again["changed"] is False and again["os_change"] == {}
    assert audit.since(mark) == []
    assert ansible.module(INFO, {"name": "os-switch"})["servers"][0]["image_name"] == TARGET


def test_reset_runs_each_time_with_its_opt_in(ansible, sim, audit):
    one_server(sim, "os-reset", status="STOPPED")
    args = {"name": "os-reset", "operation": "reset", "allow_erase_system_disk": True, "user_data": "echo hi"}
    preview = ansible.module(OS, args, check=True)
    assert preview["changed"] is True and preview["os_change"]["to_image"]["name"] == CURRENT
    mark = audit.mark()
    reset = ansible.module(OS, args)
    assert reset["changed"] is True and reset["server"]["status"] == "RUNNING"
    assert [e["path"].rsplit("/", 1)[-1] for e in audit.since(mark)] == ["reinstallos"]
    assert audit.since(mark)[0]["body"]["user_data"] == "ZWNobyBoaQ=="
    refused = ansible.module(OS, {"name": "os-reset", "operation": "reset"})
    assert refused.get("failed") is True and "allow_erase_system_disk=true" in refused["msg"]


@pytest.fixture(scope="module")
def running_server(sim):
    return one_server(sim, "os-guard")


@pytest.mark.parametrize("args, message", [
    ({"image": TARGET}, "erases its system disk (ROOT volume"),
    ({"image": TARGET, "allow_erase_system_disk": True}, "needs it STOPPED"),
    ({"image": "no-such-image", "allow_erase_system_disk": True}, "is not offered for server os-guard"),
    ({"image": "EulerOS-2.9-Arm-64bit-for-Snt9B-BareMetal-deprecated"}, "only ACTIVE images"),
    ({"image": "HCE2.0-Arm-64bit-for-Snt9B23-HPS-with-CANN8.0"}, "is not offered"),
    ({"operation": "create_image"}, "Image Management Service (IMS)"),
    ({"operation": "switch"}, "operation=switch needs image"),
    ({"operation": "reset", "image": TARGET, "allow_erase_system_disk": True}, "use operation=switch"),
])
def test_refused_input_changes_nothing(ansible, audit, running_server, args, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(OS, dict(args, name="os-guard"), check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert audit.since(mark) == []


def test_erase_refusal_names_the_volumes(ansible, sim, running_server):
    root = [v for v in show(sim, running_server)["volumes"] if v["type"] == "ROOT"][0]
    result = ansible.module(OS, {"name": "os-guard", "image": TARGET})
    assert root["evs_id"] in result["msg"] and TARGET in result["msg"]
    assert result["details"]["os_change"]["erased_volumes"][0]["evs_id"] == root["evs_id"]


def test_failed_switch_says_what_to_do_next(ansible, sim):
    one_server(sim, "os-fault", status="STOPPED")
    sim.set_faults([{"kind": "fail_operation", "operation": "changeos", "node": "os-fault"}])
    try:
        result = ansible.module(OS, {"name": "os-fault", "image": TARGET, "allow_erase_system_disk": True})
    finally:
        sim.clear_faults()
    assert result.get("failed") is True and "CHANGINGOS_FAILED" in result["msg"]
    assert "lite_server_os" in result["msg"]
    retried = ansible.module(OS, {"name": "os-fault", "image": TARGET, "allow_erase_system_disk": True})
    assert retried["changed"] is True and retried["server"]["image_name"] == TARGET
