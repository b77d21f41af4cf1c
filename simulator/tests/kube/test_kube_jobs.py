"""The Job controller (kube/jobs.py): pods run, exit, and the Job gets Complete or Failed."""
import json

import pytest
from conftest import FakeWorld, make_request, npu_node

from modelarts_sim.kube.app import KubeApi
from modelarts_sim.kube.cluster import Timings
from modelarts_sim.kube.jobs import JOB_POD_RUN_SECONDS, JOB_RESULT_ANNOTATION

POOL = "pool-jobs"


@pytest.fixture
def world():
    return FakeWorld(time_scale=0)


@pytest.fixture
def api(world):
    kube = KubeApi(world, Timings())
    for index in range(2):
        kube.node_created(POOL, npu_node(f"192.168.1.{10 + index}"))
    settle(kube, world, 90)
    return kube


def call(api, method, path, body=None, headers=None, query=None):
    data = json.dumps(body).encode() if body is not None else b""
    response = api.handle(POOL, make_request(method, f"/k8s/{POOL}{path}", api.token(POOL), data, query=query,
                                             headers=headers or {"Content-Type": "application/json"}))
    return response.status, json.loads(response.body) if response.body else None


def settle(api, world, seconds, step=1):
    for _ in range(int(seconds / step)):
        world.advance(step)
        api.tick()


def job(name, node, deadline=None):
    spec = {"backoffLimit": 0, "template": {"spec": {
        "restartPolicy": "Never", "nodeSelector": {"kubernetes.io/hostname": node},
        "containers": [{"name": "stress", "image": "stress:1",
                        "resources": {"limits": {"huawei.com/ascend-1980": "8"}}}]}}}
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def conditions(api, name):
    status, body = call(api, "GET", f"/apis/batch/v1/namespaces/default/jobs/{name}")
    assert status == 200
    return {c["type"]: c["reason"] for c in (body.get("status") or {}).get("conditions") or []}, body["status"]


def test_job_pod_runs_then_completes(api, world):
    assert call(api, "POST", "/apis/batch/v1/namespaces/default/jobs", job("ok", "192.168.1.10"))[0] == 201
    settle(api, world, 10)
    found, status = conditions(api, "ok")
    assert found == {} and status["active"] == 1
    settle(api, world, JOB_POD_RUN_SECONDS)
    found, status = conditions(api, "ok")
    assert found == {"Complete": "CompletionsReached"} and status["succeeded"] == 1
    _, pods = call(api, "GET", "/api/v1/namespaces/default/pods", query={"labelSelector": "job-name=ok"})
    assert [p["status"]["phase"] for p in pods["items"]] == ["Succeeded"]
    assert pods["items"][0]["spec"]["nodeName"] == "192.168.1.10"


def test_marked_node_fails_the_job(api, world):
    patch = {"metadata": {"annotations": {JOB_RESULT_ANNOTATION: "Failed"}}}
    status, _ = call(api, "PATCH", "/api/v1/nodes/192.168.1.11", patch,
                     headers={"Content-Type": "application/merge-patch+json"})
    assert status == 200
    call(api, "POST", "/apis/batch/v1/namespaces/default/jobs", job("bad", "192.168.1.11"))
    settle(api, world, JOB_POD_RUN_SECONDS + 10)
    found, status = conditions(api, "bad")
    assert found == {"Failed": "BackoffLimitExceeded"} and status["failed"] == 1


def test_deadline_ends_a_job_that_cannot_start(api, world):
    call(api, "POST", "/apis/batch/v1/namespaces/default/jobs", job("stuck", "192.168.9.9", deadline=30))
    settle(api, world, 40)
    found, status = conditions(api, "stuck")
    assert found == {"Failed": "DeadlineExceeded"} and "active" not in status
