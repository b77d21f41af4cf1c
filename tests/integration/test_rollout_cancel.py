"""An operator stops a rollout by cancelling its job, or by a stop request from a second job, and
nothing is left running or unreported.

The rolling upgrade playbook runs the way AWX runs it: under ansible-runner, whose cancel kills
ansible-playbook's process group (SIGKILL), or with AWX's own sequence (SIGINT, then SIGTERM, then
SIGKILL after a grace period) sent to that process group. The engine runs in the background
(async), outside that process group, so the kill does not reach it: it notices that the
controller stopped following it (no progress poll for rolling_driver_upgrade_cancel_timeout) and
then starts no new node, parks the nodes in flight (left cordoned, annotated, reported), releases
the Lease and exits. The stop request (the role rerun with rolling_driver_upgrade_stop: true, that
is lite_rollout state=stopped) is written on the pool's Lease; the engine reads it there and stops
the same way, and the second job returns once the Lease is free. Asking again changes nothing.

The rows are the fault matrix's STOP_ROWS (test_fault_matrix.py), judged by its invariants
(invariants.check_all and check_stopped), from the simulator's history and the host's processes:

- the engine exits within the documented bound, and no process of the job is left;
- the Lease is free at once, so the rerun takes it without force_unlock;
- max_unavailable held, no PDB was violated, nothing is left cordoned without being reported;
- the rerun converges, and no node was upgraded twice.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import ansible_runner
import pytest

import invariants as inv
from conftest import BIN, REPO
from modelarts_sim.testing import start_simulator
from test_fault_matrix import STOP_ROWS
from test_rolling_upgrade import (NEW, OLD, journal_events, role_vars, run_role, spawn_role, task_results,
                                  upgrade_requests, wait_for)

TIME_SCALE = 500.0
MAX_UNAVAILABLE = 2
CANCEL_TIMEOUT = 10
# The documented bound (docs/rolling-upgrade.md, "Stopping a rollout"): cancel_timeout, one poll
# cycle and the parking writes. The margin is for a test machine under load, not for the engine.
EXIT_BOUND = CANCEL_TIMEOUT + 30


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=TIME_SCALE, seed=31)
    yield handle
    handle.stop()


def seed_stalling_pool(sim, name):
    """Six nodes; one pod sits behind a PDB that never allows an eviction, so its node stays in
    flight (draining) until the run is cancelled."""
    return sim.seed([{"name": name, "nodes": 6, "driver_version": OLD, "workloads": {
        "ready_nodes": True,
        "deployments": [{"name": "web", "replicas": 4, "pdb": {"minAvailable": 3}},
                        {"name": "stuck", "replicas": 1, "pdb": "blocking"}]}}])["pools"][0]


def processes_tagged(tag):
    """PIDs of live processes whose environment carries ``tag`` (every process of one job inherits it)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as handle:
                environ = handle.read()
            with open("/proc/%s/stat" % entry, "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if tag.encode() in environ and state != b"Z":
            found.append(int(entry))
    return found


def stalled(tmp_path, run_id):
    """Some node done and one still draining: the run is mid-way."""
    events = journal_events(tmp_path, run_id)
    finished = [e["node"] for e in events if "uncordoned" in e.get("msg", "")]
    draining = [e["node"] for e in events if "cordoned, draining" in e.get("msg", "")]
    return finished and set(draining) - set(finished)


def start_under_runner(sim, tmp_path, variables, tag, monkeypatch):
    """The playbook under ansible-runner, as AWX runs it; cancelled through its cancel_callback."""
    monkeypatch.setenv("PATH", "%s:%s" % (BIN, os.environ.get("PATH", "")))  # where runner finds ansible-playbook
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "project" / "rolling_driver_upgrade.yml").write_text(
        (REPO / "playbooks" / "rolling_driver_upgrade.yml").read_text())
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                                 % sys.executable)
    env = dict(sim.env_vars(), MODELARTS_LITE_TEST_JOB=tag,
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / "build" / "install")))
    cancel = threading.Event()
    thread, runner = ansible_runner.run_async(private_data_dir=str(private), playbook="rolling_driver_upgrade.yml",
                                              ident="cancel", envvars=env, extravars=variables, quiet=True,
                                              cancel_callback=cancel.is_set)
    return {"cancel": cancel.set, "done": lambda: not thread.is_alive(), "runner": runner, "thread": thread}


def start_as_awx(ansible, variables, tag):
    """ansible-playbook in its own process group; cancelled with AWX's signal sequence."""
    ansible.env["MODELARTS_LITE_TEST_JOB"] = tag
    try:
        run = spawn_role(ansible, variables)
    finally:
        ansible.env.pop("MODELARTS_LITE_TEST_JOB")

    def cancel():
        for signum, grace in ((signal.SIGINT, 2.0), (signal.SIGTERM, 2.0), (signal.SIGKILL, 0.0)):
            try:
                os.killpg(run.pid, signum)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
        run.communicate()
    return {"cancel": cancel, "done": lambda: run.poll() is not None, "process": run}


