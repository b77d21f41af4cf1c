"""Readiness faults: a node that never rejoins after its next operation, or never at all."""
import pytest

from modelarts_sim.testing import SimulatorError


def k8s_events(sim, node, since=0):
    return [h["event"] for h in sim.history(since) if h.get("kind") == "k8s" and h.get("node") == node]


def test_stuck_after_operation_stays_ready_until_the_upgrade_then_never_rejoins(sim):
    pool = sim.seed([{"name": "stuck-pool", "nodes": 2, "driver_version": "7.1.0.9.220-23.0.6"}])["pools"][0]
    victim, healthy = pool["nodes"]
    victim_ip, healthy_ip = pool["private_ips"][victim], pool["private_ips"][healthy]
    sim.node_readiness(pool["id"], victim_ip, "stuck_after_operation")
    mark = len(sim.history())
    sim.advance(120)
    assert "node_not_ready" not in k8s_events(sim, victim_ip, mark), "the fault must wait for an operation"

    status, _body, _ = sim.request("POST", "/v2/{project_id}/pools/%s/nodes/batch-update" % pool["id"],
                                   {"nodeNames": [victim, healthy], "driver": {"version": "7.5.0.5.220-24.1.0.3"}})
    assert status == 200
    sim.advance(4000)
    victim_events = k8s_events(sim, victim_ip, mark)
    assert "node_stuck" in victim_events
    assert victim_events[-1] != "node_ready" and "node_ready" not in victim_events[victim_events.index("node_stuck"):]
    assert k8s_events(sim, healthy_ip, mark)[-1] in ("node_ready", "node_driver_label")


def test_readiness_fault_input_is_checked(sim):
    with pytest.raises(SimulatorError, match="fault must be"):
        sim.node_readiness("nope", "1.2.3.4", "sometimes")
    with pytest.raises(SimulatorError, match="pool"):
        sim.node_readiness("nope", "1.2.3.4", "never_ready")
