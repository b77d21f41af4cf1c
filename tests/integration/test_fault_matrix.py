"""Fault matrix: the rolling_driver_upgrade role under injected faults, judged by the simulator.

One table, one row per fault: the fault is set through the simulator's admin API while the role
upgrades a small pool that runs a PDB-protected Deployment. After each row the shared invariants
(tests/integration/invariants.py) are checked from the simulator's history and the cluster:
never more than max_unavailable nodes out, no PDB-guarded pod gone without an accepted eviction,
no node left cordoned by a rollout without a failure in the report, no node upgraded twice. A
failing row must say what went wrong, and a rerun after the fault clears converges to every node
on the target (or reports the same failures when the fault is permanent).

Also covered, with the same checks, in test_rolling_upgrade.py: a concurrent run refused by the
Lease and a SIGKILLed run resumed (test_concurrent_run_is_refused_and_killed_run_resumes), and the
window closing mid-run (test_window_gate_stops_new_launches). The simulator restart row has its
own simulator, so it runs in parallel with the table under pytest-xdist.

A run stopped mid-way is a row of its own table, STOP_ROWS: a job cancelled through
ansible-runner's cancel and through AWX's SIGINT/SIGTERM/SIGKILL sequence, and a stop request
written on the pool's Lease by a rerun of the role with rolling_driver_upgrade_stop. Those rows stall a node
behind a blocking PDB and time the cancel against the host's processes, so test_rollout_cancel.py
runs them (parametrized by STOP_ROWS) on a simulator of its own, judged by the same check_all plus
check_stopped (in-flight nodes parked and reported, the Lease free at once), and a rerun that
converges with no node upgraded twice.
"""
import json
import os
import signal
import subprocess
import time

import pytest

import invariants as inv
from conftest import Ansible
from modelarts_sim.testing import start_simulator
from test_rolling_upgrade import failures, journal_events, role_vars, run_role, spawn_role, task_results, wait_for

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
NODES = 4
MAX_UNAVAILABLE = 2
TIME_SCALE = 1000.0
FIRST_IP = "192.168.0.2"   # the simulator numbers a pool's private IPs from 192.168.0.2


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=TIME_SCALE, seed=23)
    yield handle
    handle.stop()


# Job awareness is on (the role's default): a 2-node gang job and a 2-server super node, so the
# invariants also cover "each job interrupted at most once" and "no queued taint left behind".
TRAINING = {"gang_jobs": [{"name": "llm", "namespace": "training", "nodes": [0, 1], "checkpoint_seconds": 600}],
            "super_nodes": [{"id": "spod-fm", "nodes": [2, 3]}]}


def seed_pool(sim, name, never_ready=()):
    workloads = dict(TRAINING, ready_nodes=True,
                     deployments=[{"name": "web", "replicas": 3, "pdb": {"minAvailable": 2}}])
    if never_ready:
        workloads["never_ready_nodes"] = list(never_ready)
    return sim.seed([{"name": name, "nodes": NODES, "driver_version": OLD, "workloads": workloads}])["pools"][0]


def delete_pdb(sim, pool, name):
    subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool["id"], "delete", "pdb", name],
                   capture_output=True, text=True, check=True)


