"""The rolling upgrade engine against a fake pool on a virtual clock.

The fake answers the few calls the engine makes (ModelArts node list and batch-update, Kubernetes
node list/patch, pod list, eviction, Lease) and moves upgrading nodes along with the virtual
clock, so the sliding window, the budgets, the window gate, failures and resume are checked
deterministically and in milliseconds.
"""
import json
from datetime import datetime, timezone

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.clients import CallCounter, Clients
from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as R
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import policy as P
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import run as RUN
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import speed
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import window as W
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.config import RolloutConfig
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.engine import Engine
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    PreconditionError,
    RolloutFailedError,
    TransportError,
    ValidationError,
)
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeConflictError, KubeNotFoundError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.lease import PoolLock

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
DRIVER_LABEL = "os.modelarts.node/npu.firmware.driver.version"
NPU = "huawei.com/ascend-1980"


class Clock:
    def __init__(self, start=1_800_000_000.0):
        self.now = start

    def __call__(self):
        return self.now


class FakePool:
    """ModelArts + Kubernetes of one pool. ``durations[name]`` seconds after batch-update a node is
    back with the new driver; nodes in ``failing`` end Abnormal instead."""

    def __init__(self, clock, count=6, durations=None, failing=(), node_pools=None):
        self.clock = clock
        self.records, self.nodes, self.pods = {}, {}, []
        self.upgrades = {}
        self.failing = set(failing)
        self.durations = durations or {}
        self.modelarts_calls = {"list": 0, "show": 0, "batch_update": 0}
        self.calls = CallCounter()         # the KubeClient surface
        self.batch_names = []
        self.unavailable_log = []
        self.leases = {}
        self.version = 0
        for index in range(count):
            name, ip = "node-%d" % index, "10.0.0.%d" % index
            node_pool = (node_pools or {}).get(name, "np-a")
            self.records[name] = {"metadata": {"name": name, "labels": {"os.modelarts.node/nodepoolname": node_pool}},
                                  "spec": {"flavor": "modelarts.bm.npu.arm.8snt9b3.d"},
                                  "status": {"phase": "Available", "privateIp": ip,
                                             "driver": {"phase": "Running", "version": OLD}}}
            self.nodes[ip] = {"metadata": {"name": ip, "resourceVersion": "1", "annotations": {},
                                           "labels": {DRIVER_LABEL: OLD, "os.modelarts.node/nodepoolname": node_pool}},
                              "spec": {},
                              "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                         "capacity": {NPU: "8"}, "allocatable": {NPU: "8"}}}

    # -- world time --------------------------------------------------------------------------------
    def advance(self):
        for name, (started, version) in list(self.upgrades.items()):
            record = self.records[name]
            node = self.nodes[record["status"]["privateIp"]]
            if self.clock() >= started + 1:
                node["status"]["conditions"][0]["status"] = "False"
                node["status"]["allocatable"][NPU] = "0"
                record["status"]["driver"]["phase"] = "Updating"
            if self.clock() >= started + self.durations.get(name, 10):
                del self.upgrades[name]
                if name in self.failing:
                    record["status"]["driver"]["phase"] = "Abnormal"
                    continue
                record["status"]["driver"].update(phase="Running", version=version)
                node["metadata"]["labels"][DRIVER_LABEL] = version
                node["status"]["conditions"][0]["status"] = "True"
                node["status"]["allocatable"][NPU] = "8"
        self.unavailable_log.append((self.clock(), self.unavailable()))

    def unavailable(self):
        return sorted(ip for ip, n in self.nodes.items()
                      if n["spec"].get("unschedulable") or n["status"]["conditions"][0]["status"] != "True")

    # -- ModelArts ---------------------------------------------------------------------------------
    def list_nodes(self, client, pool_id, limit=None):
        self.modelarts_calls["list"] += 1
        self.advance()
        return json.loads(json.dumps(list(self.records.values())))

    def show_node(self, client, pool_id, name):
        self.modelarts_calls["show"] += 1
        self.advance()
        return json.loads(json.dumps(self.records[name]))

    def batch_update_nodes(self, client, pool_id, names, driver=None, **kwargs):
        self.modelarts_calls["batch_update"] += 1
        self.batch_names.extend(names)
        for name in names:
            self.upgrades[name] = (self.clock(), driver["version"])
            self.records[name]["status"]["driver"]["phase"] = "Pending"
        return {"successNodeNames": names, "failNodeNames": []}

    # -- Kubernetes (KubeClient surface) ----------------------------------------------------------------
    def list_items(self, path, query=None, limit=500):
        self.advance()
        if path == "/api/v1/nodes":
            return json.loads(json.dumps(list(self.nodes.values())))
        if path == "/api/v1/pods":
            selector = (query or {}).get("fieldSelector") or ""
            node = selector[len("spec.nodeName="):] if selector.startswith("spec.nodeName=") else None
            return json.loads(json.dumps([p for p in self.pods if node is None or p["spec"].get("nodeName") == node]))
        return []

    def get(self, path, query=None):
        if path.startswith("/api/v1/nodes/"):
            return json.loads(json.dumps(self.nodes[path.rsplit("/", 1)[1]]))
        if "/leases/" in path:
            if path not in self.leases:
                raise KubeNotFoundError(404, "NotFound", "not found", None, "GET", path)
            return json.loads(json.dumps(self.leases[path]))
        raise AssertionError(path)

    def merge_patch(self, path, patch):
        node = self.nodes[path.rsplit("/", 1)[1]]
        sent = (patch.get("metadata") or {}).get("resourceVersion")
        if sent and sent != node["metadata"]["resourceVersion"]:
            raise KubeConflictError(409, "Conflict", "changed", None, "PATCH", path)
        for section in ("annotations", "labels"):
            for key, value in ((patch.get("metadata") or {}).get(section) or {}).items():
                if value is None:
                    node["metadata"][section].pop(key, None)
                else:
                    node["metadata"][section][key] = value
        for key, value in (patch.get("spec") or {}).items():
            if value is None:
                node["spec"].pop(key, None)
            else:
                node["spec"][key] = value
        node["metadata"]["resourceVersion"] = str(int(node["metadata"]["resourceVersion"]) + 1)
        self.unavailable_log.append((self.clock(), self.unavailable()))
        return json.loads(json.dumps(node))

    def request(self, method, path, body=None, **kwargs):
        if path.endswith("/eviction"):
            name = body["metadata"]["name"]
            self.pods = [p for p in self.pods if p["metadata"]["name"] != name]
            return {}
        if "leases" in path:
            self.version += 1
            if method == "POST":
                full = path + "/" + body["metadata"]["name"]
                if full in self.leases:
                    raise KubeConflictError(409, "AlreadyExists", "exists", None, method, path)
                path = full
            elif method == "PUT":
                current = self.leases.get(path)
                if current and body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                    raise KubeConflictError(409, "Conflict", "changed", None, method, path)
            stored = json.loads(json.dumps(body))
            stored["metadata"]["resourceVersion"] = str(self.version)
            self.leases[path] = stored
            return json.loads(json.dumps(stored))
        raise AssertionError((method, path))


class FakeLock:
    def __init__(self):
        self.renewals = 0

    def due(self):
        return True

    def renew(self):
        self.renewals += 1


def config(**extra):
    values = {"target": NEW, "run_id": "run-1", "max_unavailable": "2", "max_failed_nodes": 0, "canary_nodes": 0,
              "window": None, "drain_timeout": 60, "node_timeout": 600, "poll_interval": 1.0,
              "lease_duration": 30}
    values.update(extra)
    return RolloutConfig(**values)


def engine(pool, clock, wall=None, **extra):
    def sleep(seconds):
        clock.now += seconds
    return Engine.build(None, pool, "pool-1", config(**extra), clock=clock, wall=wall or clock, sleep=sleep,
                        lock=FakeLock())


@pytest.fixture
def fake_api(monkeypatch):
    holder = {}

    def install(pool):
        monkeypatch.setattr(pools, "list_nodes", pool.list_nodes)
        monkeypatch.setattr(pools, "get_node", pool.show_node)
        monkeypatch.setattr(pools, "batch_update_nodes", pool.batch_update_nodes)
        holder["pool"] = pool
        return pool
    return install


def plan_and_run(rollout, pool):
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), pool.pods, [], list(pool.records.values()))
    return rollout.run()


