"""roles/stress_test through playbooks/stress_test.yml on a seeded pool: schedule, on-demand run
with per-node pass/fail (the simulator's Job controller), idempotence and removal."""
import json
import subprocess

import pytest
from roles_helpers import changed_count, task_results

from conftest import REPO

PLAYBOOK = REPO / "playbooks" / "stress_test.yml"
# modelarts_sim.kube.jobs.JOB_RESULT_ANNOTATION: a marked node fails every Job pod it runs.
FAIL_ANNOTATION = "simulator.modelarts.lite/job-result=Failed"


@pytest.fixture(scope="module")
def pool(sim):
    seeded = sim.seed([{"name": "stress-it", "nodes": 2}])["pools"][0]
    return dict(seeded, ips=sorted(seeded["private_ips"].values()))


def kubectl(sim, pool, *args):
    return subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool["id"], *args],
                          capture_output=True, text=True, check=True).stdout


def test_schedule_run_report_and_remove(ansible, sim, pool):
    kubectl(sim, pool, "annotate", "node", pool["ips"][1], FAIL_ANNOTATION)
    base = {"stress_test_pool": "stress-it", "stress_test_wait_delay": 1}
    output = ansible.playbook(PLAYBOOK, extra_vars=dict(base, stress_test_run_now=True, stress_test_fail_on_error=False))
    # One loop item per Job; the last one holds the whole record.
    run = task_results(output, "Record pass or fail per node")[0]["results"][-1]["ansible_facts"]["stress_test_run"]
    assert {r["node"]: r["result"] for r in run["results"]} == {pool["ips"][0]: "pass", pool["ips"][1]: "fail"}

    hccl = json.loads(kubectl(sim, pool, "-n", "modelarts-stress", "get", "configmap", "periodic-hccl", "-o", "json"))
    assert hccl["data"] == {"HCCL_OP_RETRY_ENABLE": "L1:1,L2:1",
                            "HCCL_OP_RETRY_PARAMS": "MaxCnt:3,HoldTime:5000,IntervalTime:1000",
                            "HCCL_EXEC_TIMEOUT": "300"}
    cronjobs = json.loads(kubectl(sim, pool, "-n", "modelarts-stress", "get", "cronjobs", "-o", "json"))["items"]
    assert sorted(c["metadata"]["labels"]["modelarts.lite/stress-node"] for c in cronjobs) == pool["ips"]
    spec = cronjobs[0]["spec"]
    assert spec["schedule"] == "0 2 * * 0" and spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": cronjobs[0]["metadata"]["labels"]["modelarts.lite/stress-node"]}
    assert pod["containers"][0]["resources"]["limits"] == {"huawei.com/ascend-1980": "8"}
    assert pod["containers"][0]["envFrom"] == [{"configMapRef": {"name": "periodic-hccl"}}]

    # The role fails the play by default when a node fails.
    failing = ansible.playbook(PLAYBOOK, extra_vars=dict(base, stress_test_run_now=True), expect_rc=(2,))
    verdict = task_results(failing, "Fail when a node failed its test")[0]
    assert verdict["failed"] is True and pool["ips"][1] in verdict["msg"] and pool["ips"][0] not in verdict["msg"]

    again = ansible.playbook(PLAYBOOK, extra_vars=base)
    assert changed_count(again) == 0

    removed = ansible.playbook(PLAYBOOK, extra_vars=dict(base, stress_test_state="absent"))
    assert changed_count(removed) > 0
    namespaces = kubectl(sim, pool, "get", "namespaces", "-o", "name")
    assert "namespace/modelarts-stress" not in namespaces
    assert kubectl(sim, pool, "get", "jobs,cronjobs,pods", "-A", "-l", "modelarts.lite/stress-test=periodic",
                   "-o", "name").strip() == ""


def test_hccl_values_out_of_range_fail_before_any_change(ansible, audit, pool):
    mark = audit.mark()
    output = ansible.playbook(PLAYBOOK, extra_vars={"stress_test_pool": "stress-it", "stress_test_hccl_retry_max_count": 11},
                              expect_rc=(2,))
    assert "MaxCnt is 1-10" in task_results(output, "Check what the argument spec cannot (formats and ranges)")[0]["msg"]
    output = ansible.playbook(PLAYBOOK, extra_vars={"stress_test_pool": "stress-it", "stress_test_items": ["gpu_burn"]},
                              expect_rc=(2,))
    assert "gpu_burn" in output["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
    assert audit.since(mark) == []
