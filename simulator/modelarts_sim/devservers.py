"""Lite Server (v1 dev-servers), super nodes (hyperinstances), dev-server jobs and scheduled events.

API reference sections 7-10. v1 style: flat snake_case objects, epoch-millisecond timestamps,
`{current, data, pages, size, total}` lists, unknown objects answer 400 `ModelArts.6404`.
State lives under state.json["extensions"]["devservers"]; every public method runs with
world.lock held (the HTTP layer takes it), timer handlers too.

The status machine is the reference's status enum with the allowed-operations table of the Lite
Server guide: RUNNING allows stop/reboot, STOPPED allows start/changeos/reinstallos, ERROR allows
reboot (restart) and repair; a `*_FAILED` status allows reboot and retrying what failed;
transitional statuses allow nothing but reads, sync and rename.
"""
import ipaddress
import math
import re
from datetime import datetime, timezone

from . import devserver_catalog as catalog
from .cloud_base import ApiError, ms
from .world import iso

START_SECONDS = 120
STOP_SECONDS = 90
REBOOT_SECONDS = 300
CHANGEOS_SECONDS = 15 * 60
REINSTALLOS_SECONDS = 10 * 60
CREATE_SECONDS = 10 * 60
DELETE_SECONDS = 3 * 60
REPAIR_SCHEDULE_SECONDS = 60
REPAIR_SECONDS = 15 * 60
JOB_SECONDS = 30 * 60
AZ_PATTERN = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+[a-z]$")

# action -> (statuses it is allowed from, transitional status, status on success, status on failure, seconds)
ACTIONS = {
    "start": (("STOPPED", "START_FAILED"), "STARTING", "RUNNING", "START_FAILED", START_SECONDS),
    "stop": (("RUNNING", "STOP_FAILED"), "STOPPING", "STOPPED", "STOP_FAILED", STOP_SECONDS),
    "reboot": (("RUNNING", "ERROR", "REBOOT_FAILED", "START_FAILED", "STOP_FAILED"), "REBOOTING", "RUNNING",
               "REBOOT_FAILED", REBOOT_SECONDS),
    "changeos": (("STOPPED", "CHANGINGOS_FAILED", "REINSTALLINGOS_FAILED"), "CHANGINGOS", "RUNNING",
                 "CHANGINGOS_FAILED", CHANGEOS_SECONDS),
    "reinstallos": (("STOPPED", "CHANGINGOS_FAILED", "REINSTALLINGOS_FAILED"), "REINSTALLINGOS", "RUNNING",
                    "REINSTALLINGOS_FAILED", REINSTALLOS_SECONDS),
}
TRANSITIONAL = ("CREATING", "STARTING", "STOPPING", "REBOOTING", "CHANGINGOS", "REINSTALLINGOS", "DELETING")
STATUSES = TRANSITIONAL + ("RUNNING", "STOPPED", "ERROR", "CREATE_FAILED", "DELETE_FAILED", "START_FAILED",
                           "STOP_FAILED", "REBOOT_FAILED", "CHANGINGOS_FAILED", "REINSTALLINGOS_FAILED")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
EVENT_TYPES = ("system-maintenance", "localdisk-recovery", "node_reboot", "operation-request", "node_maintenance",
               "node_redeploy", "node_localdisk_recovery")
EVENT_STATES = ("inquiring", "scheduled", "executing", "completed", "failed", "canceled")


def not_found(what, ident):
    return ApiError(400, "ModelArts.6404", "%s %s does not exist." % (what, ident))


def bad(message):
    return ApiError(400, "ModelArts.6400", message)


def not_allowed(message):
    # [EMU] the reference gives no code for "operation not allowed in this status".
    return ApiError(400, "ModelArts.6410", message)


def _allowed_now(status):
    actions = [a for a, spec in ACTIONS.items() if status in spec[0]]
    return ", ".join(actions) or "none until the current operation ends"


