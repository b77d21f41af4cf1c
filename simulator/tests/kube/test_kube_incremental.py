"""The control loops are incremental (work lists, tallies, timers kept in step by store
listeners). These tests drive a random maintenance workload twice, once as is and once with a
full rebuild before every pass (wake() on each advance: every loop looks at everything, as the
loops did before they were incremental), and require the two runs to write the same objects in
the same order and answer every request the same: nothing the loops track may go stale."""
import itertools
import json
import random
import threading

import pytest

from modelarts_sim.httpcore import Request
from modelarts_sim.kube import store as store_module
from modelarts_sim.kube.app import KubeApi
from modelarts_sim.kube.cluster import Cluster, Timings

POOL = "pool-incr"


class World:
    """A frozen clock and the world hooks KubeApi uses."""

    def __init__(self):
        self.lock = threading.RLock()
        self.t = 1_700_000_000.0
        self.histories = []

    def now(self):
        return self.t

    def audit(self, api, request, status, body=None):
        pass

    def history(self, event):
        self.histories.append(dict(event, t=self.t))


def npu_node(ip, node_pool="np-a", driver="7.5.0.5.220-24.1.0.3"):
    return {"metadata": {"name": f"os-node-{ip.split('.')[-1]:0>5}",
                         "labels": {"os.modelarts.node/nodepool": node_pool}},
            "spec": {"flavor": "modelarts.bm.npu.arm.8snt9b3.d", "os": {"name": "HCE 2.0"}},
            "status": {"phase": "Available", "az": "cn-north-4a", "privateIp": ip,
                       "driver": {"phase": "Running", "version": driver}}}