# -- pure helpers ------------------------------------------------------------------------------------

def test_budgets_count_or_percentage_round_down_minimum_one():
    assert P.parse_budget("2", 10, "max_unavailable") == 2
    assert P.parse_budget("25%", 10, "max_unavailable") == 2
    assert P.parse_budget("5%", 10, "max_unavailable") == 1
    for bad in ("0", "-1", "abc", "0%", "150%"):
        with pytest.raises(ValidationError):
            P.parse_budget(bad, 10, "max_unavailable")


def test_expected_duration_counts_canary_waves():
    assert P.expected_duration(10, 1, 3, 100) == 100 + 300
    assert P.expected_duration(10, 0, 3, 100) == 400


def test_window_crossing_midnight_and_days():
    window = W.parse_window({"start": "22:00", "end": "06:00", "days": ["fri"], "timezone": "UTC"})
    friday_night = datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc)      # a Friday
    saturday_morning = datetime(2026, 11, 28, 5, 0, tzinfo=timezone.utc)
    saturday_night = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)
    assert W.window_state(window, friday_night)["open"]
    state = W.window_state(window, saturday_morning)
    assert state["open"] and state["seconds_left"] == 3600
    assert not W.window_state(window, saturday_night)["open"]
    with pytest.raises(ValidationError):
        W.parse_window({"start": "25:00"})
    with pytest.raises(ValidationError):
        W.parse_window({"days": ["someday"]})


