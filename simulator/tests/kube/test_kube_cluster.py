"""Cluster behaviour through KubeApi with a frozen clock: node coupling, controllers, evictions."""
import json

import pytest
from conftest import FakeWorld, make_request, npu_node

from modelarts_sim.kube import labels as L
from modelarts_sim.kube.app import KubeApi
from modelarts_sim.kube.cluster import Timings

POOL = "pool-unit"


@pytest.fixture
def world():
    return FakeWorld(time_scale=0)          # time moves only with world.advance()


@pytest.fixture
def api(world):
    return KubeApi(world, Timings())


def call(api, method, path, body=b"", query=None, headers=None):
    response = api.handle(POOL, make_request(method, f"/k8s/{POOL}{path}", api.token(POOL), body, query, headers))
    return response.status, json.loads(response.body) if response.body else None


def node(api, name):
    return call(api, "GET", f"/api/v1/nodes/{name}")[1]


def ready(obj):
    return next(c["status"] for c in obj["status"]["conditions"] if c["type"] == "Ready") == "True"


def pods_on(api, name):
    status, body = call(api, "GET", "/api/v1/pods", query={"fieldSelector": f"spec.nodeName={name}"})
    assert status == 200
    return [p for p in body["items"] if not p["metadata"].get("deletionTimestamp")]


def settle(api, world, seconds=30, step=1):
    for _ in range(int(seconds / step)):
        world.advance(step)
        api.tick()


@pytest.fixture
def three_nodes(api, world):
    for index in range(3):
        api.node_created(POOL, npu_node(f"192.168.0.{10 + index}"),
                         {"labels": {"team": "nlp"}, "taints": [{"key": "dedicated", "value": "nlp",
                                                                 "effect": "NoSchedule"}]})
    return [f"192.168.0.{10 + index}" for index in range(3)]


def test_node_from_modelarts_record(api, world, three_nodes):
    created = node(api, "192.168.0.10")
    labels = created["metadata"]["labels"]
    assert labels[L.NODE_POOL] == "np-train" and labels[L.NODE_POOL_NAME] == "np-train"
    assert labels[L.CLUSTER] == "cce-lite-1" and labels[L.RESOURCE_ID] == "maos-r-1"
    assert labels[L.HOSTNAME] == "192.168.0.10" and labels[L.ARCH] == "arm64"
    assert labels[L.INSTANCE_TYPE] == "modelarts.bm.npu.arm.8snt9b3.d"
    assert labels[L.ACCELERATOR] == "ascend-1980" and labels["team"] == "nlp"
    assert labels[L.DRIVER_VERSION] == "7.5.0.5.220-24.1.0.3"
    assert created["status"]["capacity"][L.NPU_RESOURCE] == "8"
    assert created["status"]["addresses"][0] == {"type": "InternalIP", "address": "192.168.0.10"}
    assert created["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.31")
    assert {"key": "dedicated", "value": "nlp", "effect": "NoSchedule"}.items() <= created["spec"]["taints"][0].items()
    # Joins NotReady (with the not-ready taint), Ready after the kubelet registers.
    assert not ready(created)
    assert any(t["key"] == L.TAINT_NOT_READY for t in created["spec"]["taints"])
    settle(api, world, Timings().node_join_seconds + 1, step=10)
    joined = node(api, "192.168.0.10")
    assert ready(joined) and not any(t["key"] == L.TAINT_NOT_READY for t in joined["spec"]["taints"])
    assert [e["node"] for e in world.events("node_ready")] == three_nodes


def seed(api, spec):
    spec = dict(spec, ready_nodes=True)
    return api.seed_workloads(POOL, spec)


