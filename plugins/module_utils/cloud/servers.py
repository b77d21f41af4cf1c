# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Lite Server calls: dev servers, their images, super nodes (hyperinstances), dev-server jobs and
scheduled events (API reference sections 7-10), plus the status facts the ensure/ engines share.

Thin on purpose: one function per HTTP call taking the CloudClient first; v1 bodies are snake_case
(scheduled events camelCase). A missing dev server or hyperinstance answers 400 ModelArts.6404,
which the client raises as NotFoundError.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.errors import NotFoundError, ValidationError

# Statuses (reference 7.2) and what the Lite Server guide allows in each.
TRANSITIONAL = ("CREATING", "STARTING", "STOPPING", "REBOOTING", "CHANGINGOS", "REINSTALLINGOS", "DELETING")
FAILED = ("ERROR", "CREATE_FAILED", "DELETE_FAILED", "START_FAILED", "STOP_FAILED", "REBOOT_FAILED",
          "CHANGINGOS_FAILED", "REINSTALLINGOS_FAILED")
ALLOWED = {
    "RUNNING": ("stop", "reboot"),
    "STOPPED": ("start", "changeos", "reinstallos"),
    "ERROR": ("reboot",),
    "START_FAILED": ("start", "reboot"),
    "STOP_FAILED": ("stop", "reboot"),
    "REBOOT_FAILED": ("reboot",),
    "CHANGINGOS_FAILED": ("changeos", "reinstallos"),
    "REINSTALLINGOS_FAILED": ("changeos", "reinstallos"),
}
# Running jobs: a task in this status occupies its server.
BUSY_TASK = "PROCESSING"
DONE_JOB_STATUSES = ("FINISHED", "DELETED")
PAGE = 100


def _v1(client, *segments):
    return client.path("v1", *segments)


# -- dev servers ---------------------------------------------------------------------------------

def list_servers(client):
    return client.paginate_offset(_v1(client, "dev-servers"), limit=PAGE)


def show_server(client, server_id):
    return client.request("GET", _v1(client, "dev-servers", server_id))


def list_public_ips(client, server_id):
    """The EIPs bound to a server, ``[{"id", "address"}]``: the server record itself never carries them."""
    return client.request("GET", _v1(client, "dev-servers", server_id, "publicips")).get("public_ips") or []


def find_server(client, name_or_id, option="name"):
    """The server whose id or name is ``name_or_id``, or None; several with that name is an error."""
    servers = list_servers(client)
    by_id = [s for s in servers if s.get("id") == name_or_id]
    if by_id:
        return by_id[0]
    matches = [s for s in servers if s.get("name") == name_or_id]
    if len(matches) > 1:
        raise ValidationError(
            "%d Lite Servers are named %r (ids %s); give the server id instead."
            % (len(matches), name_or_id, ", ".join(sorted(s["id"] for s in matches))), option=option)
    return matches[0] if matches else None


def rename_server(client, server_id, name):
    return client.request("PUT", _v1(client, "dev-servers", server_id), body={"name": name})


def start_server(client, server_id):
    # The API requires a body here; the vendor's Terraform provider sends {}.
    return client.request("PUT", _v1(client, "dev-servers", server_id, "start"), body={})


def stop_server(client, server_id):
    return client.request("PUT", _v1(client, "dev-servers", server_id, "stop"))


def reboot_server(client, server_id):
    return client.request("PUT", _v1(client, "dev-servers", server_id, "reboot"))


def change_os(client, server_id, body):
    return client.request("POST", _v1(client, "dev-servers", server_id, "changeos"), body=body)


def reinstall_os(client, server_id, body):
    return client.request("POST", _v1(client, "dev-servers", server_id, "reinstallos"), body=body)


def sync_servers(client):
    """PUT /dev-servers/sync: refresh every server's status from the real machines."""
    return client.request("PUT", _v1(client, "dev-servers", "sync"), query={"limit": PAGE, "offset": 0})


def _unpaged(client, path, query=None):
    """A v1 list the SDK does not page: no limit/offset, and the one answer is the whole list
    (docs/api-contract.yml, paging: none)."""
    return client.request("GET", path, query=query).get("data") or []


def list_images(client, server_type=None, flavor=None):
    query = {"server_type": server_type, "flavor_name": flavor}
    return _unpaged(client, _v1(client, "dev-servers", "images"), {k: v for k, v in query.items() if v})


# -- super nodes ---------------------------------------------------------------------------------

def list_supernodes(client):
    return client.paginate_offset(_v1(client, "dev-servers", "hyperinstance"), limit=PAGE)


def show_supernode(client, hyper_id):
    return client.request("GET", _v1(client, "dev-servers", "hyperinstance", hyper_id))


