# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Size of a Lite Server super node (supernode_scale, supernode_info).

A super node keeps one server specification and at least one server. Scale-up adds servers of the
super node's own flavor through live-scale-up (one server per call: the request has no count);
scale-down removes servers through live-scale-down, refused while jobs run on them unless
stop_running_jobs deletes those jobs (never a job that also runs on a server that stays).

System disk: the request is grow-only (a smaller size is refused before any call). There is no
ModelArts API that grows the system disk of existing servers (API reference 7-8): a size above the
current one is refused and points at lite_server_disk (EVS); servers added by scale-up get the current size.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import servers as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server_os import resolve_image
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError

GROWING = ("CREATING",)
LEAVING = ("DELETING",)
FAILED = ("CREATE_FAILED", "DELETE_FAILED")
# Scale-down picks broken servers first, then the newest.
REMOVAL_RANK = {"CREATE_FAILED": 0, "ERROR": 0, "START_FAILED": 1, "REBOOT_FAILED": 1, "STOP_FAILED": 1}


def validate_params(params):
    """Checks beyond the numeric bounds (count, system_disk_size: arg_specs.BOUNDS, checked first)."""
    removals = params.get("remove_servers") or []
    if len(set(removals)) != len(removals):
        raise ValidationError("remove_servers lists a server twice.", option="remove_servers")
    if params.get("count") is None and not removals and params.get("system_disk_size") is None:
        raise ValidationError("give count, remove_servers or system_disk_size.", option="count")


def require_supernode(client, name):
    raw = api.find_supernode(client, name)
    if raw is None:
        raise ValidationError("no super node has the name or id %r in this project and region." % name, option="name")
    return raw


def describe_supernode(raw, servers):
    members = [api.describe_server(s) for s in servers]
    active = [m for m in members if m["status"] not in LEAVING]
    flavors = sorted({m["flavor"] for m in members if m["flavor"]})
    sizes = sorted({(v["size"] or 0) for m in active for v in m["volumes"] if v["type"] == "ROOT"})
    return {
        "id": raw.get("id"),
        "name": raw.get("name"),
        "status": raw.get("status"),
        "flavor": flavors[0] if len(flavors) == 1 else None,
        "server_count": len(active),
        "servers": members,
        "system_disk_sizes": sizes,
        "hps_cluster_id": raw.get("hps_cluster_id"),
        "created_at": raw.get("create_at"),
    }


def _member(servers, ident):
    for server in servers:
        if ident in (server.get("id"), server.get("name")):
            return server
    return None


def already_removed(servers, params, project_servers):
    """remove_servers entries that are gone from the project: a rerun's removals, which are done.

    An entry that names a server outside this super node is a mistake, refused before any call."""
    gone = []
    for ident in params.get("remove_servers") or []:
        if _member(servers, ident) is not None:
            continue
        if _member(project_servers, ident) is not None:
            raise ValidationError("server %r is not in super node %s (its servers: %s)."
                                  % (ident, params["name"], ", ".join(s["name"] for s in servers) or "none"),
                                  option="remove_servers")
        gone.append(ident)
    return gone


def plan_removals(servers, params, busy, gone=()):
    """Servers to remove: the explicit ones, or enough for ``count`` (idle and broken first, then newest).

    ``gone`` are explicit entries already removed (see already_removed)."""
    active = [s for s in servers if s.get("status") not in LEAVING]
    explicit = params.get("remove_servers") or []
    if explicit:
        targets = []
        for ident in explicit:
            if ident in gone:
                continue
            server = _member(servers, ident)
            if server.get("status") not in LEAVING:  # already leaving: nothing to do again
                targets.append(server)
        remaining = len(active) - len(targets)
        if params.get("count") is not None and params["count"] != remaining:
            raise ValidationError("count %d disagrees with remove_servers, which leaves %d servers."
                                  % (params["count"], remaining), option="count")
        if remaining < 1:
            raise ValidationError("removing %s would leave super node %s without servers; it keeps at least one."
                                  % (", ".join(explicit), params["name"]), option="remove_servers")
        return targets
    count = params.get("count")
    if count is None or count >= len(active):
        return []
    ranked = sorted(active, key=lambda s: (s["id"] in busy, REMOVAL_RANK.get(s.get("status"), 2),
                                           -(s.get("create_at") or 0)))
    return ranked[:len(active) - count]


