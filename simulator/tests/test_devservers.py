"""Lite Server (v1 dev-servers), super nodes, dev-server jobs and scheduled events over HTTP."""
import pytest

from modelarts_sim.testing import start_simulator

HPS_FLAVOR = "modelarts.hps.npu.arm.16snt9b23.d"
HPS_IMAGE = "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a05"
OTHER_BMS_IMAGE = "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a02"


def seed(sim, **body):
    return sim.admin("POST", "seed", body)


def show(sim, server_id):
    return sim.request("GET", "/v1/{project_id}/dev-servers/" + server_id)


def test_list_envelope_show_and_not_found(sim):
    created = seed(sim, servers=[{"name": "env-a"}, {"name": "env-b", "status": "STOPPED"}])["servers"]
    status, page, _ = sim.request("GET", "/v1/{project_id}/dev-servers", query={"limit": 1, "offset": 1})
    assert status == 200 and set(page) == {"current", "data", "pages", "size", "total"}
    assert page["size"] == 1 and page["current"] == 2 and page["total"] >= 2 and len(page["data"]) == 1
    status, server, _ = show(sim, created[0]["id"])
    assert status == 200 and server["status"] == "RUNNING" and server["category"] == "SERVER"
    assert isinstance(server["create_at"], int) and server["volumes"][0]["type"] == "ROOT"
    assert server["image"]["image_id"] and server["endpoints"][0]["uri"].startswith("192.168.")
    status, body, _ = show(sim, "no-such-id")
    assert status == 400 and body["error_code"] == "ModelArts.6404"


def test_stop_start_and_state_machine_refusals(sim):
    server_id = seed(sim, servers=[{"name": "power-a"}])["servers"][0]["id"]
    status, body, _ = sim.request("PUT", "/v1/{project_id}/dev-servers/%s/start" % server_id, {})
    assert status == 400 and "RUNNING" in body["error_msg"] and "allowed now: stop, reboot" in body["error_msg"]
    status, body, _ = sim.request("PUT", "/v1/{project_id}/dev-servers/%s/stop" % server_id)
    assert status == 200 and body["status"] == "STOPPING"
    status, body, _ = sim.request("PUT", "/v1/{project_id}/dev-servers/%s/reboot" % server_id)
    assert status == 400 and "STOPPING" in body["error_msg"]
    sim.advance(400)
    assert show(sim, server_id)[1]["status"] == "STOPPED"
    status, body, _ = sim.request("PUT", "/v1/{project_id}/dev-servers/%s/start" % server_id, {})
    assert status == 200 and body["status"] == "STARTING"
    sim.advance(400)
    assert show(sim, server_id)[1]["status"] == "RUNNING"


def test_changeos_needs_stopped_and_erases_the_system_disk(sim):
    server = seed(sim, servers=[{"name": "os-a", "status": "STOPPED"}])["servers"][0]
    path = "/v1/{project_id}/dev-servers/%s/changeos" % server["id"]
    assert sim.request("POST", path, {"image_id": HPS_IMAGE, "key_pair_name": "kp"})[0] == 400  # wrong type
    assert sim.request("POST", path, {"image_id": OTHER_BMS_IMAGE})[0] == 400  # no login
    mark = len(sim.history())
    status, body, _ = sim.request("POST", path, {"image_id": OTHER_BMS_IMAGE, "key_pair_name": "kp-new"})
    assert status == 200 and body["status"] == "CHANGINGOS"
    sim.advance(4000)
    after = show(sim, server["id"])[1]
    assert after["status"] == "RUNNING" and after["image"]["image_id"] == OTHER_BMS_IMAGE
    assert after["key_pair_name"] == "kp-new"
    erased = [h for h in sim.history(mark) if h.get("erased_volume")]
    assert erased and erased[0]["erased_volume"] == after["volumes"][0]["evs_id"]
    status, body, _ = sim.request("POST", "/v1/{project_id}/dev-servers/%s/reinstallos" % server["id"],
                                  {"key_pair_name": "kp"})
    assert status == 400 and "RUNNING" in body["error_msg"]