# Each row: the faults (rules, or a function of the seeded pool), role variables, and the outcome.
#   outcome "succeeded": the run rides the fault out and every node reaches the target.
#   outcome "failed": the run fails, `message` is in its failure, `failed_nodes` nodes are reported
#   failed (at least that many with "at_least"), and a rerun with retry_failed (after `fix`) converges.
#   outcome "skipped": the faulty node is skipped with `message` as its reason, the rest converge,
#   and a rerun reports the same skip.
#   outcome "tolerated": as "failed", but within max_failed_nodes: the job succeeds and its status
#   (succeeded_with_failures), AWX stats and output name the failed nodes.
ROWS = [
    # Three 429s in a row on whatever is called first: within both clients' retries (Retry-After honoured).
    dict(id="throttle-burst", outcome="succeeded",
         faults=[{"kind": "throttle", "api": "any", "count": 3, "retry_after": 1}]),
    # A storm that outlasts every retry: refused at pre-flight, saying so, with nothing changed.
    dict(id="throttle-storm", outcome="refused", message="throttl",
         faults=[{"kind": "throttle", "api": "any", "retry_after": 0}]),
    # Bursts sized to the clients' retries (Kubernetes: 3, ModelArts: 4), so the outcome is deterministic.
    dict(id="5xx-burst-on-reads", outcome="succeeded",
         faults=[{"kind": "error", "api": "any", "method": "GET", "status": 503, "count": 3}]),
    dict(id="5xx-on-the-upgrade-call", outcome="failed", at_least=True, failed_nodes=1,
         message="refused the driver upgrade",
         faults=[{"kind": "error", "api": "modelarts", "method": "POST", "path": "/nodes/batch-update$",
                  "status": 500, "count": 1}]),
    dict(id="connection-resets-on-reads", outcome="succeeded",
         faults=[{"kind": "reset", "api": "any", "method": "GET", "count": 3}]),
    dict(id="connection-reset-on-the-upgrade-call", outcome="failed", at_least=True, failed_nodes=1,
         message="retry_failed=true",
         faults=[{"kind": "reset", "api": "modelarts", "method": "POST", "path": "/nodes/batch-update$", "count": 1}]),
    dict(id="high-latency", outcome="succeeded",
         faults=[{"kind": "latency", "api": "any", "seconds": 0.3, "probability": 0.5, "count": 40}]),
    # ModelArts keeps the failed node's driver Abnormal, so no rerun can upgrade it: the rerun must
    # report the same failure (not a success that skips a node still cordoned by the rollout). The
    # failure is within max_failed_nodes, so the job succeeds, but its status, the AWX stats and the
    # output name it (succeeded_with_failures); the rerun (no failure budget) fails on it.
    dict(id="driver-upgrade-fails-on-a-node", outcome="tolerated", failed_nodes=1, message="driver upgrade failed",
         rerun_same_failure=True, vars={"rolling_driver_upgrade_max_failed_nodes": 1},
         faults=lambda pool: [{"kind": "fail_operation", "operation": "driver_upgrade",
                               "node": sorted(pool["nodes"])[0]}]),
    dict(id="pdb-never-allows-eviction", outcome="failed", failed_nodes=1, message="disruption budget",
         workloads_blocking=True, vars={"rolling_driver_upgrade_drain_timeout": 3},
         fix=lambda sim, pool: delete_pdb(sim, pool, "stuck-pdb")),
    dict(id="signature-rejected-clock-skew", outcome="refused", message="15 minutes",
         faults=[{"kind": "clock_skew", "api": "modelarts", "seconds": 3600}]),
    dict(id="node-stuck-not-ready", outcome="skipped", message="NotReady", never_ready=[FIRST_IP]),
    # Ready when the run starts; after its driver upgrade the node never rejoins.
    dict(id="node-stuck-after-upgrade", outcome="failed", failed_nodes=1, message="not back after",
         vars={"rolling_driver_upgrade_node_timeout": 8},
         setup=lambda sim, pool: sim.node_readiness(pool["id"], FIRST_IP, "stuck_after_operation"),
         fix=lambda sim, pool: sim.node_readiness(pool["id"], FIRST_IP, "none")),
]


# Runs stopped mid-way (a node done, one in flight): `stop` is how, `reason` in the report's stop
# reason says why. Run by test_rollout_cancel.py.
STOP_ROWS = [
    dict(id="cancel-mid-run-ansible-runner", stop="ansible-runner", reason="controller"),
    dict(id="cancel-mid-run-awx-signals", stop="awx-signals", reason="controller"),
    # A second job reruns the role with rolling_driver_upgrade_stop: a request on the pool's Lease.
    dict(id="stop-request-mid-run", stop="stop-request", reason="stop requested"),
]


