"""supernode_scale and supernode_info against the simulator."""
import pytest

SCALE = "modelarts.lite.supernode_scale"
INFO = "modelarts.lite.supernode_info"


def seed(sim, **body):
    return sim.admin("POST", "seed", body)


def supernode(sim, name, **spec):
    return seed(sim, supernodes=[dict(spec, name=name)])["supernodes"][0]


def info(ansible, name):
    nodes = ansible.module(INFO, {"name": name})["supernodes"]
    assert len(nodes) == 1, nodes
    return nodes[0]


def test_scale_lifecycle(ansible, sim, audit):
    node = supernode(sim, "sn-life", servers=2)
    mark = audit.mark()
    preview = ansible.module(SCALE, {"name": "sn-life", "count": 3}, check=True, diff=True)
    assert preview["changed"] is True and preview["plan"] == {"add": 1, "remove": [], "stop_jobs": []}
    assert preview["diff"]["before"]["server_count"] == 2 and preview["diff"]["after"]["server_count"] == 3
    assert audit.since(mark) == []

    grown = ansible.module(SCALE, {"name": "sn-life", "count": 3})
    assert grown["changed"] is True and grown["supernode"]["server_count"] == 3, grown
    assert {s["status"] for s in grown["supernode"]["servers"]} == {"RUNNING"}
    posted = [e for e in audit.since(mark) if e["path"].endswith("/live-scale-up")]
    assert len(posted) == 1 and posted[0]["body"]["flavor"] == grown["supernode"]["flavor"]
    assert posted[0]["body"]["root_volume"]["size"] == 200

    mark = audit.mark()
    again = ansible.module(SCALE, {"name": "sn-life", "count": 3, "system_disk_size": 200})
    assert again["changed"] is False and audit.since(mark) == []
    assert info(ansible, node["id"])["server_count"] == 3

    refused = ansible.module(SCALE, {"name": "sn-life", "count": 2})
    assert refused.get("failed") is True and "allow_scale_down=true" in refused["msg"]
    assert audit.since(mark) == []
    newest = grown["supernode"]["servers"][-1]
    shrunk = ansible.module(SCALE, {"name": "sn-life", "count": 2, "allow_scale_down": True})
    assert shrunk["changed"] is True and shrunk["plan"]["remove"] == [{"id": newest["id"], "name": newest["name"]}]
    assert info(ansible, "sn-life")["server_count"] == 2


@pytest.fixture(scope="module")
def guarded(sim):
    node = supernode(sim, "sn-guard", servers=2)
    supernode(sim, "sn-soldout", servers=1, flavor="modelarts.hps.npu.arm.8snt9b3.d")
    return node


@pytest.mark.parametrize("args, message", [
    ({"name": "sn-guard", "count": 0}, "keeps at least one server"),
    ({"name": "sn-guard", "count": 3, "flavor": "modelarts.hps.npu.arm.8snt9b3.d"}, "keeps one specification"),
    ({"name": "sn-guard", "system_disk_size": 150}, "can only grow, never shrink"),
    ({"name": "sn-guard", "system_disk_size": 400}, "grow them through EVS with modelarts.lite.lite_server_disk"),
    ({"name": "sn-guard", "remove_servers": ["sn-guard-1", "sn-guard-2"], "allow_scale_down": True},
     "without servers"),
    ({"name": "sn-guard", "remove_servers": ["sn-soldout-1"], "allow_scale_down": True}, "is not in super node"),
    ({"name": "sn-guard", "remove_servers": ["sn-guard-1"], "count": 2, "allow_scale_down": True}, "disagrees"),
    ({"name": "sn-soldout", "count": 2}, "is sold out"),
    ({"name": "sn-none", "count": 2}, "no super node has the name or id 'sn-none'"),
])
def test_refused_input_changes_nothing(ansible, audit, guarded, args, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(SCALE, args, check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert audit.since(mark) == []


def test_running_jobs_block_scale_down_unless_stopped_safely(ansible, sim, audit):
    node = supernode(sim, "sn-jobs", servers=3)
    first, second, third = [s["id"] for s in node["servers"]]
    job_alone = seed(sim, server_jobs=[{"name": "alone", "servers": [first], "seconds": 10 ** 6}])["server_jobs"][0]
    job_wide = seed(sim, server_jobs=[{"name": "wide", "servers": [second, third], "seconds": 10 ** 6}])
    mark = audit.mark()
    blocked = ansible.module(SCALE, {"name": "sn-jobs", "remove_servers": ["sn-jobs-1"], "allow_scale_down": True})
    assert blocked.get("failed") is True and "jobs are running" in blocked["msg"]
    assert job_alone["id"] in blocked["msg"] and "stop_running_jobs=true" in blocked["msg"]
    spanning = ansible.module(SCALE, {"name": "sn-jobs", "remove_servers": ["sn-jobs-2"], "allow_scale_down": True,
                                      "stop_running_jobs": True})
    assert spanning.get("failed") is True and "also run on servers that stay" in spanning["msg"]
    assert job_wide["server_jobs"][0]["id"] in spanning["msg"]
    assert audit.since(mark) == []

    removed = ansible.module(SCALE, {"name": "sn-jobs", "remove_servers": ["sn-jobs-1"], "allow_scale_down": True,
                                     "stop_running_jobs": True})
    assert removed["changed"] is True and removed["plan"]["stop_jobs"] == [job_alone["id"]], removed
    assert [e["method"] for e in audit.since(mark)] == ["DELETE", "POST"]
    assert info(ansible, "sn-jobs")["server_count"] == 2
    wide_job = sim.request("GET", "/v1/{project_id}/dev-servers/jobs/" + job_wide["server_jobs"][0]["id"])[1]
    assert {t["status"] for t in wide_job["tasks"]} == {"PROCESSING"}


def test_count_prefers_idle_servers(ansible, sim):
    node = supernode(sim, "sn-idle", servers=3)
    newest = node["servers"][-1]
    seed(sim, server_jobs=[{"name": "on-newest", "servers": [newest["id"]], "seconds": 10 ** 6}])
    result = ansible.module(SCALE, {"name": "sn-idle", "count": 2, "allow_scale_down": True})
    assert result["changed"] is True and result["plan"]["stop_jobs"] == []
    assert newest["id"] not in [r["id"] for r in result["plan"]["remove"]]


def test_failed_scale_up_is_reported(ansible, sim):
    supernode(sim, "sn-fault", servers=1)
    sim.set_faults([{"kind": "fail_operation", "operation": "scale", "node": "sn-fault"}])
    try:
        result = ansible.module(SCALE, {"name": "sn-fault", "count": 2})
    finally:
        sim.clear_faults()
    assert result.get("failed") is True and result["error_type"] == "OperationFailedError"
    assert "CREATE_FAILED" in result["msg"] and "remove_servers" in result["msg"]
