"""KubeApi over its Request/Response interface: auth, discovery, lists, watch, audit, kubeconfig."""
import json
import os
import threading

import pytest
from conftest import FakeWorld, make_request, npu_node

from modelarts_sim.kube.app import KubeApi
from modelarts_sim.kube.kubeconfig import write_kubeconfig

POOL = "pool-app"


@pytest.fixture
def api():
    api = KubeApi(FakeWorld(time_scale=0))
    for index in range(3):
        api.node_created(POOL, npu_node(f"192.168.0.{10 + index}"))
    api.seed_workloads(POOL, {"ready_nodes": True})
    return api


def get(api, path, query=None, headers=None, token=None):
    response = api.handle(POOL, make_request("GET", f"/k8s/{POOL}{path}", token or api.token(POOL), query=query,
                                             headers=headers))
    return response


def test_missing_or_wrong_token_is_401_and_unknown_pool_404(api):
    for token in (None, "nope"):
        response = api.handle(POOL, make_request("GET", f"/k8s/{POOL}/api/v1/nodes", token))
        assert response.status == 401 and json.loads(response.body)["reason"] == "Unauthorized"
    response = api.handle("pool-none", make_request("GET", "/k8s/pool-none/api/v1/nodes", "x"))
    assert response.status == 404 and json.loads(response.body)["kind"] == "Status"


def test_discovery_documents_and_aggregated_fallback(api):
    aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    response = get(api, "/apis", headers={"Accept": aggregated})
    assert response.headers["Content-Type"] == "application/json"
    groups = {g["name"]: g["preferredVersion"]["groupVersion"] for g in json.loads(response.body)["groups"]}
    assert groups == {"apps": "apps/v1", "batch": "batch/v1", "coordination.k8s.io": "coordination.k8s.io/v1",
                      "policy": "policy/v1"}
    assert json.loads(get(api, "/api").body)["versions"] == ["v1"]
    assert json.loads(get(api, "/version").body)["minor"] == "31"
    core = {r["name"]: r for r in json.loads(get(api, "/api/v1").body)["resources"]}
    assert core["pods/eviction"]["group"] == "policy" and core["pods/eviction"]["kind"] == "Eviction"
    assert core["nodes"]["namespaced"] is False and "watch" in core["nodes"]["verbs"]
    apps = {r["name"] for r in json.loads(get(api, "/apis/apps/v1").body)["resources"]}
    assert {"deployments", "daemonsets", "replicasets"} <= apps
    assert get(api, "/openapi/v2").status == 404
    assert get(api, "/apis/example.com/v1").status == 404


def test_lists_paginate_and_tables(api):
    first = json.loads(get(api, "/api/v1/nodes", {"limit": "2"}).body)
    assert [n["metadata"]["name"] for n in first["items"]] == ["192.168.0.10", "192.168.0.11"]
    assert first["metadata"]["remainingItemCount"] == 1
    rest = json.loads(get(api, "/api/v1/nodes", {"limit": "2", "continue": first["metadata"]["continue"]}).body)
    assert [n["metadata"]["name"] for n in rest["items"]] == ["192.168.0.12"] and "continue" not in rest["metadata"]
    table = get(api, "/api/v1/nodes",
                headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    body = json.loads(table.body)
    assert body["kind"] == "Table" and [c["name"] for c in body["columnDefinitions"]][:2] == ["Name", "Status"]
    assert body["rows"][0]["cells"][:2] == ["192.168.0.10", "Ready"]
    assert body["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert get(api, "/api/v1/pods", {"fieldSelector": "spec.bogus=1"}).status == 400
    assert get(api, "/api/v1/nodes", {"labelSelector": "a in b"}).status == 400


def test_only_mutations_are_audited(api):
    world = api.world
    get(api, "/api/v1/nodes")
    assert world.audits == []
    response = api.handle(POOL, make_request("PATCH", f"/k8s/{POOL}/api/v1/nodes/192.168.0.10", api.token(POOL),
                                             {"spec": {"unschedulable": True}},
                                             headers={"Content-Type": "application/strategic-merge-patch+json"}))
    assert response.status == 200 and json.loads(response.body)["spec"]["unschedulable"] is True
    refused = api.handle(POOL, make_request("PATCH", f"/k8s/{POOL}/api/v1/nodes/192.168.0.10", api.token(POOL),
                                            {"spec": {}}, headers={"Content-Type": "text/plain"}))
    assert refused.status == 415
    assert [(a["api"], a["method"], a["status"]) for a in world.audits] == [("k8s", "PATCH", 200),
                                                                            ("k8s", "PATCH", 415)]
    assert world.audits[0]["body"] == {"spec": {"unschedulable": True}}
    assert [h["event"] for h in world.histories if h["event"].startswith("node_un")] == ["node_unschedulable"]


def test_watch_streams_initial_state_then_changes(api):
    response = get(api, "/api/v1/nodes", {"watch": "true", "timeoutSeconds": "5"})
    stream = iter(response.stream)
    initial = [json.loads(next(stream)) for _ in range(3)]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in initial] == \
        [("ADDED", f"192.168.0.{i}") for i in (10, 11, 12)]
    patcher = threading.Timer(0.1, lambda: api.handle(POOL, make_request(
        "PATCH", f"/k8s/{POOL}/api/v1/nodes/192.168.0.11", api.token(POOL), {"metadata": {"labels": {"w": "1"}}},
        headers={"Content-Type": "application/merge-patch+json"})))
    patcher.start()
    change = json.loads(next(stream))
    assert change["type"] == "MODIFIED" and change["object"]["metadata"]["labels"]["w"] == "1"
    patcher.join()


def test_kubeconfig_has_one_context_per_pool(tmp_path):
    path = str(tmp_path / "kubeconfig")
    write_kubeconfig(path, "https://127.0.0.1:9443/", "/state/ca.pem", {"pool-b": "tb", "pool-a": "ta"})
    document = json.load(open(path))
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert [c["name"] for c in document["contexts"]] == ["pool-a", "pool-b"]
    assert document["clusters"][1]["cluster"] == {"server": "https://127.0.0.1:9443/k8s/pool-b",
                                                  "certificate-authority": "/state/ca.pem"}
    assert document["users"][0]["user"] == {"token": "ta"}