def test_window_time_zone():
    window = W.parse_window({"start": "09:00", "end": "17:00", "timezone": "Asia/Shanghai"})
    assert W.window_state(window, datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc))["open"]       # 10:00 CST
    assert not W.window_state(window, datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc))["open"]  # 18:00 CST


# -- the engine --------------------------------------------------------------------------------------

def test_sliding_window_no_wave_barrier_and_budget(fake_api):
    clock = Clock()
    durations = {"node-%d" % i: d for i, d in enumerate((10, 30, 10, 10, 30, 10))}
    pool = fake_api(FakePool(clock, 6, durations))
    rollout = engine(pool, clock)
    report = plan_and_run(rollout, pool)
    assert report["status"] == R.SUCCEEDED
    assert sorted(pool.batch_names) == sorted(pool.records)
    assert max(len(u) for _t, u in pool.unavailable_log) == 2
    assert all(t.phase == R.DONE for t in rollout.tracks)
    # The sliding window is greedy list scheduling over two slots; waves would wait for the slowest.
    order = [durations[t.name] for t in rollout.tracks]
    slots = [0.0, 0.0]
    for duration in order:
        slots[slots.index(min(slots))] += duration
    sliding = max(slots)
    waves = sum(max(order[i:i + 2]) for i in range(0, len(order), 2))
    elapsed = clock.now - rollout.started_mono
    # Within a poll cycle or two per node of the physical limit, and faster than waves would be.
    assert elapsed <= sliding + 2 * 3, (elapsed, sliding)
    if waves > sliding + 6:
        assert elapsed < waves, (elapsed, waves)
    # ModelArts calls per node: a GET (or a list) to confirm, a background list now and then,
    # batch-updates shared.
    calls = pool.modelarts_calls["list"] + pool.modelarts_calls["show"] + pool.modelarts_calls["batch_update"]
    assert calls <= 4 * 6, pool.calls