def start_and_stop_by_request(ansible, variables, tag, stop_vars):
    """ansible-playbook as AWX runs it; stopped by a second job: the role rerun with rolling_driver_upgrade_stop."""
    job = start_as_awx(ansible, variables, tag)
    run = job["process"]

    def stop():
        job["stop_output"] = run_role(ansible, stop_vars)
        run.communicate(timeout=60)   # the stopped job ends by itself (its run failed: status stopped)
        job["returncode"] = run.returncode
    job["cancel"] = stop
    return job


@pytest.mark.parametrize("row", STOP_ROWS, ids=[r["id"] for r in STOP_ROWS])
def test_a_run_stopped_mid_way_parks_releases_and_converges(ansible, sim, tmp_path, monkeypatch, row):
    how = row["stop"]
    pool = seed_stalling_pool(sim, "cancel-" + how[:6])
    run_id = "cancel-%s-1" % how[:6]
    tag = "cancel-%s" % uuid.uuid4().hex
    since = len(sim.history())
    mark = len(sim.audit_entries())
    out_before = inv.out_at_start(sim, pool["id"])
    variables = role_vars(pool, tmp_path, run_id, rolling_driver_upgrade_drain_timeout=600,
                          rolling_driver_upgrade_cancel_timeout=CANCEL_TIMEOUT)
    stop_vars = role_vars(pool, tmp_path, run_id, rolling_driver_upgrade_stop=True, rolling_driver_upgrade_stop_timeout=60,
                          rolling_driver_upgrade_stop_reason="the window was cut short")
    if how == "ansible-runner":
        job = start_under_runner(sim, tmp_path, variables, tag, monkeypatch)
    elif how == "awx-signals":
        job = start_as_awx(ansible, variables, tag)
    else:
        job = start_and_stop_by_request(ansible, variables, tag, stop_vars)
    try:
        wait_for(lambda: stalled(tmp_path, run_id), 180, "a node done and one stuck draining")
        assert inv.lease_holder(sim, pool["id"]) == run_id
        cancelled_at = time.monotonic()
        job["cancel"]()
        wait_for(job["done"], 60, "the job to end after its cancel")

        # The engine notices, parks and exits within the bound; nothing of the job is left running.
        end = wait_for(lambda: next((e for e in journal_events(tmp_path, run_id) if e["event"] == "end"), None),
                       EXIT_BOUND, "the engine's end event")
        wait_for(lambda: not processes_tagged(tag), EXIT_BOUND - (time.monotonic() - cancelled_at),
                 "every process of the cancelled job to exit")
        assert time.monotonic() - cancelled_at <= EXIT_BOUND
        assert end["status"] == "stopped", end
        assert inv.lease_holder(sim, pool["id"]) is None, "the Lease must be free for the next run at once"
    finally:
        for pid in processes_tagged(tag):
            os.kill(pid, signal.SIGKILL)

    report = json.loads((tmp_path / ("%s.json" % run_id)).read_text())
    assert report["status"] == "stopped" and row["reason"] in report["stop_reason"], report["stop_reason"]
    if how == "stop-request":
        stopped = task_results(job["stop_output"], "Stop the rollout running on the pool")[0]
        assert stopped["changed"] and stopped["status"] == "stopped" and stopped["stopped_run"] == run_id, stopped
        assert "the window was cut short" in report["stop_reason"] and job["returncode"] == 2
        # Asking again changes nothing and writes nothing: no run holds the Lease now.
        again_mark = len(sim.audit_entries())
        again = task_results(run_role(ansible, stop_vars), "Stop the rollout running on the pool")[0]
        assert not again["changed"] and again["status"] == "not_running", again
        assert inv.mutations(sim.audit_entries()[again_mark:]) == []
    assert inv.check_all(sim, pool, since, MAX_UNAVAILABLE, report, initially_out=out_before,
                         guarded_prefixes=("default/web-", "default/stuck-")) + inv.check_stopped(sim, pool, report) == []

    # The rerun (the blocking budget relaxed) takes the Lease at once and converges.
    subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool["id"], "delete", "pdb",
                    "stuck-pdb"], check=True, capture_output=True)
    rerun_id = "cancel-%s-2" % how[:6]
    run_role(ansible, role_vars(pool, tmp_path, rerun_id))
    rerun = json.loads((tmp_path / ("%s.json" % rerun_id)).read_text())
    assert rerun["status"] == "succeeded", rerun
    assert inv.converged(sim, pool, NEW) == []
    assert sorted(upgrade_requests(sim, pool["id"], mark)) == sorted(pool["nodes"]), "a node was upgraded twice"
    assert inv.check_all(sim, pool, since, MAX_UNAVAILABLE, rerun, initially_out=out_before,
                         guarded_prefixes=("default/web-",)) == []
