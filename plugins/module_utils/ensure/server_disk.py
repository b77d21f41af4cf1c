# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""System disk size of Lite Servers (lite_server_disk): grow only, through EVS.

A Lite Server reports its system disk as ``volumes[type=ROOT].evs_id``; EVS grows it with
``os-extend``. The scope is one server, or every server of a super node in one task. The whole
plan is made and checked before the first call: a smaller size, a size above EVS's system disk
limit, or a server whose status EVS would refuse fails the task with nothing sent. A disk at the
size already is left alone. Yearly/monthly disks answer an order instead of a job; the module sends
``bssParam.isAutoPay`` so the order is paid from the account balance, then follows the disk's size.

Growing the partition and file system inside the OS is a host-side step this module does not do.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import evs
from ansible_collections.modelarts.lite.plugins.module_utils.cloud import servers as api
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.waiting import Deadline

# A Lite Server's status as the ECS/BMS status EVS checks (the others are transitional or failed).
ECS_STATUS = {"RUNNING": "ACTIVE", "STOPPED": "SHUTOFF"}


def validate(name, supernode, size):
    if bool(name) == bool(supernode):
        raise ValidationError("give exactly one of name (one server) or supernode (every server of a super node).",
                              option="name")
    if size is None or not 1 <= size <= evs.MAX_SYSTEM_DISK_GB:
        raise ValidationError("size must be 1 to %d GB (EVS's largest system disk), got %s."
                              % (evs.MAX_SYSTEM_DISK_GB, size), option="size")


def targets(client, name, supernode):
    """The servers in scope (ModelArts Server objects)."""
    if name:
        raw = api.find_server(client, name)
        if raw is None:
            raise ValidationError("no Lite Server has the name or id %r in this project and region." % name,
                                  option="name")
        return [raw]
    hyper = api.find_supernode(client, supernode, option="supernode")
    if hyper is None:
        raise ValidationError("no super node has the name or id %r in this project and region." % supernode,
                              option="supernode")
    servers = api.supernode_servers(client, hyper["id"])
    if not servers:
        raise PreconditionError("super node %s has no servers." % supernode, details={"supernode": hyper["id"]})
    return sorted(servers, key=lambda s: s.get("name") or "")


def disk_plan(server, volume, size):
    """One server's entry: what it is, what it becomes, or a refusal (PreconditionError / ValidationError)."""
    current = volume.get("size")
    entry = {"server_id": server.get("id"), "server_name": server.get("name"), "volume_id": volume.get("id"),
             "previous_size": current, "size": current, "prepaid": evs.is_prepaid(volume), "changed": False}
    if current == size:
        return entry
    if current > size:
        raise ValidationError(
            "size %d GB is smaller than the system disk of server %s (%d GB, EVS volume %s); a disk can only grow."
            % (size, server.get("name"), current, volume.get("id")), option="size")
    status = server.get("status")
    if ECS_STATUS.get(status) not in evs.EXTENDABLE_SERVER_STATUSES:
        raise PreconditionError(
            "server %s is %s; EVS grows a system disk only while its server is RUNNING or STOPPED. Wait for the "
            "current operation to end, or repair the server, then re-run." % (server.get("name"), status),
            details={"server": server.get("name"), "status": status})
    if volume.get("status") not in evs.EXTENDABLE_VOLUME_STATUSES:
        raise PreconditionError(
            "the system disk of server %s (EVS volume %s) is %s; EVS expands only available or in-use disks. "
            "Re-run when it is in-use again." % (server.get("name"), volume.get("id"), volume.get("status")),
            details={"server": server.get("name"), "volume_status": volume.get("status")})
    if volume.get("multiattach"):
        raise PreconditionError("EVS does not expand a shared disk (volume %s of server %s)."
                                % (volume.get("id"), server.get("name")), details={"volume": volume.get("id")})
    return dict(entry, size=size, changed=True)


def _wait(client, disks, timeout):
    """Wait for every submitted expansion: EVS jobs, or (yearly/monthly) the disk reaching its size."""
    deadline = Deadline(timeout)
    for disk in disks:
        if disk.get("job_id"):
            client.wait_for(lambda d=disk: evs.show_job(client, d["job_id"]),
                            done=lambda job: job.get("status") == evs.JOB_DONE,
                            failed=lambda job: job.get("status") == evs.JOB_FAILED and (
                                "EVS job %s failed: %s" % (job.get("job_id"), job.get("fail_reason") or job.get(
                                    "error_code"))),
                            timeout=deadline.remaining(), describe="the system disk of %s to grow" % disk["server_name"])
        else:
            client.wait_for(lambda d=disk: evs.show_volume(client, d["volume_id"]),
                            done=lambda volume, d=disk: (volume.get("size") or 0) >= d["size"],
                            timeout=deadline.remaining(),
                            describe="the yearly/monthly system disk of %s to grow (order %s)"
                                     % (disk["server_name"], disk.get("order_id")))


def ensure_server_disk(clients, params, check_mode):
    """Grow the system disk of one server (``name``), or of every server of a super node (``supernode``),
    to ``size`` GB."""
    name, supernode, size = params.get("name"), params.get("supernode"), params.get("size")
    validate(name, supernode, size)
    client = clients.cloud
    plan = []
    for server in targets(client, name, supernode):
        root = api.root_volume(server)
        if not root or not root.get("evs_id"):
            raise PreconditionError("server %s reports no system disk (volumes[type=ROOT].evs_id)." % server.get("name"),
                                    details={"server": server.get("name")})
        plan.append(disk_plan(server, evs.show_volume(client, root["evs_id"]), size))
    diff = {"before": {d["server_name"]: d["previous_size"] for d in plan},
            "after": {d["server_name"]: d["size"] for d in plan}}
    grow = [d for d in plan if d["changed"]]
    if not grow or check_mode:
        return {"changed": bool(grow), "disks": plan, "diff": diff}
    for disk in grow:
        answer = evs.extend_volume(client, disk["volume_id"], disk["size"], auto_pay=disk["prepaid"])
        disk["job_id"] = answer.get("job_id")
        disk["order_id"] = answer.get("order_id")
    if params["wait"]:
        _wait(client, grow, params["wait_timeout"])
    return {"changed": True, "disks": plan, "diff": diff, "in_progress": not params["wait"]}