def test_two_node_writes_and_steps_chained_within_a_cycle(fake_api, monkeypatch):
    """One PATCH cordons and marks a node, one uncordons and marks it done; nothing in between.
    A node with nothing to evict is cordoned and upgraded in the same cycle, and a finished node's
    slot is refilled in the cycle that sees it finished."""
    clock = Clock()
    pool = fake_api(FakePool(clock, 4))
    # node-0 runs a Deployment pod: its drain must see the pod gone before the upgrade starts.
    pool.pods = [{"metadata": {"namespace": "default", "name": "train-0", "uid": "u0",
                               "ownerReferences": [{"kind": "ReplicaSet", "name": "train", "controller": True}]},
                  "spec": {"nodeName": "10.0.0.0"}, "status": {"phase": "Running"}}]
    patches, events = {}, []
    original_patch, original_batch = pool.merge_patch, pool.batch_update_nodes

    def patch(path, body):
        node = path.rsplit("/", 1)[1]
        patches.setdefault(node, []).append(json.loads(body["metadata"]["annotations"][L.DRIVER_UPGRADE])["phase"])
        events.append((clock(), "cordon" if (body.get("spec") or {}).get("unschedulable") else "write", node))
        return original_patch(path, body)

    def batch(client, pool_id, names, driver=None, **kwargs):
        events.extend((clock(), "upgrade", pool.records[name]["status"]["privateIp"]) for name in names)
        return original_batch(client, pool_id, names, driver=driver, **kwargs)
    pool.merge_patch = patch
    monkeypatch.setattr(pools, "batch_update_nodes", batch)
    report = plan_and_run(engine(pool, clock, max_unavailable="1"), pool)
    assert report["status"] == R.SUCCEEDED
    assert patches == {ip: [R.CORDONED, R.DONE] for ip in pool.nodes}, patches
    cordoned = {node: at for at, kind, node in events if kind == "cordon"}
    upgraded = {node: at for at, kind, node in events if kind == "upgrade"}
    finished = sorted(at for at, kind, _node in events if kind == "write")
    for node in pool.nodes:
        if node == "10.0.0.0":
            assert upgraded[node] > cordoned[node], "the evicted pod is waited for"
        else:
            assert upgraded[node] == cordoned[node], "nothing to evict: upgraded in the cordon's cycle"
    # One slot: each next node is cordoned in the very cycle the previous one was uncordoned.
    starts = sorted(cordoned.values())
    assert starts[1:] == finished[:-1], (starts, finished)


def test_an_api_outage_during_eviction_is_ridden_out_not_a_node_failure(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 2))
    pool.pods = [{"metadata": {"namespace": "default", "name": "train-%d" % i, "uid": "u%d" % i,
                               "ownerReferences": [{"kind": "ReplicaSet", "name": "train", "controller": True}]},
                  "spec": {"nodeName": "10.0.0.%d" % i}, "status": {"phase": "Running"}} for i in range(2)]
    original = pool.request
    outages = {"left": 2}

    def request(method, path, body=None, **kwargs):
        if path.endswith("/eviction") and outages["left"]:
            outages["left"] -= 1
            raise TransportError(method, path, "RemoteDisconnected: the API server restarted")
        return original(method, path, body=body, **kwargs)
    pool.request = request
    report = plan_and_run(engine(pool, clock, max_unavailable="1"), pool)
    assert outages["left"] == 0
    assert report["status"] == R.SUCCEEDED, report
    assert report["counts"] == {"done": 2}


def test_per_node_pool_limit(fake_api):
    clock = Clock()
    pools = {"node-0": "np-a", "node-1": "np-a", "node-2": "np-a", "node-3": "np-b", "node-4": "np-b", "node-5": "np-b"}
    pool = fake_api(FakePool(clock, 6, node_pools=pools))
    rollout = engine(pool, clock, max_unavailable="4", max_unavailable_per_node_pool="1")
    plan_and_run(rollout, pool)
    by_pool = {}
    for _time, unavailable in pool.unavailable_log:
        counts = {}
        for ip in unavailable:
            name = "node-%s" % ip.rsplit(".", 1)[1]
            counts[pools[name]] = counts.get(pools[name], 0) + 1
        for key, value in counts.items():
            by_pool[key] = max(by_pool.get(key, 0), value)
    assert by_pool == {"np-a": 1, "np-b": 1}


def test_failure_budget_leaves_failed_node_cordoned(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 5, failing=["node-0", "node-1", "node-2", "node-3", "node-4"][:1]))
    rollout = engine(pool, clock, max_unavailable="1")
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), [], [], list(pool.records.values()))
    first = rollout.tracks[0].name
    pool.failing = {first}
    report = rollout.run()
    assert report["status"] == R.RUN_FAILED and "max_failed_nodes" in report["stop_reason"]
    failed_node = pool.nodes[pool.records[first]["status"]["privateIp"]]
    assert failed_node["spec"]["unschedulable"] is True
    state = json.loads(failed_node["metadata"]["annotations"][L.DRIVER_UPGRADE])
    assert state["phase"] == R.FAILED and "Abnormal" in state["reason"]
    assert pool.batch_names == [first], "nothing starts past the budget"


