# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Desired state of a Lite Server (lite_server, lite_server_info): power state, name, status sync and
authorized repair.

Plan first, then mutate: every refusal happens before the first mutating call. The status machine is
the reference's status enum with the Lite Server guide's allowed-operations table (cloud/servers.py).
"""

from __future__ import annotations

import re

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import servers as api
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError

NAME_RE = re.compile(r"^[-_.a-zA-Z0-9]{1,64}$")
NOT_BEFORE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# Where each transitional status ends when it succeeds.
SETTLES_TO = {"CREATING": "RUNNING", "STARTING": "RUNNING", "STOPPING": "STOPPED", "REBOOTING": "RUNNING",
              "CHANGINGOS": "RUNNING", "REINSTALLINGOS": "RUNNING", "DELETING": None}
TARGETS = {"running": "RUNNING", "stopped": "STOPPED", "restarted": "RUNNING"}
ACTION_RESULT = {"start": "STARTING", "stop": "STOPPING", "reboot": "REBOOTING"}
OPEN_EVENT_STATES = ("inquiring", "scheduled", "executing")

NEXT_STEPS = {
    "ERROR": "restart it (state=restarted); if the service has published a repair event for it, authorize the "
             "repair (authorize_repair=true); if the console may show a stale status, add sync=true",
    "START_FAILED": "retry with state=running, or restart it (state=restarted)",
    "STOP_FAILED": "retry with state=stopped, or restart it (state=restarted)",
    "REBOOT_FAILED": "retry with state=restarted, or authorize a pending repair (authorize_repair=true)",
    "CHANGINGOS_FAILED": "switch or reset its OS again with modelarts.lite.lite_server_os",
    "REINSTALLINGOS_FAILED": "switch or reset its OS again with modelarts.lite.lite_server_os",
    "CREATE_FAILED": "the service could not create it; delete it in the console and create it again",
    "DELETE_FAILED": "the service could not delete it; retry the deletion in the console or contact support",
}


def next_steps(status):
    return NEXT_STEPS.get(status, "check the server in the ModelArts console")


def failed_reason(raw, action=None):
    status = (raw or {}).get("status")
    if status in api.FAILED:
        what = "%s failed: " % action if action else ""
        return "%sserver %s is %s; next: %s" % (what, raw.get("name"), status, next_steps(status))
    return None


# ----------------------------------------------------------------------------------------------
# Lookup and waiting (shared with server_os)
# ----------------------------------------------------------------------------------------------
def require_server(client, name, new_name=None):
    raw = api.find_server(client, name)
    if raw is None and new_name:
        raw = api.find_server(client, new_name)  # already renamed by an earlier run
    if raw is None:
        raise ValidationError("no Lite Server has the name or id %r in this project and region." % name,
                              option="name")
    return raw


def wait_status(cloud, server_id, timeout, target, action=None, image_id=None):
    """Poll until the server reaches ``target`` (and, when given, runs ``image_id``)."""
    def done(raw):
        if raw.get("status") != target:
            return False
        return image_id is None or (raw.get("image") or {}).get("image_id") == image_id
    return cloud.wait_for(
        lambda: api.show_server(cloud, server_id), done=done,
        failed=lambda raw: failed_reason(raw, action), timeout=timeout,
        describe="Lite Server %s to be %s" % (server_id, target))


def wait_settled(cloud, server_id, timeout):
    """Poll until the server leaves its transitional status (any other status is settled)."""
    return cloud.wait_for(
        lambda: api.show_server(cloud, server_id),
        done=lambda raw: raw.get("status") not in api.TRANSITIONAL, failed=None,
        timeout=timeout, describe="Lite Server %s to finish its current operation" % server_id)


# ----------------------------------------------------------------------------------------------
# Plan
# ----------------------------------------------------------------------------------------------
def validate_params(params):
    if params.get("new_name") is not None and not NAME_RE.match(params["new_name"]):
        raise ValidationError("new_name %r is not a valid server name: 1 to 64 letters, digits, '-', '_' or '.'."
                              % params["new_name"], option="new_name")
    not_before = params.get("repair_not_before")
    if not_before is not None and not NOT_BEFORE_RE.match(not_before):
        raise ValidationError("repair_not_before %r must be a UTC time like 2025-09-15T07:02:30Z." % not_before,
                              option="repair_not_before")
    if params.get("authorize_repair") and params.get("repair_type") == "HARD" and not params.get("allow_hard_repair"):
        raise PreconditionError(
            "repair_type=HARD redeploys the server on new hardware: its local disks and its cloud disks are "
            "wiped. Back up what you need, then set allow_hard_repair=true; or authorize a SOFT repair.",
            details={"repair_type": "HARD"})


def power_action(raw, state):
    """The action that brings a settled server to ``state`` (None when it is there), or a refusal."""
    status = raw.get("status")
    if state is None:
        return None
    if state == "restarted":
        action = "start" if status == "STOPPED" else "reboot"
    elif status == TARGETS[state]:
        return None
    else:
        action = "start" if state == "running" else "stop"
    if action not in api.ALLOWED.get(status, ()):
        raise PreconditionError(
            "Lite Server %s (%s) is %s, where %s is not allowed (allowed: %s). Next: %s."
            % (raw.get("name"), raw.get("id"), status, action, ", ".join(api.ALLOWED.get(status, ())) or "nothing",
               next_steps(status)), details={"status": status, "wanted": state})
    return action


def repair_plan(client, raw, params):
    """Inquiring scheduled events of this server to accept, checked against the wanted repair type."""
    events = [e for e in api.list_scheduled_events(client, states=["inquiring"])
              if e.get("instanceId") == raw["id"]]
    wanted = params.get("repair_type") or "SOFT"
    for event in events:
        offered = event.get("redeployType") or []
        if offered and wanted not in offered:
            raise ValidationError("scheduled event %s of server %s offers redeploy types %s, not %s."
                                  % (event["id"], raw["name"], ", ".join(offered), wanted), option="repair_type")
    if events and wanted == "SOFT" and raw.get("status") in ("ERROR", "CREATE_FAILED"):
        raise PreconditionError(
            "server %s is %s (unavailable), so the service cannot redeploy it SOFT; authorize a HARD repair "
            "(repair_type=HARD, allow_hard_repair=true), which wipes its disks." % (raw["name"], raw["status"]),
            details={"events": [e["id"] for e in events]})
    return events


def accept_body(params):
    body = {"redeployConfig": {"type": params.get("repair_type") or "SOFT"}}
    if params.get("repair_not_before"):
        body["notBefore"] = params["repair_not_before"]
    return body


def _diff_view(server):
    return {k: server.get(k) for k in ("id", "name", "status", "image_id")} if server else {}


def _predict(raw, new_name, action, state, repaired=False):
    """The server after the plan. ``repaired``: an authorized repair is waited for, which ends RUNNING."""
    server = api.describe_server(raw)
    if new_name:
        server["name"] = new_name
    if repaired:
        server["status"] = "RUNNING"
    if action:
        server["status"] = TARGETS[state]
    return server


def _wait_repairs(client, server_id, event_ids, timeout):

    def fetch():
        return [e for e in api.list_scheduled_events(client) if e.get("id") in event_ids]

    def failed(events):
        bad = [e for e in events if e.get("state") in ("failed", "canceled")]
        if bad:
            return "repair event %s of server %s ended %s; check the server, then authorize again or contact " \
                   "support" % (bad[0]["id"], server_id, bad[0]["state"])
        return None
    return client.wait_for(fetch, done=lambda events: all(e.get("state") == "completed" for e in events),
                           failed=failed, timeout=timeout,
                           describe="the authorized repair of server %s to complete" % server_id)


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------
def ensure_server(clients, params, check_mode):
    validate_params(params)
    client = clients.cloud
    raw = require_server(client, params["name"], params.get("new_name"))
    server_id = raw["id"]
    before = api.describe_server(raw)
    actions = []
    changed = False

    if params["sync"] and not check_mode:
        api.sync_servers(client)
        raw = api.show_server(client, server_id)
        actions.append("sync")
        changed = raw.get("status") != before["status"]

    if raw.get("status") in api.TRANSITIONAL:
        if raw["status"] == "DELETING":
            raise PreconditionError("Lite Server %s is being deleted." % server_id, details={"status": "DELETING"})
        if params["wait"] and not check_mode:
            raw = wait_settled(client, server_id, params["wait_timeout"])
        elif params["wait"]:
            raw = dict(raw, status=SETTLES_TO[raw["status"]])  # check mode: plan as a real run would, after the wait
        else:
            # Without waiting, only a transition that already heads where we want is acceptable.
            state = params.get("state")
            heads_there = state in ("running", "stopped") and SETTLES_TO[raw["status"]] == TARGETS[state]
            wants_more = params.get("new_name") or params.get("authorize_repair") or state is not None
            if wants_more and not (heads_there and not params.get("new_name") and not params.get("authorize_repair")):
                raise PreconditionError(
                    "Lite Server %s is %s; nothing else is allowed until that ends. Re-run with wait=true, or later."
                    % (raw.get("name"), raw["status"]), details={"status": raw["status"]})

    events = repair_plan(client, raw, params) if params.get("authorize_repair") else []
    new_name = params.get("new_name") if params.get("new_name") not in (None, raw.get("name")) else None
    settled = raw.get("status") not in api.TRANSITIONAL
    # A repair authorized now brings a failed server back; its power state is decided afterwards.
    repairing = bool(events) and raw.get("status") in api.FAILED
    action = power_action(raw, params.get("state")) if settled and not repairing else None
    # With wait, the repair is waited for and the power state is then reached from RUNNING.
    repaired = repairing and params["wait"]
    after_repair = power_action(dict(raw, status="RUNNING"), params.get("state")) if repaired else None

    planned = ["authorize_repair:%s" % e["id"] for e in events]
    if new_name:
        planned.append("rename")
    if action or after_repair:
        planned.append(action or after_repair)
    predicted = _predict(raw, new_name, action or after_repair, params.get("state"), repaired)
    diff = {"before": _diff_view(before), "after": _diff_view(predicted)}
    if check_mode or not planned:
        return {"changed": changed or bool(planned), "server": predicted if planned else api.describe_server(raw),
                "actions": actions + planned, "repair_events": [e["id"] for e in events], "diff": diff}

    for event in events:
        api.accept_scheduled_event(client, event["id"], accept_body(params))
        actions.append("authorize_repair:%s" % event["id"])
    if events and params["wait"]:
        _wait_repairs(client, server_id, {e["id"] for e in events}, params["wait_timeout"])
        raw = api.show_server(client, server_id)
    if new_name:
        raw = api.rename_server(client, server_id, new_name)
        actions.append("rename")
    if repairing and params.get("state") and params["wait"]:
        action = power_action(raw, params["state"])
    if action:
        {"start": api.start_server, "stop": api.stop_server, "reboot": api.reboot_server}[action](client, server_id)
        actions.append(action)
        if params["wait"]:
            raw = wait_status(client, server_id, params["wait_timeout"], TARGETS[params["state"]], action)
        else:
            raw = api.show_server(client, server_id)
    else:
        raw = api.show_server(client, server_id)
    server = api.describe_server(raw)
    diff["after"] = _diff_view(server)
    return {"changed": True, "server": server, "actions": actions, "repair_events": [e["id"] for e in events],
            "diff": diff}


def server_info(clients, params, check_mode):
    """lite_server_info: every Lite Server, or the one named, with its open repair events."""
    client = clients.cloud
    name = params.get("name")
    if name:
        raw = api.find_server(client, name)
        raws = [raw] if raw else []
    else:
        raws = api.list_servers(client)
    events = {}
    if raws:
        for event in api.list_scheduled_events(client, states=list(OPEN_EVENT_STATES)):
            events.setdefault(event.get("instanceId"), []).append(
                {k: event.get(k) for k in ("id", "type", "state", "description", "redeployType", "notBefore")})
    servers = []
    for raw in raws:
        server = api.describe_server(raw)
        server["repair_events"] = events.get(raw["id"], [])
        servers.append(server)
    return {"changed": False, "servers": servers}