def faults_for(row, pool):
    faults = row.get("faults") or []
    return faults(pool) if callable(faults) else faults


def report_of(tmp_path, run_id):
    path = tmp_path / ("%s.json" % run_id)
    assert path.exists(), "the role must write its report even when the run fails"
    return json.loads(path.read_text())


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_fault_row(ansible, sim, tmp_path, row):
    pool_name = "fm-" + row["id"][:28].rstrip("-")
    if row.get("workloads_blocking"):
        pool = sim.seed([{"name": pool_name, "nodes": NODES, "driver_version": OLD, "workloads": {
            "ready_nodes": True, **TRAINING,
            "deployments": [{"name": "web", "replicas": 3, "pdb": {"minAvailable": 2}},
                            {"name": "stuck", "replicas": 1, "pdb": "blocking"}]}}])["pools"][0]
    else:
        pool = seed_pool(sim, pool_name, never_ready=row.get("never_ready", ()))
    if row.get("setup"):
        row["setup"](sim, pool)
    out_before = inv.out_at_start(sim, pool["id"])
    since = len(sim.history())
    mark = len(sim.audit_entries())
    run_id = "%s-1" % pool_name
    sim.set_faults(faults_for(row, pool))
    try:
        output = run_role(ansible, role_vars(pool, tmp_path, run_id, **row.get("vars", {})),
                          expect_rc=(0,) if row["outcome"] in ("succeeded", "skipped", "tolerated") else (2,))
    finally:
        sim.clear_faults()
    report = report_of(tmp_path, run_id)
    broken = inv.check_all(sim, pool, since, MAX_UNAVAILABLE, report, initially_out=out_before)
    assert broken == [], broken

    if row["outcome"] == "succeeded":
        assert report["status"] == "succeeded", report
        assert inv.converged(sim, pool, NEW) == []
        return

    if row["outcome"] == "refused":
        assert row["message"] in failures(output), failures(output)
        # The report's status is the run's outcome, never an HTTP status code leaking from the error.
        assert report["status"] in ("refused", "error", "failed"), report["status"]
        # The engine wrote it, and said so last in its journal: the role writes no report of its own.
        last = json.loads((tmp_path / ("%s.jsonl" % run_id)).read_text().splitlines()[-1])
        assert last["event"] == "result" and last["report_file"] == str(tmp_path / ("%s.json" % run_id)), last
        assert row["message"] in report["message"], report
        assert inv.mutations(sim.audit_entries()[mark:]) == [], "a refused run must change nothing"
    elif row["outcome"] == "skipped":
        assert report["status"] == "succeeded", report
        skipped = [n for n in report["nodes"] if n["result"] == "skipped"]
        assert [n["kube_name"] for n in skipped] == row["never_ready"], report["nodes"]
        assert row["message"] in skipped[0]["reason"]
    else:
        assert report["status"] == ("succeeded_with_failures" if row["outcome"] == "tolerated" else "failed"), report
        failed = [n for n in report["nodes"] if n["result"] == "failed"]
        if row.get("at_least"):
            assert len(failed) >= row["failed_nodes"], report["nodes"]
        else:
            assert len(failed) == row["failed_nodes"], report["nodes"]
        for node in failed:
            assert row["message"] in node["reason"], node
        if row["outcome"] == "tolerated":
            stats = task_results(output, "Hand the report to AWX")[0]["ansible_stats"]["data"]["rolling_driver_upgrade"]
            assert stats["status"] == "succeeded_with_failures", stats["status"]
            assert stats["failed_nodes"] == [n["kube_name"] for n in failed], stats["failed_nodes"]
            said = task_results(output, "Tolerated failures")[0]["msg"]
            assert "Succeeded WITH FAILURES" in said and failed[0]["kube_name"] in said, said
        else:
            text = failures(output)
            assert "%s failed" % run_id in text and "failed" in text, text
        # The failed nodes stay cordoned, each with its reason on the Node for the next operator.
        left = inv.our_cordons(sim, pool["id"])
        assert sorted(left) == sorted(n["kube_name"] for n in failed)
        for annotations in left.values():
            assert row["message"] in json.loads(annotations["modelarts.lite/driver-upgrade"])["reason"]

    # Rerun once the fault is gone: every node on the target, or the same permanent skip.
    if row.get("fix"):
        row["fix"](sim, pool)
    since = len(sim.history())
    out_before = inv.out_at_start(sim, pool["id"])
    rerun_id = "%s-2" % pool_name
    same_failure = row.get("rerun_same_failure")
    run_role(ansible, role_vars(pool, tmp_path, rerun_id, rolling_driver_upgrade_retry_failed=True),
             expect_rc=(0, 2) if same_failure else (0,))
    rerun = report_of(tmp_path, rerun_id)
    if same_failure:
        assert rerun["status"] == "failed", [(n["kube_name"], n["result"], n.get("reason")) for n in rerun["nodes"]]
        assert sorted(n["kube_name"] for n in rerun["nodes"] if n["result"] == "failed") == sorted(left), rerun["nodes"]
        # The others are on the target, or were never started by either run: the spent failure
        # budget stops launches, and (job-aware) the failed node's group may have come first.
        settled = [n["kube_name"] for n in rerun["nodes"] if n["result"] in ("done", "already")]
        untouched = [n["kube_name"] for n in rerun["nodes"] if n["result"] == "pending"]
        assert sorted(settled + untouched) == sorted(set(pool["private_ips"].values()) - set(left)), rerun["nodes"]
        assert set(untouched) <= {n["kube_name"] for n in report["nodes"] if n["result"] == "pending"}
        assert inv.check_all(sim, pool, since, MAX_UNAVAILABLE, rerun, initially_out=out_before) == []
        return
    assert rerun["status"] == "succeeded", rerun
    assert inv.check_all(sim, pool, since, MAX_UNAVAILABLE, rerun, initially_out=out_before) == []
    if row["outcome"] == "skipped":
        assert [n["kube_name"] for n in rerun["nodes"] if n["result"] == "skipped"] == row["never_ready"]
        converged_nodes = {n["name"] for n in rerun["nodes"] if n["result"] in ("done", "already")}
        assert len(converged_nodes) == NODES - len(row["never_ready"])
    else:
        assert inv.converged(sim, pool, NEW) == []


