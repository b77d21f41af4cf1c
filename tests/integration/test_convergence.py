"""Every module converges: check mode predicts the real run's diff, and a rerun changes nothing.

Each case is one task on its own resource. The cases run in three ansible-playbook passes, all
with --diff: check mode, the real run, then the same tasks again. For every case:

- check mode and the real run both report changed, and report the same diff;
- check mode sends no mutating call (the simulator's audit log stays as it was);
- the rerun reports changed=false, and the whole rerun pass sends no mutating call.

Removals are cases like any other: a rerun of a removal finds the object gone, and that is success.
"""
import json

import pytest

from roles_helpers import task_results

SNT9B = "modelarts.bm.npu.arm.8snt9b3.d"
OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
OTHER_IMAGE = "HCE2.0-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0"
WORKLOADS = {"ready_nodes": True, "deployments": [{"name": "app", "replicas": 2}]}


def pool_args(name, count, **extra):
    args = {"name": name, "vpc_id": "vpc-it", "subnet_id": "subnet-it", "description": "convergence",
            "clusters": ["cce-it"], "user_login": {"key_pair_name": "kp-it"},
            "node_pools": [{"name": "np1", "flavor": SNT9B, "count": count}], "driver_version": OLD,
            "tags": {"owner": "sre"}}
    args.update(extra)
    return args


def cases(ids):
    """(case id, module, arguments); ``ids`` holds the names and ids seeded for them."""
    node = ids["nodes"]
    return [
        ("pool-create", "lite_pool", pool_args("conv-new", 1)),
        ("pool-scale-up", "lite_pool", {"name": "conv-scale",
                                        "node_pools": [{"name": "np1", "flavor": SNT9B, "count": 2}]}),
        ("pool-tags-description", "lite_pool", {"name": "conv-tags", "description": "now described",
                                                "tags": {"team": "llm"}}),
        ("pool-remove-node-pool", "lite_pool", {"name": "conv-np", "allow_scale_down": True, "node_pools": [
            {"name": "np1", "flavor": SNT9B, "count": 1},
            {"name": "np2", "flavor": SNT9B, "count": 1, "state": "absent"}]}),
        ("pool-delete", "lite_pool", {"name": "conv-gone", "state": "absent", "allow_delete": True}),
        ("node-cordon", "lite_node", {"pool": "conv-nodes", "nodes": [node[0]], "state": "cordoned"}),
        ("node-drain", "lite_node", {"pool": "conv-nodes", "nodes": [node[1]], "state": "drained"}),
        ("node-labels-taints", "lite_node", {"pool": "conv-nodes", "nodes": [node[2]], "labels": {"team": "llm"},
                                             "taints": [{"key": "dedicated", "value": "llm",
                                                         "effect": "NoSchedule"}]}),
        ("node-uncordon", "lite_node", {"pool": "conv-nodes", "nodes": [node[3]], "state": "schedulable"}),
        ("node-absent", "lite_node", {"pool": "conv-nodes", "nodes": [node[4]], "state": "absent",
                                      "allow_delete": True}),
        ("node-driver", "lite_node", {"pool": "conv-nodes", "nodes": [node[5]], "driver_version": NEW,
                                      "allow_driver_upgrade": True}),
        ("server-stop", "lite_server", {"name": "conv-stop", "state": "stopped"}),
        ("server-start", "lite_server", {"name": "conv-start", "state": "running"}),
        ("server-rename", "lite_server", {"name": "conv-old", "new_name": "conv-renamed"}),
        ("server-repair", "lite_server", {"name": "conv-repair", "authorize_repair": True, "repair_type": "HARD",
                                          "allow_hard_repair": True}),
        ("server-repair-then-stop", "lite_server", {"name": "conv-repair-stop", "authorize_repair": True,
                                                    "repair_type": "HARD", "allow_hard_repair": True,
                                                    "state": "stopped"}),
        ("server-os-switch", "lite_server_os", {"name": "conv-os", "operation": "switch", "image": OTHER_IMAGE,
                                                "allow_erase_system_disk": True}),
        ("supernode-grow", "supernode_scale", {"name": "conv-sn-grow", "count": 2}),
        ("supernode-shrink", "supernode_scale", {"name": "conv-sn-shrink", "count": 1, "allow_scale_down": True}),
        ("supernode-remove-servers", "supernode_scale", {"name": "conv-sn-remove",
                                                         "remove_servers": ["conv-sn-remove-2"],
                                                         "allow_scale_down": True}),
    ]