def run(seed, steps, monkeypatch, full_passes):
    """Trace of one run: per step, the action, its answer, the store writes and the history."""
    monkeypatch.setattr(store_module, "_names", random.Random(99))     # generated names and uids
    if full_passes:
        incremental = Cluster.advance

        def advance(self):
            self.wake()
            incremental(self)
        monkeypatch.setattr(Cluster, "advance", advance)
    world = World()
    api = KubeApi(world, Timings())
    api.ensure_cluster(POOL, "tok")
    rng = random.Random(seed)
    trace, seen = [], [0]
    ips = itertools.count(10)
    nodes, in_operation = [], set()

    def call(method, path, body=None, query=None, content_type="application/merge-patch+json"):
        headers = {"authorization": "Bearer tok"}
        if body is not None:
            headers["content-type"] = content_type
        response = api.handle(POOL, Request(method, f"/k8s/{POOL}{path}", list((query or {}).items()), headers,
                                            json.dumps(body).encode() if body is not None else b""))
        return response.status, response.body.decode()

    def add_node(node_pool="np-a"):
        ip = f"192.168.0.{next(ips)}"
        taints = [{"key": "dedicated", "value": "infer", "effect": "NoSchedule"}] if node_pool == "np-b" else []
        api.node_created(POOL, npu_node(ip, node_pool), {"labels": {"team": node_pool}, "taints": taints})
        nodes.append(ip)

    def record(action, answer=None):
        cluster = api.clusters[POOL]
        writes = [entry for entry in cluster.store._log if entry[0] > seen[0]]
        seen[0] = max([seen[0]] + [entry[0] for entry in writes])
        trace.append((action, answer, writes, list(world.histories)))
        world.histories.clear()

    for _ in range(6):
        add_node()
    add_node("np-b")
    world.t += 61
    api.tick()
    with world.lock:
        api.seed_workloads(POOL, {
            "deployments": [{"name": "train", "replicas": 3, "npus": 8, "pdb": {"maxUnavailable": "25%"}},
                            {"name": "web", "replicas": 3, "pdb": {"minAvailable": 2}}],
            "daemonsets": [{"name": "agent", "namespace": "kube-system"},
                           {"name": "picky", "namespace": "kube-system", "node_selector": {"pick": "yes"}},
                           {"name": "burner", "namespace": "kube-system", "npus": 1}],
            "pods": [{"name": "debug", "node": nodes[0], "empty_dir": True}]})
    record("seed")
    for step in range(steps):
        cluster = api.clusters[POOL]
        pods = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in cluster.store.iter(cluster.kind("Pod"))]
        idle = [n for n in nodes if n not in in_operation]
        roll = rng.random()
        answer = None
        if roll < 0.25:
            action = ("time", rng.choice([0.5, 1, 2, 3, 6, 21, 61]))
            world.t += action[1]
            api.tick()
        elif roll < 0.33:
            action = ("cordon", rng.choice(nodes), rng.random() < 0.6)
            answer = call("PATCH", f"/api/v1/nodes/{action[1]}", {"spec": {"unschedulable": action[2] or None}})
        elif roll < 0.45 and pods:
            action = ("evict",) + rng.choice(pods)
            answer = call("POST", f"/api/v1/namespaces/{action[1]}/pods/{action[2]}/eviction",
                          {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": action[2]}},
                          content_type="application/json")
        elif roll < 0.49 and pods:
            action = ("delete",) + rng.choice(pods)
            answer = call("DELETE", f"/api/v1/namespaces/{action[1]}/pods/{action[2]}",
                          query={"gracePeriodSeconds": rng.choice(["0", "3", "30"])})
        elif roll < 0.56 and idle:
            action = ("operation", rng.choice(idle), rng.choice(["driver_upgrade", "reboot"]))
            api.node_operation_started(POOL, action[1], action[2])
            in_operation.add(action[1])
        elif roll < 0.63 and in_operation:
            action = ("finished", sorted(in_operation)[rng.randrange(len(in_operation))])
            in_operation.discard(action[1])
            api.node_operation_finished(POOL, npu_node(action[1], driver="8.0.0-25.0"), {"labels": {"team": "np-a"}},
                                        npu_healthy=rng.random() < 0.9)
        elif roll < 0.67:
            action = ("scale", rng.choice(["train", "web"]), rng.randint(0, 6))
            answer = call("PATCH", f"/apis/apps/v1/namespaces/default/deployments/{action[1]}",
                          {"spec": {"replicas": action[2]}})
        elif roll < 0.71:
            action = ("label", rng.choice(nodes), rng.choice(["yes", None]))
            answer = call("PATCH", f"/api/v1/nodes/{action[1]}", {"metadata": {"labels": {"pick": action[2]}}})
        elif roll < 0.76:
            action = ("list", rng.choice(["pods", "nodes"]), rng.choice(["", "2"]))
            answer = call("GET", f"/api/v1/{action[1]}", query={"limit": action[2]} if action[2] else None)
        elif roll < 0.78:
            action = ("never_ready", rng.choice(nodes), rng.random() < 0.5)
            api.set_node_never_ready(POOL, action[1], action[2])
        elif roll < 0.81:
            if rng.random() < 0.5 and len(idle) > 4:
                action = ("removed", rng.choice(idle))
                api.node_deleted(POOL, action[1])
                nodes.remove(action[1])
            else:
                action = ("added",)
                add_node(rng.choice(["np-a", "np-b"]))
        elif roll < 0.86:
            action = ("pod", step)
            body = {"metadata": {"name": f"bare-{step}", "labels": {"app": rng.choice(["web", "bare"])}},
                    "spec": {"containers": [{"name": "c", "image": "pause", "resources": {"requests": {
                        "huawei.com/ascend-1980": rng.choice(["0", "2", "8"])}}}]}}
            if rng.random() < 0.3:
                body["spec"]["nodeName"] = rng.choice(nodes)
            answer = call("POST", "/api/v1/namespaces/default/pods", body, content_type="application/json")
        elif roll < 0.89:
            action = ("budget",)
            if cluster.store.find(cluster.kind("PodDisruptionBudget"), "default", "extra"):
                answer = call("DELETE", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/extra")
            else:
                answer = call("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", {
                    "metadata": {"name": "extra"}, "spec": {"selector": {"matchLabels": {"app": "bare"}},
                                                            "minAvailable": rng.choice([1, "30%"])}},
                              content_type="application/json")
        elif roll < 0.92:
            action = ("daemonset", rng.choice([{}, {"pick": "yes"}, {"team": "np-b"}]))
            answer = call("PATCH", "/apis/apps/v1/namespaces/kube-system/daemonsets/picky",
                          {"spec": {"template": {"spec": {"nodeSelector": action[1] or None}}}})
        elif roll < 0.93:
            action = ("job", step)
            answer = call("POST", "/apis/batch/v1/namespaces/default/jobs", {
                "metadata": {"name": f"job-{step}"},
                "spec": {"completions": 2, "backoffLimit": 1, "activeDeadlineSeconds": 120,
                         "template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "j", "image": "pause"}]}}}},
                content_type="application/json")
        elif roll < 0.95:
            action = ("restart",)
            saved = json.loads(json.dumps(api.to_state()))
            api = KubeApi(world, Timings())
            api.load_state(saved)
        else:
            action = ("nothing",)
        record(action, answer)
    world.t += 300
    api.tick()
    record("end")
    return trace, api


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_passes_match_full_passes(seed, monkeypatch):
    incremental, api = run(seed, 220, monkeypatch, full_passes=False)
    monkeypatch.undo()
    full, _ = run(seed, 220, monkeypatch, full_passes=True)
    assert len(incremental) == len(full)
    for ours, reference in zip(incremental, full):
        assert ours == reference, f"first difference after {ours[0]}"
    # The texts the store keeps for watches, lists and saves are those of the objects now.
    store = api.clusters[POOL].store
    for resource_key, bucket in store.objects.items():
        assert {key: json.dumps(obj) for key, obj in bucket.items()} == store._texts.get(resource_key, {})
    assert json.loads(api.snapshot()()) == json.loads(json.dumps(api.to_state()))


def test_a_timer_armed_outside_the_store_wakes_a_settled_cluster():
    """A settled cluster skips its loops; a kubelet timer armed without a store write (the
    never_ready fault lifted) must still fire on the next pass."""
    world = World()
    api = KubeApi(world, Timings())
    api.node_created(POOL, npu_node("192.168.0.10"))
    cluster = api.clusters[POOL]

    def ready():
        node = cluster.store.find(cluster.kind("Node"), None, "192.168.0.10")
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
    world.t += 61
    api.tick()
    assert ready()
    api.set_node_never_ready(POOL, "192.168.0.10", True)
    world.t += 30
    api.tick()
    api.tick()                                   # settled: nothing written, no timer due
    assert not ready()
    api.set_node_never_ready(POOL, "192.168.0.10", False)
    api.tick()
    assert ready()
