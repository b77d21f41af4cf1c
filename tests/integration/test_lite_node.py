"""lite_node and lite_node_info against the simulator: every transition, idempotence, check mode,
refusals that change nothing, the PDB-blocked drain, the single-node driver upgrade, and the proof
that an operator's own cordon survives our uncordon."""
import json
import subprocess

import pytest

OLD_DRIVER = "7.1.0.9.220-23.0.6"
NEW_DRIVER = "7.5.0.5.220-24.1.0.3"
CORDONED_BY = "modelarts.lite/cordoned-by"


def seed_pool(sim, name, nodes=3, workloads=None, driver=None):
    spec = {"name": name, "nodes": nodes, "workloads": dict({"ready_nodes": True}, **(workloads or {}))}
    if driver:
        spec["driver_version"] = driver
    return sim.seed([spec])["pools"][0]


def kubectl(sim, pool_id, *args):
    proc = subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool_id, *args],
                          capture_output=True, text=True, check=True)
    return proc.stdout


def kube_node(sim, pool_id, name):
    return json.loads(kubectl(sim, pool_id, "get", "node", name, "-o", "json"))


def pods_on(sim, pool_id, node):
    listing = json.loads(kubectl(sim, pool_id, "get", "pods", "-A", "-o", "json",
                                 "--field-selector", "spec.nodeName=%s" % node))
    return ["%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]) for p in listing["items"]]


def run_tasks(ansible, module, args_list):
    """Several tasks of one module in one playbook run (one ansible start-up); their results in order."""
    playbook = ansible.workdir / "many_tasks.yml"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "case %d" % i, module: args, "ignore_errors": True} for i, args in enumerate(args_list)],
    }]))
    output = ansible.playbook(playbook, expect_rc=(0, 2))
    return [task["hosts"]["localhost"] for task in output["plays"][0]["tasks"]]


def mutating(entries):
    return [(e["api"], e["method"], e["path"]) for e in entries]


@pytest.fixture(scope="module")
def web(sim):
    """A pool of 3 nodes: a 3-replica Deployment with a PDB that lets one pod go at a time."""
    return seed_pool(sim, "nodes-web", 3, {"deployments": [{"name": "web", "replicas": 3, "pdb": {"minAvailable": 2}}]})


def test_drain_then_schedulable_is_idempotent(ansible, sim, audit, web):
    node = web["nodes"][0]
    kube_name = web["private_ips"][node]
    args = {"pool": web["name"], "nodes": [node], "state": "drained"}

    check = ansible.module("modelarts.lite.lite_node", args, check=True)
    assert check.get("changed") is True, check.get("msg")
    planned = [e["pod"] for e in check["evictions"]]
    assert planned and all(p.startswith("default/web-") for p in planned), check["evictions"]
    assert check["evictions"][0]["pdb"] == "default/web-pdb"

    mark = audit.mark()
    result = ansible.module("modelarts.lite.lite_node", args, diff=True)
    assert result["changed"] is True, result
    assert result["node"]["schedulable"] is False and result["node"]["cordoned_by"] == "modelarts.lite"
    assert sorted(e["pod"] for e in result["evictions"]) == sorted(planned)
    assert result["diff"]["before"][node]["schedulable"] is True
    assert result["diff"]["after"][node]["schedulable"] is False
    writes = mutating(audit.since(mark))
    assert all(api == "k8s" for api, _m, _p in writes), writes
    # Only DaemonSet pods remain on the node.
    assert all("device-plugin" in p for p in pods_on(sim, web["id"], kube_name))
    annotations = kube_node(sim, web["id"], kube_name)["metadata"]["annotations"]
    assert annotations[CORDONED_BY] == "modelarts.lite"

    mark = audit.mark()
    again = ansible.module("modelarts.lite.lite_node", args)
    assert again["changed"] is False, again
    assert audit.since(mark) == []

    back = ansible.module("modelarts.lite.lite_node", {"pool": web["name"], "nodes": [kube_name],
                                                       "state": "schedulable"})
    assert back["changed"] is True and back["node"]["schedulable"] is True
    node_after = kube_node(sim, web["id"], kube_name)
    assert not node_after["spec"].get("unschedulable")
    assert CORDONED_BY not in (node_after["metadata"].get("annotations") or {})
    mark = audit.mark()
    assert ansible.module("modelarts.lite.lite_node", {"pool": web["name"], "nodes": [node],
                                                       "state": "schedulable"})["changed"] is False
    assert audit.since(mark) == []