def check_disk(servers, size):
    if size is None:
        return
    roots = {s["name"]: (api.root_volume(s) or {}).get("size") or 0 for s in servers if s.get("status") not in LEAVING}
    larger = {n: v for n, v in roots.items() if v > size}
    if larger:
        raise ValidationError(
            "system_disk_size %d GB is smaller than the system disk of %s; a system disk can only grow, never "
            "shrink." % (size, ", ".join("%s (%d GB)" % item for item in sorted(larger.items()))),
            option="system_disk_size")
    smaller = {n: v for n, v in roots.items() if v < size}
    if smaller:
        raise PreconditionError(
            "servers %s have a system disk smaller than %d GB. supernode_scale does not grow existing disks (the "
            "ModelArts API has no call for it): grow them through EVS with modelarts.lite.lite_server_disk "
            "(supernode=<this super node>, size=%d), then re-run this task to confirm the size."
            % (", ".join("%s (%d GB)" % item for item in sorted(smaller.items())), size, size),
            details={"system_disks": roots})


def job_plan(targets, busy, stop_running_jobs, supernode):
    """Jobs blocking the removal of ``targets``, and which of them may be deleted."""
    target_ids = {t["id"] for t in targets}
    blocking = {}
    for target in targets:
        for job in busy.get(target["id"], []):
            blocking[job["id"]] = job
    if not blocking:
        return []
    describe = "; ".join("%s (%s) on %s" % (j["name"], j["id"], ", ".join(sorted(j["servers"])))
                         for j in blocking.values())
    if not stop_running_jobs:
        raise PreconditionError(
            "jobs are running on the servers to remove from super node %s: %s. Wait for them to finish, or set "
            "stop_running_jobs=true to delete these jobs first." % (supernode, describe),
            details={"jobs": sorted(blocking)})
    elsewhere = {j["id"]: sorted(set(j["servers"]) - target_ids) for j in blocking.values()
                 if set(j["servers"]) - target_ids}
    if elsewhere:
        raise PreconditionError(
            "jobs %s also run on servers that stay in super node %s (%s); deleting them would stop work there. "
            "Stop those jobs yourself, or remove those servers too."
            % (", ".join(sorted(elsewhere)), supernode,
               "; ".join("%s: %s" % (j, ", ".join(s)) for j, s in sorted(elsewhere.items()))),
            details={"jobs": elsewhere})
    return sorted(blocking)


def scale_up_body(params, flavor, template, image_id):
    body = {"flavor": flavor, "image_id": image_id}
    key_pair = params.get("key_pair_name") or template.get("key_pair_name")
    if key_pair:
        body["key_pair_name"] = key_pair
    root = api.root_volume(template)
    if root:
        body["root_volume"] = {"size": root.get("size"), "type": root.get("evs_type")}
    return body


def _diff_view(node):
    return {k: node[k] for k in ("id", "name", "flavor", "server_count", "system_disk_sizes")}


def settled(servers, desired):
    active = [s for s in servers if s.get("status") not in LEAVING]
    return len(active) == desired and len(active) == len(servers) and all(
        s.get("status") == "RUNNING" for s in active)


def failed_reason(servers):
    broken = [s for s in servers if s.get("status") in FAILED]
    if broken:
        return "servers %s are %s; remove them (remove_servers) and scale up again, or contact support" % (
            ", ".join(s["name"] for s in broken), ", ".join(sorted({s["status"] for s in broken})))
    return None