def seed(sim, ansible):
    pools = sim.seed([
        {"name": "conv-scale", "nodes": 1, "node_pool": "np1", "driver_version": OLD},
        {"name": "conv-tags", "nodes": 1, "node_pool": "np1", "driver_version": OLD},
        {"name": "conv-np", "node_pools": [{"name": "np1", "count": 1, "driver_version": OLD},
                                           {"name": "np2", "count": 1, "driver_version": OLD}]},
        {"name": "conv-gone", "nodes": 1, "node_pool": "np1"},
        {"name": "conv-nodes", "nodes": 7, "node_pool": "np1", "driver_version": OLD, "workloads": WORKLOADS},
    ])["pools"]
    nodes = sorted(pools[-1]["nodes"])
    sim.admin("POST", "seed", {
        "servers": [{"name": "conv-stop"}, {"name": "conv-start", "status": "STOPPED"}, {"name": "conv-old"},
                    {"name": "conv-repair", "status": "ERROR"}, {"name": "conv-repair-stop", "status": "ERROR"},
                    {"name": "conv-os", "status": "STOPPED"}],
        "supernodes": [{"name": "conv-sn-grow", "servers": 1}, {"name": "conv-sn-shrink", "servers": 2},
                       {"name": "conv-sn-remove", "servers": 2}],
    })
    sim.admin("POST", "seed", {"scheduled_events": [{"server": "conv-repair", "redeploy_types": ["HARD"]},
                                                    {"server": "conv-repair-stop", "redeploy_types": ["HARD"]}]})
    # node 3 starts cordoned by the collection, so state=schedulable has our cordon to lift
    cordon = ansible.module("modelarts.lite.lite_node", {"pool": "conv-nodes", "nodes": [nodes[3]],
                                                         "state": "cordoned"})
    assert cordon["changed"] is True, cordon
    return {"nodes": nodes}


def run_pass(ansible, case_list, check):
    tasks = [{"name": case_id, "modelarts.lite." + module: args, "register": "result", "ignore_errors": True}
             for case_id, module, args in case_list]
    playbook = ansible.workdir / "convergence.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    output = ansible.playbook(playbook, check=check, diff=True)
    results = {}
    for case_id, _module, _args in case_list:
        found = task_results(output, case_id)
        assert len(found) == 1, "task %s did not run" % case_id
        results[case_id] = found[0]
    return results


@pytest.fixture(scope="module")
def passes(ansible, sim):
    case_list = cases(seed(sim, ansible))
    outcome = {"cases": case_list}
    for name, check in (("check", True), ("real", False), ("rerun", False)):
        mark = len(sim.audit_entries())
        outcome[name] = run_pass(ansible, case_list, check)
        outcome[name + "_mutations"] = sim.audit_entries()[mark:]
    return outcome


CASE_IDS = [c[0] for c in cases({"nodes": ["n%d" % i for i in range(7)]})]


def test_check_mode_sends_no_mutating_call(passes):
    assert passes["check_mutations"] == [], passes["check_mutations"][:5]


def test_a_rerun_sends_no_mutating_call(passes):
    assert passes["rerun_mutations"] == [], passes["rerun_mutations"][:5]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_case_converges(passes, case_id):
    check, real, rerun = passes["check"][case_id], passes["real"][case_id], passes["rerun"][case_id]
    for result in (check, real, rerun):
        assert not result.get("failed"), result
    assert check["changed"] is True and real["changed"] is True, (check, real)
    assert check["diff"] == real["diff"], "check mode mispredicted the diff:\n%s\n%s" % (check["diff"], real["diff"])
    assert rerun["changed"] is False, rerun
    assert rerun["diff"]["before"] == rerun["diff"]["after"], rerun["diff"]