def test_pdb_blocked_drain_fails_clearly_and_leaves_node_cordoned(ansible, sim, audit):
    pool = seed_pool(sim, "nodes-guarded", 2, {"deployments": [{"name": "guarded", "replicas": 2, "pdb": "blocking"}]})
    node = pool["nodes"][0]
    kube_name = pool["private_ips"][node]
    since = len(sim.history())
    result = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "drained",
                                                         "drain_timeout": 2})
    assert result.get("failed") is True, result
    assert result["error_type"] == "DrainBlockedError"
    assert "guarded-pdb" in result["msg"] and "default/guarded-" in result["msg"], result["msg"]
    assert "stays cordoned" in result["msg"]
    assert result["details"]["cordoned"] is True and result["details"]["blocked"][0]["pdb"] == "default/guarded-pdb"
    node_after = kube_node(sim, pool["id"], kube_name)
    assert node_after["spec"]["unschedulable"] is True
    assert node_after["metadata"]["annotations"][CORDONED_BY] == "modelarts.lite"
    events = sim.history(since)
    assert not [e for e in events if e.get("event") == "eviction"], "a blocking PDB must never be violated"
    assert [e for e in events if e.get("event") == "eviction_refused"]
    # The node is reported as cordoned by us by the info module.
    info = ansible.module("modelarts.lite.lite_node_info", {"pool": pool["id"], "nodes": [node], "with_pods": True})
    assert info["nodes"][0]["schedulable"] is False and info["nodes"][0]["cordoned_by"] == "modelarts.lite"
    assert any(p.startswith("default/guarded-") for p in info["nodes"][0]["drain_would_evict"])


def test_operator_cordon_survives_our_uncordon(ansible, sim, audit):
    pool = seed_pool(sim, "nodes-operator", 2)
    node = pool["nodes"][1]
    kube_name = pool["private_ips"][node]
    kubectl(sim, pool["id"], "cordon", kube_name)
    drained = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "drained"})
    assert drained["changed"] is False and drained["node"]["cordoned_by"] == "other", drained
    mark = audit.mark()
    result = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "schedulable"})
    assert result["changed"] is False and result["node"]["schedulable"] is False
    assert any("cordoned by somebody else" in w for w in result.get("warnings", [])), result
    assert audit.since(mark) == []
    assert kube_node(sim, pool["id"], kube_name)["spec"]["unschedulable"] is True
    released = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "schedulable",
                                                           "release_foreign_cordon": True})
    assert released["changed"] is True and released["node"]["schedulable"] is True


