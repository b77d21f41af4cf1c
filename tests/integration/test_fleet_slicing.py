"""Fleet runs: the lite_pools inventory, sliced the way AWX job slicing does, three slices at once
through ansible-runner; every pool upgraded exactly once with the rolling-upgrade invariants holding."""
import json
import os
import shutil
import subprocess
import sys

import yaml

from invariants import check_all, converged, driver_changes
from ssh_fleet import BIN, REPO

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
POOLS = 8
SLICES = 3


def slice_dir(sim, base, index, hosts, reports):
    """An ansible-runner private data dir like the one AWX lays out for slice `index`."""
    private = base / ("slice%d" % index)
    (private / "project").mkdir(parents=True)
    shutil.copy(REPO / "playbooks" / "rolling_driver_upgrade_fleet.yml", private / "project")
    (private / "inventory").mkdir()
    (private / "inventory" / "fleet.lite_pools.yml").write_text(yaml.safe_dump({
        "plugin": "modelarts.lite.lite_pools", "name_pattern": "slice-p*",
        "compose": {"ansible_python_interpreter": repr(sys.executable)}}))
    (private / "env").mkdir()
    env = dict(sim.env_vars(), ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH",
                                                                       str(REPO / "build" / "install")))
    (private / "env" / "envvars").write_text(json.dumps(env))
    (private / "env" / "extravars").write_text(json.dumps({
        "rolling_driver_upgrade_driver_version": NEW, "rolling_driver_upgrade_max_unavailable": "1",
        "rolling_driver_upgrade_canary_nodes": 0, "rolling_driver_upgrade_progress_interval": 1,
        "rolling_driver_upgrade_report_dir": str(reports), "rolling_driver_upgrade_lease_duration": 30,
        "rolling_driver_upgrade_run_id": "fleet-{{ inventory_hostname }}"}))
    return subprocess.Popen([str(BIN / "ansible-runner"), "run", str(private), "-p",
                             "rolling_driver_upgrade_fleet.yml", "--ident", "slice", "--limit", ",".join(hosts),
                             "--forks", "8"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ.get("PATH", ""))))


def test_three_slices_upgrade_every_pool_exactly_once(sim, tmp_path):
    pools = sim.seed([{"name": "slice-p%d" % i, "nodes": 2, "driver_version": OLD, "workloads": {
        "ready_nodes": True, "deployments": [{"name": "web", "replicas": 2, "pdb": {"minAvailable": 1}}]}}
        for i in range(POOLS)])["pools"]
    since = sim.history()[-1]["seq"] if sim.history() else 0
    names = sorted(p["name"] for p in pools)
    reports = tmp_path / "reports"
    # AWX job slicing: slice k of n runs hosts k, k+n, k+2n, ... of the inventory.
    runs = [slice_dir(sim, tmp_path, k, names[k::SLICES], reports) for k in range(SLICES)]
    outputs = [run.communicate(timeout=1200)[0] for run in runs]
    for run, output in zip(runs, outputs):
        assert run.returncode == 0, output[-5000:]
    for k in range(SLICES):
        status = (tmp_path / ("slice%d" % k) / "artifacts" / "slice" / "status").read_text().strip()
        assert status == "successful"
    for pool in pools:
        report = json.loads((reports / ("fleet-%s.json" % pool["name"])).read_text())
        assert converged(sim, pool, NEW) == [], pool["name"]
        assert check_all(sim, pool, since, 1, report) == [], pool["name"]
        changes = driver_changes(sim, pool["id"], since)
        assert sorted(changes) == sorted(pool["nodes"]) and all(len(v) == 1 for v in changes.values()), changes