class DevServers:
    def __init__(self, world, cloud):
        self.world = world
        self.cloud = cloud
        self.data = {"servers": {}, "hyperinstances": {}, "jobs": {}, "events": {}, "operations": {}, "ip_next": 0}
        for kind, handler in (("devserver_step", self._on_step), ("devserver_gone", self._on_gone),
                              ("devserver_created", self._on_created), ("hyper_reimaged", self._on_reimaged),
                              ("devjob_done", self._on_job_done), ("event_step", self._on_event_step)):
            world.register_timer(kind, handler)
        world.on_save("devservers", lambda: self.data, self._restore)

    def _restore(self, saved):
        self.data = saved

    # ---- helpers ------------------------------------------------------------------------------
    def _history(self, **event):
        self.world.history(dict(event))

    def _set_status(self, server, status, **extra):
        previous = server["status"]
        server["status"] = status
        server["updated"] = self.world.now()
        server.update(extra)
        if previous != status:
            self._history(kind="devserver", server=server["id"], name=server["name"], status=status,
                          previous_status=previous, **{k: v for k, v in extra.items() if k == "operation_id"})

    def _fails(self, operation, *names):
        return self.world.faults.fails(operation, names)

    def server(self, server_id):
        server = self.data["servers"].get(server_id)
        if server is None:
            raise not_found("Dev server", server_id)
        return server

    def hyperinstance(self, hyper_id):
        hyper = self.data["hyperinstances"].get(hyper_id)
        if hyper is None:
            raise not_found("Hyperinstance", hyper_id)
        return hyper

    @staticmethod
    def _body(request, required=True):
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise bad("Bad request: the body is not valid JSON.") from None
        if body is None:
            if required:
                raise bad("Bad request: this operation needs a JSON body.")
            return {}
        if not isinstance(body, dict):
            raise bad("Bad request: the body must be a JSON object.")
        return body

    @staticmethod
    def _page(request, items, key=None):
        """The v1 list envelope over items sorted by sort_key/sort_dir, paged by limit/offset."""
        sort_key = request.query_value("sort_key") or "createTime"
        if sort_key not in ("createTime", "updateTime"):
            raise bad("Bad request: sort_key must be createTime or updateTime.")
        sort_dir = (request.query_value("sort_dir") or "ASC").upper()
        if sort_dir not in ("ASC", "DESC"):
            raise bad("Bad request: sort_dir must be ASC or DESC.")
        try:
            limit = int(request.query_value("limit") or 10)
            offset = int(request.query_value("offset") or 0)
        except ValueError:
            raise bad("Bad request: limit and offset must be integers.") from None
        if not 0 <= limit <= 1024 or offset < 0:
            raise bad("Bad request: limit must be 0-1024 and offset >= 0.")
        field = "created" if sort_key == "createTime" else "updated"
        ordered = sorted(items, key=lambda r: (r.get(field, 0), r.get("id", "")), reverse=sort_dir == "DESC")
        page = ordered[offset:offset + limit] if limit else ordered[offset:]
        size = limit or max(len(page), 1)
        return {"current": offset // size + 1, "data": [key(r) for r in page] if key else page,
                "pages": max(1, math.ceil(len(ordered) / size)), "size": size, "total": len(ordered)}

    @staticmethod
    def _whole(items, key):
        """The v1 list envelope over every item: routes the SDK does not page ignore limit/offset."""
        ordered = sorted(items, key=lambda r: (r.get("created", 0), r.get("id", "")))
        return {"current": 1, "data": [key(r) for r in ordered], "pages": 1, "size": len(ordered),
                "total": len(ordered)}

    def _new_ip(self):
        index = self.data["ip_next"]
        self.data["ip_next"] += 1
        return "192.168.%d.%d" % (100 + index // 250, index % 250 + 2)

    # ---- views --------------------------------------------------------------------------------
    def server_view(self, server):
        flavor = catalog.SERVER_FLAVORS.get(server["flavor"], {})
        info = self._image_info(server["image_id"])
        image = {"image_id": server["image_id"]}
        if info:
            image.update(name=info["name"], arch=info["arch"], server_type=info["server_type"], status=info["status"])
        cloud_server = {"id": server["cloud_server_id"], "type": server["server_type"]}
        view = {"id": server["id"], "name": server["name"], "status": server["status"],
                "category": "HPS" if server.get("hps_id") else "SERVER", "flavor": server["flavor"],
                "resource_flavor": server["flavor"], "charging_mode": server.get("charging_mode", "POST_PAID"), "order_id": "",
                "key_pair_name": server.get("key_pair_name") or "", "vpc_id": server["vpc_id"],
                "subnet_id": server["subnet_id"], "cloud_server": cloud_server, "image": image,
                "endpoints": [{"dev_service": "SSH", "service": "SSH", "uri": server["ip"],
                               "key_pair_names": [server["key_pair_name"]] if server.get("key_pair_name") else []}],
                "volumes": [dict(v) for v in server["volumes"]],
                "create_at": ms(server["created"]), "update_at": ms(server["updated"])}
        if server.get("hps_id"):
            hyper = self.data["hyperinstances"].get(server["hps_id"], {})
            cloud_server["hps_id"] = server["hps_id"]
            cloud_server["hps_ecs_id"] = server["cloud_server_id"]
            view["server_hps"] = {"id": server["hps_id"], "name": hyper.get("name", "")}
        if flavor:
            view["image"].setdefault("arch", flavor["arch"])
        return view

    def hyper_view(self, hyper):
        servers = [self.data["servers"][s] for s in hyper["server_ids"] if s in self.data["servers"]]
        servers.sort(key=lambda s: (s["created"], s["id"]))
        return {"id": hyper["id"], "name": hyper["name"], "status": hyper["status"], "hps_id": hyper["id"],
                "hps_cluster_id": hyper["hps_cluster_id"], "order_id": "",
                "servers": [self.server_view(s) for s in servers],
                "create_at": ms(hyper["created"]), "update_at": ms(hyper["updated"])}

    # ---- creation (seed and scale-up) -------------------------------------------------------------
    def _make_server(self, name, flavor, image_id, key_pair_name=None, status="RUNNING", root_size=200,
                     root_type="SSD", data_volumes=(), hps_id=None, created=None, ip=None, public_ip=None,
                     az=None):
        if flavor not in catalog.SERVER_FLAVORS:
            raise bad("Bad request: unknown flavor %r; see GET /v1/{project_id}/dev-servers/flavors." % flavor)
        server_id = self.cloud._uuid()
        now = self.world.now() if created is None else created
        volumes = [{"type": "ROOT", "size": root_size, "evs_type": root_type, "evs_id": self.cloud._uuid()}]
        for size in data_volumes:
            volumes.append({"type": "DATA", "size": size, "evs_type": "SSD", "evs_id": self.cloud._uuid()})
        server = {"id": server_id, "name": name, "status": status, "flavor": flavor, "image_id": image_id,
                  "server_type": catalog.SERVER_FLAVORS[flavor]["server_type"], "key_pair_name": key_pair_name,
                  "vpc_id": "vpc-sim", "subnet_id": "subnet-sim", "cloud_server_id": self.cloud._uuid(),
                  "ip": ip or self._new_ip(), "volumes": volumes, "hps_id": hps_id, "created": now, "updated": now,
                  "token": 0, "displayed_status": None,
                  # Its zone: the server record never shows it, EVS does on the server's disks.
                  "az": az or catalog.DEFAULT_AZ,
                  # EIPs bound to the server: only GET .../publicips shows them, never the server record.
                  "public_ips": [{"id": self.cloud._uuid(), "address": public_ip}] if public_ip else []}
        self.data["servers"][server_id] = server
        return server

    def _image_info(self, image_id):
        """Catalogue facts of an image: a public one, or a private IMS image made from a server."""
        return catalog.IMAGES.get(image_id) or (self.cloud.ims and self.cloud.ims.private_image(image_id))

    def _resolve_image(self, image, flavor, where="image_id"):
        image_id = catalog.find_image(image) if image else catalog.DEFAULT_IMAGE.get(
            catalog.SERVER_FLAVORS[flavor]["server_type"], {}).get(catalog.SERVER_FLAVORS[flavor]["chip"])
        if image_id is None and self._image_info(image):
            image_id = image
        if image_id is None:
            raise bad("Bad request: %s %r is not an image of GET /v1/{project_id}/dev-servers/images or a private "
                      "IMS image." % (where, image))
        info = self._image_info(image_id)
        if info["status"] != "ACTIVE":
            raise bad("Bad request: image %s (%s) is %s and cannot be used." % (image_id, info["name"], info["status"]))
        if not catalog.image_fits(info, flavor):
            raise bad("Bad request: image %s (%s) does not fit flavor %s (server type, architecture or NPU chip "
                      "differ)." % (image_id, info["name"], flavor))
        return image_id

    # ---- admin seed ---------------------------------------------------------------------------
    SEED_KEYS = ("servers", "supernodes", "scheduled_events", "server_jobs")

    def seed(self, body):
        result = {}
        for spec in body.get("servers") or []:
            result.setdefault("servers", []).append(self._seed_server(spec))
        for spec in body.get("supernodes") or []:
            result.setdefault("supernodes", []).append(self._seed_supernode(spec))
        for spec in body.get("scheduled_events") or []:
            result.setdefault("scheduled_events", []).append(self._seed_event(spec))
        for spec in body.get("server_jobs") or []:
            result.setdefault("server_jobs", []).append(self._seed_job(spec))
        return result

    def _seed_server(self, spec):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ApiError(400, "SIM.400", "each seeded server needs a name")
        flavor = spec.get("flavor", "modelarts.bm.npu.arm.8snt9b3.d")
        if flavor not in catalog.SERVER_FLAVORS:
            raise ApiError(400, "SIM.400", "unknown server flavor %r" % flavor)
        status = spec.get("status", "RUNNING")
        if status not in STATUSES:
            raise ApiError(400, "SIM.400", "status must be one of %s" % ", ".join(STATUSES))
        server = self._make_server(spec["name"], flavor, self._resolve_image(spec.get("image"), flavor),
                                   spec.get("key_pair_name", "kp-sim"), status, spec.get("root_volume_size", 200),
                                   data_volumes=spec.get("data_volumes", [500]), ip=self._seed_ip(spec.get("ip")),
                                   public_ip=self._seed_public_ip(spec.get("public_ip")), az=self._seed_az(spec))
        if spec.get("charging_mode") in ("PRE_PAID", "POST_PAID"):  # PRE_PAID: yearly/monthly, disks too
            server["charging_mode"] = spec["charging_mode"]
        if spec.get("displayed_status"):  # a stale console status that only sync corrects
            server["displayed_status"] = spec["displayed_status"]
        return {"id": server["id"], "name": server["name"]}

    def _seed_supernode(self, spec):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ApiError(400, "SIM.400", "each seeded super node needs a name")
        flavor = spec.get("flavor", "modelarts.hps.npu.arm.16snt9b23.d")
        if catalog.SERVER_FLAVORS.get(flavor, {}).get("server_type") != "HPS":
            raise ApiError(400, "SIM.400", "super node flavor %r is not an HPS flavor" % flavor)
        now = self.world.now()
        hyper = {"id": self.cloud._uuid(), "name": spec["name"], "status": "ACTIVE", "flavor": flavor,
                 "hps_cluster_id": self.cloud._uuid(), "server_ids": [], "created": now, "updated": now,
                 "counter": 0}
        self.data["hyperinstances"][hyper["id"]] = hyper
        image_id = self._resolve_image(spec.get("image"), flavor)
        count = int(spec.get("servers", 2))
        ips = spec.get("ips") or [None] * count
        if len(ips) != count:
            raise ApiError(400, "SIM.400", "super node %r: give one of ips per server (%d)" % (spec["name"], count))
        public_ips = spec.get("public_ips") or [None] * count
        if len(public_ips) != count:
            raise ApiError(400, "SIM.400", "super node %r: give one of public_ips per server (%d), null for none"
                           % (spec["name"], count))
        for ip, public_ip in zip(ips, public_ips):
            hyper["counter"] += 1
            server = self._make_server("%s-%d" % (spec["name"], hyper["counter"]), flavor, image_id,
                                       spec.get("key_pair_name", "kp-sim"), "RUNNING",
                                       spec.get("root_volume_size", 200), data_volumes=[], hps_id=hyper["id"],
                                       ip=self._seed_ip(ip), public_ip=self._seed_public_ip(public_ip),
                                       az=self._seed_az(spec))
            hyper["server_ids"].append(server["id"])
        return {"id": hyper["id"], "name": hyper["name"],
                "servers": [{"id": s, "name": self.data["servers"][s]["name"]} for s in hyper["server_ids"]]}

    def _seed_ip(self, ip):
        """A seeded private IP (tests point servers at loopback addresses where an sshd listens)."""
        if ip is None:
            return None
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            raise ApiError(400, "SIM.400", "ip %r is not an IPv4 address" % (ip,)) from None
        if any(s["ip"] == str(address) for s in self.data["servers"].values()):
            raise ApiError(400, "SIM.400", "ip %s is already a server's address" % address)
        return str(address)

    @staticmethod
    def _seed_public_ip(address):
        if address is None:
            return None
        try:
            return str(ipaddress.IPv4Address(address))
        except ValueError:
            raise ApiError(400, "SIM.400", "public_ip %r is not an IPv4 address" % (address,)) from None

    @staticmethod
    def _seed_az(spec):
        zone = spec.get("availability_zone")
        if zone is not None and not (isinstance(zone, str) and AZ_PATTERN.match(zone)):
            raise ApiError(400, "SIM.400", "availability_zone %r is not a zone such as cn-north-4a" % (zone,))
        return zone

    def _find_server(self, ident):
        if ident in self.data["servers"]:
            return self.data["servers"][ident]
        for server in self.data["servers"].values():
            if server["name"] == ident:
                return server
        raise ApiError(400, "SIM.400", "no server %r" % ident)

    def _seed_event(self, spec):
        server = self._find_server(spec.get("server"))
        event_type = spec.get("type", "node_redeploy")
        if event_type not in EVENT_TYPES:
            raise ApiError(400, "SIM.400", "event type must be one of %s" % ", ".join(EVENT_TYPES))
        now = self.world.now()
        event = {"id": self.cloud._uuid(), "catalog": spec.get("catalog", "hardware"), "type": event_type,
                 "state": spec.get("state", "inquiring"), "instanceType": "devserver", "instanceId": server["id"],
                 "nodeName": server["name"], "poolName": "", "poolDisplayName": "", "publishTime": iso(now),
                 "startTime": "", "finishTime": "", "notBefore": "",
                 "probeMsg": spec.get("probe_msg", "NPU chip ECC errors exceed the threshold"), "jobProgress": "",
                 "redeployType": spec.get("redeploy_types", ["HARD", "SOFT"]),
                 "underLyingInstanceId": server["cloud_server_id"],
                 "description": spec.get("description", "Hardware fault detected; authorize the repair."),
                 "token": 0}
        self.data["events"][event["id"]] = event
        return {"id": event["id"], "server": server["id"]}

    def _seed_job(self, spec):
        servers = [self._find_server(s) for s in spec.get("servers") or []]
        if not servers:
            raise ApiError(400, "SIM.400", "a seeded job needs servers")
        return {"id": self._new_job({"name": spec.get("name", "seeded-job"), "type": spec.get("type", "COMMON"),
                                     "server_ids": [s["id"] for s in servers], "items": []},
                                    spec.get("seconds", JOB_SECONDS))["id"]}

    # ---- routes -------------------------------------------------------------------------------
    def routes(self):
        """(method, version, path pattern, handler(request, *ids) -> (status, payload)); specific paths first."""
        return [
            ("GET", "v1", "dev-servers/images", self.list_images),
            ("GET", "v1", "dev-servers/images/*", self.show_image),
            ("GET", "v1", "dev-servers/flavors", self.list_flavors),
            ("GET", "v1", "dev-servers/resource-flavors", self.list_flavors),
            ("GET", "v1", "dev-servers/all", self.list_servers),
            ("PUT", "v1", "dev-servers/sync", self.sync),
            ("GET", "v1", "dev-servers/jobs", self.list_jobs),
            ("POST", "v1", "dev-servers/jobs", self.create_job),
            ("DELETE", "v1", "dev-servers/jobs", self.delete_jobs),
            ("GET", "v1", "dev-servers/jobs/*", self.show_job),
            ("GET", "v1", "dev-servers/hyperinstance", self.list_hyper),
            ("GET", "v1", "dev-servers/hyperinstance/all", self.list_hyper),
            ("GET", "v1", "dev-servers/hyperinstance/*", self.show_hyper),
            ("GET", "v1", "dev-servers/hyperinstance/*/servers", self.hyper_servers),
            ("GET", "v1", "dev-servers/hyperinstance/*/scale-evaluations", self.scale_evaluations),
            ("POST", "v1", "dev-servers/hyperinstance/*/live-scale-up", self.scale_up),
            ("POST", "v1", "dev-servers/hyperinstance/*/live-scale-down", self.scale_down),
            ("POST", "v1", "dev-servers/hyperinstance/*/changeos", self.hyper_changeos),
            ("PUT", "v1", "dev-servers/hyperinstance/*/start", self.hyper_power("start")),
            ("PUT", "v1", "dev-servers/hyperinstance/*/stop", self.hyper_power("stop")),
            ("GET", "v1", "dev-servers/hyperinstance/*/operation/*", self.show_hyper_operation),
            ("GET", "v1", "dev-servers", self.list_servers),
            ("GET", "v1", "dev-servers/*", self.show_server),
            ("PUT", "v1", "dev-servers/*", self.rename),
            ("PUT", "v1", "dev-servers/*/start", self.action_handler("start")),
            ("PUT", "v1", "dev-servers/*/stop", self.action_handler("stop")),
            ("PUT", "v1", "dev-servers/*/reboot", self.action_handler("reboot")),
            ("POST", "v1", "dev-servers/*/changeos", self.action_handler("changeos")),
            ("POST", "v1", "dev-servers/*/reinstallos", self.action_handler("reinstallos")),
            ("GET", "v1", "dev-servers/*/operation/*", self.show_operation),
            ("GET", "v1", "dev-servers/*/publicips", self.list_public_ips),
            ("GET", "v1", "scheduled-events", self.list_events),
            ("POST", "v1", "scheduled-events/*/accept", self.accept_event),
        ]

    # ---- catalogue ----------------------------------------------------------------------------
    def list_images(self, request):
        server_type = request.query_value("server_type")
        flavor = request.query_value("flavor_name") or request.query_value("resource_flavor_name")
        if flavor and flavor not in catalog.SERVER_FLAVORS:
            raise bad("Bad request: unknown flavor %r." % flavor)
        data = [catalog.image_view(i) for i, image in catalog.IMAGES.items()
                if (not server_type or image["server_type"] == server_type)
                and (not flavor or catalog.image_fits(image, flavor))]
        return 200, {"current": 1, "data": data, "pages": 1, "size": len(data), "total": len(data)}

    def show_image(self, request, image_id):
        if image_id not in catalog.IMAGES:
            raise not_found("Image", image_id)
        return 200, catalog.image_view(image_id)

    def list_flavors(self, request):
        server_type = request.query_value("server_type")
        arch = request.query_value("arch")
        data = [catalog.flavor_view(n) for n, f in catalog.SERVER_FLAVORS.items()
                if (not server_type or f["server_type"] == server_type) and (not arch or f["arch"] == arch)]
        return 200, {"current": 1, "data": data, "pages": 1, "size": len(data), "total": len(data)}

    # ---- servers ------------------------------------------------------------------------------
    def _visible(self, server):
        """The status the API reports: a stale displayed status wins until PUT sync."""
        return server.get("displayed_status") or server["status"]

    def _view_now(self, server):
        view = self.server_view(server)
        view["status"] = self._visible(server)
        return view

    def list_servers(self, request):
        return 200, self._page(request, list(self.data["servers"].values()), self._view_now)

    def show_server(self, request, server_id):
        return 200, self._view_now(self.server(server_id))

    def list_public_ips(self, request, server_id):
        """The EIPs bound to a server (ListDevServerPublicIPResponse); its record never carries them."""
        return 200, {"public_ips": [dict(eip) for eip in self.server(server_id).get("public_ips", [])]}

    def sync(self, request):
        for server in self.data["servers"].values():
            if server.get("displayed_status"):
                previous, server["displayed_status"] = server["displayed_status"], None
                self._history(kind="devserver", server=server["id"], name=server["name"], status=server["status"],
                              previous_status=previous, operation="sync")
        return 200, self._page(request, list(self.data["servers"].values()), self._view_now)

    def rename(self, request, server_id):
        server = self.server(server_id)
        body = self._body(request)
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 64 or not set(name) <= NAME_CHARS:
            raise bad("Bad request: name must be 1-64 letters, digits, '-', '_' or '.'.")
        if server["status"] == "DELETING":
            raise not_allowed("Dev server %s is DELETING; it cannot be renamed." % server_id)
        server["name"] = name
        server["updated"] = self.world.now()
        return 200, self._view_now(server)

    def action_handler(self, action):
        def handler(request, server_id):
            body = self._body(request, required=action in ("start", "changeos", "reinstallos"))
            return 200, self._view_now(self.start_action(self.server(server_id), action, body))
        return handler

    def _check_login(self, body, server):
        if body.get("admin_pass") and body.get("key_pair_name"):
            raise bad("Bad request: give key_pair_name or admin_pass, not both.")
        if server.get("hps_id") and body.get("admin_pass"):
            raise bad("Bad request: super node servers log in with a key pair only.")
        if not body.get("admin_pass") and not body.get("key_pair_name"):
            raise bad("Bad request: key_pair_name or admin_pass is required.")

    def start_action(self, server, action, body):
        allowed_from, transitional, _ok, _failed, seconds = ACTIONS[action]
        status = self._visible(server)
        if status not in allowed_from:
            raise not_allowed("Dev server %s (%s) is %s; %s is not allowed in this status (allowed now: %s)."
                              % (server["name"], server["id"], status, action, _allowed_now(status)))
        extra = {}
        if action == "changeos":
            if not body.get("image_id"):
                raise bad("Bad request: image_id is required.")
            image_id = self._resolve_image(body["image_id"], server["flavor"])
            self._check_login(body, server)
            extra = {"image_id": image_id, "key_pair_name": body.get("key_pair_name")}
        elif action == "reinstallos":
            self._check_login(body, server)
            extra = {"image_id": server["image_id"], "key_pair_name": body.get("key_pair_name")}
        operation_id = self.cloud._uuid()
        self.data["operations"][operation_id] = {"operation_id": operation_id, "operation_status": "running",
                                                 "operation_type": action, "server": server["id"],
                                                 "operation_error": None}
        server["token"] = self.world.next_serial()
        server["displayed_status"] = None
        self._set_status(server, transitional, operation_id=operation_id)
        self.world.schedule(seconds * self.cloud.spread(server["id"] + "|" + action), "devserver_step",
                            server_id=server["id"], token=server["token"], action=action, extra=extra,
                            operation_id=operation_id)
        return server

    def _on_step(self, due, server_id, token, action, extra, operation_id):
        server = self.data["servers"].get(server_id)
        operation = self.data["operations"].get(operation_id)
        if not server or server["token"] != token:
            return
        _from, _transitional, ok_status, failed_status, _seconds = ACTIONS[action]
        hyper = self.data["hyperinstances"].get(server.get("hps_id") or "")
        if self._fails(action, server["id"], server["name"], hyper and hyper["id"], hyper and hyper["name"]):
            self._set_status(server, failed_status)
            if operation:
                operation.update(operation_status="failed", operation_error={
                    "code": "ModelArts.6500", "message": "%s of dev server %s failed (injected fault)"
                                                         % (action, server["name"])})
            return
        erased = None
        if action in ("changeos", "reinstallos"):
            root = next(v for v in server["volumes"] if v["type"] == "ROOT")
            erased = root["evs_id"]
            server["image_id"] = extra["image_id"]
            if extra.get("key_pair_name"):
                server["key_pair_name"] = extra["key_pair_name"]
        self._set_status(server, ok_status)
        if erased:
            self._history(kind="devserver", server=server["id"], name=server["name"], operation=action,
                          erased_volume=erased, image_id=server["image_id"])
        if operation:
            operation["operation_status"] = "success"

    def show_operation(self, request, server_id, operation_id):
        self.server(server_id)
        operation = self.data["operations"].get(operation_id)
        if operation is None or operation["server"] != server_id:
            raise not_found("Operation", operation_id)
        return 200, {k: v for k, v in operation.items() if k != "server"}

    # ---- super nodes -------------------------------------------------------------------------
    def list_hyper(self, request):
        return 200, self._page(request, list(self.data["hyperinstances"].values()), self.hyper_view)

    def show_hyper(self, request, hyper_id):
        return 200, self.hyper_view(self.hyperinstance(hyper_id))

    def hyper_servers(self, request, hyper_id):
        hyper = self.hyperinstance(hyper_id)
        servers = [self.data["servers"][s] for s in hyper["server_ids"] if s in self.data["servers"]]
        return 200, self._whole(servers, self._view_now)

    def scale_evaluations(self, request, hyper_id):
        hyper = self.hyperinstance(hyper_id)
        flavor = catalog.SERVER_FLAVORS[hyper["flavor"]]
        return 200, {"evaluations": [{"flavor": hyper["flavor"], "resource_flavor": hyper["flavor"],
                                      "is_sold_out": flavor["sold_out"]}]}

    def _require_active(self, hyper, action):
        if hyper["status"] != "ACTIVE":
            raise not_allowed("Hyperinstance %s is %s; %s needs it ACTIVE." % (hyper["id"], hyper["status"], action))

    def scale_up(self, request, hyper_id):
        """[EMU] one call adds one server: the request body (SDK ServerHyperScaleUpRequest) has no count."""
        hyper = self.hyperinstance(hyper_id)
        body = self._body(request)
        self._require_active(hyper, "live scale-up")
        flavor = body.get("flavor")
        if not flavor or not body.get("image_id"):
            raise bad("Bad request: flavor and image_id are required.")
        if flavor != hyper["flavor"]:
            raise bad("Bad request: a super node keeps one specification: flavor %s differs from its flavor %s."
                      % (flavor, hyper["flavor"]))
        if catalog.SERVER_FLAVORS[flavor]["sold_out"]:
            raise bad("Bad request: flavor %s is sold out; see GET .../hyperinstance/%s/scale-evaluations."
                      % (flavor, hyper_id))
        image_id = self._resolve_image(body["image_id"], flavor)
        root = body.get("root_volume") or {}
        first = self.data["servers"].get(hyper["server_ids"][0]) if hyper["server_ids"] else None
        default_root = next((v for v in first["volumes"] if v["type"] == "ROOT"), {}) if first else {}
        size = root.get("size", default_root.get("size", 200))
        if not isinstance(size, int) or not 100 <= size <= 1024:
            raise bad("Bad request: root_volume.size must be 100-1024 GB.")
        hyper["counter"] += 1
        server = self._make_server("%s-%d" % (hyper["name"], hyper["counter"]), flavor, image_id,
                                   body.get("key_pair_name") or (first or {}).get("key_pair_name"), "CREATING",
                                   size, root.get("type", default_root.get("evs_type", "SSD")), hps_id=hyper_id,
                                   az=(first or {}).get("az"))  # a super node lives in one zone
        hyper["server_ids"].append(server["id"])
        hyper["updated"] = self.world.now()
        server["token"] = self.world.next_serial()
        self._history(kind="devserver", server=server["id"], name=server["name"], status="CREATING",
                      previous_status=None, hyperinstance=hyper_id)
        self.world.schedule(CREATE_SECONDS * self.cloud.spread(server["id"] + "|create"), "devserver_created",
                            server_id=server["id"], token=server["token"])
        return 200, self.hyper_view(hyper)

    def _on_created(self, due, server_id, token):
        server = self.data["servers"].get(server_id)
        if not server or server["token"] != token or server["status"] != "CREATING":
            return
        hyper = self.data["hyperinstances"].get(server.get("hps_id") or "", {})
        if self._fails("create", server_id, server["name"]) or self._fails("scale", hyper.get("id"), hyper.get("name")):
            self._set_status(server, "CREATE_FAILED")
        else:
            self._set_status(server, "RUNNING")

    def busy_servers(self):
        """server id -> [job ids] of jobs with a task still PROCESSING on it."""
        busy = {}
        for job in self.data["jobs"].values():
            for task in job["tasks"]:
                if task["status"] == "PROCESSING":
                    busy.setdefault(task["server_id"], []).append(job["id"])
        return busy

    def scale_down(self, request, hyper_id):
        hyper = self.hyperinstance(hyper_id)
        body = self._body(request)
        self._require_active(hyper, "live scale-down")
        ids = body.get("server_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
            raise bad("Bad request: server_ids must be a non-empty list of distinct server ids.")
        if body.get("flavor") not in (None, hyper["flavor"]):
            raise bad("Bad request: flavor %s differs from the super node's flavor %s." % (body["flavor"], hyper["flavor"]))
        strangers = [i for i in ids if i not in hyper["server_ids"]]
        if strangers:
            raise bad("Bad request: servers %s are not in hyperinstance %s." % (", ".join(strangers), hyper_id))
        servers = [self.data["servers"][i] for i in ids]
        deleting = [s["name"] for s in servers if s["status"] == "DELETING"]
        if deleting:
            raise not_allowed("Servers %s are already being deleted." % ", ".join(deleting))
        remaining = [s for s in hyper["server_ids"] if s not in ids and self.data["servers"][s]["status"] != "DELETING"]
        if not remaining:
            raise not_allowed("A super node keeps at least 1 server; removing %d of its servers would leave none."
                              % len(ids))
        busy = self.busy_servers()
        running_jobs = {s["name"]: busy[s["id"]] for s in servers if s["id"] in busy}
        if running_jobs:
            raise not_allowed("Scale-down refused: jobs are running on %s. Wait for them to finish or delete them."
                              % "; ".join("%s (jobs %s)" % (n, ", ".join(j)) for n, j in sorted(running_jobs.items())))
        for server in servers:
            server["token"] = self.world.next_serial()
            self._set_status(server, "DELETING")
            self.world.schedule(DELETE_SECONDS * self.cloud.spread(server["id"] + "|delete"), "devserver_gone",
                                server_id=server["id"], token=server["token"])
        hyper["updated"] = self.world.now()
        return 200, self.hyper_view(hyper)

    def _on_gone(self, due, server_id, token):
        server = self.data["servers"].get(server_id)
        if not server or server["token"] != token or server["status"] != "DELETING":
            return
        if self._fails("delete", server_id, server["name"]):
            self._set_status(server, "DELETE_FAILED")
            return
        del self.data["servers"][server_id]
        hyper = self.data["hyperinstances"].get(server.get("hps_id") or "")
        if hyper and server_id in hyper["server_ids"]:
            hyper["server_ids"].remove(server_id)
            hyper["updated"] = self.world.now()
        self._history(kind="devserver", server=server_id, name=server["name"], status="DELETED",
                      previous_status="DELETING")

    def hyper_changeos(self, request, hyper_id):
        hyper = self.hyperinstance(hyper_id)
        body = self._body(request)
        self._require_active(hyper, "changeos")
        if not body.get("image_id") or not body.get("key_pair_name"):
            raise bad("Bad request: image_id and key_pair_name are required.")
        image_id = self._resolve_image(body["image_id"], hyper["flavor"])
        servers = [self.data["servers"][s] for s in hyper["server_ids"]]
        running = [s["name"] for s in servers if self._visible(s) != "STOPPED"]
        if running:
            raise not_allowed("Hyperinstance %s: servers %s are not STOPPED; stop the super node first."
                              % (hyper_id, ", ".join(running)))
        hyper["status"] = "REIMAGING"
        hyper["token"] = self.world.next_serial()
        for server in servers:
            self._set_status(server, "CHANGINGOS")
        self.world.schedule(CHANGEOS_SECONDS * self.cloud.spread(hyper_id + "|changeos"), "hyper_reimaged",
                            hyper_id=hyper_id, token=hyper["token"], image_id=image_id,
                            key_pair_name=body["key_pair_name"])
        return 200, self.hyper_view(hyper)

    def _on_reimaged(self, due, hyper_id, token, image_id, key_pair_name):
        hyper = self.data["hyperinstances"].get(hyper_id)
        if not hyper or hyper.get("token") != token:
            return
        failed = self._fails("changeos", hyper_id, hyper["name"])
        for server_id in hyper["server_ids"]:
            server = self.data["servers"][server_id]
            if failed:
                self._set_status(server, "CHANGINGOS_FAILED")
            else:
                server.update(image_id=image_id, key_pair_name=key_pair_name)
                self._set_status(server, "RUNNING")
        hyper["status"] = "ERROR" if failed else "ACTIVE"
        hyper["updated"] = self.world.now()

    def hyper_power(self, action):
        def handler(request, hyper_id):
            hyper = self.hyperinstance(hyper_id)
            self._require_active(hyper, action)
            servers = [self.data["servers"][s] for s in hyper["server_ids"]]
            for server in servers:
                if self._visible(server) in ACTIONS[action][0]:
                    self.start_action(server, action, {})
            return 200, self.hyper_view(hyper)
        return handler

    def show_hyper_operation(self, request, hyper_id, operation_id):
        self.hyperinstance(hyper_id)
        raise not_found("Operation", operation_id)

    # ---- dev-server jobs ------------------------------------------------------------------------
    def _new_job(self, body, seconds=JOB_SECONDS):
        now = self.world.now()
        job = {"id": self.cloud._uuid(), "name": body["name"], "type": body.get("type", "COMMON"),
               "description": body.get("description", ""), "items": body.get("items") or [],
               "user_name": "sim-user", "created": now, "updated": now, "deleted": False,
               "tasks": [{"id": self.cloud._uuid(), "server_id": s, "server_name": self.data["servers"][s]["name"],
                          "status": "PROCESSING", "message": "", "create_at": ms(now), "update_at": ms(now)}
                         for s in body["server_ids"]]}
        self.data["jobs"][job["id"]] = job
        self.world.schedule(seconds, "devjob_done", job_id=job["id"])
        return job

    def _on_job_done(self, due, job_id):
        job = self.data["jobs"].get(job_id)
        if not job:
            return
        for task in job["tasks"]:
            if task["status"] == "PROCESSING":
                task.update(status="SUCCESS", update_at=ms(due))
        job["updated"] = due

    def _job_status(self, job, listing):
        if job["deleted"]:
            return "DELETED"
        if any(t["status"] == "PROCESSING" for t in job["tasks"]):
            return "PROCESSING" if listing else "ACTIVE"
        return "FINISHED"

    def job_view(self, job, listing=False):
        view = {"id": job["id"], "name": job["name"], "type": job["type"], "status": self._job_status(job, listing),
                "description": job["description"], "user_name": job["user_name"],
                "abnormal_count": sum(1 for t in job["tasks"] if t["status"] == "FAILED"),
                "create_at": ms(job["created"]), "update_at": ms(job["updated"])}
        if not listing:
            view.update(items=job["items"], tasks=[dict(t) for t in job["tasks"]], template_id="")
        return view

    def create_job(self, request):
        body = self._body(request)
        for key in ("name", "server_ids", "type", "items"):
            if not body.get(key):
                raise bad("Bad request: %s is required." % key)
        for server_id in body["server_ids"]:
            server = self.server(server_id)
            if self._visible(server) != "RUNNING":
                raise not_allowed("Dev server %s is %s; jobs run on RUNNING servers only."
                                  % (server_id, self._visible(server)))
        return 200, self.job_view(self._new_job(body))

    def list_jobs(self, request):
        jobs = [j for j in self.data["jobs"].values()
                if (not request.query_value("status") or self._job_status(j, True) == request.query_value("status"))
                and (not request.query_value("name") or j["name"] == request.query_value("name"))]
        return 200, self._whole(jobs, lambda j: self.job_view(j, listing=True))

    def show_job(self, request, job_id):
        job = self.data["jobs"].get(job_id)
        if job is None:
            raise not_found("Job", job_id)
        return 200, self.job_view(job)

    def delete_jobs(self, request):
        body = self._body(request)
        ids = body.get("job_ids")
        if not isinstance(ids, list) or not ids:
            raise bad("Bad request: job_ids must be a non-empty list.")
        jobs = []
        for job_id in ids:
            job = self.data["jobs"].get(job_id)
            if job is None:
                raise not_found("Job", job_id)
            jobs.append(job)
        for job in jobs:
            job["deleted"] = True
            job["updated"] = self.world.now()
            for task in job["tasks"]:
                if task["status"] == "PROCESSING":
                    task.update(status="FAILED", message="job deleted", update_at=ms(self.world.now()))
            self._history(kind="devserver_job", job_id=job["id"], status="DELETED")
        return 200, self._page(request, jobs, lambda j: self.job_view(j, listing=True))

    # ---- scheduled events (authorized repair) --------------------------------------------------
    @staticmethod
    def _list_param(request, key):
        """A list parameter as the SDK sends it: repeated keys (state=a&state=b). A comma list is one
        value that matches nothing, as in a real region."""
        return [v for v in request.query_values(key) if v]

    def event_view(self, event):
        return {k: v for k, v in event.items() if k != "token"}

    def list_events(self, request):
        states = self._list_param(request, "state")
        types = self._list_param(request, "type")
        wanted_id = request.query_value("id")
        node_name = request.query_value("nodeName")
        events = [e for e in self.data["events"].values()
                  if (not states or e["state"] in states) and (not types or e["type"] in types)
                  and (not wanted_id or e["id"] == wanted_id) and (not node_name or e["nodeName"] == node_name)]
        events.sort(key=lambda e: (e["publishTime"], e["id"]))
        try:
            limit = int(request.query_value("limit") or 100)
            offset = int(request.query_value("offset") or 0)
        except ValueError:
            raise bad("Bad request: limit and offset must be integers.") from None
        if not 1 <= limit <= 100:
            raise bad("Bad request: limit must be 1-100.")
        return 200, {"events": [self.event_view(e) for e in events[offset:offset + limit]], "count": len(events)}

    def accept_event(self, request, event_id):
        event = self.data["events"].get(event_id)
        if event is None:
            raise not_found("Scheduled event", event_id)
        body = self._body(request, required=False)
        if event["state"] != "inquiring":
            raise not_allowed("Scheduled event %s is %s; only an inquiring event can be authorized."
                              % (event_id, event["state"]))
        config = body.get("redeployConfig") or {}
        redeploy = config.get("type")
        if redeploy is not None and redeploy not in event["redeployType"]:
            raise bad("Bad request: redeployConfig.type must be one of %s." % ", ".join(event["redeployType"]))
        server = self.data["servers"].get(event["instanceId"])
        if redeploy == "SOFT" and server and self._visible(server) in ("ERROR", "CREATE_FAILED"):
            raise not_allowed("A SOFT redeploy is impossible while the server is unavailable (%s); authorize HARD."
                              % self._visible(server))
        delay = REPAIR_SCHEDULE_SECONDS
        if body.get("notBefore"):
            try:
                not_before = datetime.strptime(body["notBefore"], "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=timezone.utc).timestamp()
            except ValueError:
                raise bad("Bad request: notBefore must be YYYY-MM-DDTHH:MM:SSZ.") from None
            delay = max(delay, not_before - self.world.now())
            event["notBefore"] = body["notBefore"]
        event["state"] = "scheduled"
        event["redeploy"] = redeploy or event["redeployType"][0]
        event["token"] = self.world.next_serial()
        self._history(kind="scheduled_event", event=event_id, state="scheduled", previous_state="inquiring")
        self.world.schedule(delay, "event_step", event_id=event_id, token=event["token"])
        return 200, self.event_view(event)

    def _on_event_step(self, due, event_id, token):
        event = self.data["events"].get(event_id)
        if not event or event["token"] != token:
            return
        server = self.data["servers"].get(event["instanceId"])
        previous = event["state"]
        if event["state"] == "scheduled":
            event.update(state="executing", startTime=iso(due), jobProgress="0%")
            if server:
                server["token"] = self.world.next_serial()
                self._set_status(server, "REBOOTING")
            self.world.schedule(REPAIR_SECONDS * self.cloud.spread(event_id + "|repair"), "event_step",
                                event_id=event_id, token=token)
        elif event["state"] == "executing":
            failed = self._fails("repair", event["instanceId"], event["nodeName"])
            event.update(state="failed" if failed else "completed", finishTime=iso(due),
                         jobProgress="100%")
            if server:
                server["displayed_status"] = None
                self._set_status(server, "ERROR" if failed else "RUNNING")
        self._history(kind="scheduled_event", event=event_id, state=event["state"], previous_state=previous)
