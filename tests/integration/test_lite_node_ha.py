"""lite_node ha_redundant: HA redundancy of Lite Cluster nodes through batch-update, idempotent from the label."""
import pytest

NODE = "modelarts.lite.lite_node"
INFO = "modelarts.lite.lite_node_info"
HA_LABEL = "os.modelarts.node/ha.redundant.enabled"


@pytest.fixture(scope="module")
def pool(sim):
    return sim.seed([{"name": "ha-pool", "nodes": 3, "workloads": {"ready_nodes": True}}])["pools"][0]


def modelarts_label(sim, pool_id, node):
    record = sim.request("GET", "/v2/{project_id}/pools/%s/nodes/%s" % (pool_id, node))[1]
    return record["metadata"]["labels"][HA_LABEL]


def test_ha_on_check_apply_again_info_then_off(ansible, sim, audit, pool):
    pool_id, node = pool["id"], pool["nodes"][0]
    args = {"pool": pool_id, "nodes": [node], "ha_redundant": True, "ha_redundant_effect": "NoExecute"}
    mark = audit.mark()
    preview = ansible.module(NODE, args, check=True, diff=True)
    assert preview["changed"] is True and preview["node"]["ha_redundant"] is True, preview
    assert preview["diff"]["before"][node]["ha_redundant"] is False
    assert preview["evictions"] == [] and audit.since(mark) == []

    applied = ansible.module(NODE, args)
    assert applied["changed"] is True and applied["node"]["ha_redundant"] is True, applied
    entries = audit.since(mark)
    assert [(e["method"], e["path"].rsplit("/", 1)[-1], e["body"]) for e in entries] == [
        ("POST", "batch-update", {"nodeNames": [node], "action": "openHaRedundant", "haRedundantEffect": "NoExecute"})]
    assert modelarts_label(sim, pool_id, node) == "true"

    mark = audit.mark()
    again = ansible.module(NODE, args)
    assert again["changed"] is False and audit.since(mark) == []
    shown = ansible.module(INFO, {"pool": pool_id, "nodes": [node]})["nodes"][0]
    assert shown["ha_redundant"] is True and shown["schedulable"] is True

    off = ansible.module(NODE, {"pool": pool_id, "nodes": [node], "ha_redundant": False})
    assert off["changed"] is True and off["node"]["ha_redundant"] is False
    assert [e["body"] for e in audit.since(mark)] == [{"nodeNames": [node], "action": "closeHaRedundant"}]
    assert modelarts_label(sim, pool_id, node) == "false"


def test_several_nodes_only_the_ones_that_differ(ansible, sim, audit, pool):
    pool_id = pool["id"]
    ansible.module(NODE, {"pool": pool_id, "nodes": [pool["nodes"][1]], "ha_redundant": True})
    mark = audit.mark()
    result = ansible.module(NODE, {"pool": pool_id, "nodes": pool["nodes"][1:], "ha_redundant": True})
    assert result["changed"] is True
    assert [e["body"]["nodeNames"] for e in audit.since(mark)] == [[pool["nodes"][2]]]


@pytest.mark.parametrize("extra, message", [
    ({"ha_redundant": False, "ha_redundant_effect": "NoSchedule"}, "applies when HA redundancy is switched on"),
    ({"ha_redundant": True, "state": "absent", "allow_delete": True}, "ha_redundant cannot be set on it"),
])
def test_refused_cases_change_nothing(ansible, audit, pool, extra, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(NODE, dict(extra, pool=pool["id"], nodes=[pool["nodes"][0]]), check=check)
        assert result.get("failed") is True and message in result["msg"], result
    assert audit.since(mark) == []


def test_simulator_refuses_a_bad_effect(sim, pool):
    body = {"nodeNames": [pool["nodes"][0]], "action": "openHaRedundant", "haRedundantEffect": "Sometimes"}
    status, answer, _headers = sim.request("POST", "/v2/{project_id}/pools/%s/nodes/batch-update" % pool["id"],
                                           body=body)
    assert status == 400 and "haRedundantEffect" in answer["error_msg"]