def test_rename_sync_images_and_fault(sim, clean_faults):
    server = seed(sim, servers=[{"name": "sync-a", "displayed_status": "ERROR"}])["servers"][0]
    assert show(sim, server["id"])[1]["status"] == "ERROR"
    status, page, _ = sim.request("PUT", "/v1/{project_id}/dev-servers/sync")
    assert status == 200 and "data" in page
    assert show(sim, server["id"])[1]["status"] == "RUNNING"
    status, body, _ = sim.request("PUT", "/v1/{project_id}/dev-servers/" + server["id"], {"name": "sync-b"})
    assert status == 200 and body["name"] == "sync-b"
    assert sim.request("PUT", "/v1/{project_id}/dev-servers/" + server["id"], {"name": "bad name!"})[0] == 400
    images = sim.request("GET", "/v1/{project_id}/dev-servers/images",
                         query={"flavor_name": "modelarts.bm.npu.arm.8snt9b3.d"})[1]["data"]
    assert images and all(i["server_type"] == "BMS" for i in images)
    sim.set_faults([{"kind": "fail_operation", "operation": "reboot", "node": "sync-b"}])
    assert sim.request("PUT", "/v1/{project_id}/dev-servers/%s/reboot" % server["id"])[0] == 200
    sim.advance(1000)
    assert show(sim, server["id"])[1]["status"] == "REBOOT_FAILED"


def test_super_node_scale_rules(sim):
    hyper = seed(sim, supernodes=[{"name": "sn-a", "servers": 2}])["supernodes"][0]
    base = "/v1/{project_id}/dev-servers/hyperinstance/" + hyper["id"]
    status, body, _ = sim.request("GET", base)
    assert status == 200 and body["status"] == "ACTIVE" and len(body["servers"]) == 2
    assert body["servers"][0]["category"] == "HPS" and body["servers"][0]["server_hps"]["id"] == hyper["id"]
    evaluation = sim.request("GET", base + "/scale-evaluations")[1]["evaluations"][0]
    assert evaluation == {"flavor": HPS_FLAVOR, "resource_flavor": HPS_FLAVOR, "is_sold_out": False}
    status, body, _ = sim.request("POST", base + "/live-scale-up",
                                  {"flavor": "modelarts.hps.npu.arm.8snt9b3.d", "image_id": HPS_IMAGE})
    assert status == 400 and "one specification" in body["error_msg"]
    status, body, _ = sim.request("POST", base + "/live-scale-up", {"flavor": HPS_FLAVOR, "image_id": HPS_IMAGE})
    assert status == 200 and sorted(s["status"] for s in body["servers"]) == ["CREATING", "RUNNING", "RUNNING"]
    sim.advance(1500)
    servers = sim.request("GET", base + "/servers")[1]["data"]
    assert [s["status"] for s in servers] == ["RUNNING"] * 3
    ids = [s["id"] for s in servers]
    status, body, _ = sim.request("POST", base + "/live-scale-down", {"server_ids": ids})
    assert status == 400 and "at least 1" in body["error_msg"]
    job = seed(sim, server_jobs=[{"servers": [ids[0]], "seconds": 100000}])["server_jobs"][0]["id"]
    status, body, _ = sim.request("POST", base + "/live-scale-down", {"server_ids": [ids[0]]})
    assert status == 400 and "jobs are running" in body["error_msg"] and job in body["error_msg"]
    assert sim.request("GET", "/v1/{project_id}/dev-servers/jobs/" + job)[1]["tasks"][0]["status"] == "PROCESSING"
    assert sim.request("DELETE", "/v1/{project_id}/dev-servers/jobs", {"job_ids": [job]})[0] == 200
    status, body, _ = sim.request("POST", base + "/live-scale-down", {"server_ids": [ids[0]]})
    assert status == 200
    sim.advance(1000)
    assert len(sim.request("GET", base)[1]["servers"]) == 2
    assert show(sim, ids[0])[1]["error_code"] == "ModelArts.6404"


def test_sold_out_super_node_cannot_grow(sim):
    hyper = seed(sim, supernodes=[{"name": "sn-sold", "servers": 1, "flavor": "modelarts.hps.npu.arm.8snt9b3.d"}])
    base = "/v1/{project_id}/dev-servers/hyperinstance/" + hyper["supernodes"][0]["id"]
    assert sim.request("GET", base + "/scale-evaluations")[1]["evaluations"][0]["is_sold_out"] is True
    status, body, _ = sim.request("POST", base + "/live-scale-up",
                                  {"flavor": "modelarts.hps.npu.arm.8snt9b3.d", "image_id": HPS_IMAGE})
    assert status == 400 and "sold out" in body["error_msg"]


