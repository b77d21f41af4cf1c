"""Wait for idle on the simulator's gang jobs (rolling_driver_upgrade_job_idle_wait): a job that
ends by itself within the bound is not interrupted at all, one that outlasts the bound is drained
anyway and interrupted once, and the report says which groups waited and why they went."""
import json
import time

import pytest

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
TIME_SCALE = 100.0
# The engine's bound is real seconds; the simulator's work is simulated seconds (TIME_SCALE x real).
BOUND = 40
SHORT_WORK_REAL = 20          # ends after the run has planned (ansible starts in a few seconds), within BOUND
# 4 nodes: "short" (ends by itself) on nodes 0 and 1, "long" (runs until deleted) on 2 and 3.
LAYOUT = {"gang_jobs": [{"name": "short", "namespace": "training", "nodes": [0, 1], "checkpoint_seconds": 600,
                         "work_seconds": SHORT_WORK_REAL * TIME_SCALE},
                        {"name": "long", "namespace": "training", "nodes": [2, 3], "checkpoint_seconds": 600}]}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from modelarts_sim.testing import start_simulator
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=TIME_SCALE, seed=23)
    yield handle
    handle.stop()


def test_a_job_that_ends_within_the_bound_is_not_interrupted_one_that_outlasts_it_once(sim, ansible, tmp_path):
    seeded_at = time.monotonic()
    pool = sim.seed([{"name": "idle-wait", "nodes": 4, "driver_version": OLD,
                      "workloads": dict(LAYOUT, ready_nodes=True)}])["pools"][0]
    playbook = ansible.workdir / "idle_wait.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                     "roles": [{"role": "modelarts.lite.rolling_driver_upgrade"}]}]))
    ansible.playbook(playbook, extra_vars={
        "rolling_driver_upgrade_pool": "idle-wait", "rolling_driver_upgrade_driver_version": NEW,
        "rolling_driver_upgrade_max_unavailable": "2", "rolling_driver_upgrade_canary_nodes": 0,
        "rolling_driver_upgrade_job_idle_wait": BOUND, "rolling_driver_upgrade_progress_interval": 1,
        "rolling_driver_upgrade_report_dir": str(tmp_path), "rolling_driver_upgrade_run_id": "idle-wait-1"})
    elapsed = time.monotonic() - seeded_at
    report = json.loads((tmp_path / "idle-wait-1.json").read_text())
    gangs = {j["job"]: j for j in sim.gangs(pool["id"])[pool["id"]]["jobs"]}
    assert report["status"] == "succeeded", report.get("message")
    # The short job finished its work undisturbed; the long one was drained once, after the bound.
    assert gangs["training/short"]["restarts"] == 0 and gangs["training/short"]["state"] == "Completed", \
        gangs["training/short"]
    assert gangs["training/long"]["restarts"] == 1, gangs["training/long"]
    assert report["job_interruptions"] == {"training/long": 1}
    waits = {tuple(w["jobs"]): w for w in report["job_idle_waits"]}
    assert set(waits) == {("training/short",), ("training/long",)}, report["job_idle_waits"]
    assert waits[("training/short",)]["outcome"] == "idle"
    assert waits[("training/short",)]["waited_seconds"] < BOUND
    assert waits[("training/long",)]["outcome"] == "bound"
    assert BOUND <= waits[("training/long",)]["waited_seconds"] < BOUND + 15
    assert elapsed >= BOUND