def test_simulator_restarted_mid_run(tmp_path, tmp_path_factory):
    """The whole API goes away for a moment (state kept on disk) while nodes are in flight: the
    engine rides the outage out and finishes, and nothing is done twice."""
    own = start_simulator(tmp_path_factory.mktemp("restart-sim"), time_scale=TIME_SCALE, seed=29)
    try:
        ansible = Ansible(own, tmp_path_factory.mktemp("restart-ansible"))
        pool = seed_pool(own, "fm-restart")
        since = len(own.history())
        run = spawn_role(ansible, role_vars(pool, tmp_path, "restart-1"))
        try:
            wait_for(lambda: any("cordoned" in e.get("msg", "") for e in journal_events(tmp_path, "restart-1")),
                     60, "a node in flight")
            port, state_dir = own.port, own.state_dir
            own.stop()
            time.sleep(1.0)
            own = start_simulator(state_dir, time_scale=TIME_SCALE, seed=29, port=port)
            stdout, stderr = run.communicate(timeout=180)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.communicate()
        assert run.returncode == 0, stdout[-4000:] + stderr[-2000:]
        report = report_of(tmp_path, "restart-1")
        assert report["status"] == "succeeded", report
        assert inv.converged(own, pool, NEW) == []
        assert inv.check_all(own, pool, since, MAX_UNAVAILABLE, report, initially_out=None) == []
    finally:
        own.stop()
