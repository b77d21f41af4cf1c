"""Gang jobs: a whole job restarts when any pod goes, and counts the work lost since its checkpoint."""
import json

import pytest
from conftest import FakeWorld, make_request, npu_node

from modelarts_sim.kube import labels as L
from modelarts_sim.kube.app import KubeApi
from modelarts_sim.kube.cluster import Timings

POOL = "pool-gang"
NODES = [f"192.168.1.{10 + i}" for i in range(4)]


@pytest.fixture
def world():
    return FakeWorld(time_scale=0)


@pytest.fixture
def api(world):
    api = KubeApi(world, Timings())
    for ip in NODES:
        api.node_created(POOL, npu_node(ip))
    return api


def call(api, method, path, body=None, query=None):
    data = json.dumps(body).encode() if body is not None else b""
    kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
    response = api.handle(POOL, make_request(method, f"/k8s/{POOL}{path}", api.token(POOL), data, query,
                                             {"Content-Type": kind} if body is not None else None))
    return response.status, json.loads(response.body) if response.body else None


def cordon(api, name, on=True):
    assert call(api, "PATCH", f"/api/v1/nodes/{name}", {"spec": {"unschedulable": on}})[0] == 200


def settle(api, world, seconds, step=1):
    for _ in range(int(seconds / step)):
        world.advance(step)
        api.tick()


def report(api):
    return api.gang_reports(POOL)[POOL]


def job(api, name):
    return next(j for j in report(api)["jobs"] if j["job"].endswith("/" + name))


def seed_llm(api, **extra):
    spec = {"ready_nodes": True, "super_nodes": [{"id": "spod-a", "batch_uid": "batch-1", "nodes": NODES[:2]}],
            "gang_jobs": [dict({"name": "llm", "namespace": "training", "nodes": NODES[:3], "npus": 8,
                                "checkpoint_seconds": 600, "elapsed_seconds": 0, "labels": {"team": "nlp"}}, **extra)]}
    return api.seed_workloads(POOL, spec)


def gang_pods(api):
    status, body = call(api, "GET", "/api/v1/namespaces/training/pods")
    assert status == 200
    return {p["metadata"]["name"]: p for p in body["items"]}


def evict(api, name):
    return call(api, "POST", f"/api/v1/namespaces/training/pods/{name}/eviction",
                {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "training"}})


def test_seeded_gang_runs_with_volcano_labels_and_super_node_labels(api, world):
    created = seed_llm(api)
    assert created["gang_jobs"] == ["training/llm"]
    settle(api, world, 10)
    pods = gang_pods(api)
    assert sorted(pods) == ["llm-worker-0", "llm-worker-1", "llm-worker-2"]
    for index, name in enumerate(sorted(pods)):
        pod = pods[name]
        labels = pod["metadata"]["labels"]
        assert labels[L.VOLCANO_JOB_NAME] == "llm" and labels[L.POD_GROUP] == "llm" and labels["team"] == "nlp"
        assert pod["spec"]["nodeName"] == NODES[index] and pod["status"]["phase"] == "Running"
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert job(api, "llm")["state"] == "Running"
    node = call(api, "GET", f"/api/v1/nodes/{NODES[0]}")[1]
    assert node["metadata"]["labels"][L.SUPER_NODE_ID] == "spod-a"
    assert node["metadata"]["labels"][L.SUPER_NODE_BATCH] == "batch-1"
    assert L.SUPER_NODE_ID not in call(api, "GET", f"/api/v1/nodes/{NODES[3]}")[1]["metadata"]["labels"]


def test_evicting_one_pod_restarts_the_whole_gang_and_counts_lost_work(api, world):
    seed_llm(api)
    settle(api, world, 10)
    start = job(api, "llm")
    assert start["restarts"] == 0 and start["lost_npu_seconds"] == 0
    settle(api, world, 700, step=50)           # 700 s of work: one checkpoint at 600 s
    cordon(api, NODES[1])
    assert evict(api, "llm-worker-1")[0] == 201
    settle(api, world, 5)
    after = job(api, "llm")
    assert after["restarts"] == 1 and after["state"] == "Waiting"
    assert after["interruptions"][0]["node"] == NODES[1]
    # Work since the 600 s checkpoint, on 3 nodes x 8 NPUs (+ the seconds until the pod started).
    lost = after["lost_npu_seconds"]
    assert 24 * 100 <= lost <= 24 * 120, lost
    # Every other pod of the gang goes too, and none comes back while a node of the gang is cordoned.
    settle(api, world, 60, step=5)
    assert gang_pods(api) == {}
    cordon(api, NODES[1], False)
    settle(api, world, 20)
    assert job(api, "llm")["state"] == "Running" and len(gang_pods(api)) == 3
    # A second interruption counts again; evicting a pod of a gang that is not running costs nothing.
    assert evict(api, "llm-worker-0")[0] == 201
    settle(api, world, 40, step=2)
    twice = job(api, "llm")
    assert twice["restarts"] == 2 and twice["lost_npu_seconds"] > lost
    assert [e["event"] for e in world.histories if e["event"] == "gang_restart"] == ["gang_restart"] * 2