def ensure_supernode(clients, params, check_mode):
    validate_params(params)
    client = clients.cloud
    raw = require_supernode(client, params["name"])
    hyper_id = raw["id"]
    servers = api.supernode_servers(client, hyper_id)
    before = describe_supernode(raw, servers)
    flavor = before["flavor"] or (raw.get("servers") or [{}])[0].get("flavor")
    if params.get("flavor") and params["flavor"] != flavor:
        raise ValidationError("flavor %s differs from super node %s's flavor %s; a super node keeps one "
                              "specification." % (params["flavor"], raw.get("name"), flavor), option="flavor")
    check_disk(servers, params.get("system_disk_size"))

    busy = api.running_jobs_by_server(client) if (params.get("count") is not None or
                                                  params.get("remove_servers")) else {}
    gone = []
    if any(_member(servers, ident) is None for ident in params.get("remove_servers") or []):
        gone = already_removed(servers, params, api.list_servers(client))
        if gone:
            clients.warn("server(s) %s are not in super node %s or anywhere in this project; they count as already "
                         "removed." % (", ".join(gone), raw.get("name")))
    targets = plan_removals(servers, params, busy, gone)
    adding = max(0, params["count"] - before["server_count"]) if params.get("count") is not None else 0
    jobs = []
    if targets:
        if not params["allow_scale_down"]:
            raise PreconditionError(
                "this removes servers %s from super node %s; their disks and everything running on them are lost. "
                "Set allow_scale_down=true to confirm." % (", ".join(t["name"] for t in targets), raw.get("name")),
                details={"remove": [t["id"] for t in targets]})
        jobs = job_plan(targets, busy, params["stop_running_jobs"], raw.get("name"))
    image_id = template = None
    if adding:
        if raw.get("status") != "ACTIVE":
            raise PreconditionError("super node %s is %s; it scales only when ACTIVE." % (raw.get("name"),
                                                                                          raw.get("status")),
                                    details={"status": raw.get("status")})
        sold_out = [e for e in api.scale_evaluations(client, hyper_id) if e.get("flavor") == flavor
                    and e.get("is_sold_out")]
        if sold_out:
            raise PreconditionError("flavor %s is sold out, so super node %s cannot grow now; retry later."
                                    % (flavor, raw.get("name")), details={"flavor": flavor})
        template = next((s for s in servers if s.get("status") not in LEAVING), servers[0] if servers else {})
        image_id = template.get("image", {}).get("image_id")
        if params.get("image"):
            image_id = resolve_image(client, template, params["image"])["image_id"]

    plan = {"add": adding, "remove": [{"id": t["id"], "name": t["name"]} for t in targets], "stop_jobs": jobs}
    desired = before["server_count"] + adding - len(targets)
    predicted = dict(before, server_count=desired)
    diff = {"before": _diff_view(before), "after": _diff_view(predicted)}
    changed = bool(adding or targets)
    if not changed or check_mode:
        return {"changed": changed, "supernode": predicted if changed else before, "plan": plan, "diff": diff}

    if jobs:
        api.delete_jobs(client, jobs)
    if targets:
        api.scale_down(client, hyper_id, {"id": hyper_id, "flavor": flavor, "server_ids": [t["id"] for t in targets]})
    body = scale_up_body(params, flavor, template, image_id) if adding else None
    for _added in range(adding):  # one server per call: the scale-up request has no count
        api.scale_up(client, hyper_id, body)
    if params["wait"]:
        servers = client.wait_for(lambda: api.supernode_servers(client, hyper_id),
                                  done=lambda current: settled(current, desired), failed=failed_reason,
                                  timeout=params["wait_timeout"],
                                  describe="super node %s to have %d RUNNING servers" % (raw.get("name"), desired))
    else:
        servers = api.supernode_servers(client, hyper_id)
    after = describe_supernode(api.show_supernode(client, hyper_id), servers)
    diff["after"] = _diff_view(after)
    return {"changed": True, "supernode": after, "plan": plan, "diff": diff}


def supernode_info(clients, params, check_mode):
    client = clients.cloud
    name = params.get("name")
    if name:
        raw = api.find_supernode(client, name)
        raws = [raw] if raw else []
    else:
        raws = api.list_supernodes(client)
    return {"changed": False,
            "supernodes": [describe_supernode(raw, api.supernode_servers(client, raw["id"])) for raw in raws]}
