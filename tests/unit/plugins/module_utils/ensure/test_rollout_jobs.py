"""The engine with job awareness on (fake pool, virtual clock): groups launch back to back, their
waiting nodes are held with the queued taint, holds are released, interruptions are journaled."""
import pytest
from test_rollout import Clock, FakePool, engine, fake_api  # noqa: F401 pylint: disable=unused-import

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as R
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import policy as P
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.config import RolloutConfig
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L


def job_pod(ip, job, phase="Running"):
    return {"metadata": {"namespace": "training", "name": "%s-%s" % (job, ip),
                         "labels": {L.VOLCANO_JOB_NAME: job},
                         "ownerReferences": [{"kind": "Job", "name": job, "controller": True}]},
            "spec": {"nodeName": ip}, "status": {"phase": phase}}


def run(pool, clock, events, **extra):
    rollout = engine(pool, clock, job_aware=True, **extra)
    rollout.journal = events.append
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), pool.pods, [], list(pool.records.values()))
    return rollout, rollout.run()


def launches(pool):
    return list(pool.batch_names)


def held(pool):
    return sorted(ip for ip, n in pool.nodes.items()
                  if any(t["key"] == L.QUEUED_TAINT for t in n["spec"].get("taints") or []))


def test_a_job_group_launches_back_to_back_and_its_waiting_nodes_are_held(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 8, durations={"node-%d" % i: 20 + 7 * i for i in range(8)}))
    job_nodes = ["10.0.0.1", "10.0.0.4", "10.0.0.6"]
    pool.pods = [job_pod(ip, "llm") for ip in job_nodes]
    seen_held = []
    original = pool.merge_patch

    def watching(path, patch):
        node = original(path, patch)
        seen_held.append(tuple(held(pool)))
        return node
    pool.merge_patch = watching
    events = []
    rollout, report = run(pool, clock, events, max_unavailable="2")
    assert report["status"] == R.SUCCEEDED
    order = [pool.records[name]["status"]["privateIp"] for name in launches(pool)]
    positions = sorted(order.index(ip) for ip in job_nodes)
    assert positions == [5, 6, 7], order                  # the busy group last, back to back
    assert any(len(h) == 2 for h in seen_held), "the job's waiting nodes were held"
    assert held(pool) == []                               # every hold is gone at the end
    hits = [e for e in events if e["event"] == "interruption"]
    assert [(e["job"], e["multi_node"]) for e in hits] == [("training/llm", True)]
    assert report["job_interruptions"] == {"training/llm": 1}
    group = rollout.plan_report()["groups"][0]
    assert sorted(pool.records[n]["status"]["privateIp"] for n in group["nodes"]) == job_nodes
    assert group["jobs"] == [{"job": "training/llm", "nodes": 3, "selected": 3}] and group["down_rounds"] == 2


def test_job_blind_keeps_the_hash_order_and_holds_nothing(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 6))
    pool.pods = [job_pod(ip, "llm") for ip in ("10.0.0.0", "10.0.0.5")]
    events = []
    rollout = engine(pool, clock, job_aware=False, max_unavailable="2")
    rollout.journal = events.append
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), pool.pods, [], list(pool.records.values()))
    assert [t.name for t in rollout.tracks] == sorted(pool.records, key=lambda n: P.order_key(n, rollout.target))
    rollout.run()
    assert not [e for e in events if e["event"] == "hold"] and rollout.groups == []


def test_a_run_that_stops_releases_the_nodes_it_held(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 4, durations={"node-%d" % i: 10 for i in range(4)}))
    pool.pods = [job_pod(ip, "wide") for ip in ("10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3")]
    events = []
    rollout = engine(pool, clock, job_aware=True, max_unavailable="1")
    rollout.journal = events.append
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), pool.pods, [], list(pool.records.values()))
    pool.failing = {rollout.tracks[0].name}
    report = rollout.run()
    assert report["status"] == R.RUN_FAILED
    assert [e for e in events if e["event"] == "hold"], "the group's other nodes were held"
    assert held(pool) == []
    assert sorted(t.phase for t in rollout.tracks) == [R.FAILED, R.PENDING, R.PENDING, R.PENDING]


def test_oversized_group_skip_policy_reports_the_nodes(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 5))
    pool.pods = [job_pod(ip, "big") for ip in ("10.0.0.0", "10.0.0.1", "10.0.0.2")]
    rollout = engine(pool, clock, job_aware=True, max_unavailable="2", oversized_groups="skip")
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), pool.pods, [], list(pool.records.values()))
    skipped = [t for t in rollout.tracks if t.phase == R.SKIPPED]
    assert sorted(t.kube_name for t in skipped) == ["10.0.0.0", "10.0.0.1", "10.0.0.2"]
    assert "oversized_groups=skip" in skipped[0].reason


def test_config_defaults_and_refusal():
    config = RolloutConfig.from_params({"driver_version": "x"}, "run-1")
    assert config.job_aware is True and config.oversized_groups == "roll"
    assert config.job_labels == L.JOB_LABELS
    assert RolloutConfig.from_params({"driver_version": "x", "job_aware": False, "job_labels": ["team/run"]},
                                     "r").job_labels == L.JOB_LABELS + ("team/run",)
    with pytest.raises(ValidationError, match="oversized_groups"):
        RolloutConfig.from_params({"driver_version": "x", "oversized_groups": "wait"}, "r")
