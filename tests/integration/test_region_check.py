"""playbooks/region_check.yml: read-only, quiet on a region that answers as the contract says,
and a report of each difference on one that does not (a simulator started to serve them)."""
import pytest

from modelarts_sim.testing import start_simulator

from conftest import REPO, TIME_SCALE

PLAYBOOK = REPO / "playbooks" / "region_check.yml"


def seed_world(sim):
    sim.seed([{"name": "check-pool", "nodes": 2}])
    servers = sim.admin("POST", "seed", {"servers": [{"name": "check-srv"}],
                                         "supernodes": [{"name": "check-sn", "servers": 2}]})
    sim.admin("POST", "seed", {"scheduled_events": [{"server": servers["servers"][0]["id"]}]})


def task(output, name):
    return next(t["hosts"]["localhost"] for t in output["plays"][0]["tasks"] if t["task"]["name"] == name)


CHECK_TASK = "Read pools, node pools, nodes, flavors, plugin templates, servers, super nodes and events"


def test_a_region_that_answers_as_the_contract_says(ansible, sim):
    seed_world(sim)
    before = len(sim.audit_entries())
    output = ansible.playbook(PLAYBOOK)
    result = task(output, CHECK_TASK)
    assert result["changed"] is False and result["differences"] == [], result["report"]
    for call in ("list_pools", "show_pool", "list_node_pools", "list_nodes", "list_resource_flavors",
                 "show_plugin_template", "list_servers", "list_supernodes", "supernode_servers",
                 "list_scheduled_events"):
        assert result["checked"].get(call), "%s was not checked: %s" % (call, result["checked"])
    assert result["checked"]["list_nodes"] == 2 and result["checked"]["supernode_servers"] == 2
    assert len(sim.audit_entries()) == before, "the region check made a mutating call"


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    handle = start_simulator(tmp_path_factory.mktemp("sim-drift"), time_scale=TIME_SCALE, seed=7,
                             extra_env={"MODELARTS_SIM_DRIFT": "unknown_node_phase,missing_pool_phase"})
    yield handle
    handle.stop()


def test_a_region_that_differs_gets_a_report_of_each_difference(drifted, tmp_path):
    from conftest import Ansible

    seed_world(drifted)
    before = len(drifted.audit_entries())
    runner = Ansible(drifted, tmp_path)
    output = runner.playbook(PLAYBOOK, expect_rc=(2,))
    result = task(output, CHECK_TASK)
    problems = {(d["call"], d["field"], d["problem"]) for d in result["differences"]}
    assert ("list_nodes", "items[].status.phase", "unknown value") in problems
    assert ("show_pool", "status.phase", "missing") in problems
    assert ("list_pools", "items[].status.phase", "missing") in problems
    assert any("Hibernating" in line for line in result["report"])
    failed = task(output, "Fail when the region differs from the contract")
    assert failed["failed"] is True and "difference(s) from docs/api-contract.md" in failed["msg"]
    assert len(drifted.audit_entries()) == before, "the region check made a mutating call"