def find_supernode(client, name_or_id, option="name"):
    nodes = list_supernodes(client)
    by_id = [n for n in nodes if n.get("id") == name_or_id]
    if by_id:
        return by_id[0]
    matches = [n for n in nodes if n.get("name") == name_or_id]
    if len(matches) > 1:
        raise ValidationError("%d super nodes are named %r; give the super node id instead." % (len(matches), name_or_id),
                              option=option)
    return matches[0] if matches else None


def supernode_servers(client, hyper_id):
    return _unpaged(client, _v1(client, "dev-servers", "hyperinstance", hyper_id, "servers"))


def scale_evaluations(client, hyper_id):
    body = client.request("GET", _v1(client, "dev-servers", "hyperinstance", hyper_id, "scale-evaluations"))
    return body.get("evaluations") or []


def scale_up(client, hyper_id, body):
    return client.request("POST", _v1(client, "dev-servers", "hyperinstance", hyper_id, "live-scale-up"), body=body)


def scale_down(client, hyper_id, body):
    return client.request("POST", _v1(client, "dev-servers", "hyperinstance", hyper_id, "live-scale-down"), body=body)


# -- dev-server jobs -----------------------------------------------------------------------------

def list_jobs(client):
    return _unpaged(client, _v1(client, "dev-servers", "jobs"))


def show_job(client, job_id):
    return client.request("GET", _v1(client, "dev-servers", "jobs", job_id))


def delete_jobs(client, job_ids):
    return client.request("DELETE", _v1(client, "dev-servers", "jobs"), body={"job_ids": list(job_ids)})


def running_jobs_by_server(client):
    """{server id: [{"id", "name", "servers": [server ids with a task running]}]} of unfinished jobs."""
    busy = {}
    for summary in list_jobs(client):
        if summary.get("status") in DONE_JOB_STATUSES:
            continue
        try:
            job = show_job(client, summary["id"])
        except NotFoundError:
            continue  # finished and removed between the two calls
        running = [t.get("server_id") for t in job.get("tasks") or [] if t.get("status") == BUSY_TASK]
        entry = {"id": job["id"], "name": job.get("name"), "servers": running}
        for server_id in running:
            busy.setdefault(server_id, []).append(entry)
    return busy


# -- scheduled events (authorized repair) ---------------------------------------------------------

def list_scheduled_events(client, states=None):
    query = {"limit": 100}
    if states:
        query["state"] = list(states)  # repeated keys (state=a&state=b), as the SDK sends a list
    events, offset = [], 0
    while True:
        page = client.request("GET", _v1(client, "scheduled-events"), query=dict(query, offset=offset))
        batch = page.get("events") or []
        events.extend(batch)
        offset += len(batch)
        if not batch or offset >= (page.get("count") or 0):
            return events


def accept_scheduled_event(client, event_id, body):
    return client.request("POST", _v1(client, "scheduled-events", event_id, "accept"), body=body)


# -- normalisers ---------------------------------------------------------------------------------

def root_volume(raw):
    return next((v for v in raw.get("volumes") or [] if v.get("type") == "ROOT"), None)


def describe_server(raw):
    """A v1 Server object in the modules' return shape (stable, snake_case)."""
    image = raw.get("image") or {}
    endpoints = raw.get("endpoints") or []
    hps = raw.get("server_hps") or {}
    return {
        "id": raw.get("id"),
        "name": raw.get("name"),
        "status": raw.get("status"),
        "category": raw.get("category"),
        "flavor": raw.get("flavor") or raw.get("resource_flavor"),
        "server_type": (raw.get("cloud_server") or {}).get("type"),
        "image_id": image.get("image_id"),
        "image_name": image.get("name"),
        "arch": image.get("arch"),
        "key_pair_name": raw.get("key_pair_name") or None,
        "private_ip": endpoints[0].get("uri") if endpoints else None,
        "volumes": [{"type": v.get("type"), "size": v.get("size"), "evs_type": v.get("evs_type"),
                     "evs_id": v.get("evs_id")} for v in raw.get("volumes") or []],
        "supernode_id": hps.get("id"),
        "supernode_name": hps.get("name"),
        "charging_mode": raw.get("charging_mode"),
        "created_at": raw.get("create_at"),
        "updated_at": raw.get("update_at"),
    }


# -- a whole super node: power and OS ------------------------------------------------------------

def start_supernode(client, hyper_id):
    return client.request("PUT", _v1(client, "dev-servers", "hyperinstance", hyper_id, "start"))


def stop_supernode(client, hyper_id):
    return client.request("PUT", _v1(client, "dev-servers", "hyperinstance", hyper_id, "stop"))


def change_supernode_os(client, hyper_id, body):
    """POST .../hyperinstance/{id}/changeos: every server of the super node at once (SDK ServerOsRequest body)."""
    return client.request("POST", _v1(client, "dev-servers", "hyperinstance", hyper_id, "changeos"), body=body)
