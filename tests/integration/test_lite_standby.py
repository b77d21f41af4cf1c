"""lite_standby: hot standby of Lite Cluster nodes on the simulator's Kubernetes API."""
import json
import subprocess

import pytest

STANDBY = "modelarts.lite.lite_standby"
INFO = "modelarts.lite.lite_node_info"


@pytest.fixture(scope="module")
def pool(sim):
    return sim.seed([{"name": "standby-pool", "nodes": 4, "workloads": {"ready_nodes": True}}])["pools"][0]


def taint_keys(sim, pool_id, kube_name):
    node = json.loads(subprocess.run(
        ["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool_id, "get", "node", kube_name, "-o",
         "json"], capture_output=True, text=True, check=True).stdout)
    return sorted(t["key"] for t in node["spec"].get("taints") or [])


def test_declare_failover_again_and_info(ansible, sim, audit, pool):
    pool_id = pool["id"]
    active_a, active_b, spare_1, spare_2 = sorted(pool["nodes"])
    ips = pool["private_ips"]
    mark = audit.mark()
    preview = ansible.module(STANDBY, {"pool": pool_id, "standby_nodes": [spare_1, spare_2]}, check=True, diff=True)
    assert preview["changed"] is True and preview["schedulable_after"] == 2, preview
    assert audit.since(mark) == []
    declared = ansible.module(STANDBY, {"pool": pool_id, "standby_nodes": [spare_1, spare_2]})
    assert declared["roles"][spare_1] == "standby" and declared["schedulable_before"] == 4
    assert [e["api"] for e in audit.since(mark)] == ["k8s", "k8s"]
    mark = audit.mark()
    again = ansible.module(STANDBY, {"pool": pool_id, "standby_nodes": [spare_1, spare_2]})
    assert again["changed"] is False and audit.since(mark) == []

    # The replacement is the first Ready standby by Kubernetes node name (the private IP).
    spare_1, spare_2 = sorted((spare_1, spare_2), key=lambda name: ips[name])
    plan = ansible.module(STANDBY, {"pool": pool_id, "failed_node": active_a}, check=True)
    assert plan["failover"]["replacement"] == spare_1, plan
    assert [a["action"] for a in plan["actions"]] == ["promote_standby", "fence_faulty"]
    assert plan["schedulable_after"] >= plan["schedulable_before"]
    assert audit.since(mark) == [], "check mode gives the plan and changes nothing"

    done = ansible.module(STANDBY, {"pool": pool_id, "failed_node": active_a})
    assert done["changed"] is True and done["failover"]["schedulable_after"] == 2, done
    entries = audit.since(mark)
    assert [e["path"].rsplit("/", 1)[-1] for e in entries] == [ips[spare_1], ips[active_a]], "promote, then fence"
    assert taint_keys(sim, pool_id, ips[active_a]) == ["modelarts.lite/faulty"]
    assert "modelarts.lite/hot-standby" not in taint_keys(sim, pool_id, ips[spare_1])

    mark = audit.mark()
    repeat = ansible.module(STANDBY, {"pool": pool_id, "failed_node": active_a})
    assert repeat["changed"] is False and repeat["failover"]["done_before"] is True
    assert repeat["failover"]["replacement"] == spare_1 and audit.since(mark) == []
    shown = {n["name"]: n for n in ansible.module(INFO, {"pool": pool_id})["nodes"]}
    assert {t["key"] for t in shown[active_a]["taints"]} == {"modelarts.lite/faulty"}
    assert shown[spare_1]["taints"] == [] and shown[active_b]["schedulable"] is True


def test_failover_without_a_ready_standby_is_refused(ansible, sim, audit):
    small = sim.seed([{"name": "standby-none", "nodes": 2, "workloads": {"ready_nodes": True}}])["pools"][0]
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(STANDBY, {"pool": small["id"], "failed_node": small["nodes"][0]}, check=check)
        assert result.get("failed") is True and "no Ready standby node" in result["msg"], result
    bad = ansible.module(STANDBY, {"pool": small["id"], "standby_nodes": ["no-such-node"]})
    assert bad.get("failed") is True and "no node 'no-such-node'" in bad["msg"]
    assert audit.since(mark) == []