def test_window_closing_stops_launches_and_finishes_in_flight(fake_api):
    clock = Clock(datetime(2026, 11, 27, 21, 59, 0, tzinfo=timezone.utc).timestamp())
    pool = fake_api(FakePool(clock, 6, {"node-%d" % i: 25 for i in range(6)}))
    window = W.parse_window({"start": "21:00", "end": "22:00"})
    rollout = engine(pool, clock, window=window, window_margin=15, max_unavailable="2")
    report = plan_and_run(rollout, pool)
    assert report["status"] == R.PAUSED_WINDOW
    assert len(pool.batch_names) == 2 * 2, "two waves of two fit in the 45 s left before the margin"
    assert pool.unavailable() == [], "in-flight nodes finished and were uncordoned"


def test_canary_then_pause(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 4))
    rollout = engine(pool, clock, canary_nodes=1, canary_pause=True)
    report = plan_and_run(rollout, pool)
    assert report["status"] == R.PAUSED_CANARY
    assert len(pool.batch_names) == 1
    approved = engine(pool, clock, canary_nodes=1, canary_pause=True, canary_approved=True)
    report = plan_and_run(approved, pool)
    assert report["status"] == R.SUCCEEDED
    assert sorted(pool.batch_names) == sorted(pool.records), "the canary is not upgraded twice"
    assert report["counts"] == {"done": 3, "already": 1}


def test_resume_classifies_half_done_nodes(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 5))
    ips = {name: r["status"]["privateIp"] for name, r in pool.records.items()}
    owner = {"modelarts.lite/cordoned-by": "rolling-driver-upgrade/old-run"}

    def state(phase):
        return json.dumps({"run": "old-run", "target": NEW, "phase": phase, "from": OLD})
    # node-0: cordoned by a rollout, not upgraded.  node-1: upgraded, still cordoned.
    # node-2: done earlier.  node-3: cordoned by an operator.  node-4: untouched.
    pool.nodes[ips["node-0"]]["spec"]["unschedulable"] = True
    pool.nodes[ips["node-0"]]["metadata"]["annotations"].update(owner, **{L.DRIVER_UPGRADE: state("cordoned")})
    pool.nodes[ips["node-1"]]["spec"]["unschedulable"] = True
    pool.nodes[ips["node-1"]]["metadata"]["annotations"].update(owner, **{L.DRIVER_UPGRADE: state("upgrading")})
    pool.nodes[ips["node-1"]]["metadata"]["labels"][DRIVER_LABEL] = NEW
    pool.records["node-1"]["status"]["driver"]["version"] = NEW
    pool.nodes[ips["node-2"]]["metadata"]["annotations"][L.DRIVER_UPGRADE] = state("done")
    pool.nodes[ips["node-2"]]["metadata"]["labels"][DRIVER_LABEL] = NEW
    pool.records["node-2"]["status"]["driver"]["version"] = NEW
    pool.nodes[ips["node-3"]]["spec"]["unschedulable"] = True
    rollout = engine(pool, clock, max_unavailable="3", canary_nodes=1)
    tracks = rollout.plan(list(pool.records.values()), list(pool.nodes.values()), [], [], list(pool.records.values()))
    phases = {t.name: t.phase for t in tracks}
    assert phases == {"node-0": R.CORDONED, "node-1": R.VERIFYING, "node-2": R.ALREADY, "node-3": R.SKIPPED,
                      "node-4": R.PENDING}
    assert rollout.canary_passed, "a node finished by an earlier run of this target is the canary"
    report = rollout.run()
    assert sorted(pool.batch_names) == ["node-0", "node-4"]
    assert pool.nodes[ips["node-3"]]["spec"]["unschedulable"] is True, "an operator's cordon stays"
    assert not pool.nodes[ips["node-1"]]["spec"].get("unschedulable")
    assert report["counts"] == {"done": 3, "already": 1, "skipped": 1}


# -- the lock ----------------------------------------------------------------------------------------

def test_lease_acquire_refuse_expire_and_release():
    clock = Clock()
    kube = FakePool(clock, 1)
    first = PoolLock(kube, "pool-1", "run-a", 30, clock=clock)
    first.acquire()
    second = PoolLock(kube, "pool-1", "run-b", 30, clock=clock)
    with pytest.raises(PreconditionError) as refused:
        second.acquire()
    assert "locked by run run-a" in str(refused.value)
    clock.now += 31                      # run-a stopped renewing: the Lease expired
    second.acquire()
    with pytest.raises(PreconditionError):
        first.renew()                    # run-a learns it lost the lock
    assert first.release() is False
    assert second.release() is True
    assert "holderIdentity" not in kube.leases[second.path]["spec"]


