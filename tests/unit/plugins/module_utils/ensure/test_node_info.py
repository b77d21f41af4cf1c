"""lite_node_info's engine (ensure.node.node_info) against a fake pool: the record, the options that
add to it, the filters, and the lists it sends."""
import json

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.clients import Clients
from ansible_collections.modelarts.lite.plugins.module_utils.ensure import node as N
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L

POOL_ID = "pool-abcd-0123"
NPU = "huawei.com/ascend-1980"
SLIM_KEYS = {"name", "kube_name", "phase", "driver_phase", "ready", "schedulable", "cordoned_by", "cordon_reason",
             "driver_version", "npu_capacity", "npu_allocatable", "node_pool", "labels", "taints", "driver_upgrade",
             "ha_redundant"}


def record(name, ip, node_pool="np-a"):
    return {"metadata": {"name": name, "labels": {L.NODE_POOL_NAME: node_pool, "os.modelarts/resource.id": "r"}},
            "status": {"phase": "Available", "privateIp": ip, "driver": {"phase": "Running", "version": "v1"}}}


def kube_node(ip, node_pool="np-a", labels=None, annotations=None, unschedulable=False):
    return {"metadata": {"name": ip, "annotations": annotations or {},
                         "labels": dict({L.NODE_POOL_NAME: node_pool, L.DRIVER_VERSION: "v1",
                                         "kubernetes.io/hostname": ip}, **(labels or {}))},
            "spec": {"unschedulable": unschedulable,
                     "taints": [{"key": "dedicated", "value": "ai", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "capacity": {NPU: "8"}, "allocatable": {NPU: "8"}}}


def pod(name, node, owner="ReplicaSet"):
    metadata = {"namespace": "default", "name": name}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner, "name": "x", "controller": True}]
    return {"metadata": metadata, "spec": {"nodeName": node}, "status": {"phase": "Running"}}


class FakeKube:
    def __init__(self, nodes, pods):
        self.nodes, self.pods, self.calls = nodes, pods, []

    def list_items(self, path, query=None, limit=None):
        self.calls.append((path, query))
        if path == "/api/v1/nodes":
            return json.loads(json.dumps(self.nodes))
        selector = (query or {}).get("fieldSelector") or ""
        node = selector[len("spec.nodeName="):] if selector.startswith("spec.nodeName=") else None
        return json.loads(json.dumps([p for p in self.pods if node is None or p["spec"]["nodeName"] == node]))


PARAMS = {"pool": "train-a", "nodes": None, "node_selector": None, "node_pool": None, "with_pods": False,
          "detail": False, "force": False, "delete_emptydir_data": False}


def node_info(kube, **params):
    """(result, clients) of node_info on the fake pool (LiteModule resolved the pool before)."""
    clients = Clients(cloud=object(), kube=kube, pool={"metadata": {"name": POOL_ID}})
    return N.node_info(clients, dict(PARAMS, **params), False), clients


@pytest.fixture
def pool(monkeypatch):
    records = [record("node-b", "10.0.0.2"), record("node-a", "10.0.0.1"), record("node-c", "10.0.0.3", "np-b"),
               record("node-new", "10.0.0.9")]
    nodes = [kube_node("10.0.0.1", labels={"team": "ml"}, unschedulable=True,
                       annotations={L.CORDONED_BY: "modelarts.lite", L.CORDON_REASON: "maintenance"}),
             kube_node("10.0.0.2", annotations={L.DRIVER_UPGRADE: json.dumps({"run": "r1", "phase": "done"})}),
             kube_node("10.0.0.3", "np-b")]
    kube = FakeKube(nodes, [pod("app-1", "10.0.0.1"), pod("bare", "10.0.0.1", owner=None), pod("app-2", "10.0.0.2")])
    calls = {"list_nodes": 0}

    def list_nodes(client, pool_id, limit=None):
        calls["list_nodes"] += 1
        return json.loads(json.dumps(records))

    monkeypatch.setattr(N.api, "list_nodes", list_nodes)
    kube.modelarts_calls = calls
    return kube


def test_default_record_is_slim_and_the_same_for_every_node(pool):
    result, _clients = node_info(pool)
    assert result["changed"] is False and result["pool_id"] == POOL_ID
    assert [n["name"] for n in result["nodes"]] == ["node-a", "node-b", "node-c", "node-new"]
    assert all(set(n) == SLIM_KEYS for n in result["nodes"])
    a, b, c, new = result["nodes"]
    assert a["labels"] == {"team": "ml"} and a["taints"] == [{"key": "dedicated", "value": "ai", "effect": "NoSchedule"}]
    assert a["schedulable"] is False and a["cordoned_by"] == "modelarts.lite" and a["cordon_reason"] == "maintenance"
    assert b["driver_upgrade"] == {"run": "r1", "phase": "done"} and a["driver_upgrade"] is None
    assert c["node_pool"] == "np-b" and c["npu_capacity"] == 8 and c["driver_version"] == "v1"
    # Not joined yet: same keys, nothing schedulable, NPUs unknown.
    assert new["ready"] is False and new["schedulable"] is False and new["npu_capacity"] is None
    # One ModelArts list, one Node list, no pod list.
    assert pool.modelarts_calls["list_nodes"] == 1 and pool.calls == [("/api/v1/nodes", None)]


def test_with_pods_adds_the_pods_and_drain_plan_from_one_cluster_wide_list(pool):
    result = node_info(pool, with_pods=True)[0]
    a = result["nodes"][0]
    assert a["pods"] == ["default/app-1", "default/bare"]
    assert a["drain_would_evict"] == ["default/app-1"]
    assert [e["pod"] for e in a["drain_would_refuse"]] == ["default/bare"]
    assert result["nodes"][3]["pods"] == []
    assert [c[0] for c in pool.calls].count("/api/v1/pods") == 1


def test_one_named_node_lists_only_its_pods(pool):
    result = node_info(pool, nodes=["10.0.0.2"], with_pods=True)[0]
    assert [n["name"] for n in result["nodes"]] == ["node-b"]
    assert result["nodes"][0]["pods"] == ["default/app-2"]
    assert ("/api/v1/pods", {"fieldSelector": "spec.nodeName=10.0.0.2"}) in pool.calls


def test_detail_adds_the_objects(pool):
    result = node_info(pool, detail=True)[0]
    a, new = result["nodes"][0], result["nodes"][3]
    assert a["modelarts_node"]["metadata"]["name"] == "node-a"
    assert a["kube_node"]["metadata"]["labels"]["kubernetes.io/hostname"] == "10.0.0.1"
    assert new["kube_node"] is None


def test_node_pool_filter_and_its_warning(pool):
    result, clients = node_info(pool, node_pool=["np-b", "np-x"])
    assert [n["name"] for n in result["nodes"]] == ["node-c"]
    assert clients.warnings == ["node_pool np-x matches no node of pool %s." % POOL_ID]


def test_unknown_node_is_refused(pool):
    with pytest.raises(ValidationError) as error:
        node_info(pool, nodes=["node-a", "10.9.9.9"])[0]
    assert "has no node '10.9.9.9'" in str(error.value) and error.value.option == "nodes"
