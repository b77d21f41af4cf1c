"""Our node operations and the standard Kubernetes tools see the same cluster the same way:
kubectl, kubernetes.core.k8s_info and kubernetes.core.k8s_drain against the simulator."""
import json
import subprocess

CORDONED_BY = "modelarts.lite/cordoned-by"


def kubectl(sim, pool_id, *args):
    return subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool_id, *args],
                          capture_output=True, text=True, check=True).stdout


def test_kubectl_sees_our_cordon_and_our_uncordon_sees_kubectls(ansible, sim):
    pool = sim.seed([{"name": "interop-kubectl", "nodes": 2, "workloads": {"ready_nodes": True}}])["pools"][0]
    first, second = (pool["private_ips"][n] for n in pool["nodes"])
    ours = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [first], "state": "cordoned"})
    assert ours.get("changed") is True, ours.get("msg")
    table = kubectl(sim, pool["id"], "get", "nodes", "--no-headers")
    assert any(line.startswith(first) and "SchedulingDisabled" in line for line in table.splitlines()), table
    annotation = kubectl(sim, pool["id"], "get", "node", first, "-o",
                         "jsonpath={.metadata.annotations.modelarts\\.lite/cordoned-by}")
    assert annotation == "modelarts.lite"

    kubectl(sim, pool["id"], "cordon", second)
    info = ansible.module("modelarts.lite.lite_node_info", {"pool": pool["id"], "with_pods": False})
    by_ip = {n["kube_name"]: n for n in info["nodes"]}
    assert by_ip[first]["cordoned_by"] == "modelarts.lite" and by_ip[second]["cordoned_by"] == "other"

    both = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [first, second],
                                                       "state": "schedulable"})
    assert both["changed"] is True
    assert {n["kube_name"]: n["schedulable"] for n in both["nodes"]} == {first: True, second: False}
    assert "SchedulingDisabled" in [line for line in kubectl(sim, pool["id"], "get", "nodes", "--no-headers")
                                    .splitlines() if line.startswith(second)][0]


def test_kubernetes_core_k8s_info_and_k8s_drain(ansible, sim, tmp_path):
    pool = sim.seed([{"name": "interop-core", "nodes": 2, "workloads": {
        "ready_nodes": True, "deployments": [{"name": "app", "replicas": 2}]}}])["pools"][0]
    target = pool["private_ips"][pool["nodes"][0]]
    playbook = tmp_path / "core.yml"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/kubernetes.core.k8s": {"kubeconfig": sim.env["kubeconfig"], "context": pool["id"]}},
        "tasks": [
            {"name": "drain with k8s_drain", "kubernetes.core.k8s_drain": {
                "name": target, "state": "drain",
                "delete_options": {"ignore_daemonsets": True, "wait_timeout": 30}}, "register": "drained"},
            {"name": "read the node back", "kubernetes.core.k8s_info": {"kind": "Node", "name": target},
             "register": "node"},
        ]}]))
    output = ansible.playbook(playbook)
    results = [t["hosts"]["localhost"] for t in output["plays"][0]["tasks"]]
    assert results[0].get("changed") is True, results[0]
    node = results[1]["resources"][0]
    assert node["spec"]["unschedulable"] is True
    assert CORDONED_BY not in (node["metadata"].get("annotations") or {})

    # k8s_drain's cordon is somebody else's: our info says so, and our uncordon leaves it alone.
    info = ansible.module("modelarts.lite.lite_node_info", {"pool": pool["id"], "nodes": [target], "with_pods": True})
    assert info["nodes"][0]["cordoned_by"] == "other"
    assert not info["nodes"][0]["drain_would_evict"], "k8s_drain already evicted the app pods"
    back = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [target], "state": "schedulable"})
    assert back["changed"] is False and back["node"]["schedulable"] is False