# -- compatibility -------------------------------------------------------------------------------------

MATRIX = {
    "hardware": [{"model": "Snt9b23", "flavor_regex": "snt9b23", "image_suffix": "snt9b23"},
                 {"model": "Snt9b", "flavor_regex": r"snt9b[0-9]?\.", "image_suffix": "snt9b"}],
    "drivers": [{"driver": "24.1.0.3", "firmware": "7.5.0.5.220", "hardware": ["Snt9b"]},
                {"driver": "24.1.RC3.10", "firmware": "7.5.0.109.220", "hardware": ["Snt9b23"]}],
    "cann": {"8.2.RC1": ["25.2.*", "24.1.0*", "24.1.RC3*"], "7.0.0": ["23.0.3*", "23.0.6*"]},
}
SNT9B = "modelarts.bm.npu.arm.8snt9b3.d"
SNT9B23 = "modelarts.bm.npu.arm.16snt9b23.d"


def test_compatibility_accepts_a_matching_chain():
    from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import compat as C
    problems, facts = C.check(MATRIX, NEW, [SNT9B], "8.2.RC1",
                              ["pytorch_2.6.0-cann_8.2.rc1-py_3.11-hce_2.0.2506-aarch64-snt9b"])
    assert problems == [] and facts["hardware"] == ["Snt9b"] and facts["cann"] == ["8.2.RC1"]
    assert C.check(MATRIX, "7.5.0.109.220-24.1.rc3.10", [SNT9B23])[0] == []


def test_compatibility_names_each_broken_link():
    from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import compat as C
    assert "does not support hardware Snt9b23" in C.check(MATRIX, NEW, [SNT9B23])[0][0]
    assert "ships with firmware 7.5.0.5.220" in C.check(MATRIX, "7.1.0.9.220-24.1.0.3", [SNT9B])[0][0]
    assert "CANN 7.0.0 (cann_version) does not run" in C.check(MATRIX, NEW, [SNT9B], "7.0.0")[0][0]
    problems = C.check(MATRIX, NEW, [SNT9B], images=["mindspore-cann_8.2.rc1-snt9b23"])[0]
    assert problems == ["image mindspore-cann_8.2.rc1-snt9b23 is built for Snt9b23, but the nodes are Snt9b"]
    assert "not in the compatibility data" in C.check(MATRIX, "7.7.0.9.220-25.2.1", [SNT9B23])[0][0]
    assert C.check(MATRIX, "7.7.0.9.220-25.2.1", [SNT9B23], allow_unknown=True)[0] == []
    with pytest.raises(ValidationError):
        C.check(MATRIX, "24.1.0.3", [SNT9B])


def test_shipped_compatibility_data_covers_the_offered_versions():
    """files/compatibility.yml accepts every version the ModelArts catalogue offers for its chip."""
    import os
    import yaml
    from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import compat as C
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..")
    with open(os.path.join(root, "roles", "rolling_driver_upgrade", "files", "compatibility.yml")) as handle:
        matrix = yaml.safe_load(handle)
    for version in ("7.1.0.9.220-23.0.6", "7.5.0.5.220-24.1.0.3"):
        assert C.check(matrix, version, [SNT9B])[0] == [], version
    for version in ("7.5.0.108.220-24.1.rc3.9", "7.5.0.109.220-24.1.rc3.10", "7.7.0.9.220-25.2.1"):
        assert C.check(matrix, version, [SNT9B23], "8.2.RC1")[0] == [], version
    assert C.check(matrix, "7.7.0.9.220-25.2.1", [SNT9B])[0]


def test_smoke_check_gates_the_uncordon(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 2))
    rollout = engine(pool, clock, max_unavailable="2", smoke_command=["sh", "-c", 'test "$MODELARTS_LITE_NODE" = node-0'],
                     max_failed_nodes=1)
    report = plan_and_run(rollout, pool)
    results = {n["name"]: n for n in report["nodes"]}
    assert results["node-0"]["result"] == R.DONE
    assert results["node-1"]["result"] == R.FAILED and "smoke check exited 1" in results["node-1"]["reason"]
    assert pool.nodes[pool.records["node-1"]["status"]["privateIp"]]["spec"]["unschedulable"] is True


