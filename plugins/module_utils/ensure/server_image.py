# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Private OS images made from Lite Servers (lite_server_image, lite_server_image_info), through IMS.

IMS makes the image from the server's underlying machine (``cloud_server.id``), which must be
STOPPED (Lite Server guide: stop the server, then create the image). The module refuses a running
server, or with stop_if_running stops it, and starts it again once the image is ready. IMS does not
keep names unique, so the collection does: a name is the image's identity, and two private images
with one name are refused as ambiguous. ModelArts has no call for this (its /images registers SWR
container images only).
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import ims
from ansible_collections.modelarts.lite.plugins.module_utils.cloud import servers as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server import (
    next_steps,
    require_server,
    wait_status,
)
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.waiting import Deadline

# IMS image names: 1-128 characters, letters (CJK too), digits, spaces, '-', '_', '.'; no leading space or symbol.
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_. ")
MAX_DESCRIPTION = 1024


def validate(params):
    name = params["name"]
    if not 1 <= len(name) <= 128 or not name[0].isalnum() or \
            any(c not in NAME_CHARS and not ("\u4e00" <= c <= "\u9fa5") for c in name):
        raise ValidationError("name %r is not a valid IMS image name: 1 to 128 letters, digits, spaces, '-', '_' or "
                              "'.', starting with a letter or digit." % name, option="name")
    if params["state"] == "present" and not params.get("server"):
        raise ValidationError("state=present needs server (the Lite Server to make the image from).", option="server")
    if len(params.get("description") or "") > MAX_DESCRIPTION:
        raise ValidationError("description is longer than %d characters." % MAX_DESCRIPTION, option="description")


def describe_image(raw):
    return {"id": raw.get("id"), "name": raw.get("name"), "status": raw.get("status"),
            "min_disk": raw.get("min_disk"), "visibility": raw.get("visibility"),
            "source": (raw.get("__data_origin") or "").partition(",")[2] or None,
            "description": raw.get("__description") or None, "created_at": raw.get("created_at")}


def find_one(client, name):
    found = ims.find_private_images(client, name)
    if len(found) > 1:
        ids = sorted(i["id"] for i in found)
        raise PreconditionError("%d private IMS images are named %r (ids %s); this module treats a name as one image. "
                                "Delete or rename the extra ones first." % (len(found), name, ", ".join(ids)),
                                details={"images": ids})
    return found[0] if found else None


def _wait_active(client, image_id, timeout):
    return client.wait_for(lambda: ims.get_image(client, image_id) or {},
                           done=lambda image: image.get("status") == ims.ACTIVE,
                           failed=lambda image: not image and "the image disappeared (its creation failed)",
                           timeout=timeout, describe="IMS image %s to be active" % image_id)


def ensure_server_image(clients, params, check_mode):
    validate(params)
    client = clients.cloud
    existing = find_one(client, params["name"])
    if params["state"] == "absent":
        return _absent(client, existing, check_mode)
    if existing is not None:
        if existing.get("status") != ims.ACTIVE and params["wait"] and not check_mode:
            existing = _wait_active(client, existing["id"], params["wait_timeout"])  # an earlier run's image
        return {"changed": False, "image": describe_image(existing), "diff": {"before": existing.get("name"),
                                                                              "after": existing.get("name")}}

    server = require_server(client, params["server"])
    status = server.get("status")
    stops = status == "RUNNING"
    if stops and not params["stop_if_running"]:
        raise PreconditionError(
            "server %s is RUNNING; IMS makes an image from a stopped server only. Stop it first "
            "(modelarts.lite.lite_server state=stopped) or set stop_if_running=true (it is started again once the "
            "image is ready)." % server.get("name"), details={"status": status})
    if not stops and status != "STOPPED":
        raise PreconditionError("server %s is %s; an image needs it STOPPED. Next: %s."
                                % (server.get("name"), status, next_steps(status)), details={"status": status})
    root = api.root_volume(server) or {}
    predicted = {"id": None, "name": params["name"], "status": ims.ACTIVE, "min_disk": root.get("size"),
                 "visibility": "private", "source": (server.get("cloud_server") or {}).get("id"),
                 "description": params.get("description"), "created_at": None}
    result = {"changed": True, "image": predicted, "stopped_server": stops,
              "diff": {"before": None, "after": params["name"]}}
    if check_mode:
        return result

    deadline = Deadline(params["wait_timeout"])
    if stops:
        api.stop_server(client, server["id"])
        # IMS needs the server STOPPED, so this wait happens even with wait=false.
        wait_status(client, server["id"], deadline.remaining(), "STOPPED", "stop")
    job_id = ims.create_image(client, params["name"], predicted["source"], params.get("description"))
    result["job_id"] = job_id
    if not params["wait"]:
        return dict(result, in_progress=True)
    job = client.wait_for(lambda: ims.show_job(client, job_id),
                          done=lambda j: j.get("status") == ims.JOB_DONE,
                          failed=lambda j: j.get("status") == ims.JOB_FAILED and "IMS job %s failed: %s" % (
                              job_id, j.get("fail_reason") or j.get("error_code")),
                          timeout=deadline.remaining(), describe="IMS to make image %s" % params["name"])
    image = ims.get_image(client, (job.get("entities") or {}).get("image_id")) or {}
    if stops:
        api.start_server(client, server["id"])
        wait_status(client, server["id"], deadline.remaining(), "RUNNING", "start")
    return dict(result, image=describe_image(image), in_progress=False)


def _absent(client, existing, check_mode):
    if existing is None:
        return {"changed": False, "image": {}, "diff": {"before": None, "after": None}}
    if existing.get("status") != ims.ACTIVE:
        raise PreconditionError("image %s (%s) is %s; IMS deletes an image once it is active. Re-run later."
                                % (existing.get("name"), existing["id"], existing.get("status")),
                                details={"status": existing.get("status")})
    if not check_mode:
        ims.delete_image(client, existing["id"])
    return {"changed": True, "image": describe_image(existing), "diff": {"before": existing.get("name"),
                                                                         "after": None}}


def server_image_info(clients, params, check_mode):
    client = clients.cloud
    found = ims.find_private_images(client, params["name"]) if params.get("name") else \
        ims.list_images(client, __imagetype="private")
    return {"changed": False, "images": [describe_image(i) for i in found]}