def test_scheduled_event_authorization_repairs_the_server(sim):
    server = seed(sim, servers=[{"name": "repair-a", "status": "ERROR"}])["servers"][0]
    event = seed(sim, scheduled_events=[{"server": server["id"]}])["scheduled_events"][0]
    status, body, _ = sim.request("GET", "/v1/{project_id}/scheduled-events", query=[("state", "inquiring")])
    assert status == 200 and event["id"] in [e["id"] for e in body["events"]] and body["count"] >= 1
    path = "/v1/{project_id}/scheduled-events/%s/accept" % event["id"]
    status, body, _ = sim.request("POST", path, {"redeployConfig": {"type": "SOFT"}})
    assert status == 400 and "SOFT" in body["error_msg"]
    status, body, _ = sim.request("POST", path, {"redeployConfig": {"type": "HARD"}})
    assert status == 200 and body["state"] == "scheduled"
    assert sim.request("POST", path, {})[0] == 400  # no longer inquiring
    sim.advance(5000)
    events = sim.request("GET", "/v1/{project_id}/scheduled-events", query={"id": event["id"]})[1]["events"]
    assert events[0]["state"] == "completed"
    assert show(sim, server["id"])[1]["status"] == "RUNNING"


def test_dev_servers_survive_a_restart(tmp_path):
    sim = start_simulator(tmp_path / "sim", time_scale=1, seed=2)
    try:
        server_id = sim.admin("POST", "seed", {"servers": [{"name": "persist-a"}]})["servers"][0]["id"]
        assert sim.request("PUT", "/v1/{project_id}/dev-servers/%s/stop" % server_id)[0] == 200
    finally:
        assert sim.stop() == 0
    sim = start_simulator(tmp_path / "sim", time_scale=1, seed=2)
    try:
        assert show(sim, server_id)[1]["status"] == "STOPPING"
        sim.advance(400)
        assert show(sim, server_id)[1]["status"] == "STOPPED"
    finally:
        assert sim.stop() == 0


def test_seeded_addresses_are_the_ssh_endpoints(sim):
    """Tests point servers at loopback addresses where an sshd listens; the API shows them as private IPs."""
    hyper = seed(sim, supernodes=[{"name": "sn-ip", "servers": 2, "ips": ["127.0.0.21", "127.0.0.22"]}])
    single = seed(sim, servers=[{"name": "ip-a", "ip": "127.0.0.23"}])["servers"][0]
    uris = {show(sim, s["id"])[1]["endpoints"][0]["uri"] for s in hyper["supernodes"][0]["servers"]}
    assert uris == {"127.0.0.21", "127.0.0.22"}
    assert show(sim, single["id"])[1]["endpoints"][0]["uri"] == "127.0.0.23"


@pytest.mark.parametrize("body", [{"servers": [{"name": "x", "flavor": "nope"}]},
                                  {"supernodes": [{"name": "y", "flavor": "modelarts.bm.npu.arm.8snt9b3.d"}]},
                                  {"servers": [{"name": "x", "ip": "not-an-ip"}]},
                                  {"supernodes": [{"name": "y", "servers": 2, "ips": ["127.0.0.31"]}]}])
def test_bad_seed_is_refused(sim, body):
    status, _body, _ = sim.raw("POST", "/_sim/seed", body, {"Authorization": "Bearer " + sim.env["admin_token"]})
    assert status == 400


def test_scheduled_event_states_are_repeated_keys_and_a_comma_list_matches_nothing(sim):
    server = seed(sim, servers=[{"name": "events-q"}])["servers"][0]
    event = seed(sim, scheduled_events=[{"server": server["id"]}])["scheduled_events"][0]
    path = "/v1/{project_id}/scheduled-events"
    repeated = sim.request("GET", path, query=[("state", "scheduled"), ("state", "inquiring")])[1]["events"]
    assert event["id"] in [e["id"] for e in repeated]
    comma = sim.request("GET", path, query=[("state", "scheduled,inquiring")])[1]
    assert comma == {"events": [], "count": 0}


def test_lists_the_sdk_does_not_page_ignore_limit_and_offset(sim):
    hyper = seed(sim, supernodes=[{"name": "sn-unpaged", "servers": 3}])["supernodes"][0]
    path = "/v1/{project_id}/dev-servers/hyperinstance/%s/servers" % hyper["id"]
    whole = sim.request("GET", path)[1]
    assert whole["total"] == 3 and len(whole["data"]) == 3
    assert sim.request("GET", path, query={"limit": 1, "offset": 1})[1] == whole
    jobs = "/v1/{project_id}/dev-servers/jobs"
    assert sim.request("GET", jobs, query={"limit": 1, "offset": 5})[1] == sim.request("GET", jobs)[1]
