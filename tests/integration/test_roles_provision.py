"""roles/provision through playbooks/provision.yml, against the simulator."""
import json

from roles_helpers import changed_count, task_results

from conftest import REPO

PLAYBOOK = REPO / "playbooks" / "provision.yml"
DRIVER = "7.5.0.5.220-24.1.0.3"


def declaration(name, count=2, **pool):
    pool_spec = {
        "name": name, "vpc_id": "vpc-it", "subnet_id": "subnet-it", "driver_version": DRIVER,
        "clusters": ["cce-it"], "user_login": {"key_pair_name": "kp-it"},
        "node_pools": [{"name": "snt9b", "flavor": "modelarts.bm.npu.arm.8snt9b3.d", "count": count,
                        "labels": {"team": "llm"}, "taints": [{"key": "dedicated", "value": "llm", "effect": "NoSchedule"}]}],
    }
    pool_spec.update(pool)
    return {"provision_pools": [pool_spec], "provision_verify_delay": 1}


def test_plan_apply_verify_and_idempotence(ansible, audit, tmp_path):
    mark = audit.mark()
    planned = ansible.playbook(PLAYBOOK, check=True, extra_vars=declaration("prov-it"))
    plan = task_results(planned, "Show the plan")[0]["msg"]
    assert plan == ["prov-it: create (2 nodes declared, driver %s)" % DRIVER]
    assert audit.since(mark) == [], "check mode only plans"

    report = tmp_path / "report.json"
    applied = ansible.playbook(PLAYBOOK, extra_vars=dict(declaration("prov-it"), provision_report_path=str(report)))
    checks = task_results(applied, "Check each node's readiness, labels, taints and driver against its node pool")[0]
    assert len(checks["results"]) == 2 and all(not r.get("failed") for r in checks["results"])
    written = json.loads(report.read_text())
    assert written["pools"][0]["name"] == "prov-it" and written["pools"][0]["ready_nodes"] == 2
    assert written["pools"][0]["kube_context"] == written["pools"][0]["id"]
    assert written["kubeconfig"] == ansible.env["KUBECONFIG"]

    mark = audit.mark()
    again = ansible.playbook(PLAYBOOK, extra_vars=dict(declaration("prov-it"), provision_report_path=str(report)))
    assert changed_count(again) == 0
    assert audit.since(mark) == [], "a second run sends no mutating call"


def test_preflight_refuses_before_anything_is_created(ansible, audit):
    mark = audit.mark()
    sold_out = declaration("prov-bad")
    sold_out["provision_pools"].append({"name": "prov-bad-2", "vpc_id": "v", "subnet_id": "s", "clusters": ["c"],
                                        "user_login": {"key_pair_name": "kp"}, "node_pools": [
        {"name": "np", "flavor": "modelarts.bm.npu.arm.8snt9b2.d", "count": 1}]})
    output = ansible.playbook(PLAYBOOK, extra_vars=sold_out, expect_rc=(2,))
    failed = task_results(output, "Check names, flavors, stock and driver versions of every pool (check-mode run of lite_pool)")[0]
    assert failed["failed"] is True
    assert "prov-bad-2" in json.dumps(failed) and "sold out" in json.dumps(failed).lower()
    assert audit.since(mark) == [], "the good pool is not created when another one fails pre-flight"


def test_bad_variable_fails_at_the_start(ansible, audit):
    mark = audit.mark()
    output = ansible.playbook(PLAYBOOK, extra_vars={"provision_pools": [{"name": "x"}]}, expect_rc=(2,))
    first = output["plays"][0]["tasks"][0]
    assert "Validating arguments against arg spec" in first["task"]["name"]
    assert "node_pools" in first["hosts"]["localhost"]["msg"]
    assert audit.since(mark) == []
