"""A cancelled job or a stop request on the Lease parks the rollout's nodes in flight, and tolerated
failures are named in the status (fake pool, virtual clock, the engine's stop_requested seam, the
controller watch and the Lease watch)."""
import json
import os

# fake_api is a pytest fixture: importing it is what lets the tests below ask for it.
from test_rollout import Clock, FakePool, engine, fake_api, plan_and_run  # noqa: F401 pylint: disable=unused-import

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as M
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import progress
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import report as R
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import stop
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import lease as klease
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.lease import PoolLock


def test_a_gone_controller_parks_the_nodes_in_flight_and_starts_no_new_one(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 5))
    asked = {"cycles": 0}

    def stop_requested():
        asked["cycles"] += 1
        # The first cycle launches two nodes; by the second the controller is gone.
        return progress.ControllerGone("the controller stopped following the run") if asked["cycles"] > 1 else None

    rollout = engine(pool, clock, max_unavailable="2")
    rollout.stop_requested = stop_requested
    report = plan_and_run(rollout, pool)
    assert report["status"] == M.STOPPED and report["stop_reason"] == "the controller stopped following the run"
    assert report["counts"] == {"parked": 2, "pending": 3}, report["counts"]
    assert asked["cycles"] == 2, "the run ends in the cycle that saw the stop"
    parked = [n for n in report["nodes"] if n["result"] == M.PARKED]
    for entry in parked:
        assert "parked while" in entry["reason"] and "a rerun resumes it" in entry["reason"]
        node = pool.nodes[entry["kube_name"]]
        assert node["spec"]["unschedulable"] is True, "a parked node stays cordoned"
        state = json.loads(node["metadata"]["annotations"][L.DRIVER_UPGRADE])
        assert state["phase"] == M.PARKED and "controller" in state["reason"]
    assert sorted(pool.unavailable()) == sorted(n["kube_name"] for n in parked)


def test_a_plain_stop_request_still_lets_the_nodes_in_flight_finish(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 4))
    calls = {"n": 0}

    def stop_requested():
        calls["n"] += 1
        return calls["n"] > 1

    rollout = engine(pool, clock, max_unavailable="2")
    rollout.stop_requested = stop_requested
    report = plan_and_run(rollout, pool)
    assert report["status"] == M.STOPPED and report["counts"] == {"done": 2, "pending": 2}


def test_a_failure_within_the_budget_is_named_in_the_status(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 4, failing=["node-1"]))
    report = plan_and_run(engine(pool, clock, max_unavailable="2", max_failed_nodes=1), pool)
    assert report["status"] == M.SUCCEEDED_WITH_FAILURES, report["status"]
    assert [n["name"] for n in report["nodes"] if n["result"] == M.FAILED] == ["node-1"]
    assert "succeeded_with_failures" in R.summary_text(report).splitlines()[0]


def test_the_controller_watch_counts_silence_from_the_last_poll(tmp_path):
    journal = str(tmp_path / "run.jsonl")
    now = [1000.0]
    watch = progress.controller_watch(journal, 30, clock=lambda: now[0])
    now[0] += 29
    assert watch() is None, "no poll yet, but the engine only just started"
    now[0] += 2
    gone = watch()
    assert gone.park and "no progress poll for 31s" in gone.reason
    progress.beat(journal)
    os.utime(progress.heartbeat_path(journal), (now[0] - 5, now[0] - 5))
    assert watch() is None
    assert progress.controller_watch(journal, 0) is None and progress.controller_watch(None, 30) is None


def test_each_progress_poll_beats_and_check_mode_writes_nothing(tmp_path):
    journal = tmp_path / "run.jsonl"
    journal.write_text(json.dumps({"event": "begin", "msg": "one"}) + "\n")
    params = {"journal": str(journal), "wait": 0.0}
    progress.follow_journal(None, params, check_mode=True)
    assert not os.path.exists(progress.heartbeat_path(str(journal)))
    progress.follow_journal(None, params, check_mode=False)
    assert os.path.exists(progress.heartbeat_path(str(journal)))


def fake_proc(monkeypatch, table, session=100):
    """/proc as ``{pid: (argv, parent pid)}``; this process's session leader is ``session``."""
    def read(pid, name):
        argv, parent = table[pid]
        if name == "cmdline":
            return b"\0".join(argv) + b"\0"
        return b"%d (%s) S %d 1 1" % (pid, argv[0].rsplit(b"/", 1)[-1], parent)
    monkeypatch.setattr(progress, "_proc", read)
    monkeypatch.setattr(progress.os, "getsid", lambda pid: session)


PLAYBOOK = [b"/venv/bin/python", b"/venv/bin/ansible-playbook", b"site.yml"]