def test_single_node_driver_upgrade(ansible, sim, audit):
    workloads = {"deployments": [{"name": "svc", "replicas": 2, "pdb": {"maxUnavailable": 1}}]}
    pool = seed_pool(sim, "nodes-driver", 2, workloads, driver=OLD_DRIVER)
    node = pool["nodes"][0]
    kube_name = pool["private_ips"][node]
    args = {"pool": pool["name"], "nodes": [node], "driver_version": NEW_DRIVER}

    mark = audit.mark()
    refused = ansible.module("modelarts.lite.lite_node", args)
    assert refused.get("failed") and "allow_driver_upgrade" in refused["msg"], refused
    not_offered = ansible.module("modelarts.lite.lite_node", dict(args, driver_version="9.9.9-bogus",
                                                                  allow_driver_upgrade=True))
    assert not_offered.get("failed") and not_offered.get("error_type") == "ValidationError", not_offered
    assert "not offered" in not_offered["msg"]
    check = ansible.module("modelarts.lite.lite_node", dict(args, allow_driver_upgrade=True), check=True)
    assert check["changed"] is True and check["node"]["driver_version"] == NEW_DRIVER
    assert audit.since(mark) == [], "refusals and check mode must not write"

    since = len(sim.history())
    done = ansible.module("modelarts.lite.lite_node", dict(args, allow_driver_upgrade=True))
    assert done.get("changed") is True, done.get("msg")
    assert done["node"]["driver_version"] == NEW_DRIVER
    assert done["node"]["schedulable"] is True and done["node"]["ready"] is True
    assert done["node"]["npu_allocatable"] == done["node"]["npu_capacity"] == 8
    node_after = kube_node(sim, pool["id"], kube_name)
    assert node_after["metadata"]["labels"]["os.modelarts.node/npu.firmware.driver.version"] == NEW_DRIVER
    assert CORDONED_BY not in (node_after["metadata"].get("annotations") or {})
    # Order: cordoned before the upgrade took it down, schedulable only after it was Ready again.
    events = [e for e in sim.history(since) if e.get("node") == kube_name and e.get("kind") == "k8s"]
    kinds = [e["event"] for e in events]
    assert kinds.index("node_unschedulable") < kinds.index("node_not_ready") < kinds.index("node_ready") \
        < kinds.index("node_schedulable"), kinds
    other = sim.request("GET", "/v2/{project_id}/pools/%s/nodes/%s" % (pool["id"], pool["nodes"][1]))[1]
    assert other["status"]["driver"]["version"] == OLD_DRIVER

    mark = audit.mark()
    again = ansible.module("modelarts.lite.lite_node", dict(args, allow_driver_upgrade=True))
    assert again["changed"] is False and audit.since(mark) == []


def test_refusals_change_nothing(ansible, sim, audit):
    single = seed_pool(sim, "nodes-single", 1)
    pool = seed_pool(sim, "nodes-refuse", 2)
    ip = pool["private_ips"][pool["nodes"][0]]
    mark = audit.mark()
    cases = [
        ({"pool": single["id"], "nodes": [single["nodes"][0]], "state": "absent", "allow_delete": True},
         "no node"),
        ({"pool": pool["id"], "nodes": [pool["nodes"][0]], "state": "absent"}, "allow_delete"),
        ({"pool": pool["id"], "nodes": ["no-such-node"], "state": "cordoned"}, "no node 'no-such-node'"),
        ({"pool": "no-such-pool", "nodes": ["x"], "state": "cordoned"}, "does not exist"),
        ({"pool": pool["id"], "nodes": [ip], "action": "reboot"}, "allow_reboot"),
        ({"pool": pool["id"], "nodes": [ip], "action": "reset"}, "allow_reset"),
        ({"pool": pool["id"], "nodes": [ip], "labels": {"kubernetes.io/hostname": "x"}}, "cannot be set"),
        ({"pool": pool["id"], "nodes": [ip], "state": "cordoned", "kube_context": "nope"}, "no context 'nope'"),
        ({"pool": pool["id"], "nodes": [ip], "state": "drained", "drain_timeout": 0}, "drain_timeout"),
    ]
    results = run_tasks(ansible, "modelarts.lite.lite_node", [case[0] for case in cases])
    for (args, expected), result in zip(cases, results):
        assert result.get("failed") is True, (args, result)
        assert expected in result["msg"], (args, result["msg"])
    assert audit.since(mark) == []


def test_unmanaged_and_emptydir_pods_need_opt_in(ansible, sim, audit):
    pool = seed_pool(sim, "nodes-local", 2)
    node = pool["nodes"][0]
    ip = pool["private_ips"][node]
    # A bare pod with an emptyDir, pinned to the node: refused twice over, then allowed.
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "scratch", "namespace": "default"},
                "spec": {"nodeName": ip, "containers": [{"name": "c", "image": "pause"}],
                         "volumes": [{"name": "tmp", "emptyDir": {}}]}}
    subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool["id"], "create", "--validate=false",
                    "-f", "-"], input=json.dumps(manifest), text=True, check=True, capture_output=True)
    mark = audit.mark()
    refused = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "drained"})
    assert refused.get("failed") and "default/scratch" in refused["msg"], refused
    assert "delete_emptydir_data=true" in refused["msg"]
    # kubectl's filter order: with local storage allowed, the missing controller still refuses.
    unmanaged = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "drained",
                                                            "delete_emptydir_data": True})
    assert unmanaged.get("failed") and "force=true" in unmanaged["msg"], unmanaged
    assert audit.since(mark) == [], "refused before the cordon"
    assert not kube_node(sim, pool["id"], ip)["spec"].get("unschedulable")
    done = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "drained",
                                                       "force": True, "delete_emptydir_data": True})
    assert done.get("changed") is True, done.get("msg")
    assert [e["pod"] for e in done["evictions"]] == ["default/scratch"]


