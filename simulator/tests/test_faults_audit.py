"""Fault injection, the audit log, counters and signature refusals over HTTP."""
import json
import os
import ssl
import time
import http.client

import pytest


def test_throttle_gives_429_apig_0308_with_retry_after(sim, clean_faults):
    sim.set_faults([{"kind": "throttle", "api": "modelarts", "method": "GET", "path": "/pools$", "count": 2,
                     "retry_after": 3}])
    results = [sim.request("GET", "/v2/{project_id}/pools") for _ in range(3)]
    assert [r[0] for r in results] == [429, 429, 200]
    assert results[0][1]["error_code"] == "APIG.0308" and results[0][2]["retry-after"] == "3"
    assert results[0][2]["x-request-id"] == results[0][1]["request_id"]
    assert sim.faults()[0]["remaining"] == 0
    assert sim.counters()["faults"]["throttle"] >= 2


def test_error_fault_and_audit_of_refused_mutation(sim, clean_faults):
    sim.set_faults([{"kind": "error", "status": 503, "method": "POST", "count": 1}])
    seq = len(sim.audit_entries())
    status, body, _ = sim.request("POST", "/v2/{project_id}/pools", {"apiVersion": "v2"})
    assert status == 503 and body["error_code"] == "ModelArts.5000"
    assert [(e["method"], e["status"]) for e in sim.audit_entries(since=seq)] == [("POST", 503)]


def test_refuse_answers_a_modelarts_4xx_in_the_service_shape_and_is_audited(sim, clean_faults):
    pool = sim.seed([{"name": "refuse-fault", "nodes": 1, "driver_version": "7.1.0.9.220-23.0.6"}])["pools"][0]
    sim.set_faults([{"kind": "refuse", "api": "modelarts", "method": "POST", "path": "/nodes/batch-update$",
                     "count": 1, "error_msg": "Bad request. action is required."}])
    assert sim.faults()[0]["status"] == 400 and sim.faults()[0]["error_code"] == "ModelArts.50004000"
    seq = len(sim.audit_entries())
    path = "/v2/{project_id}/pools/%s/nodes/batch-update" % pool["id"]
    body = {"nodeNames": pool["nodes"], "driver": {"version": "7.5.0.5.220-24.1.0.3"}}
    status, refused, headers = sim.request("POST", path, body)
    assert status == 400 and set(refused) == {"error_code", "error_msg", "request_id"}, refused
    assert refused["error_code"] == "ModelArts.50004000" and refused["error_msg"] == "Bad request. action is required."
    assert refused["request_id"] == headers["x-request-id"]
    assert [(e["method"], e["status"]) for e in sim.audit_entries(since=seq)] == [("POST", 400)]
    # The refusal changed nothing: the node was not upgraded; the next call (count spent) goes through.
    sim.advance(3600)
    node = sim.request("GET", "/v2/{project_id}/pools/%s/nodes" % pool["id"])[1]["items"][0]
    assert node["status"]["driver"]["version"] == "7.1.0.9.220-23.0.6"
    assert sim.request("POST", path, body)[0] == 200


@pytest.mark.parametrize("rule, message", [
    ({"kind": "refuse", "path": "pools"}, "api 'modelarts'"),
    ({"kind": "refuse", "api": "k8s"}, "api 'modelarts'"),
    ({"kind": "refuse", "api": "modelarts", "error_code": "ModelArts.9999"}, "error_code"),
    ({"kind": "refuse", "api": "modelarts", "error_code": "ModelArts.50015001", "status": 400}, "HTTP 404"),
    ({"kind": "refuse", "api": "modelarts", "status": 418}, "HTTP 400"),
    ({"kind": "refuse", "api": "modelarts", "error_msg": 7}, "error_msg"),
    ({"kind": "error", "status": 400}, "status 500"),
])
def test_refusals_are_only_what_the_service_sends(sim, clean_faults, rule, message):
    status, body, _ = sim.raw("PUT", "/_sim/faults", {"rules": [rule]},
                              {"Authorization": "Bearer " + sim.env["admin_token"]})
    assert status == 400 and message in body["error_msg"], body
    assert sim.faults() == []


def test_reset_closes_the_connection_without_an_answer(sim, clean_faults):
    sim.set_faults([{"kind": "reset", "count": 1}])
    with pytest.raises((ConnectionError, http.client.HTTPException, ssl.SSLError, OSError)):
        sim.request("GET", "/v2/{project_id}/pools")
    assert sim.request("GET", "/v2/{project_id}/pools")[0] == 200


def test_latency_slows_matching_requests(sim, clean_faults):
    sim.set_faults([{"kind": "latency", "seconds": 0.3, "path": "resourceflavors"}])
    started = time.monotonic()
    assert sim.request("GET", "/v1/{project_id}/resourceflavors")[0] == 200
    assert time.monotonic() - started >= 0.3


def test_clock_skew_makes_signatures_expire(sim, clean_faults):
    sim.set_faults([{"kind": "clock_skew", "seconds": 20 * 60}])
    status, body, _ = sim.request("GET", "/v2/{project_id}/pools")
    assert status == 401 and "15 minutes" in body["error_msg"]


