# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""A whole super node's power and OS (supernode_power, supernode_os), with the super node's own calls.

``start``/``stop`` (``PUT .../hyperinstance/{id}/start|stop``) act on every server of the super node;
``changeos`` (``POST .../hyperinstance/{id}/changeos``) reinstalls all of them at once, one call
instead of one per server. The guards are lite_server's and lite_server_os's: the Lite Server
allowed-operations table decides, every server that cannot follow is named before any call, and
erasing the system disks needs allow_erase_system_disk on every run that erases.
"""

from __future__ import annotations

import base64

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import servers as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server import next_steps
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server_os import (
    MAX_USER_DATA,
    os_change,
    resolve_image,
)
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.supernode import require_supernode
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError

# state -> (the status every server ends in, the super node call)
POWER = {"running": ("RUNNING", "start"), "stopped": ("STOPPED", "stop")}
ACTIVE = "ACTIVE"


def _members(client, hyper_id):
    return sorted(api.supernode_servers(client, hyper_id), key=lambda s: s.get("name") or "")


def _view(raw, servers):
    return {"id": raw.get("id"), "name": raw.get("name"), "status": raw.get("status"),
            "servers": [api.describe_server(s) for s in servers]}


def _wait_members(client, hyper_id, timeout, done, describe):
    """Poll the super node and its servers until ``done(hyper, servers)``; a failed server status ends it."""
    def fetch():
        return {"hyper": api.show_supernode(client, hyper_id), "servers": _members(client, hyper_id)}

    def failed(state):
        broken = ["%s is %s (next: %s)" % (s.get("name"), s.get("status"), next_steps(s.get("status")))
                  for s in state["servers"] if s.get("status") in api.FAILED]
        return "; ".join(broken) or (state["hyper"].get("status") == "ERROR" and "the super node is ERROR")

    state = client.wait_for(fetch, done=lambda st: done(st["hyper"], st["servers"]), failed=failed,
                            timeout=timeout, describe=describe)
    return state["hyper"], state["servers"]


def _settle(client, raw, servers, params, check_mode):
    """Wait out transitional statuses (an earlier run's operation) when waiting is allowed."""
    if check_mode or not params["wait"] or not any(s.get("status") in api.TRANSITIONAL for s in servers):
        return raw, servers
    return _wait_members(client, raw["id"], params["wait_timeout"],
                         lambda hyper, members: not any(s.get("status") in api.TRANSITIONAL for s in members),
                         "super node %s to finish its current operation" % raw.get("name"))


def _refuse_unable(servers, action, target, what):
    unable = [s for s in servers if s.get("status") != target and action not in api.ALLOWED.get(s.get("status"), ())]
    if unable:
        raise PreconditionError(
            "%s: servers %s cannot %s now. Next: %s." % (
                what, ", ".join("%s (%s)" % (s.get("name"), s.get("status")) for s in unable), action,
                "; ".join(sorted({"%s: %s" % (s.get("status"), next_steps(s.get("status"))) for s in unable}))),
            details={"servers": {s.get("name"): s.get("status") for s in unable}})


def ensure_supernode_power(clients, params, check_mode):
    client = clients.cloud
    raw = require_supernode(client, params["name"])
    servers = _members(client, raw["id"])
    raw, servers = _settle(client, raw, servers, params, check_mode)
    target, action = POWER[params["state"]]
    diff = {"before": {s.get("name"): s.get("status") for s in servers},
            "after": {s.get("name"): target for s in servers}}
    if all(s.get("status") == target for s in servers):
        return {"changed": False, "supernode": _view(raw, servers), "actions": [], "diff": diff}
    if raw.get("status") != ACTIVE:
        raise PreconditionError("super node %s is %s; start and stop need it ACTIVE." % (raw.get("name"),
                                                                                         raw.get("status")),
                                details={"status": raw.get("status")})
    _refuse_unable(servers, action, target, "super node %s" % raw.get("name"))
    predicted = _view(raw, servers)
    for server in predicted["servers"]:
        server["status"] = target
    if check_mode:
        return {"changed": True, "supernode": predicted, "actions": [action], "diff": diff}
    (api.start_supernode if action == "start" else api.stop_supernode)(client, raw["id"])
    if params["wait"]:
        raw, servers = _wait_members(client, raw["id"], params["wait_timeout"],
                                     lambda hyper, members: all(s.get("status") == target for s in members),
                                     "every server of super node %s to be %s" % (raw.get("name"), target))
    else:
        raw, servers = api.show_supernode(client, raw["id"]), _members(client, raw["id"])
    return {"changed": True, "supernode": _view(raw, servers), "actions": [action], "diff": diff,
            "in_progress": not params["wait"]}


def _login(params, servers):
    if params.get("key_pair_name"):
        return params["key_pair_name"]
    pairs = sorted({s.get("key_pair_name") for s in servers if s.get("key_pair_name")})
    if len(pairs) != 1:
        raise ValidationError("the servers use %s; give key_pair_name for the new system (super node servers log in "
                              "with a key pair only)." % (", ".join(pairs) or "no key pair"), option="key_pair_name")
    return pairs[0]


def ensure_supernode_os(clients, params, check_mode):
    client = clients.cloud
    user_data = params.get("user_data")
    if user_data is not None and len(user_data.encode("utf-8")) > MAX_USER_DATA:
        raise ValidationError("user_data is more than 32 KiB.", option="user_data")
    raw = require_supernode(client, params["name"])
    servers = _members(client, raw["id"])
    if not servers:
        raise PreconditionError("super node %s has no servers." % raw.get("name"), details={"supernode": raw["id"]})
    raw, servers = _settle(client, raw, servers, params, check_mode)
    target = resolve_image(client, servers[0], params["image"])
    diff = {"before": {s.get("name"): (s.get("image") or {}).get("image_id") for s in servers},
            "after": {s.get("name"): target["image_id"] for s in servers}}
    if all((s.get("image") or {}).get("image_id") == target["image_id"] for s in servers):
        return {"changed": False, "supernode": _view(raw, servers), "os_changes": [], "diff": diff}

    running = [s for s in servers if s.get("status") == "RUNNING"]
    changes = [os_change(s, "switch", target, stops_server=s in running) for s in servers]
    if not params["allow_erase_system_disk"]:
        raise PreconditionError(
            "switching super node %s to image %s erases the system disk of all %d servers (%s); data volumes are "
            "kept. Back up what you need, then set allow_erase_system_disk=true." % (
                raw.get("name"), target.get("name") or target["image_id"], len(servers),
                ", ".join("%s: %s (%s GB)" % (c["server_name"], v["evs_id"], v["size"])
                          for c in changes for v in c["erased_volumes"])),
            details={"os_changes": changes})
    if raw.get("status") != ACTIVE:
        raise PreconditionError("super node %s is %s; an OS change needs it ACTIVE." % (raw.get("name"),
                                                                                        raw.get("status")),
                                details={"status": raw.get("status")})
    if running and not params["stop_if_running"]:
        raise PreconditionError(
            "servers %s of super node %s are RUNNING; an OS change needs every server STOPPED. Stop the super node "
            "first (modelarts.lite.supernode_power state=stopped) or set stop_if_running=true."
            % (", ".join(s.get("name") for s in running), raw.get("name")), details={"running": len(running)})
    unable = [s for s in servers if s not in running and s.get("status") != "STOPPED"]
    if unable:
        raise PreconditionError(
            "super node %s: the super node's changeos needs every server STOPPED, and %s. Next: %s." % (
                raw.get("name"), ", ".join("%s is %s" % (s.get("name"), s.get("status")) for s in unable),
                "; ".join(sorted({"%s: %s" % (s.get("status"), next_steps(s.get("status"))) for s in unable}))),
            details={"servers": {s.get("name"): s.get("status") for s in unable}})
    body = {"image_id": target["image_id"], "key_pair_name": _login(params, servers)}
    if user_data:
        body["user_data"] = base64.b64encode(user_data.encode("utf-8")).decode("ascii")
    predicted = _view(raw, servers)
    for server in predicted["servers"]:
        server.update(status="RUNNING", image_id=target["image_id"], image_name=target.get("name"))
    if check_mode:
        return {"changed": True, "supernode": predicted, "os_changes": changes, "diff": diff}

    if running:
        api.stop_supernode(client, raw["id"])
        # changeos needs every server STOPPED, so this wait happens even with wait=false.
        _wait_members(client, raw["id"], params["wait_timeout"],
                      lambda hyper, members: all(s.get("status") == "STOPPED" for s in members),
                      "every server of super node %s to stop" % raw.get("name"))
    api.change_supernode_os(client, raw["id"], body)
    if params["wait"]:
        raw, servers = _wait_members(
            client, raw["id"], params["wait_timeout"],
            lambda hyper, members: hyper.get("status") == ACTIVE and all(
                s.get("status") == "RUNNING" and (s.get("image") or {}).get("image_id") == target["image_id"]
                for s in members),
            "super node %s to run image %s" % (raw.get("name"), target.get("name") or target["image_id"]))
    else:
        raw, servers = api.show_supernode(client, raw["id"]), _members(client, raw["id"])
    return {"changed": True, "supernode": _view(raw, servers), "os_changes": changes, "diff": diff,
            "in_progress": not params["wait"]}
