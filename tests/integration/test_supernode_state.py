"""supernode_power and supernode_os: a whole super node's power and OS with its own calls."""
import time

import pytest

POWER = "modelarts.lite.supernode_power"
OS = "modelarts.lite.supernode_os"
INFO = "modelarts.lite.supernode_info"
NEW_IMAGE = "EulerOS-2.10-Arm-64bit-for-Snt9B23-HPS-with-CANN7.0"
NEW_IMAGE_ID = "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a06"


def seed(sim, **body):
    return sim.admin("POST", "seed", body)


def info(ansible, name):
    nodes = ansible.module(INFO, {"name": name})["supernodes"]
    assert len(nodes) == 1, nodes
    return nodes[0]


def calls(entries):
    return [(e["method"], "/".join(e["path"].split("/")[-2:])) for e in entries]


def test_power_check_apply_again_info(ansible, sim, audit):
    hyper_id = seed(sim, supernodes=[{"name": "sn-power", "servers": 2}])["supernodes"][0]["id"]
    mark = audit.mark()
    preview = ansible.module(POWER, {"name": "sn-power", "state": "stopped"}, check=True, diff=True)
    assert preview["changed"] is True and preview["actions"] == ["stop"], preview
    assert [s["status"] for s in preview["supernode"]["servers"]] == ["STOPPED", "STOPPED"]
    assert preview["diff"]["before"] == {"sn-power-1": "RUNNING", "sn-power-2": "RUNNING"}
    assert audit.since(mark) == []

    stopped = ansible.module(POWER, {"name": "sn-power", "state": "stopped"})
    assert stopped["changed"] is True and [s["status"] for s in stopped["supernode"]["servers"]] == ["STOPPED"] * 2
    assert calls(audit.since(mark)) == [("PUT", "%s/stop" % hyper_id)], "one super node call, not one per server"

    mark = audit.mark()
    again = ansible.module(POWER, {"name": "sn-power", "state": "stopped"})
    assert again["changed"] is False and again["actions"] == [] and audit.since(mark) == []
    assert {s["status"] for s in info(ansible, "sn-power")["servers"]} == {"STOPPED"}

    started = ansible.module(POWER, {"name": hyper_id, "state": "running"})
    assert started["changed"] is True and calls(audit.since(mark)) == [("PUT", "%s/start" % hyper_id)]
    assert {s["status"] for s in info(ansible, "sn-power")["servers"]} == {"RUNNING"}


def test_os_check_apply_again_info(ansible, sim, audit):
    hyper_id = seed(sim, supernodes=[{"name": "sn-os", "servers": 2}])["supernodes"][0]["id"]
    args = {"name": "sn-os", "image": NEW_IMAGE, "allow_erase_system_disk": True, "stop_if_running": True}
    mark = audit.mark()
    preview = ansible.module(OS, args, check=True, diff=True)
    assert preview["changed"] is True, preview
    assert [c["server_name"] for c in preview["os_changes"]] == ["sn-os-1", "sn-os-2"]
    assert all(len(c["erased_volumes"]) == 1 and c["stops_server"] for c in preview["os_changes"])
    assert set(preview["diff"]["after"].values()) == {NEW_IMAGE_ID}
    assert audit.since(mark) == []

    switched = ansible.module(OS, args)
    assert switched["changed"] is True, switched
    assert calls(audit.since(mark)) == [("PUT", "%s/stop" % hyper_id), ("POST", "%s/changeos" % hyper_id)]
    changeos = audit.since(mark)[-1]
    assert changeos["body"] == {"image_id": NEW_IMAGE_ID, "key_pair_name": "kp-sim"}

    mark = audit.mark()
    again = ansible.module(OS, args)
    assert again["changed"] is False and audit.since(mark) == []
    servers = info(ansible, "sn-os")["servers"]
    assert {(s["status"], s["image_id"]) for s in servers} == {("RUNNING", NEW_IMAGE_ID)}


@pytest.fixture(scope="module")
def guarded(sim):
    nodes = seed(sim, supernodes=[{"name": "sn-guard-os", "servers": 2}, {"name": "sn-broken", "servers": 2}])
    broken = nodes["supernodes"][1]["servers"][1]["id"]
    sim.set_faults([{"kind": "fail_operation", "operation": "stop", "node": "sn-broken-2"}])
    try:
        assert sim.request("PUT", "/v1/{project_id}/dev-servers/%s/stop" % broken)[0] == 200
        for _attempt in range(100):
            if sim.request("GET", "/v1/{project_id}/dev-servers/%s" % broken)[1]["status"] == "STOP_FAILED":
                break
            time.sleep(0.1)
    finally:
        sim.clear_faults()


@pytest.mark.parametrize("module, args, message", [
    (OS, {"name": "sn-guard-os", "image": NEW_IMAGE, "stop_if_running": True},
     "erases the system disk of all 2 servers"),
    (OS, {"name": "sn-guard-os", "image": NEW_IMAGE, "allow_erase_system_disk": True},
     "are RUNNING; an OS change needs every server STOPPED"),
    (OS, {"name": "sn-guard-os", "image": "no-such-image", "allow_erase_system_disk": True},
     "is not offered for server sn-guard-os-1"),
    (OS, {"name": "sn-broken", "image": NEW_IMAGE, "allow_erase_system_disk": True, "stop_if_running": True},
     "sn-broken-2 is STOP_FAILED"),
    (POWER, {"name": "sn-broken", "state": "running"}, "sn-broken-2 (STOP_FAILED) cannot start"),
    (POWER, {"name": "no-such-sn", "state": "running"}, "no super node has the name or id 'no-such-sn'"),
])
def test_refused_cases_change_nothing(ansible, audit, guarded, module, args, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(module, args, check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert audit.since(mark) == [], "a refused input must not reach the API as a mutation"
