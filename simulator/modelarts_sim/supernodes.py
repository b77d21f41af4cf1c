"""Super nodes (hyperinstances) of the simulated Lite Server API (a mixin of DevServers): their
servers, scale up and down, OS change and power, each carried out on timers."""

from . import devserver_catalog as catalog
from .devserver_rules import CHANGEOS_SECONDS, CREATE_SECONDS, DELETE_SECONDS, ACTIONS, not_found, bad, not_allowed


class SuperNodes:
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