def test_operation_kills_pods_and_controllers_recreate_them_elsewhere(api, world, three_nodes):
    seed(api, {"deployments": [{"name": "train", "replicas": 3, "tolerations": [{"operator": "Exists"}]}]})
    victim = "192.168.0.10"
    before = pods_on(api, victim)
    assert {p["metadata"]["ownerReferences"][0]["kind"] for p in before} == {"ReplicaSet", "DaemonSet"}
    api.node_operation_started(POOL, victim, "driver_upgrade")
    down = node(api, victim)
    assert not ready(down) and down["status"]["allocatable"][L.NPU_RESOURCE] == "0"
    assert pods_on(api, victim) == []
    assert {e["pod"] for e in world.events("pod_deleted")} == \
        {f'{p["metadata"]["namespace"]}/{p["metadata"]["name"]}' for p in before}
    settle(api, world, 20)
    _, deployment = call(api, "GET", "/apis/apps/v1/namespaces/default/deployments/train")
    assert deployment["status"]["readyReplicas"] == 3
    _, all_pods = call(api, "GET", "/api/v1/namespaces/default/pods")
    assert victim not in {p["spec"]["nodeName"] for p in all_pods["items"]}
    # Finishing brings the node back with the new driver label, NPUs and its daemon pod.
    upgraded = npu_node(victim, driver="7.5.0.109.220-24.1.rc3.10")
    api.node_operation_finished(POOL, upgraded)
    settle(api, world, Timings().node_recover_seconds + 10)
    back = node(api, victim)
    assert ready(back) and back["status"]["allocatable"][L.NPU_RESOURCE] == "8"
    assert back["metadata"]["labels"][L.DRIVER_VERSION] == "7.5.0.109.220-24.1.rc3.10"
    assert [p["metadata"]["namespace"] for p in pods_on(api, victim)] == ["kube-system"]


def test_node_deleted_takes_node_and_pods_and_never_ready_fault(api, world, three_nodes):
    seed(api, {"pods": [{"name": "bare", "node": "192.168.0.11"}], "never_ready_nodes": ["192.168.0.12"]})
    assert not ready(node(api, "192.168.0.12"))
    api.node_deleted(POOL, "192.168.0.11")
    status, body = call(api, "GET", "/api/v1/nodes/192.168.0.11")
    assert status == 404 and body["reason"] == "NotFound"
    assert call(api, "GET", "/api/v1/namespaces/default/pods/bare")[0] == 404
    api.node_operation_started(POOL, "192.168.0.12", "reboot")
    api.node_operation_finished(POOL, npu_node("192.168.0.12"), immediate=True)
    settle(api, world, 60, step=10)
    assert not ready(node(api, "192.168.0.12"))


