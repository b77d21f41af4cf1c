"""Wait for idle (job_idle_wait): the policy's decision over a snapshot, and the engine on a fake
pool with a virtual clock - a job that ends within the bound is never interrupted, one that
outlasts it is interrupted once, and other groups use the budget while a group waits."""
from types import SimpleNamespace

import pytest
from test_rollout import Clock, FakePool, engine, fake_api  # noqa: F401 pylint: disable=unused-import
from test_rollout_jobs import job_pod

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import groups as G
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as M
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import policy as P
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.config import RolloutConfig
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError


# -- the decision (pure) -----------------------------------------------------------------------------
def track(name, group):
    return SimpleNamespace(name=name, kube_name=name, group=group, phase=M.PENDING, canary=False, node_pool="np")


GROUPS = [{"nodes": ["a1", "a2"], "jobs": [{"job": "t/a", "nodes": 2, "selected": 2}], "busy": True},
          {"nodes": ["b1", "b2"], "jobs": [{"job": "t/b", "nodes": 2, "selected": 2}], "busy": True}]


def decide(bound, running, waited=None, tracks=None, max_unavailable="2"):
    policy = P.Policy(RolloutConfig(target="x", run_id="r", max_unavailable=max_unavailable, job_idle_wait=bound),
                      [], 4)
    tracks = tracks or [track("a1", 0), track("a2", 0), track("b1", 1), track("b2", 1)]
    return policy.decide(P.Snapshot(tracks=tracks, unavailable=[], per_pool={}, now_utc=None, groups=GROUPS,
                                    running_jobs=set(running), waited=waited or {}))


def names(decision):
    return [t.name for t in decision.launch]


def test_a_busy_group_waits_within_the_bound_and_the_next_group_takes_the_slots():
    decision = decide(600, {"t/a"})
    assert names(decision) == ["b1", "b2"]
    assert decision.idle_gates[0][0] == G.WAIT and "t/a" in decision.idle_gates[0][1]
    assert decision.idle_gates[1][0] == G.LAUNCH


def test_a_group_whose_job_ended_goes_and_one_past_the_bound_is_drained_anyway():
    assert names(decide(600, set())) == ["a1", "a2"]
    past = decide(600, {"t/a", "t/b"}, waited={0: 600, 1: 10}, max_unavailable="3")
    assert names(past) == ["a1", "a2"] and past.idle_gates[0][0] == G.LAUNCH
    assert "still running after 600s" in past.idle_gates[0][1] and past.idle_gates[1][0] == G.WAIT


def test_no_bound_no_gate_and_a_group_that_has_begun_is_never_gated():
    off = decide(0, {"t/a", "t/b"})
    assert names(off) == ["a1", "a2"] and off.idle_gates == {}
    begun = [track("a1", 0), track("a2", 0), track("b1", 1), track("b2", 1)]
    begun[0].phase = M.UPGRADING
    decision = decide(600, {"t/a", "t/b"}, tracks=begun)
    assert names(decision) == ["a2"] and 0 not in decision.idle_gates


def test_no_slot_free_means_no_turn_and_no_gate():
    tracks = [track("a1", 0), track("a2", 0)]
    policy = P.Policy(RolloutConfig(target="x", run_id="r", max_unavailable="1", job_idle_wait=600), [], 4)
    decision = policy.decide(P.Snapshot(tracks=tracks, unavailable=["other"], per_pool={}, now_utc=None,
                                        groups=GROUPS, running_jobs={"t/a"}))
    assert decision.launch == [] and decision.idle_gates == {}


def test_job_idle_wait_default_and_bounds():
    assert RolloutConfig.from_params({"driver_version": "x"}, "r").job_idle_wait == 0
    assert RolloutConfig.from_params({"driver_version": "x", "job_idle_wait": 900}, "r").job_idle_wait == 900
    for bad in (-1, 86401):
        with pytest.raises(ValidationError, match="job_idle_wait must be between 0 and 86400"):
            RolloutConfig.from_params({"driver_version": "x", "job_idle_wait": bad}, "r")


# -- the engine (fake pool, virtual clock) -------------------------------------------------------------
def run_with_job(fake_api, ends_after, bound, count=4):
    """Nodes 10.0.0.0 and .1 run the 2-node job "train", which ends ``ends_after`` seconds into the
    run (None: never); the other nodes are idle."""
    clock = Clock()
    pool = fake_api(FakePool(clock, count, durations={"node-%d" % i: 20 for i in range(count)}))
    job_nodes = ["10.0.0.0", "10.0.0.1"]
    pool.pods = [job_pod(ip, "train") for ip in job_nodes]
    start, advance = clock.now, pool.advance

    def advancing():
        advance()
        if ends_after is not None and clock.now - start >= ends_after:
            pool.pods = [p for p in pool.pods if p["metadata"]["labels"].get("volcano.sh/job-name") != "train"]
    pool.advance = advancing
    events = []
    rollout = engine(pool, clock, job_aware=True, max_unavailable="2", job_idle_wait=bound)
    rollout.journal = events.append
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), pool.pods, [], list(pool.records.values()))
    report = rollout.run()
    order = [pool.records[name]["status"]["privateIp"] for name in pool.batch_names]
    return report, events, order, job_nodes


def test_engine_a_job_that_ends_within_the_bound_is_not_interrupted(fake_api):
    report, events, order, job_nodes = run_with_job(fake_api, ends_after=150, bound=600)
    assert report["status"] == M.SUCCEEDED
    assert report["job_interruptions"] == {} and not [e for e in events if e["event"] == "interruption"]
    (wait,) = report["job_idle_waits"]
    assert wait["jobs"] == ["training/train"] and wait["outcome"] == "idle"
    assert 100 <= wait["waited_seconds"] < 600, wait
    assert sorted(order[-2:]) == job_nodes, order
    assert [e["msg"] for e in events if e["event"] == "idle-wait"][0].count("waiting up to 600s") == 1


def test_engine_a_job_that_outlasts_the_bound_is_interrupted_once(fake_api):
    report, events, order, job_nodes = run_with_job(fake_api, ends_after=None, bound=60)
    assert report["status"] == M.SUCCEEDED
    assert report["job_interruptions"] == {"training/train": 1}
    (wait,) = report["job_idle_waits"]
    assert wait["outcome"] == "bound" and 60 <= wait["waited_seconds"] < 120, wait
    assert sorted(order[-2:]) == job_nodes, order


def test_engine_a_long_wait_does_not_end_the_run_blocked(fake_api):
    # node_timeout is 600 in the test config: the wait (900 s, nothing else left to do) is not a block.
    report, _events, _order, _nodes = run_with_job(fake_api, ends_after=800, bound=900, count=2)
    assert report["status"] == M.SUCCEEDED and report["job_interruptions"] == {}
    assert report["job_idle_waits"][0]["outcome"] == "idle"