def test_transient_api_errors_are_ridden_out(fake_api):
    from ansible_collections.modelarts.lite.plugins.module_utils.errors import TransportError
    clock = Clock()
    pool = fake_api(FakePool(clock, 3))
    real_list = pool.list_items
    failures = {"left": 3}

    def flaky(path, query=None, limit=500):
        if path == "/api/v1/nodes" and failures["left"]:
            failures["left"] -= 1
            raise TransportError("GET", path, "connection reset")
        return real_list(path, query, limit)
    pool.list_items = flaky
    report = plan_and_run(engine(pool, clock), pool)
    assert report["status"] == R.SUCCEEDED and failures["left"] == 0


def test_paused_canary_stays_paused_without_approval(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 3))
    plan_and_run(engine(pool, clock, canary_nodes=1, canary_pause=True), pool)
    report = plan_and_run(engine(pool, clock, canary_nodes=1, canary_pause=True), pool)
    assert report["status"] == R.PAUSED_CANARY and len(pool.batch_names) == 1


# -- the module entry point (pre-flight refusals change nothing) ---------------------------------------

class FakeCloud:
    """The CloudClient surface run_rollout reads itself (the calls go through the patched pools functions)."""

    def __init__(self):
        self.calls = CallCounter()


def run_rollout(pool, params, check_mode=False):
    """lite_rollout's ensure function, with the clients LiteModule would have resolved."""
    clients = Clients(cloud=FakeCloud(), kube=pool, pool={"metadata": {"name": "pool-1"}, "status": {"phase": "Running"}})
    params = dict({"pool": "pool-1", "driver_version": NEW, "max_unavailable": "2", "canary_nodes": 0,
                   "max_failed_nodes": 0, "drain_timeout": 60, "node_timeout": 600, "poll_interval": 1.0,
                   "lease_duration": 30, "wait_timeout": 3600}, **params)
    return RUN.run_rollout(clients, params, check_mode)


@pytest.fixture
def preflight(monkeypatch, fake_api):
    def install(pool):
        fake_api(pool)
        # The driver catalogue offers both versions and names no chip, so the API would decide the pairing.
        monkeypatch.setattr(pools, "show_plugin_template", lambda client, name=None: {"spec": {"versions": {OLD: {}, NEW: {}}}})
        monkeypatch.setattr(pools, "list_flavors", lambda client: {})
        return pool
    return install


def test_preflight_refusals_change_nothing(preflight, tmp_path):
    clock = Clock()
    pool = preflight(FakePool(clock, 4))
    with pytest.raises(ValidationError, match="not offered"):
        run_rollout(pool, {"driver_version": "7.7.0.9.220-25.2.1"})
    matrix = {"hardware": [{"model": "Snt9b", "flavor_regex": "snt9b"}],
              "drivers": [{"driver": "24.1.0.3", "firmware": "7.5.0.5.220", "hardware": ["Snt9b"]}],
              "cann": {"7.0.0": ["23.0.*"]}}
    with pytest.raises(ValidationError, match="CANN 7.0.0"):
        run_rollout(pool, {"compatibility": matrix, "cann_version": "7.0.0"})
    # A window that only opens on a day three days from now is closed today.
    today = datetime.now(timezone.utc).weekday()
    closed = {"start": "00:00", "end": "00:01", "days": [W.DAYS[(today + 3) % 7]], "timezone": "UTC"}
    with pytest.raises(PreconditionError, match="outside the maintenance window"):
        run_rollout(pool, {"window": closed, "journal": str(tmp_path / "j.jsonl")})
    ips = sorted(pool.nodes)
    pool.nodes[ips[0]]["spec"]["unschedulable"] = True
    pool.nodes[ips[1]]["status"]["conditions"][0]["status"] = "False"
    with pytest.raises(PreconditionError, match="not healthy enough"):
        run_rollout(pool, {})
    assert pool.batch_names == [] and pool.leases == {}
    assert all(not n["metadata"]["annotations"] for n in pool.nodes.values())
    events = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == ["begin", "end", "result"] and events[-1]["status"] == "refused"
    assert "outside the maintenance window" in events[-1]["message"]


