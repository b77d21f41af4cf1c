"""Job-aware rolling upgrade on the simulator's gang jobs: each multi-node job is interrupted once,
its nodes launch back to back, the journal's interruptions match what the jobs lived through, and
the run leaves its timeline page next to the report. The job-blind run is measured the same way."""
import json

import pytest

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
TIME_SCALE = 500.0
# 8 nodes: a 3-node job, a 2-node job, a one-node job, a super node of two idle servers, one idle server.
LAYOUT = {"super_nodes": [{"id": "spod-1", "batch_uid": "b-1", "nodes": [6, 7]}],
          "gang_jobs": [{"name": "llm", "namespace": "training", "nodes": [0, 3, 5], "checkpoint_seconds": 600,
                         "elapsed_seconds": 300},
                        {"name": "pair", "namespace": "training", "nodes": [1, 2], "checkpoint_seconds": 600},
                        {"name": "solo", "namespace": "training", "nodes": [4], "checkpoint_seconds": 600}]}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from modelarts_sim.testing import start_simulator
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=TIME_SCALE, seed=17)
    yield handle
    handle.stop()


def run(sim, ansible, tmp_path, name, job_aware):
    pool = sim.seed([{"name": name, "nodes": 8, "driver_version": OLD, "workloads": dict(LAYOUT, ready_nodes=True)}])
    pool = pool["pools"][0]
    since = len(sim.history())
    playbook = ansible.workdir / "job_aware.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                     "roles": [{"role": "modelarts.lite.rolling_driver_upgrade"}]}]))
    output = ansible.playbook(playbook, extra_vars={
        "rolling_driver_upgrade_pool": name, "rolling_driver_upgrade_driver_version": NEW,
        "rolling_driver_upgrade_max_unavailable": "2", "rolling_driver_upgrade_canary_nodes": 1,
        "rolling_driver_upgrade_progress_interval": 1, "rolling_driver_upgrade_report_dir": str(tmp_path),
        "rolling_driver_upgrade_run_id": name + "-1", "rolling_driver_upgrade_job_aware": job_aware})
    report = json.loads((tmp_path / (name + "-1.json")).read_text())
    gangs = {j["job"]: j for j in sim.gangs(pool["id"])[pool["id"]]["jobs"]}
    return pool, report, gangs, sim.history(since), output


def cordon_order(history, pool_id, ips):
    names = {ip: index for index, ip in enumerate(ips)}
    return [names[e["node"]] for e in history if e.get("kind") == "k8s" and e.get("pool_id") == pool_id
            and e.get("event") == "node_unschedulable" and e.get("node") in names]


def test_each_job_is_interrupted_once_and_its_nodes_go_back_to_back(sim, ansible, tmp_path):
    pool, report, gangs, history, output = run(sim, ansible, tmp_path, "jobs-aware", True)
    assert report["status"] == "succeeded" and report["job_aware"] is True
    assert {job: g["restarts"] for job, g in gangs.items()} == \
        {"training/llm": 1, "training/pair": 1, "training/solo": 1}
    # The journal's count is what the jobs lived through.
    assert report["job_interruptions"] == {"training/llm": 1, "training/pair": 1, "training/solo": 1}
    ips = [pool["private_ips"][n] for n in pool["nodes"]]
    order = cordon_order(history, pool["id"], ips)
    assert sorted(order) == list(range(8)), order
    for members in ({0, 3, 5}, {1, 2}, {6, 7}):
        positions = [i for i, node in enumerate(order) if node in members]
        assert positions == list(range(positions[0], positions[0] + len(members))), (members, order)
    # Nodes without a multi-node job first (the canary among them), the busy groups last.
    assert set(order[-5:]) == {0, 1, 2, 3, 5}, order
    # The timeline page is there, published to AWX, and marks each interruption on its node.
    timeline = tmp_path / "jobs-aware-1.html"
    assert timeline.exists()
    page = timeline.read_text()
    for job in ("training/llm", "training/pair", "training/solo"):
        assert page.count('data-job="%s"' % job) == 1
    stats = json.dumps(output.get("global_custom_stats") or output.get("stats") or {})
    assert "jobs-aware-1.html" in stats or "jobs-aware-1.html" in json.dumps(output)


def test_job_blind_run_counts_every_interruption_it_causes(sim, ansible, tmp_path):
    pool, report, gangs, _history, _output = run(sim, ansible, tmp_path, "jobs-blind", False)
    assert report["status"] == "succeeded" and report["job_aware"] is False
    restarts = {job: g["restarts"] for job, g in gangs.items() if g["restarts"]}
    assert report["job_interruptions"] == restarts
    assert restarts["training/llm"] >= 1 and restarts["training/solo"] == 1
