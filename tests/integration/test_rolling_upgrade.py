"""The rolling_driver_upgrade role against the simulator, proven from the simulator's own records.

Every safety claim is checked from the simulator's history and audit log, never from the role's
output: the number of cordoned-or-NotReady nodes never exceeds max_unavailable, PDB-protected pods
only leave through accepted evictions, no node starts after the window closed, a killed run
resumes without upgrading a node twice, a concurrent run is refused by the Lease and writes
nothing, and a failed node stays cordoned with its reason on it.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from modelarts_sim.testing import start_simulator

from invariants import driver_changes, k8s_history, most_nodes_out

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
STATE_ANNOTATION = "modelarts.lite/driver-upgrade"
TIME_SCALE = 500.0


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A slower clock than the other suites: nodes take 1-4 s, long enough to kill a run mid-flight."""
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=TIME_SCALE, seed=11)
    yield handle
    handle.stop()


# -- helpers -----------------------------------------------------------------------------------------

def seed(sim, name, nodes=6, replicas=4, min_available=3):
    return sim.seed([{"name": name, "nodes": nodes, "driver_version": OLD, "workloads": {
        "ready_nodes": True,
        "deployments": [{"name": "web", "replicas": replicas, "pdb": {"minAvailable": min_available}}]}}])["pools"][0]


def kubectl_json(sim, pool_id, *args):
    proc = subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool_id, *args,
                           "-o", "json"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def kube_nodes(sim, pool_id):
    return {n["metadata"]["name"]: n for n in kubectl_json(sim, pool_id, "get", "nodes")["items"]}


def role_vars(pool, tmp_path, run_id, **extra):
    values = {"rolling_driver_upgrade_pool": pool["name"], "rolling_driver_upgrade_driver_version": NEW,
              "rolling_driver_upgrade_max_unavailable": "2", "rolling_driver_upgrade_canary_nodes": 0,
              "rolling_driver_upgrade_progress_interval": 1, "rolling_driver_upgrade_report_dir": str(tmp_path),
              "rolling_driver_upgrade_run_id": run_id, "rolling_driver_upgrade_lease_duration": 30}
    values.update(extra)
    return values


def write_playbook(ansible):
    path = ansible.workdir / "rolling.yml"
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                 "roles": [{"role": "modelarts.lite.rolling_driver_upgrade"}]}]))
    return path


def run_role(ansible, variables, check=False, expect_rc=(0,)):
    return ansible.playbook(write_playbook(ansible), check=check, extra_vars=variables, expect_rc=expect_rc)


def spawn_role(ansible, variables):
    """ansible-playbook with the role in the background (its own process group)."""
    cmd = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(write_playbook(ansible)),
           "-e", json.dumps(variables)]
    return subprocess.Popen(cmd, env=ansible.env, cwd=ansible.workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def task_results(output, name_part):
    found = []
    for play in output["plays"]:
        for task in play["tasks"]:
            if name_part in task["task"]["name"]:
                found.append(task["hosts"]["localhost"])
    return found


def failures(output):
    """The msg of every failed task (and loop item) of a playbook run."""
    found = []
    for play in output["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost") or {}
            if result.get("failed"):
                found.append(result.get("msg"))
    return " | ".join(str(m) for m in found)


def journal_events(tmp_path, run_id):
    path = tmp_path / ("%s.jsonl" % run_id)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)


def upgrade_requests(sim, pool_id, since_mark=0):
    """ModelArts node names named in accepted batch-update calls (one entry per request per node)."""
    names = []
    for entry in sim.audit_entries()[since_mark:]:
        if entry["api"] == "modelarts" and entry["method"] == "POST" and entry["path"].endswith(
                "/pools/%s/nodes/batch-update" % pool_id) and entry["status"] in (200, 201, 202):
            names.extend((entry.get("body") or {}).get("nodeNames") or [])
    return names


def assert_pdb_respected(sim, pool_id, since=0):
    """PDB-guarded pods only ever left through an accepted (PDB-checked) eviction; none was killed by
    a node going down for its upgrade."""
    history = k8s_history(sim, pool_id, since)
    evicted = {e["pod"] for e in history if e.get("event") == "eviction"}
    for entry in history:
        if entry.get("event") in ("pod_terminating", "pod_deleted") and str(entry.get("pod", "")).startswith("default/web-"):
            assert entry.get("reason") == "evicted" or entry["pod"] in evicted, entry
    return evicted


