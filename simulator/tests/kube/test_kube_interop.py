"""Interop with the real clients over HTTPS: the machine's kubectl and the python kubernetes client."""
import json
import time

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from modelarts_sim.kube import labels as L

WEB = {"deployments": [{"name": "web", "replicas": 3, "pdb": {"minAvailable": 2}, "empty_dir": True}],
       "pods": [{"name": "bare", "node": "192.168.0.10", "empty_dir": True}]}


def pods_on(server, pool, node):
    result = server.kubectl(pool, "get", "pods", "-A", "--field-selector", f"spec.nodeName={node}", "-o", "json")
    return [p for p in json.loads(result.stdout)["items"] if not p["metadata"].get("deletionTimestamp")]


def test_kubectl_get_and_describe(kube_server):
    pool = kube_server.new_pool(seed=WEB)
    wide = kube_server.kubectl(pool, "get", "nodes", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert "INTERNAL-IP" in wide[0] and "KERNEL-VERSION" in wide[0]
    assert [line.split()[:2] for line in wide[1:]] == [[f"192.168.0.{i}", "Ready"] for i in (10, 11, 12)]
    selector = f"{L.NODE_POOL}=np-train,{L.ACCELERATOR} in (ascend-1980)"
    labelled = kube_server.kubectl(pool, "get", "nodes", "-l", selector,
                                   "-o", "name").stdout.split()
    assert labelled == [f"node/192.168.0.{i}" for i in (10, 11, 12)]
    described = kube_server.kubectl(pool, "describe", "node", "192.168.0.10").stdout
    assert f"{L.DRIVER_VERSION}=7.5.0.5.220-24.1.0.3" in described
    assert f"{L.NPU_RESOURCE}:  8" in described and "default                     bare" in described
    assert "Kubelet Version:            v1.31" in described


def test_kubectl_label_taint_cordon_drain_uncordon(kube_server):
    pool = kube_server.new_pool(seed=WEB)
    node = "192.168.0.10"
    kube_server.kubectl(pool, "label", "node", node, "maintenance=planned")
    kube_server.kubectl(pool, "taint", "node", node, "maintenance=planned:NoSchedule")
    kube_server.kubectl(pool, "cordon", node)
    spec = json.loads(kube_server.kubectl(pool, "get", "node", node, "-o", "json").stdout)
    assert spec["metadata"]["labels"]["maintenance"] == "planned" and spec["spec"]["unschedulable"] is True
    assert {(t["key"], t["effect"]) for t in spec["spec"]["taints"]} == {
        ("maintenance", "NoSchedule"), (L.TAINT_UNSCHEDULABLE, "NoSchedule")}
    drained = kube_server.kubectl(pool, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                                  "--timeout=30s")
    assert f"node/{node} drained" in drained.stdout and "evicted" in drained.stdout
    remaining = pods_on(kube_server, pool, node)
    assert [p["metadata"]["ownerReferences"][0]["kind"] for p in remaining] == ["DaemonSet"]
    # The deployment got its replica back on another node; the bare pod is gone for good.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        deployment = json.loads(kube_server.kubectl(pool, "get", "deploy", "web", "-o", "json").stdout)
        if deployment["status"].get("readyReplicas") == 3:
            break
        time.sleep(0.2)
    assert deployment["status"]["readyReplicas"] == 3
    assert kube_server.kubectl(pool, "get", "pod", "bare", check=False).returncode != 0
    kube_server.kubectl(pool, "uncordon", node)
    kube_server.kubectl(pool, "taint", "node", node, "maintenance-")
    spec = json.loads(kube_server.kubectl(pool, "get", "node", node, "-o", "json").stdout)
    assert not spec["spec"].get("unschedulable") and not spec["spec"].get("taints")
    events = [h["event"] for h in kube_server.world.histories if h.get("pool_id") == pool and h.get("node") == node]
    assert events.index("node_unschedulable") < events.index("eviction") < events.index("node_schedulable")
    mutations = [a for a in kube_server.world.audits if f"/k8s/{pool}/" in a["path"]]
    assert {a["method"] for a in mutations} == {"PATCH", "POST"}
    assert sum(1 for a in mutations if a["path"].endswith("/eviction")) == 2


def test_kubectl_drain_blocked_by_pdb_times_out_without_violating_it(kube_server):
    pool = kube_server.new_pool(seed={"deployments": [{"name": "guarded", "replicas": 3, "pdb": "blocking"}]})
    node = "192.168.0.11"
    before = pods_on(kube_server, pool, node)
    assert any(p["metadata"]["namespace"] == "default" for p in before)
    started = time.monotonic()
    result = kube_server.kubectl(pool, "drain", node, "--ignore-daemonsets", "--timeout=2s", check=False, timeout=60)
    assert result.returncode != 0 and time.monotonic() - started < 30
    assert "Cannot evict pod as it would violate the pod's disruption budget." in result.stderr
    assert "global timeout reached" in result.stderr
    assert [p["metadata"]["name"] for p in pods_on(kube_server, pool, node)] == \
        [p["metadata"]["name"] for p in before]
    pdb = json.loads(kube_server.kubectl(pool, "get", "pdb", "guarded-pdb", "-o", "json").stdout)
    assert pdb["status"]["currentHealthy"] == 3 and pdb["status"]["disruptionsAllowed"] == 0
    refused = [h for h in kube_server.world.histories if h.get("pool_id") == pool and h["event"] == "eviction_refused"]
    assert refused and not [h for h in kube_server.world.histories
                            if h.get("pool_id") == pool and h["event"] == "eviction"]


@pytest.fixture
def client(kube_server):
    pool = kube_server.new_pool(seed=WEB)
    api_client = kubernetes.config.new_client_from_config(config_file=kube_server.kubeconfig, context=pool)
    yield pool, kubernetes.client.CoreV1Api(api_client), kubernetes.client.PolicyV1Api(api_client)
    api_client.close()


@pytest.fixture
def stopped_clock(kube_server):
    """Stop the cluster's clock for one test, so a loaded machine cannot move it between steps."""
    rate = kube_server.world.time_scale
    kube_server.world.set_time_scale(0)
    yield
    kube_server.world.set_time_scale(rate)


def test_python_client_nodes_and_evictions(client, kube_server, stopped_clock):
    # With the clock running, the evicted pod's replacement could turn healthy before the second
    # eviction on a slow machine, and the PDB would then rightly allow it.
    pool, core, policy = client
    nodes = core.list_node(label_selector=f"{L.NODE_POOL}=np-train")
    assert [n.metadata.name for n in nodes.items] == [f"192.168.0.{i}" for i in (10, 11, 12)]
    assert nodes.items[0].status.allocatable[L.NPU_RESOURCE] == "8"
    patched = core.patch_node("192.168.0.12", {"spec": {"unschedulable": True}})
    assert patched.spec.unschedulable is True
    pods = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=192.168.0.12,metadata.namespace=default")
    assert pods.items and all(p.spec.node_name == "192.168.0.12" for p in pods.items)
    first = pods.items[0].metadata.name
    eviction = kubernetes.client.V1Eviction(metadata=kubernetes.client.V1ObjectMeta(name=first, namespace="default"))
    core.create_namespaced_pod_eviction(first, "default", eviction)
    assert core.read_namespaced_pod(first, "default").metadata.deletion_timestamp is not None
    others = [p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=web").items
              if p.metadata.name != first]
    with pytest.raises(ApiException) as error:
        core.create_namespaced_pod_eviction(others[0], "default", kubernetes.client.V1Eviction(
            metadata=kubernetes.client.V1ObjectMeta(name=others[0], namespace="default")))
    assert error.value.status == 429
    assert json.loads(error.value.body)["details"]["causes"][0]["reason"] == "DisruptionBudget"
    budget = policy.read_namespaced_pod_disruption_budget("web-pdb", "default")
    assert budget.status.disruptions_allowed == 0 and budget.status.desired_healthy == 2


def test_python_client_rejects_a_bad_token(kube_server):
    pool = kube_server.new_pool(node_count=1)
    configuration = kubernetes.client.Configuration()
    configuration.host = f"{kube_server.base_url}/k8s/{pool}"
    configuration.ssl_ca_cert = kube_server.ca_path
    configuration.api_key = {"authorization": "Bearer wrong"}
    with kubernetes.client.ApiClient(configuration) as api_client:
        with pytest.raises(ApiException) as error:
            kubernetes.client.CoreV1Api(api_client).list_node()
    assert error.value.status == 401
    assert json.loads(error.value.body) == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                            "status": "Failure", "message": "Unauthorized",
                                            "reason": "Unauthorized", "code": 401}
