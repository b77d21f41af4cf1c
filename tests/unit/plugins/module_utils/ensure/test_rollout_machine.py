"""The rollout's state machine table, its policy seams, its stop seam, and the one call whose refusal
stops the whole run (fake pool, virtual clock)."""
import pytest
# fake_api is a pytest fixture: importing it is what lets the tests below ask for it.
from test_rollout import NEW, Clock, FakePool, engine, fake_api, plan_and_run  # noqa: F401 pylint: disable=unused-import

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as M
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import policy as P
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ApiError

PHASES = (M.PENDING, M.CORDONED, M.UPGRADING, M.VERIFYING, M.SMOKE, M.DONE, M.FAILED, M.SKIPPED, M.ALREADY,
          M.PARKED)


def track(phase, name="node-0", canary=False, node_pool="np-a"):
    record = {"metadata": {"name": name, "labels": {"os.modelarts.node/nodepoolname": node_pool}},
              "status": {"privateIp": "10.0.0.%s" % name.rsplit("-", 1)[1], "driver": {"version": "old"}}}
    result = M.Track(record, None, NEW)
    result.phase, result.canary = phase, canary
    return result


def test_every_transition_of_the_table_is_allowed_and_journaled_and_nothing_else_is():
    allowed = set(M.TRANSITIONS)
    for source in PHASES:
        for target in PHASES:
            node, events = track(source), []
            if (source, target) in allowed:
                M.transition(node, target, lambda kind, message, t: events.append((kind, message, t.phase)),
                             "moved", reason="why" if target == M.FAILED else None)
                assert node.phase == target and events == [("node", "moved", target)]
                assert node.reason == ("why" if target == M.FAILED else None)
            else:
                with pytest.raises(M.TransitionRefused):
                    M.transition(node, target, lambda *args: events.append(args), "moved")
                assert node.phase == source and events == []
    # Terminal phases go nowhere; a node is never un-failed or re-upgraded by the machine.
    assert not [pair for pair in allowed if pair[0] in (M.DONE, M.FAILED, M.SKIPPED, M.ALREADY, M.PARKED)]
    with pytest.raises(M.TransitionRefused, match="node-0 cannot go from done to pending"):
        M.transition(track(M.DONE), M.PENDING, lambda *args: None, "again")


def test_a_successful_run_takes_each_node_through_the_journaled_phases(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 3))
    events = []
    rollout = engine(pool, clock)
    rollout.journal = events.append
    plan_and_run(rollout, pool)
    for name in pool.records:
        phases = [e["phase"] for e in events if e.get("event") == "node" and e["node"] == name]
        assert phases == [M.CORDONED, M.UPGRADING, M.VERIFYING, M.DONE], (name, phases)


def snapshot(tracks, unavailable=(), per_pool=None, **extra):
    return P.Snapshot(tracks=tracks, unavailable=list(unavailable), per_pool=per_pool or {}, now_utc=None, **extra)


class Config:
    """The RolloutConfig fields the policy reads."""
    max_unavailable = "3"
    max_unavailable_per_node_pool = None
    max_failed_nodes = 0
    canary_nodes = 0
    canary_pause = False
    canary_approved = False
    window = None
    window_override = True
    window_margin = 0
    job_idle_wait = 0