def test_absent_removes_a_drained_node(ansible, sim, audit):
    pool = seed_pool(sim, "nodes-absent", 2, {"deployments": [{"name": "api", "replicas": 2}]})
    node = pool["nodes"][0]
    check = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "absent",
                                                        "allow_delete": True}, check=True)
    assert check["changed"] is True and check["evictions"]
    result = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "state": "absent",
                                                         "allow_delete": True})
    assert result.get("changed") is True, result.get("msg")
    assert result["node"]["state"] == "absent"
    status, _body, _h = sim.request("GET", "/v2/{project_id}/pools/%s/nodes/%s" % (pool["id"], node))
    assert status == 404
    mark = audit.mark()
    again = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [pool["nodes"][1]],
                                                        "state": "absent", "allow_delete": True})
    assert again.get("failed") and "no node" in again["msg"]
    assert audit.since(mark) == []


def test_labels_taints_and_selector(ansible, sim, audit):
    pool = seed_pool(sim, "nodes-labels", 3)
    args = {"pool": pool["id"], "node_selector": "os.modelarts.node/nodepoolname",
            "labels": {"team": "llm"}, "taints": [{"key": "dedicated", "value": "llm", "effect": "NoSchedule"}]}
    result = ansible.module("modelarts.lite.lite_node", args, diff=True)
    assert result.get("changed") is True, result.get("msg")
    assert len(result["nodes"]) == 3 and "node" not in result
    for node in result["nodes"]:
        assert node["labels"]["team"] == "llm"
        assert {"key": "dedicated", "value": "llm", "effect": "NoSchedule"} in node["taints"]
    mark = audit.mark()
    assert ansible.module("modelarts.lite.lite_node", args)["changed"] is False
    assert audit.since(mark) == []
    removed = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [pool["nodes"][0]],
                                                          "labels": {"team": None}, "purge_taints": True})
    assert removed["changed"] is True
    assert "team" not in removed["node"]["labels"] and removed["node"]["taints"] == []


def test_reboot_action(ansible, sim, audit):
    pool = seed_pool(sim, "nodes-reboot", 2)
    node = pool["nodes"][0]
    result = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "action": "reboot",
                                                         "allow_reboot": True})
    assert result.get("changed") is True, result.get("msg")
    assert result["node"]["ready"] is True and result["node"]["schedulable"] is True
    posts = [e["path"] for e in audit.since(0) if e["api"] == "modelarts" and e["path"].endswith("batch-reboot")]
    assert posts, "the reboot went through the ModelArts API"


def test_node_info_lists_every_node_once(ansible, sim, web):
    sim.reset_counters()
    info = ansible.module("modelarts.lite.lite_node_info", {"pool": web["name"]})
    assert info["changed"] is False and len(info["nodes"]) == 3
    for node in info["nodes"]:
        assert node["ready"] is True and node["npu_capacity"] == 8 and node["driver_version"] and node["node_pool"]
        assert not [key for key in node["labels"] if "kubernetes.io/" in key or key.startswith("os.modelarts")], \
            "only user labels by default: %s" % node["labels"]
        assert "pods" not in node and "kube_node" not in node
    assert sim.counters()["k8s"] == {"GET": 1}, "one Node list and no pod list by default"

    sim.reset_counters()
    info = ansible.module("modelarts.lite.lite_node_info", {"pool": web["name"], "with_pods": True, "detail": True})
    for node in info["nodes"]:
        assert any("device-plugin" in p for p in node["pods"])
        assert not any("device-plugin" in p for p in node["drain_would_evict"])
        assert node["kube_node"]["metadata"]["name"] == node["kube_name"]
        assert node["modelarts_node"]["metadata"]["name"] == node["name"]
    assert sim.counters()["k8s"] == {"GET": 2}, "one Node list and one pod list"
