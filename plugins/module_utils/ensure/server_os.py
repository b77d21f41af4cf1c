# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Operating system of a Lite Server (lite_server_os): switch to an image, or reset (reinstall) the current one.

Both erase the system disk, so both need allow_erase_system_disk, and check mode names the volume that
would be erased and the image the server would run. The server must be STOPPED: the module refuses,
or stops it first with stop_if_running. A switch to the image the server already runs does nothing;
a reset is an action that runs every time it is asked for (with its opt-in each time).

There is no ModelArts API that captures a server's disk as an image (API reference 7.5): operation
create_image refuses and points at IMS.
"""

from __future__ import annotations

import base64
import re

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import ims
from ansible_collections.modelarts.lite.plugins.module_utils.cloud import servers as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server import (
    next_steps,
    require_server,
    wait_settled,
    wait_status,
)
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError

# Statuses from which the API accepts changeos / reinstallos (cloud/servers.py ALLOWED).
OS_READY = tuple(s for s, actions in api.ALLOWED.items() if "changeos" in actions)
MAX_USER_DATA = 32 * 1024
BARE_METAL = ("BMS", "HPS")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

CREATE_IMAGE_GAP = (
    "operation=create_image is not possible through ModelArts: its API has no call that captures a Lite "
    "Server's disk as an image (POST /v1/{project_id}/images registers SWR container images only). Make a "
    "private image of the server with the Image Management Service (IMS) using modelarts.lite.lite_server_image, "
    "then switch servers to it with operation=switch and image=<that image id>.")


def validate_params(params):
    operation = params["operation"]
    if operation == "create_image":
        raise ValidationError(CREATE_IMAGE_GAP, option="operation")
    if operation == "switch" and not params.get("image"):
        raise ValidationError("operation=switch needs image (an image id or name from the server's image list).",
                              option="image")
    user_data = params.get("user_data")
    if user_data is not None and len(user_data.encode("utf-8")) > MAX_USER_DATA:
        raise ValidationError("user_data is %d bytes; the API takes at most 32 KiB." % len(user_data.encode("utf-8")),
                              option="user_data")


def resolve_image(client, raw, wanted):
    """The image entry (id, name, status) for ``wanted`` among the images that fit this server."""
    server_type = (raw.get("cloud_server") or {}).get("type")
    images = api.list_images(client, server_type=server_type, flavor=raw.get("flavor"))
    offered = ", ".join(sorted(i.get("name") or i.get("image_id") for i in images)) or "none"
    matches = [i for i in images if wanted in (i.get("image_id"), i.get("name"))]
    if not matches:
        # The dev-server image list shows the service's images only: a private image is checked through IMS.
        matches = private_image(client, wanted)
        for image in matches:
            refuse_unfit(client, raw, image, offered)
    if not matches:
        raise ValidationError(
            "image %r is not offered for server %s (flavor %s, type %s), and IMS has no private image with that id "
            "or name. Offered: %s." % (wanted, raw.get("name"), raw.get("flavor"), server_type, offered),
            option="image")
    image = matches[0]
    if image.get("status") not in (None, "ACTIVE"):
        raise ValidationError("image %s (%s) is %s; only ACTIVE images can be installed."
                              % (image.get("image_id"), image.get("name"), image.get("status")), option="image")
    return image


def private_image(client, wanted):
    """[the IMS private image ``wanted`` (id or name) in the dev-server image shape, with what IMS records about
    the machines it boots], or []."""
    found = ims.find_private_images(client, wanted) if not UUID_RE.match(wanted) else [
        i for i in [ims.get_image(client, wanted)] if i and i.get("__imagetype") == "private"]
    if len(found) > 1:
        raise ValidationError("%d private IMS images are named %r (ids %s); give the image id."
                              % (len(found), wanted, ", ".join(sorted(i["id"] for i in found))), option="image")
    return [{"image_id": i["id"], "name": i.get("name"), "private": True,
             "status": "ACTIVE" if i.get("status") == ims.ACTIVE else str(i.get("status")).upper(),
             "made_for": _made_for(i)} for i in found]


def _made_for(image):
    """What an IMS image record says about the machines it boots (docs/api-contract.yml, ims_list_images):
    ``__support_arm`` the architecture, ``virtual_env_type`` bare metal (Ironic: BMS or HPS) or not
    (FusionCompute: ECS), ``__data_origin`` ("instance,<id>") the machine it was made from. None: not recorded."""
    arm = str(image.get("__support_arm")).lower()
    env = image.get("virtual_env_type")
    origin = image.get("__data_origin") or ""
    return {"arch": {"true": "ARM", "false": "X86"}.get(arm),
            "bare_metal": {"Ironic": True, "FusionCompute": False}.get(env),
            "source_instance": origin.split(",", 1)[1] if origin.startswith("instance,") else None}


def _machine(server):
    return {"name": server.get("name"), "server_type": (server.get("cloud_server") or {}).get("type"),
            "arch": (server.get("image") or {}).get("arch"),
            "flavor": server.get("flavor") or server.get("resource_flavor")}


def refuse_unfit(client, raw, image, offered):
    """Refuse a private image the service would refuse for this server (changeos: 400 "server type,
    architecture or NPU chip differ"), before any call that changes something. The server type and
    architecture of the image's source server decide while that server exists; without it, IMS's own
    record decides what it can (architecture; bare metal or ECS). No record names the NPU chip: an image
    from a server of another flavor of the same type and architecture is left to the service."""
    made_for = image["made_for"]
    target = _machine(raw)
    source = None
    if made_for["source_instance"]:
        source = next((_machine(s) for s in api.list_servers(client)
                       if (s.get("cloud_server") or {}).get("id") == made_for["source_instance"]), None)
    source = source or {"name": None, "server_type": None, "arch": None, "flavor": None}
    source_arch = source["arch"] or made_for["arch"]
    differ = []
    if source["server_type"] and target["server_type"] and source["server_type"] != target["server_type"]:
        differ.append("server type %s, not %s" % (source["server_type"], target["server_type"]))
    elif made_for["bare_metal"] is not None and target["server_type"] and \
            made_for["bare_metal"] != (target["server_type"] in BARE_METAL):
        made = "bare metal (BMS/HPS)" if made_for["bare_metal"] else "ECS"
        differ.append("made for %s, not %s" % (made, target["server_type"]))
    if source_arch and target["arch"] and source_arch != target["arch"]:
        differ.append("architecture %s, not %s" % (source_arch, target["arch"]))
    if not differ:
        return
    made_from = "server %s (type %s, arch %s, flavor %s)" % (
        source["name"], source["server_type"], source_arch, source["flavor"]) if source["name"] else \
        "%s (IMS records arch %s, %s)" % (
            "machine %s, which is no Lite Server now" % made_for["source_instance"] if made_for["source_instance"]
            else "a machine IMS does not name", made_for["arch"] or "unknown",
            {True: "bare metal", False: "ECS", None: "type unknown"}[made_for["bare_metal"]])
    raise ValidationError(
        "image %s (%s) is a private IMS image made from %s; server %s is type %s, arch %s, flavor %s: %s. The service "
        "refuses an OS change to an image whose server type, architecture or NPU chip differ, so nothing was stopped "
        "or changed. Set image to a private image made from a %s %s server of this flavor, or to one the service "
        "offers for it: %s."
        % (image["image_id"], image.get("name"), made_from, target["name"], target["server_type"], target["arch"],
           target["flavor"], "; ".join(differ), target["server_type"], target["arch"], offered),
        option="image")


def login(params, raw):
    if params.get("admin_password"):
        if raw.get("server_hps") or raw.get("category") == "HPS":
            raise ValidationError("super node servers log in with a key pair only; use key_pair_name.",
                                  option="admin_password")
        return {"admin_pass": params["admin_password"]}
    key_pair = params.get("key_pair_name") or raw.get("key_pair_name")
    if not key_pair:
        raise ValidationError("the server has no key pair to keep; give key_pair_name or admin_password for the "
                              "new system.", option="key_pair_name")
    return {"key_pair_name": key_pair}


def os_change(raw, operation, target, stops_server):
    volumes = api.describe_server(raw)["volumes"]
    image = raw.get("image") or {}
    return {
        "operation": operation,
        "server_id": raw.get("id"),
        "server_name": raw.get("name"),
        "from_image": {"id": image.get("image_id"), "name": image.get("name")},
        "to_image": {"id": target.get("image_id"), "name": target.get("name")},
        "erased_volumes": [v for v in volumes if v["type"] == "ROOT"],
        "kept_volumes": [v for v in volumes if v["type"] != "ROOT"],
        "stops_server": stops_server,
    }


def _diff_view(raw, image=None):
    image = image or raw.get("image") or {}
    return {"id": raw.get("id"), "name": raw.get("name"), "image_id": image.get("image_id"),
            "image_name": image.get("name")}


def ensure_server_os(clients, params, check_mode):
    validate_params(params)
    client = clients.cloud
    raw = require_server(client, params["name"])
    server_id = raw["id"]
    if raw.get("status") in api.TRANSITIONAL and params["wait"] and not check_mode:
        # e.g. an earlier run's OS change that outlived its wait
        raw = wait_settled(client, server_id, params["wait_timeout"])

    operation = params["operation"]
    current = raw.get("image") or {}
    wanted = params.get("image") or current.get("image_id")
    target = resolve_image(client, raw, wanted) if operation == "switch" else dict(current)
    current_names = (current.get("image_id"), current.get("name"))
    if operation == "reset" and params.get("image") and params["image"] not in current_names:
        raise ValidationError("operation=reset reinstalls the image the server runs (%s); to install %s use "
                              "operation=switch." % (current.get("name") or current.get("image_id"), params["image"]),
                              option="image")
    if operation == "switch" and target["image_id"] == current.get("image_id"):
        server = api.describe_server(raw)
        return {"changed": False, "server": server, "os_change": {},
                "diff": {"before": _diff_view(raw), "after": _diff_view(raw)}}

    status = raw.get("status")
    running = status == "RUNNING"
    change = os_change(raw, operation, target, stops_server=running)
    if not params["allow_erase_system_disk"]:
        root = change["erased_volumes"][0] if change["erased_volumes"] else {}
        raise PreconditionError(
            "%s server %s (%s) from image %s to %s erases its system disk (ROOT volume %s, %s GB); data volumes %s "
            "are kept. Back up what you need, then set allow_erase_system_disk=true."
            % ("switching" if operation == "switch" else "resetting", raw.get("name"), server_id,
               current.get("name") or current.get("image_id"), target.get("name") or target.get("image_id"),
               root.get("evs_id"), root.get("size"),
               ", ".join("%s (%s GB)" % (v["evs_id"], v["size"]) for v in change["kept_volumes"]) or "none"),
            details={"os_change": change})
    if running and not params["stop_if_running"]:
        raise PreconditionError(
            "server %s is RUNNING; switching or resetting its OS needs it STOPPED. Stop it first "
            "(modelarts.lite.lite_server state=stopped) or set stop_if_running=true." % raw.get("name"),
            details={"status": status})
    if not running and status not in OS_READY:
        raise PreconditionError("server %s is %s, where an OS change is not allowed. Next: %s."
                                % (raw.get("name"), status, next_steps(status)), details={"status": status})
    body = login(params, raw)
    if params.get("user_data"):
        body["user_data"] = base64.b64encode(params["user_data"].encode("utf-8")).decode("ascii")

    predicted = api.describe_server(raw)
    predicted.update(status="RUNNING", image_id=target.get("image_id"), image_name=target.get("name"))
    diff = {"before": _diff_view(raw), "after": _diff_view(raw, target)}
    if check_mode:
        return {"changed": True, "server": predicted, "os_change": change, "diff": diff}

    if running:
        api.stop_server(client, server_id)
        # The OS call needs the server STOPPED, so this wait happens even with wait=false.
        wait_status(client, server_id, params["wait_timeout"], "STOPPED", "stop")
    if operation == "switch":
        api.change_os(client, server_id, dict(body, image_id=target["image_id"]))
    else:
        api.reinstall_os(client, server_id, body)
    if params["wait"]:
        raw = wait_status(client, server_id, params["wait_timeout"], "RUNNING",
                          "changeos" if operation == "switch" else "reinstallos", image_id=target.get("image_id"))
    else:
        raw = api.show_server(client, server_id)
    return {"changed": True, "server": api.describe_server(raw), "os_change": change, "diff": diff}