# -- tests -------------------------------------------------------------------------------------------

def test_check_mode_is_the_plan_and_changes_nothing(ansible, sim, audit, tmp_path):
    pool = seed(sim, "roll-plan")
    mark = audit.mark()
    output = run_role(ansible, role_vars(pool, tmp_path, "plan-1", rolling_driver_upgrade_canary_nodes=1), check=True)
    assert audit.since(mark) == [], "check mode must not mutate"
    job = task_results(output, "Run lite_rollout")[0]
    plan = job["plan"]
    assert job["status"] == "planned"
    assert sorted(plan["order"]) == sorted(pool["nodes"]) and len(plan["canary"]) == 1
    assert plan["canary"][0] == plan["order"][0]
    assert plan["max_unavailable"] == 2
    # 1 canary wave + ceil(5 / 2) waves, 900 s each.
    assert plan["expected_duration_seconds"] == 4 * 900
    assert plan["lock"] is None
    assert task_results(output, "The plan")[0]["msg"][1].startswith("Order: ")


def test_rollout_respects_budget_and_pdbs(ansible, sim, tmp_path):
    pool = seed(sim, "roll-main", nodes=6)
    since = len(sim.history())
    mark = len(sim.audit_entries())
    sim.reset_counters()
    output = run_role(ansible, role_vars(pool, tmp_path, "main-1", rolling_driver_upgrade_canary_nodes=1))

    # Every node moved to the target exactly once, each named in exactly one batch-update.
    assert driver_changes(sim, pool["id"], since) == {name: [NEW] for name in pool["nodes"]}
    assert sorted(upgrade_requests(sim, pool["id"], mark)) == sorted(pool["nodes"])
    # The sliding window never exceeded max_unavailable=2, and it was used (not one node at a time).
    assert most_nodes_out(sim, pool["id"], since) == 2
    evicted = assert_pdb_respected(sim, pool["id"], since)
    assert evicted, "the web pods must have been evicted through the Eviction API"
    # Every node ends schedulable, Ready, labelled with the new driver, state done.
    for name, node in kube_nodes(sim, pool["id"]).items():
        assert not node["spec"].get("unschedulable"), name
        assert node["metadata"]["labels"]["os.modelarts.node/npu.firmware.driver.version"] == NEW
        state = json.loads(node["metadata"]["annotations"][STATE_ANNOTATION])
        assert state["phase"] == "done" and state["target"] == NEW and state["run"] == "main-1"
    # At most 4 ModelArts calls per upgraded node, pre-flight included.
    modelarts_calls = sum(sim.counters()["modelarts"].values())
    assert modelarts_calls <= 4 * len(pool["nodes"]), sim.counters()
    # The Lease was taken and given back.
    lease = kubectl_json(sim, pool["id"], "get", "lease", "-n", "kube-system",
                         "modelarts-lite-driver-rollout-%s" % pool["id"])
    assert not lease["spec"].get("holderIdentity")

    # Progress printed while the run went: several loop items, node transitions among them.
    progress = task_results(output, "Rollout progress")[0]["results"]
    assert len(progress) >= 2
    assert any("cordoned" in line for item in progress for line in item["lines"])
    report = json.loads((tmp_path / "main-1.json").read_text())
    assert report["status"] == "succeeded" and len(report["nodes"]) == 6
    assert all(n["from_version"] == OLD and n["to_version"] == NEW and n["start"] and n["end"]
               for n in report["nodes"])
    assert (tmp_path / "main-1.txt").read_text().startswith("Rolling driver upgrade main-1")

    # A rerun finds nothing to do and sends no mutating ModelArts call and no node write.
    mark = len(sim.audit_entries())
    output = run_role(ansible, role_vars(pool, tmp_path, "main-2"))
    writes = [e for e in sim.audit_entries()[mark:] if e["api"] == "modelarts" or "/nodes/" in e["path"]]
    assert writes == []
    assert json.loads((tmp_path / "main-2.json").read_text())["counts"] == {"already": 6}