def test_a_job_that_ends_first_is_never_interrupted(api, world):
    seed_llm(api, work_seconds=300)
    settle(api, world, 320, step=10)
    done = job(api, "llm")
    assert done["state"] == "Completed" and done["restarts"] == 0 and done["lost_npu_seconds"] == 0
    settle(api, world, 5)
    assert gang_pods(api) == {}
    # Its nodes are free: a drain now finds nothing of it.
    assert report(api)["totals"] == {"jobs": 1, "restarts": 0, "max_restarts_multi_node": 0, "lost_npu_seconds": 0}


def test_a_node_operation_interrupts_the_gang_like_an_eviction(api, world):
    seed_llm(api)
    settle(api, world, 10)
    api.node_operation_started(POOL, NODES[2], "driver_upgrade")
    settle(api, world, 5)
    assert job(api, "llm")["restarts"] == 1
    settle(api, world, 60, step=5)
    assert job(api, "llm")["state"] == "Waiting" and gang_pods(api) == {}


def test_gang_state_survives_a_restart(api, world):
    seed_llm(api)
    settle(api, world, 10)
    evict(api, "llm-worker-0")
    settle(api, world, 5)
    state = api.to_state()
    again = KubeApi(world, Timings())
    again.load_state(state) if hasattr(again, "load_state") else pytest.fail("KubeApi cannot load state")
    assert again.gang_reports(POOL)[POOL]["jobs"][0]["restarts"] == 1


@pytest.mark.parametrize("spec, message", [
    ({"gang_jobs": [{"name": "x", "nodes": [NODES[0], NODES[0]]}]}, "distinct nodes"),
    ({"gang_jobs": [{"name": "x", "nodes": ["10.9.9.9"]}]}, "no Node 10.9.9.9"),
    ({"gang_jobs": [{"name": "x", "nodes": [NODES[0]], "checkpoint_seconds": 0}]}, "checkpoint_seconds"),
    ({"gang_jobs": [{"name": "x", "nodes": [NODES[0]]}, {"name": "x", "nodes": [NODES[1]]}]}, "exists"),
    ({"super_nodes": [{"id": "s", "nodes": ["10.9.9.9"]}]}, "no Node"),
])
def test_bad_gang_seed_is_refused_before_anything_is_written(api, world, spec, message):
    before = api.to_state()
    with pytest.raises(ValueError, match=message):
        api.seed_workloads(POOL, dict(spec, deployments=[{"name": "web"}]))
    assert api.to_state() == before and report(api)["jobs"] == []


def test_admin_api_seeds_gangs_by_node_index_and_reports_them(tmp_path):
    from modelarts_sim.testing import SimulatorError, start_simulator
    sim = start_simulator(tmp_path / "sim", time_scale=0, seed=3)
    try:
        with pytest.raises(SimulatorError, match="400.*outside the pool"):
            sim.seed([{"name": "bad-gang", "nodes": 1, "workloads": {"gang_jobs": [{"name": "x", "nodes": [0, 1]}]}}])
        pool = sim.seed([{"name": "gangs", "nodes": 3, "workloads": {
            "ready_nodes": True, "super_nodes": [{"id": "spod-9", "nodes": [0, 1]}],
            "gang_jobs": [{"name": "pair", "namespace": "training", "nodes": [0, 1], "checkpoint_seconds": 60}]}}]
        )["pools"][0]
        assert pool["workloads"]["gang_jobs"] == ["training/pair"]
        sim.advance(10)
        report = sim.gangs(pool["id"])[pool["id"]]
        ips = [pool["private_ips"][name] for name in pool["nodes"]]
        assert report["jobs"][0]["nodes"] == ips[:2] and report["jobs"][0]["state"] == "Running"
        assert report["totals"]["restarts"] == 0 and set(sim.gangs()) >= {pool["id"]}
    finally:
        sim.stop()