def test_policy_launches_groups_back_to_back_and_nothing_overtakes(monkeypatch):
    tracks = [track(M.PENDING, "node-%d" % i) for i in range(5)]
    policy = P.Policy(Config(), [], 10)
    assert [t.name for t in policy.decide(snapshot(tracks)).launch] == ["node-0", "node-1", "node-2"]
    # A group (job-aware runs): its nodes take the free slots as they come, and while one of them
    # waits no later node starts (the engine holds the waiting ones; see groups.py).
    job = {"node-1", "node-2", "node-3"}

    def by_job(ordered):                     # groups in order of their first node
        groups = {}
        for node in ordered:
            groups.setdefault("job" if node.name in job else node.name, []).append(node)
        return list(groups.values())
    monkeypatch.setattr(P, "group_nodes", by_job)
    assert [t.name for t in policy.decide(snapshot(tracks)).launch] == ["node-0", "node-1", "node-2"]
    tracks[0].phase = tracks[1].phase = tracks[2].phase = M.DONE
    assert [t.name for t in policy.decide(snapshot(tracks, unavailable=["x", "y"])).launch] == ["node-3"]
    assert policy.decide(snapshot(tracks, unavailable=["x", "y", "z"])).launch == []
    # The engine's grouping: consecutive tracks of one Track.group.
    for t, group in zip(tracks, (None, 1, 1, 1, None)):
        t.group = group
    monkeypatch.undo()
    grouped = [[t.name for t in g] for g in P.group_nodes(tracks)]
    assert grouped == [["node-0"], ["node-1", "node-2", "node-3"], ["node-4"]]


def test_canary_policy_is_one_object():
    canary = P.CanaryPolicy(nodes=1, pause=True)
    tracks = [track(M.PENDING, "node-%d" % i) for i in range(3)]
    assert canary.choose(tracks, done_before=0) == tracks[:1] and canary.choose(tracks, done_before=1) == []
    tracks[0].canary = True
    assert not canary.passed(tracks) and not canary.may_start(tracks[1], False) and canary.may_start(tracks[0], False)
    tracks[0].phase = M.DONE
    assert canary.passed(tracks) and canary.pause_after(True)[0] == M.PAUSED_CANARY
    assert P.CanaryPolicy(nodes=1, pause=True, approved=True).pause_after(True) is None
    assert canary.failure(tracks[0], "boom") == (M.RUN_FAILED, "canary node node-0 failed: boom")
    assert canary.failure(tracks[1], "boom") is None


def test_stop_requested_starts_nothing_new_and_lets_in_flight_nodes_finish(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 6))
    asked = {"cycles": 0}

    def stop_requested():
        asked["cycles"] += 1
        return asked["cycles"] > 1          # the first cycle launches, every later one asks to stop
    rollout = engine(pool, clock, max_unavailable="2")
    rollout.stop_requested = stop_requested
    report = plan_and_run(rollout, pool)
    assert report["status"] == M.STOPPED and report["stop_reason"] == "a stop was requested"
    assert report["counts"] == {"done": 2, "pending": 4}, report["counts"]
    assert pool.unavailable() == [], "the two in-flight nodes finished and were uncordoned"


def test_a_400_from_the_batch_update_call_stops_the_whole_run_at_once(fake_api, monkeypatch):
    clock = Clock()
    pool = fake_api(FakePool(clock, 6))
    calls = []

    def refuse(client, pool_id, names, driver=None, **kwargs):
        calls.append(list(names))
        raise ApiError(400, "ModelArts.50004000", "driver version not supported by the node pool", "req-1", "POST",
                       "/v2/p/pools/pool-1/nodes/batch-update")
    monkeypatch.setattr(pools, "batch_update_nodes", refuse)
    report = plan_and_run(engine(pool, clock, max_unavailable="3", max_failed_nodes=5), pool)
    assert len(calls) == 1, "one refused call, not one per node"
    assert report["status"] == M.RUN_FAILED and report["counts"] == {"parked": 3, "pending": 3}, report["counts"]
    reason = report["stop_reason"]
    for part in ("batch-update", "POST /v2/p/pools/pool-1/nodes/batch-update", '"nodeNames": [', NEW,
                 "ModelArts.50004000", "driver version not supported", "docs/api-contract.md"):
        assert part in reason, (part, reason)
    assert not [n for n in report["nodes"] if n["result"] == M.FAILED], "no node counts as failed"
    parked = [pool.records[n["name"]]["status"]["privateIp"] for n in report["nodes"] if n["result"] == M.PARKED]
    assert pool.unavailable() == sorted(parked), "the drained nodes stay cordoned for a rerun"