def test_eviction_respects_pdb_and_replacement_restores_budget(api, world, three_nodes):
    seed(api, {"deployments": [{"name": "web", "replicas": 3, "pdb": {"maxUnavailable": 1},
                                "tolerations": [{"operator": "Exists"}]}]})
    _, pods = call(api, "GET", "/api/v1/namespaces/default/pods")
    first, second = [p["metadata"]["name"] for p in pods["items"]][:2]

    def eviction(name):
        return {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "default"}}

    status, body = call(api, "POST", f"/api/v1/namespaces/default/pods/{first}/eviction", eviction(first))
    assert status == 201 and body["status"] == "Success"
    status, body = call(api, "POST", f"/api/v1/namespaces/default/pods/{second}/eviction", eviction(second))
    assert status == 429 and body["reason"] == "TooManyRequests"
    assert body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    _, pdb = call(api, "GET", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web-pdb")
    assert pdb["status"]["currentHealthy"] == 2 and pdb["status"]["disruptionsAllowed"] == 0
    settle(api, world, 15)
    _, pdb = call(api, "GET", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web-pdb")
    assert pdb["status"]["currentHealthy"] == 3 and pdb["status"]["disruptionsAllowed"] == 1
    assert call(api, "POST", f"/api/v1/namespaces/default/pods/{second}/eviction", eviction(second))[0] == 201
    assert [e["event"] for e in world.histories if e["event"].startswith("eviction")] == \
        ["eviction", "eviction_refused", "eviction"]


def test_graceful_delete_and_propagation(api, world, three_nodes):
    seed(api, {"deployments": [{"name": "web", "replicas": 2, "tolerations": [{"operator": "Exists"}]}]})
    _, pods = call(api, "GET", "/api/v1/namespaces/default/pods")
    name = pods["items"][0]["metadata"]["name"]
    status, deleted = call(api, "DELETE", f"/api/v1/namespaces/default/pods/{name}", query={"gracePeriodSeconds": "30"})
    assert status == 200 and deleted["metadata"]["deletionGracePeriodSeconds"] == 30
    assert deleted["metadata"]["deletionTimestamp"]
    assert call(api, "GET", f"/api/v1/namespaces/default/pods/{name}")[0] == 200   # still terminating
    settle(api, world, Timings().pod_stop_seconds + 1)
    assert call(api, "GET", f"/api/v1/namespaces/default/pods/{name}")[0] == 404
    status, _ = call(api, "DELETE", "/apis/apps/v1/namespaces/default/deployments/web",
                     {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"})
    assert status == 200
    _, replica_sets = call(api, "GET", "/apis/apps/v1/namespaces/default/replicasets")
    assert replica_sets["items"] and not replica_sets["items"][0]["metadata"].get("ownerReferences")
    rs_name = replica_sets["items"][0]["metadata"]["name"]
    assert call(api, "DELETE", f"/apis/apps/v1/namespaces/default/replicasets/{rs_name}",
                query={"propagationPolicy": "Background", "gracePeriodSeconds": "0"})[0] == 200
    settle(api, world, 5)
    _, pods = call(api, "GET", "/api/v1/namespaces/default/pods")
    assert pods["items"] == []


def emit(world, kind, info, **extra):
    for callback in world.subscribers:
        callback(dict(extra, type=kind, pool_id=POOL, info=info, node={"metadata": {"name": info["name"]}}))


def test_world_events_drive_nodes(api, world):
    info = {"pool_id": POOL, "name": "os-node-created-abcde", "private_ip": "192.168.1.2", "phase": "Available",
            "activity": None, "driver_version": "7.1.0.9.220-23.0.6", "driver_phase": "Running",
            "node_pool": "np-a", "flavor": "modelarts.bm.npu.arm.8snt9b3.d", "az": "cn-north-4a",
            "labels": {"os.modelarts.node/nodepool": "np-a", "user": "x"}, "taints": [],
            "npu": {L.NPU_RESOURCE: 8}, "cpu": "189500m", "memory": "1468Gi"}
    emit(world, "node_phase", dict(info, phase="Creating", activity="creating", driver_phase="Pending"))
    assert call(api, "GET", "/api/v1/nodes/192.168.1.2")[0] == 404          # not joined while Creating
    emit(world, "node_created", info)
    joined = node(api, "192.168.1.2")
    assert joined["metadata"]["labels"]["user"] == "x" and joined["status"]["capacity"]["cpu"] == "189500m"
    settle(api, world, Timings().node_join_seconds + 1, step=10)
    assert ready(node(api, "192.168.1.2"))
    seed(api, {"pods": [{"name": "job", "node": "192.168.1.2"}]})
    assert api.node_busy(POOL, "os-node-created-abcde") is True
    # Idle-strategy upgrade: Pending keeps the node up; Updating takes it down and kills its pods.
    emit(world, "node_operation", dict(info, activity="upgrading", driver_phase="Pending"),
         operation="driver_upgrade", state="started")
    assert ready(node(api, "192.168.1.2"))
    emit(world, "node_driver", dict(info, activity="upgrading", driver_phase="Updating"))
    assert not ready(node(api, "192.168.1.2")) and api.node_busy(POOL, "os-node-created-abcde") is False
    emit(world, "node_operation", dict(info, driver_version="7.5.0.5.220-24.1.0.3"),
         operation="driver_upgrade", state="finished")
    settle(api, world, Timings().node_recover_seconds + 1)
    upgraded = node(api, "192.168.1.2")
    assert ready(upgraded) and upgraded["metadata"]["labels"][L.DRIVER_VERSION] == "7.5.0.5.220-24.1.0.3"
    # A reboot that ends Abnormal leaves the node NotReady.
    emit(world, "node_operation", dict(info, activity="rebooting"), operation="reboot", state="started")
    emit(world, "node_operation", dict(info, phase="Abnormal"), operation="reboot", state="finished")
    settle(api, world, 60, step=10)
    assert not ready(node(api, "192.168.1.2"))
    emit(world, "node_deleted", info)
    assert call(api, "GET", "/api/v1/nodes/192.168.1.2")[0] == 404


def test_state_survives_a_restart(api, world, three_nodes):
    seed(api, {"deployments": [{"name": "web", "replicas": 2, "tolerations": [{"operator": "Exists"}]}]})
    to_state, _ = world.savers["kube"]
    state = json.loads(json.dumps(to_state()))
    restarted_world = FakeWorld(time_scale=0)
    restarted = KubeApi(restarted_world)
    restarted_world.savers["kube"][1](state)
    assert restarted.token(POOL) == api.token(POOL)
    response = restarted.handle(POOL, make_request("GET", f"/k8s/{POOL}/api/v1/namespaces/default/pods",
                                                   api.token(POOL)))
    assert len(json.loads(response.body)["items"]) == 2
