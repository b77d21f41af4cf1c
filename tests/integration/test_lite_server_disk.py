"""lite_server_disk against the simulator's EVS: grow a system disk, one server or a whole super node."""
import time

import pytest

DISK = "modelarts.lite.lite_server_disk"
INFO = "modelarts.lite.lite_server_info"
SUPERNODE_INFO = "modelarts.lite.supernode_info"


def seed(sim, **body):
    return sim.admin("POST", "seed", body)


def root_size(ansible, name):
    servers = ansible.module(INFO, {"name": name})["servers"]
    assert len(servers) == 1, servers
    return next(v["size"] for v in servers[0]["volumes"] if v["type"] == "ROOT")


def evs_calls(entries):
    return [(e["api"], e["method"], e["path"].rsplit("/", 2)[-2], e["body"]) for e in entries]


def test_one_server_check_apply_again_info(ansible, sim, audit):
    seed(sim, servers=[{"name": "disk-one", "root_volume_size": 200}])
    mark = audit.mark()
    preview = ansible.module(DISK, {"name": "disk-one", "size": 300}, check=True, diff=True)
    assert preview["changed"] is True, preview
    assert [(d["previous_size"], d["size"], d["changed"]) for d in preview["disks"]] == [(200, 300, True)]
    assert preview["diff"] == {"before": {"disk-one": 200}, "after": {"disk-one": 300}}
    assert audit.since(mark) == [], "check mode must not mutate"

    grown = ansible.module(DISK, {"name": "disk-one", "size": 300})
    assert grown["changed"] is True and grown["disks"][0]["job_id"], grown
    volume_id = grown["disks"][0]["volume_id"]
    assert evs_calls(audit.since(mark)) == [("evs", "POST", volume_id, {"os-extend": {"new_size": 300}})]
    assert root_size(ansible, "disk-one") == 300

    mark = audit.mark()
    again = ansible.module(DISK, {"name": "disk-one", "size": 300})
    assert again["changed"] is False and again["disks"][0]["changed"] is False
    assert audit.since(mark) == [], "an identical second run must send no mutating call"


def test_every_server_of_a_super_node_in_one_task(ansible, sim, audit):
    seed(sim, supernodes=[{"name": "disk-sn", "servers": 3, "root_volume_size": 200}])
    mark = audit.mark()
    grown = ansible.module(DISK, {"supernode": "disk-sn", "size": 400})
    assert grown["changed"] is True, grown
    assert [d["server_name"] for d in grown["disks"]] == ["disk-sn-1", "disk-sn-2", "disk-sn-3"]
    calls = evs_calls(audit.since(mark))
    assert sorted(c[2] for c in calls) == sorted(d["volume_id"] for d in grown["disks"])
    assert all(c[0] == "evs" and c[3] == {"os-extend": {"new_size": 400}} for c in calls)
    node = ansible.module(SUPERNODE_INFO, {"name": "disk-sn"})["supernodes"][0]
    assert node["system_disk_sizes"] == [400], node

    mark = audit.mark()
    again = ansible.module(DISK, {"supernode": "disk-sn", "size": 400})
    assert again["changed"] is False and audit.since(mark) == []


def test_yearly_monthly_disk_is_paid_automatically(ansible, sim, audit):
    seed(sim, servers=[{"name": "disk-prepaid", "charging_mode": "PRE_PAID", "root_volume_size": 200}])
    mark = audit.mark()
    grown = ansible.module(DISK, {"name": "disk-prepaid", "size": 250})
    assert grown["changed"] is True and grown["disks"][0]["prepaid"] is True and grown["disks"][0]["order_id"]
    assert [c[3] for c in evs_calls(audit.since(mark))] == [
        {"os-extend": {"new_size": 250}, "bssParam": {"isAutoPay": "true"}}]
    assert root_size(ansible, "disk-prepaid") == 250


@pytest.fixture(scope="module")
def refusal_world(sim):
    seed(sim, servers=[{"name": "disk-big", "root_volume_size": 500}, {"name": "disk-error", "status": "ERROR"},
                       {"name": "disk-moving", "status": "STOPPING"}],
         supernodes=[{"name": "disk-mixed", "servers": 2, "root_volume_size": 200}])


@pytest.mark.parametrize("args, message", [
    ({"name": "disk-big", "size": 300}, "smaller than the system disk of server disk-big (500 GB"),
    ({"name": "disk-big", "size": 1025}, "size must be between 1 and 1024 GB"),
    ({"name": "disk-error", "size": 300}, "disk-error is ERROR; EVS grows a system disk only while"),
    ({"name": "disk-moving", "size": 300}, "disk-moving is STOPPING"),
    ({"supernode": "disk-mixed", "size": 100}, "smaller than the system disk of server disk-mixed-1"),
    ({"name": "no-such", "size": 300}, "no Lite Server has the name or id 'no-such'"),
    ({"supernode": "no-such", "size": 300}, "no super node has the name or id 'no-such'"),
])
def test_refused_cases_change_nothing(ansible, audit, refusal_world, args, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(DISK, args, check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert audit.since(mark) == [], "a refused input must not reach any API as a mutation"


def test_one_refused_server_stops_the_whole_super_node(ansible, sim, audit):
    nodes = seed(sim, supernodes=[{"name": "disk-partial", "servers": 2, "root_volume_size": 200}])["supernodes"]
    second = nodes[0]["servers"][1]["id"]
    sim.set_faults([{"kind": "fail_operation", "operation": "stop", "node": "disk-partial-2"}])
    try:
        assert sim.request("PUT", "/v1/{project_id}/dev-servers/%s/stop" % second)[0] == 200
        for _attempt in range(100):
            if sim.request("GET", "/v1/{project_id}/dev-servers/%s" % second)[1]["status"] == "STOP_FAILED":
                break
            time.sleep(0.1)
    finally:
        sim.clear_faults()
    mark = audit.mark()
    result = ansible.module(DISK, {"supernode": "disk-partial", "size": 300})
    assert result.get("failed") is True and "disk-partial-2 is STOP_FAILED" in result["msg"], result
    assert audit.since(mark) == [], "the first server must not grow when the second is refused"
    assert root_size(ansible, "disk-partial-1") == 200


def test_failed_expansion_reports_and_keeps_the_size(ansible, sim):
    seed(sim, servers=[{"name": "disk-fault", "root_volume_size": 200}])
    sim.set_faults([{"kind": "fail_operation", "operation": "extend", "node": "disk-fault"}])
    try:
        result = ansible.module(DISK, {"name": "disk-fault", "size": 300})
    finally:
        sim.clear_faults()
    assert result.get("failed") is True and result["error_type"] == "OperationFailedError", result
    assert "EVS job" in result["msg"] and "failed" in result["msg"]
    assert root_size(ansible, "disk-fault") == 200
    retried = ansible.module(DISK, {"name": "disk-fault", "size": 300})
    assert retried["changed"] is True and root_size(ansible, "disk-fault") == 300