def test_window_gate_stops_new_launches(ansible, sim, audit, tmp_path):
    pool = seed(sim, "roll-window", nodes=30)
    now = datetime.now(timezone.utc)
    closed = {"start": (now + timedelta(hours=2)).strftime("%H:%M"), "end": (now + timedelta(hours=3)).strftime("%H:%M")}
    mark = audit.mark()
    output = run_role(ansible, role_vars(pool, tmp_path, "window-0", rolling_driver_upgrade_window=closed), expect_rc=(2,))
    assert audit.since(mark) == [], "outside the window nothing may change"
    assert "outside the maintenance window" in json.dumps(output)

    # The window closes 20 s from now: long after ansible has started (a few seconds), long before
    # thirty nodes one at a time could finish (about 1.4 s each here on an idle machine: 12 of them
    # fit in the window; ten nodes once did not fill it).
    since = len(sim.history())
    closes = datetime.now(timezone.utc) + timedelta(seconds=20)
    window = {"start": (closes - timedelta(hours=1)).strftime("%H:%M:%S"), "end": closes.strftime("%H:%M:%S")}
    run_role(ansible, role_vars(pool, tmp_path, "window-1", rolling_driver_upgrade_window=window,
                                rolling_driver_upgrade_window_margin=0, rolling_driver_upgrade_max_unavailable="1"))
    report = json.loads((tmp_path / "window-1.json").read_text())
    assert report["status"] == "paused_window_closed"
    cordons = [e for e in k8s_history(sim, pool["id"], since) if e["event"] == "node_unschedulable"]
    assert cordons, "some nodes started inside the window"
    assert all(e["wall_time"] <= closes.strftime("%Y-%m-%dT%H:%M:%SZ") for e in cordons), cordons
    upgraded = driver_changes(sim, pool["id"], since)
    assert 0 < len(upgraded) < 30
    # In-flight nodes finished: nothing is left cordoned.
    assert not any(n["spec"].get("unschedulable") for n in kube_nodes(sim, pool["id"]).values())


def test_concurrent_run_is_refused_and_killed_run_resumes(ansible, sim, tmp_path):
    """Run A stalls on a node whose pod a blocking PDB protects, so it is certainly alive when run B
    starts: B is refused by the Lease. A is then killed (SIGKILL) mid-drain, the budget relaxed, and
    run C resumes after A's Lease expired."""
    pool = sim.seed([{"name": "roll-kill", "nodes": 6, "driver_version": OLD, "workloads": {
        "ready_nodes": True,
        "deployments": [{"name": "web", "replicas": 4, "pdb": {"minAvailable": 3}},
                        {"name": "stuck", "replicas": 1, "pdb": "blocking"}]}}])["pools"][0]
    since = len(sim.history())
    mark = len(sim.audit_entries())
    first = spawn_role(ansible, role_vars(pool, tmp_path, "kill-1", rolling_driver_upgrade_lease_duration=4,
                                          rolling_driver_upgrade_drain_timeout=300))
    try:
        def stalled():
            events = journal_events(tmp_path, "kill-1")
            finished = [e["node"] for e in events if "uncordoned" in e.get("msg", "")]
            cordoned = [e["node"] for e in events if "cordoned, draining" in e.get("msg", "")]
            return len(finished) >= 2 and set(cordoned) - set(finished)
        wait_for(stalled, 90, "two nodes done and one stuck draining")

        before = len(sim.audit_entries())
        output = run_role(ansible, role_vars(pool, tmp_path, "kill-concurrent"), expect_rc=(2,))
        assert "locked by run kill-1" in failures(output), failures(output)
        assert not any("kill-concurrent" in json.dumps(e.get("body")) for e in sim.audit_entries()[before:])
        assert first.poll() is None, "run A must still be running"
    finally:
        engine = next((e["pid"] for e in journal_events(tmp_path, "kill-1") if e.get("pid")), None)
        if engine:
            os.kill(engine, signal.SIGKILL)
        try:
            # The role of run A outlives its engine: it says the engine died, with what it wrote last.
            out, _err = first.communicate(timeout=60)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
                first.communicate()
    assert journal_events(tmp_path, "kill-1")[-1]["event"] != "end", "run A must really have been cut short"
    assert first.returncode == 2 and "kill-1 died" in out and "gone without writing its result" in out, out[-3000:]
    assert not (tmp_path / "kill-1.json").exists(), "nobody but the engine writes a report"
    half_done = [n for n in kube_nodes(sim, pool["id"]).values() if n["spec"].get("unschedulable")]
    assert half_done, "the killed run must have left a node cordoned"

    subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool["id"], "delete", "pdb",
                    "stuck-pdb"], check=True, capture_output=True)
    time.sleep(4.5)  # run A's Lease expires
    run_role(ansible, role_vars(pool, tmp_path, "kill-2"))
    assert driver_changes(sim, pool["id"], since) == {name: [NEW] for name in pool["nodes"]}
    assert sorted(upgrade_requests(sim, pool["id"], mark)) == sorted(pool["nodes"])
    assert most_nodes_out(sim, pool["id"], since) <= 2
    assert_pdb_respected(sim, pool["id"], since)
    assert not any(n["spec"].get("unschedulable") for n in kube_nodes(sim, pool["id"]).values())
    report = json.loads((tmp_path / "kill-2.json").read_text())
    assert report["status"] == "succeeded"
    resumed = [n["kube_name"] for n in report["nodes"] if n.get("resumed") and n["result"] == "done"]
    assert sorted(resumed) == sorted(n["metadata"]["name"] for n in half_done)


