"""The simulator holds pools of thousands of nodes without becoming the bottleneck: seeding,
listing and single-object requests grow linearly (or not at all) with the pool's size.

These run the simulator in-process (no subprocess, no TLS) so they measure its own code. Bounds
are generous (a loaded 2-core CI machine); the growth checks compare sizes, so they catch a
quadratic regression even where absolute times vary.
"""
import json
import sys
import time

import pytest

from modelarts_sim.httpcore import Request
from modelarts_sim.kube.cluster import Cluster, Timings
from modelarts_sim.kube.resources import default_registry
from modelarts_sim.server import Simulator
from modelarts_sim.signing import parse_query

NPU_FLAVOR = "modelarts.bm.npu.arm.8snt9b3.d"


def _request(method, target, token, body=None):
    path, _sep, query = target.partition("?")
    return Request(method=method, path=path, query=parse_query(query), headers={"authorization": "Bearer " + token},
                   body=json.dumps(body).encode() if body is not None else b"", raw_query=query, request_id="scale")


@pytest.fixture
def simulator(tmp_path):
    sim = Simulator(tmp_path / "state", time_scale=1.0, seed=3)
    yield sim
    sim.world.close()


def seed(sim, name, nodes, workloads=None):
    spec = {"name": name, "nodes": nodes, "flavor": NPU_FLAVOR}
    if workloads is not None:
        spec["workloads"] = workloads
    started = time.perf_counter()
    response = sim.admin.handle(_request("POST", "/_sim/seed", sim.world.credentials["admin_token"],
                                         {"pools": [spec]}))
    assert response.status == 200, response.body[:300]
    return json.loads(response.body)["pools"][0], time.perf_counter() - started


def kube_get(sim, pool_id, path):
    cluster = sim.kube.clusters[pool_id]
    started = time.perf_counter()
    response = sim.kube.handle(pool_id, _request("GET", "/k8s/%s%s" % (pool_id, path), cluster.token))
    assert response.status == 200, response.body[:300]
    return json.loads(response.body), time.perf_counter() - started


def test_seeding_two_thousand_nodes_is_linear(simulator):
    small = min(seed(simulator, "scale-small-%d" % index, 250)[1] for index in range(2))
    big_pool, big = seed(simulator, "scale-big", 2000)
    assert len(big_pool["nodes"]) == 2000
    # Linear: 8x the nodes takes about 8x the time (about 1 s on an idle core); the old quadratic
    # seeding took about 64x. Generous for a busy machine, still far below quadratic.
    assert big < 30.0, big
    assert big < 40 * max(small, 0.02), (small, big)
    nodes, _ = kube_get(simulator, big_pool["id"], "/api/v1/nodes")
    assert len(nodes["items"]) == 2000


def test_requests_cost_the_same_on_a_big_pool(simulator):
    workloads = {"deployments": [{"name": "train", "replicas": 50, "npus": 8}]}
    small_pool, _ = seed(simulator, "scale-small", 100, workloads)
    big_pool, _ = seed(simulator, "scale-big", 1000, workloads)
    big_cluster = simulator.kube.clusters[big_pool["id"]]
    assert len(big_cluster.pods()) == 1000 + 50      # device plugin on every node, the Deployment's pods

    def best_of(pool, path, rounds=5):
        return min(kube_get(simulator, pool["id"], path)[1] for _ in range(rounds))

    node = big_pool["private_ips"][big_pool["nodes"][700]]
    small_node = small_pool["private_ips"][small_pool["nodes"][50]]
    one_big = best_of(big_pool, "/api/v1/nodes/%s" % node)
    one_small = best_of(small_pool, "/api/v1/nodes/%s" % small_node)
    pods_big = best_of(big_pool, "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s" % node)
    # One object from a 10x bigger pool: the request itself is not 15x dearer.
    assert one_big < 0.25 and pods_big < 0.5, (one_big, pods_big)
    assert one_big < 8 * max(one_small, 0.002), (one_small, one_big)
    listed, listing = kube_get(simulator, big_pool["id"], "/api/v1/pods")
    assert len(listed["items"]) == 1050 and listing < 5.0, listing


