"""Restart persistence, the World hooks the Kubernetes side uses, and scale."""
import json
import os
import time

from modelarts_sim.cloud import Cloud
from modelarts_sim.testing import start_simulator
from modelarts_sim.world import World

from masim_helpers import pool_body


def test_restart_keeps_state_credentials_ca_and_resumes_transitions(tmp_path):
    state_dir = tmp_path / "sim"
    sim = start_simulator(state_dir, time_scale=1, seed=3)
    try:
        env_before = dict(sim.env)
        with open(sim.env["ca_path"], "rb") as handle:
            ca_before = handle.read()
        status, created, _ = sim.request("POST", "/v2/{project_id}/pools", pool_body("restart-pool", count=2))
        assert status == 200
        pool_id = created["metadata"]["name"]
        audit_before = len(sim.audit_entries())
    finally:
        assert sim.stop() == 0
    assert not os.path.exists(state_dir / "ready")

    sim = start_simulator(state_dir, time_scale=1, seed=3)
    try:
        assert {k: sim.env[k] for k in ("access_key", "secret_key", "project_id", "admin_token")} == \
            {k: env_before[k] for k in ("access_key", "secret_key", "project_id", "admin_token")}
        with open(sim.env["ca_path"], "rb") as handle:
            assert handle.read() == ca_before
        pool = sim.request("GET", "/v2/{project_id}/pools/" + pool_id)[1]
        assert pool["status"]["phase"] == "Creating"  # sim time paused while stopped: still in flight
        assert len(sim.audit_entries()) == audit_before
        sim.advance(3600)
        pool = sim.request("GET", "/v2/{project_id}/pools/" + pool_id)[1]
        assert pool["status"]["phase"] == "Running"
        assert pool["status"]["resources"]["available"][0]["count"] == 2
    finally:
        sim.stop()
    with open(state_dir / "state.json", encoding="utf-8") as handle:
        assert json.load(handle)["pools"][pool_id]["phase"] == "Running"


def test_stop_subcommand_stops_the_server(tmp_path):
    import subprocess
    import sys
    sim = start_simulator(tmp_path / "sim")
    result = subprocess.run([sys.executable, "-m", "modelarts_sim", "stop", "--state-dir", sim.state_dir],
                            capture_output=True, text=True, timeout=15)
    assert result.returncode == 0, result.stderr
    assert sim.process.wait(5) == 0


def make_world(tmp_path, **kwargs):
    world = World(str(tmp_path / "w"), time_scale=1, seed=1, **kwargs)
    cloud = Cloud(world)
    world.cloud = cloud
    return world, cloud


def test_world_hooks_events_save_and_history(tmp_path):
    world, cloud = make_world(tmp_path)
    events = []
    world.subscribe(lambda event: events.append((event["type"], event.get("node", {}).get("status", {}).get("phase"))))
    saved = {}
    world.on_save("kube", lambda: {"clusters": 1}, saved.update)
    with world.lock:
        pool = cloud.create_pool(pool_body("hook-pool", count=1))
        node = next(iter(pool["nodes"].values()))
    assert events[:2] == [("pool_added", None), ("node_phase", "Creating")]
    world.advance_clock(3600)
    assert ("node_created", "Available") in events
    info = world.nodes_info(pool["id"])[0]
    assert info["private_ip"] == node["ip"] and info["npu"] == {"huawei.com/ascend-1980": 8}
    assert info["labels"]["os.modelarts.node/nodepool"] == "np-a"

    events.clear()
    with world.lock:
        cloud.batch_reboot(pool["id"], {"nodeNames": [node["name"]]})
    world.advance_clock(3600)
    assert [e for e in events if e[0] == "node_operation"] == [("node_operation", "Available")] * 2
    world.close()

    reloaded, _cloud = make_world(tmp_path)
    reloaded.on_save("kube", lambda: {}, saved.update)
    assert saved == {"clusters": 1}
    assert any(h.get("node") == node["name"] and h.get("activity") == "rebooting" for h in
               reloaded.history_log.since(0))
    reloaded.close()


def test_a_thousand_nodes_stay_fast(sim):
    started = time.monotonic()
    pool = sim.seed([{"name": "big-pool", "nodes": 1000}])["pools"][0]
    seeded = time.monotonic() - started
    started = time.monotonic()
    status, listed, _ = sim.request("GET", "/v2/{project_id}/pools/%s/nodes" % pool["id"])
    listing = time.monotonic() - started
    assert status == 200 and len(listed["items"]) == 1000
    started = time.monotonic()
    for _ in range(20):
        assert sim.request("GET", "/v2/{project_id}/pools/%s/nodes/%s" % (pool["id"], pool["nodes"][500]))[0] == 200
    per_show = (time.monotonic() - started) / 20
    # Generous bounds (a loaded 2-core CI machine): they catch a quadratic regression, not jitter;
    # make bench measures the real numbers.
    assert seeded < 15 and listing < 6 and per_show < 0.3, (seeded, listing, per_show)
