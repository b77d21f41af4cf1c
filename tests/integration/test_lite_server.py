"""lite_server and lite_server_info against the simulator, the way an operator runs them."""
import pytest

SERVER = "modelarts.lite.lite_server"
INFO = "modelarts.lite.lite_server_info"


def seed(sim, **body):
    return sim.admin("POST", "seed", body)


def one_server(sim, name, **spec):
    return seed(sim, servers=[dict(spec, name=name)])["servers"][0]["id"]


def info(ansible, name):
    servers = ansible.module(INFO, {"name": name})["servers"]
    assert len(servers) == 1, servers
    return servers[0]


def test_power_lifecycle(ansible, sim, audit):
    """check mode -> apply -> apply again -> info, for stop and start; restarted always acts."""
    server_id = one_server(sim, "srv-power")
    mark = audit.mark()
    predicted = ansible.module(SERVER, {"name": "srv-power", "state": "stopped"}, check=True, diff=True)
    assert predicted["changed"] is True and predicted["server"]["status"] == "STOPPED", predicted
    assert predicted["actions"] == ["stop"] and predicted["diff"]["before"]["status"] == "RUNNING"
    assert audit.since(mark) == [], "check mode must not mutate"

    stopped = ansible.module(SERVER, {"name": "srv-power", "state": "stopped"})
    assert stopped["changed"] is True and stopped["server"]["status"] == "STOPPED", stopped
    assert [(e["method"], e["path"].rsplit("/", 2)[-2:]) for e in audit.since(mark)] == [("PUT", [server_id, "stop"])]

    mark = audit.mark()
    again = ansible.module(SERVER, {"name": "srv-power", "state": "stopped"}, diff=True)
    assert again["changed"] is False and again["actions"] == []
    assert audit.since(mark) == [], "an identical second run must send no mutating call"
    assert info(ansible, "srv-power")["status"] == "STOPPED"

    started = ansible.module(SERVER, {"name": server_id, "state": "running"})
    assert started["changed"] is True and started["server"]["status"] == "RUNNING"
    restarted = ansible.module(SERVER, {"name": "srv-power", "state": "restarted"})
    assert restarted["changed"] is True and restarted["actions"] == ["reboot"]
    assert restarted["server"]["status"] == "RUNNING"


def test_rename_is_safe_to_rerun(ansible, sim, audit):
    server_id = one_server(sim, "srv-old")
    renamed = ansible.module(SERVER, {"name": "srv-old", "new_name": "srv-new"}, diff=True)
    assert renamed["changed"] is True and renamed["server"]["name"] == "srv-new"
    assert renamed["diff"]["before"]["name"] == "srv-old" and renamed["diff"]["after"]["name"] == "srv-new"
    mark = audit.mark()
    again = ansible.module(SERVER, {"name": "srv-old", "new_name": "srv-new"})
    assert again["changed"] is False and again["server"]["id"] == server_id
    assert audit.since(mark) == []
    assert info(ansible, "srv-new")["id"] == server_id


def test_transitional_status_is_waited_out(ansible, sim):
    server_id = one_server(sim, "srv-busy")
    assert sim.request("PUT", "/v1/{project_id}/dev-servers/%s/stop" % server_id)[0] == 200
    result = ansible.module(SERVER, {"name": "srv-busy", "state": "running"})
    assert result["changed"] is True and result["actions"] == ["start"]
    assert result["server"]["status"] == "RUNNING"


@pytest.fixture(scope="module")
def error_server(sim):
    return one_server(sim, "srv-error", status="ERROR")