def test_check_mode_returns_the_plan(preflight):
    clock = Clock()
    pool = preflight(FakePool(clock, 5))
    result = run_rollout(pool, {"canary_nodes": 1, "expected_node_seconds": 100}, check_mode=True)
    assert result["status"] == "planned" and result["changed"] is True
    plan = result["plan"]
    assert len(plan["order"]) == 5 and plan["canary"] == plan["order"][:1]
    assert plan["expected_duration_seconds"] == 100 + 2 * 100
    assert pool.batch_names == [] and pool.leases == {}


class FakeNodeWatch:
    """The node watch's surface: a cache that is always current (the fake world advances on read)."""

    def __init__(self, pool):
        self.pool = pool
        self.reads = 0

    def snapshot(self):
        self.reads += 1
        self.pool.advance()
        return json.loads(json.dumps(list(self.pool.nodes.values())))


class BusyChanges:
    """A change event that is always set: the loop runs as often as MIN_CYCLE_SHARE lets it."""

    def __init__(self):
        self.waits = []

    def clear(self):
        pass

    def wait(self, timeout):
        self.waits.append(timeout)
        return True


def test_the_node_watch_replaces_node_lists_and_its_events_cut_the_wait(fake_api):
    durations = {"node-%d" % i: 11 for i in range(4)}

    def run(with_watch):
        clock = Clock()
        pool = fake_api(FakePool(clock, 4, durations))
        lists = []
        original = pool.list_items

        def list_items(path, query=None, limit=500):
            lists.append(path)
            return original(path, query, limit)
        pool.list_items = list_items
        rollout = engine(pool, clock, poll_interval=5.0)
        node_watch = FakeNodeWatch(pool)
        if with_watch:
            rollout.reader.watch = speed.ClusterWatch(node_watch, BusyChanges())
        report = plan_and_run(rollout, pool)
        assert report["status"] == R.SUCCEEDED
        assert max(len(u) for _t, u in pool.unavailable_log) == 2
        return clock.now - rollout.started_mono, lists.count("/api/v1/nodes"), node_watch

    polled, polled_lists, _polled_rollout = run(False)
    watched, watched_lists, node_watch = run(True)
    # Two slots, four 11 s nodes: 22 s is the limit. Polling every 5 s notices each finish up to
    # 5 s late; with events the loop looks again after a tenth of the interval.
    assert watched <= 22 + 2 * 5 * speed.MIN_CYCLE_SHARE + 1, watched
    assert watched < polled, (watched, polled)
    # One real list (the first cycle; the next resync is RESYNC_SECONDS away), the cache after that.
    assert watched_lists == 1 and polled_lists > 4, (watched_lists, polled_lists)
    assert node_watch.reads > 0


def test_own_writes_win_over_a_watch_copy_that_is_behind():
    ours = {"metadata": {"name": "10.0.0.0", "resourceVersion": "9"}, "spec": {"unschedulable": True}}
    own = {"10.0.0.0": ours}
    behind = {"metadata": {"name": "10.0.0.0", "resourceVersion": "8"}, "spec": {}}
    ahead = {"metadata": {"name": "10.0.0.0", "resourceVersion": "10"}, "spec": {}}
    assert speed.fresher([behind], own) == [ours]
    assert speed.fresher([ahead], own) == [ahead]


def test_a_rerun_with_nothing_left_but_a_failed_node_fails_with_its_reason(preflight, tmp_path):
    clock = Clock()
    pool = preflight(FakePool(clock, 2))
    failed = json.dumps({"run": "old", "target": NEW, "phase": "failed", "from": OLD, "reason": "driver Abnormal"})
    for name, record in pool.records.items():
        node = pool.nodes[record["status"]["privateIp"]]
        if name == "node-0":
            node["spec"]["unschedulable"] = True
            node["metadata"]["annotations"].update({L.DRIVER_UPGRADE: failed,
                                                    L.CORDONED_BY: "rolling-driver-upgrade/old"})
        else:
            record["status"]["driver"]["version"] = NEW
            node["metadata"]["labels"][DRIVER_LABEL] = NEW
    with pytest.raises(RolloutFailedError) as error:
        run_rollout(pool, {"report_dir": str(tmp_path)})
    assert "rolling driver upgrade failed" in str(error.value)
    result = error.value.to_result()
    assert result["status"] == "failed" and result["changed"] is False and result["report_file"]
    assert result["report"]["counts"] == {"already": 1, "failed": 1} and pool.batch_names == []
