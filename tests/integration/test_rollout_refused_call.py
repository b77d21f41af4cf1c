"""A batch-update driver-upgrade call that ModelArts refuses with 400 stops the whole rollout at once.

Every refusal lite_rollout can foresee is refused before the wire (a driver for another chip among
them), so the 400 here is the one it cannot foresee: the region refuses the call's body itself, as
it would if it followed the older API page that makes `action` mandatory (docs/api-contract.md,
batch_update_nodes). The simulator's `refuse` fault answers that call once with the service's 400
(ModelArts.50004000, error_code/error_msg). The run must send that call once, not fail node after
node: one batch-update in the audit log, no node failed, the drained nodes left cordoned (parked)
for a rerun, and an error that names the call, what was sent and docs/api-contract.md.
"""
import json

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
REFUSAL = "Bad request. action is required."


def test_a_refused_batch_update_stops_the_run_with_one_call(ansible, sim, tmp_path):
    pool = sim.seed([{"name": "refused-call", "nodes": 4, "node_pool": "np1", "driver_version": OLD,
                      "workloads": {"ready_nodes": True}}])["pools"][0]
    mark = len(sim.audit_entries())
    sim.set_faults([{"kind": "refuse", "api": "modelarts", "method": "POST", "path": "/nodes/batch-update$",
                     "count": 1, "error_msg": REFUSAL}])
    try:
        result = ansible.module("modelarts.lite.lite_rollout", {
            "pool": pool["name"], "driver_version": NEW, "max_unavailable": "2", "canary_nodes": 0,
            "max_failed_nodes": 3, "poll_interval": 0.5, "report_dir": str(tmp_path), "run_id": "refused-1",
            "journal": str(tmp_path / "refused-1.jsonl")})
    finally:
        sim.clear_faults()
    assert result["failed"] is True and result["error_type"] == "RolloutFailedError", result
    message = result["msg"]
    for part in ("batch-update", "POST", '"nodeNames": [', NEW, "HTTP 400", "ModelArts.50004000", REFUSAL,
                 "docs/api-contract.md"):
        assert part in message, (part, message)
    report = result["report"]
    assert report["status"] == "failed" and report["counts"].get("failed") is None, report["counts"]
    parked = [n for n in report["nodes"] if n["result"] == "parked"]
    assert len(parked) == 2 and report["counts"] == {"parked": 2, "pending": 2}, report["counts"]

    calls = [e for e in sim.audit_entries()[mark:] if e["path"].endswith("/nodes/batch-update")]
    assert len(calls) == 1 and calls[0]["status"] == 400, calls
    assert sorted(calls[0]["body"]["nodeNames"]) == sorted(n["name"] for n in parked)
    # The parked nodes stay cordoned by the run (a rerun resumes them); nothing else was touched.
    cordoned = [e for e in sim.audit_entries()[mark:] if e["api"] == "k8s" and e["method"] == "PATCH"]
    assert sorted(e["path"].rsplit("/", 1)[1] for e in cordoned) == sorted(n["kube_name"] for n in parked)
    saved = json.loads((tmp_path / "refused-1.json").read_text())
    assert saved["status"] == "failed" and "docs/api-contract.md" in saved["message"]
    assert [e for e in map(json.loads, (tmp_path / "refused-1.jsonl").read_text().splitlines())
            if e.get("event") == "end"][-1]["status"] == "failed"