def test_invalid_fault_rule_is_refused(sim, clean_faults):
    status, body, _ = sim.raw("PUT", "/_sim/faults", {"rules": [{"kind": "explode"}]},
                              {"Authorization": "Bearer " + sim.env["admin_token"]})
    assert status == 400 and "fault kind" in body["error_msg"]


def test_fail_operation_breaks_a_driver_upgrade(sim, clean_faults):
    pool = sim.seed([{"name": "fail-drv", "nodes": 2, "driver_version": "7.1.0.9.220-23.0.6"}])["pools"][0]
    victim, healthy = pool["nodes"]
    sim.set_faults([{"kind": "fail_operation", "operation": "driver_upgrade", "node": victim}])
    status, _, _ = sim.request("POST", "/v2/{project_id}/pools/%s/nodes/batch-update" % pool["id"],
                               {"nodeNames": [victim, healthy], "driver": {"version": "7.5.0.5.220-24.1.0.3"}})
    assert status == 200
    sim.advance(3600)
    listed = sim.request("GET", "/v2/{project_id}/pools/%s/nodes" % pool["id"])[1]["items"]
    drivers = {n["metadata"]["name"]: n["status"]["driver"] for n in listed}
    assert drivers[victim] == {"phase": "Abnormal", "version": "7.1.0.9.220-23.0.6"}
    assert drivers[healthy] == {"phase": "Running", "version": "7.5.0.5.220-24.1.0.3"}
    pool_view = sim.request("GET", "/v2/{project_id}/pools/" + pool["id"])[1]
    assert pool_view["status"]["driver"]["npu"]["state"] == "Abnormal"


def test_fail_operation_on_pool_create_fails_the_order(sim, clean_faults):
    from masim_helpers import pool_body
    sim.set_faults([{"kind": "fail_operation", "operation": "create", "node": "doomed-pool"}])
    status, created, _ = sim.request("POST", "/v2/{project_id}/pools", pool_body("doomed-pool"))
    sim.advance(3600)
    pool = sim.request("GET", "/v2/{project_id}/pools/" + created["metadata"]["name"])[1]
    assert pool["status"]["phase"] == "CreationFailed"
    orders = sim.request("GET", "/v1/{project_id}/orders", query={"involvedName": "doomed-pool"})[1]["items"]
    assert orders[0]["phase"] == "failed" and "injected" in orders[0]["failReason"]
    failed = sim.request("GET", "/v2/{project_id}/pools", query={"status": "failed"})[1]["items"]
    assert created["metadata"]["name"] in [p["metadata"]["name"] for p in failed]


def test_faults_file_is_read_when_it_changes(sim, clean_faults):
    path = os.path.join(sim.state_dir, "faults.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"rules": [{"kind": "error", "status": 500, "path": "plugintemplates", "count": 1}]}, handle)
    try:
        deadline = time.monotonic() + 5
        while not sim.faults():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert sim.request("GET", "/v1/{project_id}/plugintemplates/npu-driver")[0] == 500
        assert sim.request("GET", "/v1/{project_id}/plugintemplates/npu-driver")[0] == 200
    finally:
        os.unlink(path)


@pytest.mark.parametrize("kwargs, message", [
    ({"secret_key": "wrong" * 8}, "verify aksk signature fail"),
    ({"access_key": "NOSUCHAK"}, "ak not exist"),
    ({"sdk_date": "20200101T000000Z"}, "15 minutes"),
    ({"headers": {"X-Project-Id": "0" * 32}}, "X-Project-Id"),
])
def test_signature_refusals_are_401_and_audited(sim, kwargs, message):
    seq = len(sim.audit_entries())
    status, body, headers = sim.request("DELETE", "/v2/{project_id}/pools/pool-x", **kwargs)
    assert status == 401 and body["error_code"] == "APIG.0301" and message in body["error_msg"]
    entries = sim.audit_entries(since=seq)
    assert [(e["method"], e["status"], e["request_id"]) for e in entries] == [("DELETE", 401, headers["x-request-id"])]
    assert "authorization" not in json.dumps(entries).lower()


def test_gets_are_counted_not_audited(sim):
    sim.reset_counters()
    seq = len(sim.audit_entries())
    sim.request("GET", "/v2/{project_id}/pools")
    sim.request("GET", "/v2/{project_id}/pools")
    assert sim.counters() == {"modelarts": {"GET": 2}}
    assert sim.audit_entries(since=seq) == []


def test_admin_needs_the_token(sim):
    assert sim.raw("GET", "/_sim/health")[0] == 200
    assert sim.raw("GET", "/_sim/audit")[0] == 401
    assert sim.raw("GET", "/_sim/audit", headers={"Authorization": "Bearer nope"})[0] == 401


def test_keep_alive_serves_several_requests_on_one_connection(sim):
    connection = http.client.HTTPSConnection("127.0.0.1", sim.port, context=sim.ssl_context)
    for _ in range(3):
        connection.request("GET", "/_sim/health")
        response = connection.getresponse()
        assert response.status == 200 and response.read() == b'{"ok": true}'
    connection.close()