def test_a_worker_whose_ansible_playbook_died_knows_it(monkeypatch):
    fake_proc(monkeypatch, {100: (PLAYBOOK, 1), 1: ([b"dumb-init", b"--", b"ansible-runner", b"worker"], 0)})
    assert progress.controller_gone() is True


def test_a_worker_of_a_live_ansible_playbook_or_no_worker_at_all_is_left_alone(monkeypatch):
    fake_proc(monkeypatch, {100: (PLAYBOOK, 50), 50: (PLAYBOOK, 1)})
    assert progress.controller_gone() is False
    fake_proc(monkeypatch, {100: ([b"bash", b"-l"], 1), 1: ([b"init"], 0)})
    assert progress.controller_gone() is False


# -- a stop request written on the pool's Lease (lite_rollout state=stopped) ----------------------------

def held_lease(pool, clock, holder="run-1"):
    lock = PoolLock(pool, "pool-1", holder, 30, owner={"by": "test"}, clock=clock)
    lock.acquire()
    return lock


def test_a_stop_request_names_the_run_holding_the_lease_and_is_written_once():
    clock = Clock()
    pool = FakePool(clock, 2)
    assert klease.request_stop(pool, "pool-1", "why", clock()) == (False, None), "no Lease: nothing to stop"
    lock = held_lease(pool, clock)
    changed, view = klease.request_stop(pool, "pool-1", "maintenance over", clock(), check_mode=True)
    assert changed and view["holder"] == "run-1" and klease.stop_request(lock.read(), "run-1") is None
    changed, _view = klease.request_stop(pool, "pool-1", "maintenance over", clock())
    request = klease.stop_request(lock.read(), "run-1")
    assert changed and request["reason"] == "maintenance over" and request["run_id"] == "run-1"
    assert klease.stop_request(lock.read(), "run-2") is None, "a request names the run it stops"
    assert klease.request_stop(pool, "pool-1", "again", clock())[0] is False, "already requested"
    view = klease.lease_view(lock.read(), clock())
    assert view["stop_requested"]["reason"] == "maintenance over" and "stop-requested" not in view["owner"]
    # The renewal keeps the request (its 409 on the stale copy reads the Lease again).
    lock.renew()
    assert klease.stop_request(lock.read(), "run-1") is not None
    # Releasing the Lease clears it, so it cannot stop a later run.
    assert lock.release() and klease.stop_request(lock.read(), "run-1") is None
    assert klease.request_stop(pool, "pool-1", "late", clock()) == (False, klease.lease_view(lock.read(), clock()))


def test_an_expired_lease_is_not_asked_and_a_new_holder_starts_without_the_old_request():
    clock = Clock()
    pool = FakePool(clock, 2)
    held_lease(pool, clock)
    assert klease.request_stop(pool, "pool-1", "stop", clock())[0]
    clock.now += 31
    assert klease.request_stop(pool, "pool-1", "stop", clock())[0] is False, "an expired holder is no running run"
    lock = held_lease(pool, clock, holder="run-1")   # a later run that reuses the run id takes the expired Lease
    assert klease.stop_request(lock.read(), "run-1") is None


def test_the_engine_reads_the_lease_for_a_request_at_most_every_check_interval():
    clock = Clock()
    pool = FakePool(clock, 2)
    lock = held_lease(pool, clock)
    reads = {"n": 0}
    read = lock.read

    def counted():
        reads["n"] += 1
        return read()
    lock.read = counted
    watch = stop.first_of(None, stop.lease_watch(lock, clock=clock, every=10))
    assert watch() is None and reads["n"] == 1
    klease.request_stop(pool, "pool-1", "operator says so", clock())
    clock.now += 9
    assert watch() is None and reads["n"] == 1, "read again only after the check interval"
    clock.now += 1
    request = watch()
    assert request.park and "operator says so" in request.reason and reads["n"] == 2


def test_a_stop_request_parks_the_nodes_in_flight(fake_api):
    clock = Clock()
    pool = fake_api(FakePool(clock, 5))
    rollout = engine(pool, clock, max_unavailable="2")
    rollout.lock = held_lease(pool, clock)
    cycles = {"n": 0}
    watch = stop.lease_watch(rollout.lock, clock=clock, every=0)

    def stop_requested():
        cycles["n"] += 1
        if cycles["n"] == 2:    # the operator's request arrives after the first cycle launched two nodes
            klease.request_stop(pool, "pool-1", "window cut short", clock())
        return watch()
    rollout.stop_requested = stop_requested
    report = plan_and_run(rollout, pool)
    assert report["status"] == M.STOPPED and "window cut short" in report["stop_reason"], report["stop_reason"]
    assert report["counts"] == {"parked": 2, "pending": 3}, report["counts"]
