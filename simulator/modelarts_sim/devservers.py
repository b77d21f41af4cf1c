"""Lite Server (v1 dev-servers), super nodes (hyperinstances), dev-server jobs and scheduled events.

API reference sections 7-10. v1 style: flat snake_case objects, epoch-millisecond timestamps,
`{current, data, pages, size, total}` lists, unknown objects answer 400 `ModelArts.6404`.
State lives under state.json["extensions"]["devservers"]; every public method runs with
world.lock held (the HTTP layer takes it), timer handlers too.

Super nodes (supernodes.py), jobs and scheduled events (devserver_jobs.py) and seeding
(devserver_seeding.py) are mixins of DevServers; devserver_rules.py holds the durations, the
allowed-operations table and the refusals they share.

The status machine is the reference's status enum with the allowed-operations table of the Lite
Server guide: RUNNING allows stop/reboot, STOPPED allows start/changeos/reinstallos, ERROR allows
reboot (restart) and repair; a `*_FAILED` status allows reboot and retrying what failed;
transitional statuses allow nothing but reads, sync and rename.
"""
import math

from . import devserver_catalog as catalog
from .cloud_base import ms
from .devserver_jobs import JobsAndEvents
from .devserver_rules import ACTIONS, NAME_CHARS, allowed_now, bad, not_allowed, not_found
from .devserver_seeding import Seeding
from .supernodes import SuperNodes


class DevServers(Seeding, SuperNodes, JobsAndEvents):
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
                              % (server["name"], server["id"], status, action, allowed_now(status)))
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