@pytest.mark.parametrize("args, message", [
    ({"name": "srv-error", "state": "running"}, "is ERROR, where start is not allowed"),
    ({"name": "srv-error", "state": "stopped"}, "restart it (state=restarted)"),
    ({"name": "srv-error", "new_name": "bad name!"}, "not a valid server name"),
    ({"name": "srv-error", "authorize_repair": True, "repair_type": "HARD"}, "allow_hard_repair=true"),
    ({"name": "srv-error", "authorize_repair": True, "repair_not_before": "tomorrow"}, "UTC time"),
    ({"name": "no-such-server", "state": "running"}, "no Lite Server has the name or id 'no-such-server'"),
])
def test_refused_input_changes_nothing(ansible, audit, error_server, args, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(SERVER, args, check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert audit.since(mark) == [], "a refused input must not reach the API as a mutation"


def test_transition_elsewhere_without_wait_is_refused(ansible, sim, audit):
    one_server(sim, "srv-nowait", status="STOPPING")  # seeded mid-transition: it stays there
    mark = audit.mark()
    result = ansible.module(SERVER, {"name": "srv-nowait", "state": "restarted", "wait": False})
    assert result.get("failed") is True and "STOPPING; nothing else is allowed" in result["msg"]
    assert audit.since(mark) == []
    heading = ansible.module(SERVER, {"name": "srv-nowait", "state": "stopped", "wait": False})
    assert heading["changed"] is False


def test_sync_corrects_a_stale_status(ansible, sim):
    one_server(sim, "srv-stale", displayed_status="ERROR")
    assert info(ansible, "srv-stale")["status"] == "ERROR"
    result = ansible.module(SERVER, {"name": "srv-stale", "sync": True, "state": "running"})
    assert result["changed"] is True and result["actions"] == ["sync"]
    assert result["server"]["status"] == "RUNNING"


def test_authorized_repair_brings_an_error_server_back(ansible, sim, audit):
    server_id = one_server(sim, "srv-repair", status="ERROR")
    event_id = seed(sim, scheduled_events=[{"server": server_id}])["scheduled_events"][0]["id"]
    assert [e["id"] for e in info(ansible, "srv-repair")["repair_events"]] == [event_id]
    mark = audit.mark()
    soft = ansible.module(SERVER, {"name": "srv-repair", "authorize_repair": True})
    assert soft.get("failed") is True and "cannot redeploy it SOFT" in soft["msg"]
    preview = ansible.module(SERVER, {"name": "srv-repair", "authorize_repair": True, "repair_type": "HARD",
                                      "allow_hard_repair": True, "state": "running"}, check=True)
    assert preview["changed"] is True and preview["repair_events"] == [event_id]
    assert audit.since(mark) == []

    repaired = ansible.module(SERVER, {"name": "srv-repair", "authorize_repair": True, "repair_type": "HARD",
                                       "allow_hard_repair": True, "state": "running"})
    assert repaired["changed"] is True, repaired
    assert repaired["actions"] == ["authorize_repair:%s" % event_id]
    assert repaired["server"]["status"] == "RUNNING"
    accepted = [e for e in audit.since(mark) if e["path"].endswith("/accept")]
    assert accepted[0]["body"] == {"redeployConfig": {"type": "HARD"}}

    mark = audit.mark()
    again = ansible.module(SERVER, {"name": "srv-repair", "authorize_repair": True, "repair_type": "HARD",
                                    "allow_hard_repair": True, "state": "running"})
    assert again["changed"] is False and audit.since(mark) == []
    assert info(ansible, "srv-repair")["repair_events"] == []


def test_failed_operation_says_what_to_do_next(ansible, sim):
    one_server(sim, "srv-fault", status="STOPPED")
    sim.set_faults([{"kind": "fail_operation", "operation": "start", "node": "srv-fault"}])
    try:
        result = ansible.module(SERVER, {"name": "srv-fault", "state": "running"})
    finally:
        sim.clear_faults()
    assert result.get("failed") is True and result["error_type"] == "OperationFailedError"
    assert "START_FAILED" in result["msg"] and "retry with state=running" in result["msg"]
    assert result["last_state"]["status"] == "START_FAILED"
    retried = ansible.module(SERVER, {"name": "srv-fault", "state": "running"})
    assert retried["changed"] is True and retried["server"]["status"] == "RUNNING"


def test_throttling_is_retried_then_reported(ansible, sim, audit):
    one_server(sim, "srv-throttle")
    sim.set_faults([{"kind": "throttle", "api": "modelarts", "method": "GET", "count": 2, "retry_after": 0}])
    try:
        recovered = ansible.module(SERVER, {"name": "srv-throttle", "state": "running"})
        assert recovered.get("failed") is not True and recovered["changed"] is False, recovered
        sim.set_faults([{"kind": "throttle", "api": "modelarts", "method": "PUT", "retry_after": 0}])
        mark = audit.mark()
        refused = ansible.module(SERVER, {"name": "srv-throttle", "state": "stopped"})
    finally:
        sim.clear_faults()
    assert refused.get("failed") is True and refused["error_type"] == "ThrottledError"
    assert "rate limit" in refused["msg"] and refused["http_status"] == 429
    assert all(e["status"] == 429 for e in audit.since(mark))
    assert info(ansible, "srv-throttle")["status"] == "RUNNING"