def test_indexes_follow_binding_eviction_and_removal():
    clock = [1_700_000_000.0]
    cluster = Cluster("pool-idx", default_registry(), lambda: clock[0], "token", Timings(), lambda event: None)
    for index in range(3):
        record = {"metadata": {"name": "os-node-created-%05d" % index},
                  "spec": {"flavor": NPU_FLAVOR},
                  "status": {"privateIp": "192.168.0.%d" % (index + 2), "driver": {"version": "v"}}}
        cluster.add_node(record)
    clock[0] += 120
    cluster.advance()
    pod = cluster.create_pod("default", {"metadata": {"name": "solo"},
                                         "spec": {"containers": [{"name": "c", "image": "pause"}]}})
    node_name = pod["spec"]["nodeName"]
    assert [p["metadata"]["name"] for p in cluster.pods(node_name)] == ["solo"]
    assert sum(len(cluster.pods(n["metadata"]["name"])) for n in cluster.nodes()) == 1
    cluster.start_node_operation(node_name, "reboot")      # kills the pods on the node
    assert cluster.pods(node_name) == [] and cluster.pods() == []


def test_events_are_capped_oldest_first():
    clock = [1_700_000_000.0]
    cluster = Cluster("pool-ev", default_registry(), lambda: clock[0], "token", Timings(), lambda event: None)
    node = {"metadata": {"name": "n", "namespace": "default", "uid": "u"}, "kind": "Node"}
    for index in range(1005):
        cluster.record_event(node, "Reason%d" % index, "message")
    reasons = [e["reason"] for e in cluster.store.iter(cluster.kind("Event"))]
    assert len(reasons) == 1000
    assert "Reason0" not in reasons and "Reason4" not in reasons and "Reason5" in reasons and "Reason1004" in reasons


def kube_call(sim, pool_id, method, path, body, content_type="application/merge-patch+json"):
    cluster = sim.kube.clusters[pool_id]
    request = _request(method, "/k8s/%s%s" % (pool_id, path), cluster.token, body)
    request.headers["content-type"] = content_type
    response = sim.kube.handle(pool_id, request)
    assert response.status in (200, 201), response.body[:300]


def python_calls(action):
    """How many Python function calls action() makes in this thread: a measure of work that,
    unlike a stopwatch, does not depend on how loaded the machine is."""
    calls = 0

    def count(_frame, event, _arg):
        nonlocal calls
        if event == "call":
            calls += 1
    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def test_writes_during_maintenance_cost_the_same_on_a_big_pool(simulator):
    """A rolling upgrade writes all the time (cordons, evictions); the control loops then run
    over what changed, not over the whole pool, so a write costs the same on 1,000 nodes."""
    def pool(name, nodes):
        seeded, _ = seed(simulator, name, nodes, {"deployments": [
            {"name": "train", "replicas": nodes // 2, "npus": 8, "pdb": {"maxUnavailable": "25%"}}]})
        cluster = simulator.kube.clusters[seeded["id"]]
        busy = [node["metadata"]["name"] for node in cluster.nodes()
                if any(p["metadata"]["namespace"] == "default" for p in cluster.pods(node["metadata"]["name"]))]
        return seeded["id"], cluster, busy

    def maintenance_writes(pool_id, cluster, busy):
        """The fewest calls a cordon, an eviction and an uncordon take, over a few nodes."""
        def one_node(name):
            pod = next(p for p in cluster.pods(name) if p["metadata"]["namespace"] == "default")
            kube_call(simulator, pool_id, "PATCH", "/api/v1/nodes/" + name, {"spec": {"unschedulable": True}})
            kube_call(simulator, pool_id, "POST", "/api/v1/namespaces/default/pods/%s/eviction"
                      % pod["metadata"]["name"], {"apiVersion": "policy/v1", "kind": "Eviction",
                                                  "metadata": {"name": pod["metadata"]["name"]}},
                      content_type="application/json")
            kube_call(simulator, pool_id, "PATCH", "/api/v1/nodes/" + name, {"spec": {"unschedulable": None}})
        return min(python_calls(lambda name=name: one_node(name)) for name in busy[:5])

    small = maintenance_writes(*pool("scale-small", 100))
    big = maintenance_writes(*pool("scale-big", 1000))
    # Full passes of the loops made these about 10x dearer on the 10x pool.
    assert big < 1.5 * small, (small, big)