def test_failed_node_is_left_cordoned_and_reported(ansible, sim, tmp_path):
    pool = seed(sim, "roll-fail", nodes=5)
    victim = sorted(pool["nodes"])[0]
    sim.set_faults([{"kind": "fail_operation", "operation": "driver_upgrade", "node": victim}])
    since = len(sim.history())
    try:
        output = run_role(ansible, role_vars(pool, tmp_path, "fail-1", rolling_driver_upgrade_max_unavailable="1"),
                          expect_rc=(2,))
    finally:
        sim.clear_faults()
    assert "fail-1 failed" in json.dumps(task_results(output, "Fail when the rollout failed"))
    node = kube_nodes(sim, pool["id"])[pool["private_ips"][victim]]
    assert node["spec"].get("unschedulable") is True
    state = json.loads(node["metadata"]["annotations"][STATE_ANNOTATION])
    assert state["phase"] == "failed" and "driver upgrade failed" in state["reason"]
    # Past the budget (0) nothing new started after the failure; only the victim is cordoned.
    history = k8s_history(sim, pool["id"], since)
    failed_seq = max(e["seq"] for e in sim.history(since) if e.get("node") == victim and e.get("kind") == "node")
    assert not [e for e in history if e["event"] == "node_unschedulable" and e["seq"] > failed_seq]
    others = [n for name, n in kube_nodes(sim, pool["id"]).items() if name != pool["private_ips"][victim]]
    assert not any(n["spec"].get("unschedulable") for n in others)
    report = json.loads((tmp_path / "fail-1.json").read_text())
    assert report["status"] == "failed"
    assert [n["name"] for n in report["nodes"] if n["result"] == "failed"] == [victim]


def test_canary_pause_then_approval(ansible, sim, tmp_path):
    pool = seed(sim, "roll-canary", nodes=4)
    since = len(sim.history())
    run_role(ansible, role_vars(pool, tmp_path, "canary-1", rolling_driver_upgrade_canary_nodes=1,
                                rolling_driver_upgrade_canary_pause=True))
    assert json.loads((tmp_path / "canary-1.json").read_text())["status"] == "paused_after_canary"
    first = driver_changes(sim, pool["id"], since)
    assert len(first) == 1
    run_role(ansible, role_vars(pool, tmp_path, "canary-2", rolling_driver_upgrade_canary_nodes=1,
                                rolling_driver_upgrade_canary_pause=True, rolling_driver_upgrade_canary_approved=True))
    assert driver_changes(sim, pool["id"], since) == {name: [NEW] for name in pool["nodes"]}


def test_bad_variables_fail_at_the_start(ansible, sim, audit, tmp_path):
    pool = seed(sim, "roll-bad", nodes=2)
    mark = audit.mark()
    output = run_role(ansible, role_vars(pool, tmp_path, "bad-1", rolling_driver_upgrade_max_failed_nodes="lots"),
                      expect_rc=(2,))
    validation = task_results(output, "Validating arguments")[0]
    assert validation.get("failed") and "rolling_driver_upgrade_max_failed_nodes" in validation["msg"]
    output = run_role(ansible, role_vars(pool, tmp_path, "bad-2", rolling_driver_upgrade_driver_version="7.7.0.9.220-25.2.1"),
                      expect_rc=(2,))
    assert "does not support hardware Snt9b" in json.dumps(output)
    assert audit.since(mark) == []
