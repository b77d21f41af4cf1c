"""The simulator's admin API under /_sim (bearer admin_token; /_sim/health is open)."""
import hmac

from .cloud_base import ApiError
from .faults import FaultRuleError
from .httpcore import Response


def _error(status, message):
    return Response.json(status, {"error_code": "SIM.%d" % status, "error_msg": message})


class AdminApi:
    def __init__(self, world, cloud, request_shutdown, kube=None):
        self.world = world
        self.cloud = cloud
        self.kube = kube
        self.request_shutdown = request_shutdown

    def handle(self, request):
        parts = request.path.strip("/").split("/")[1:]
        route = "/".join(parts)
        if route == "health" and request.method == "GET":
            return Response.json(200, {"ok": True})
        sent = request.header("authorization") or ""
        expected = "Bearer " + self.world.credentials["admin_token"]
        if not hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")):
            return _error(401, "admin API needs 'Authorization: Bearer <admin_token>' (see env.json)")
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return _error(400, "body is not valid JSON")
        handler = {
            ("GET", "audit"): self.audit, ("GET", "history"): self.history,
            ("GET", "counters"): lambda r, b: Response.json(200, self.world.counters_snapshot()),
            ("POST", "counters/reset"): self.reset_counters,
            ("GET", "faults"): lambda r, b: Response.json(200, {"rules": self.world.faults.list()}),
            ("PUT", "faults"): self.put_faults, ("DELETE", "faults"): self.delete_faults,
            ("POST", "seed"): self.seed, ("POST", "shutdown"): self.shutdown,
            ("GET", "clock"): self.clock, ("POST", "clock/advance"): self.advance,
            ("POST", "nodes/readiness"): self.node_readiness, ("GET", "gangs"): self.gangs,
            ("GET", "system-disk"): self.system_disk,
        }.get((request.method, route))
        if handler is None:
            return _error(404, "no admin endpoint %s %s" % (request.method, request.path))
        return handler(request, body)

    @staticmethod
    def _since(request):
        try:
            return int(request.query_value("since", "0"))
        except ValueError:
            return 0

    def audit(self, request, body):
        return Response.json(200, {"entries": self.world.audit_log.since(self._since(request))})

    def history(self, request, body):
        self.world.run_due()
        return Response.json(200, {"entries": self.world.history_log.since(self._since(request))})

    def reset_counters(self, request, body):
        self.world.reset_counters()
        return Response.json(200, {"ok": True})

    def put_faults(self, request, body):
        rules = body.get("rules") if isinstance(body, dict) else body
        if not isinstance(rules, list):
            return _error(400, "body must be {\"rules\": [FaultRule, ...]}")
        try:
            self.world.faults.replace(rules)
        except FaultRuleError as exc:
            return _error(400, str(exc))
        return Response.json(200, {"rules": self.world.faults.list()})

    def delete_faults(self, request, body):
        self.world.faults.clear()
        return Response.json(200, {"rules": []})

    def clock(self, request, body):
        return Response.json(200, {"sim_time": self.world.now(), "time_scale": self.world.time_scale})

    def advance(self, request, body):
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if not isinstance(seconds, (int, float)) or seconds < 0:
            return _error(400, "body must be {\"seconds\": N} with N >= 0")
        self.world.advance_clock(seconds)
        return self.clock(request, body)

    def node_readiness(self, request, body):
        """Readiness faults on one Kubernetes node: {"pool": id, "node": name, "fault":
        "never_ready" (NotReady now and for good) | "stuck_after_operation" (Ready now, never rejoins
        after its next operation) | "none" (clear both)}."""
        if self.kube is None:
            return _error(404, "the Kubernetes side is not loaded")
        pool_id, node, fault = body.get("pool"), body.get("node"), body.get("fault")
        if fault not in ("never_ready", "stuck_after_operation", "none"):
            return _error(400, "fault must be never_ready, stuck_after_operation or none")
        if pool_id not in self.world.pool_ids() or not node:
            return _error(400, "pool (an existing pool id) and node (a Kubernetes node name) are required")
        try:
            if fault == "stuck_after_operation":
                self.kube.set_node_stuck_after_operation(pool_id, node, True)
            else:
                self.kube.set_node_stuck_after_operation(pool_id, node, False)
                self.kube.set_node_never_ready(pool_id, node, fault == "never_ready")
        except Exception as error:  # the cluster's not-found error carries a Status body
            return _error(404, "no node %s in pool %s (%s)" % (node, pool_id, getattr(error, "message", error)))
        return Response.json(200, {"pool": pool_id, "node": node, "fault": fault})

    def _by_index(self, pool, workloads):
        """Gang jobs and super nodes may name nodes by their index in the pool (the seed reply's
        "nodes" order), since the seed cannot know the names before the pool exists."""
        if not isinstance(workloads, dict):
            return workloads
        ips = [n["ip"] for n in self.cloud.sorted_nodes(pool)]

        def resolve(entries):
            resolved = []
            for entry in entries or []:
                if isinstance(entry, dict) and isinstance(entry.get("nodes"), list):
                    names = []
                    for name in entry["nodes"]:
                        if isinstance(name, int) and not isinstance(name, bool):
                            if not 0 <= name < len(ips):
                                raise ApiError(400, "SIM.400", "node index %d is outside the pool's %d nodes"
                                               % (name, len(ips)))
                            name = ips[name]
                        names.append(name)
                    entry = dict(entry, nodes=names)
                resolved.append(entry)
            return resolved
        return dict(workloads, **{key: resolve(workloads[key]) for key in ("gang_jobs", "super_nodes")
                                  if key in workloads})

    def gangs(self, request, body):
        """Gang jobs per pool: restarts, NPU-seconds lost since each job's last checkpoint, and
        every interruption (time, pod, node); `?pool=<id>` narrows to one pool."""
        if self.kube is None:
            return _error(404, "gang jobs need the Kubernetes side, which is not installed")
        self.world.run_due()
        return Response.json(200, {"pools": self.kube.gang_reports(request.query_value("pool", "") or None)})

    def system_disk(self, request, body):
        """`?server=<id>` -> the server's system disk (its EVS ROOT volume) as its host sees it: the size the
        host tools' stand-ins (blockdev.py) report for the boot disk. Read only, not audited."""
        self.world.run_due()
        with self.world.lock:
            server = self.cloud.devservers.data["servers"].get(request.query_value("server", ""))
            if server is None:
                return _error(404, "no Lite Server %r" % request.query_value("server", ""))
            root = next(v for v in server["volumes"] if v["type"] == "ROOT")
        return Response.json(200, {"server_id": server["id"], "volume_id": root["evs_id"], "size": root["size"]})

    def shutdown(self, request, body):
        self.request_shutdown()
        return Response.json(200, {"ok": True})

    def seed(self, request, body):
        """Create ready-made Running pools at once (no audit entry); other keys go to seed hooks."""
        if not isinstance(body, dict):
            return _error(400, "seed body must be an object")
        result = {"pools": []}
        with self.world.lock:
            try:
                for spec in body.get("pools") or []:
                    result["pools"].append(self._seed_pool(spec))
                result.update(self.cloud.devservers.seed(body))
            except ApiError as exc:
                return Response.json(exc.status, {"error_code": exc.code, "error_msg": exc.message,
                                                  "created": result["pools"]})
            unknown = sorted(set(body) - {"pools"} - set(self.cloud.devservers.SEED_KEYS))
            if unknown:
                return _error(400, "seed keys %s are not known; use {\"pools\": [...]} (workloads go inside each "
                                   "pool)" % ", ".join(unknown))
            self.world.mark_dirty()
        return Response.json(200, result)

    def _seed_pool(self, spec):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ApiError(400, "SIM.400", "each seeded pool needs a name")
        node_pools = spec.get("node_pools") or [{
            "name": spec.get("node_pool"), "flavor": spec.get("flavor", "modelarts.bm.npu.arm.8snt9b3.d"),
            "count": spec.get("nodes", 1), "driver_version": spec.get("driver_version"),
            "labels": spec.get("labels"), "taints": spec.get("taints")}]
        resources = []
        for node_pool in node_pools:
            resource = {"flavor": node_pool.get("flavor", "modelarts.bm.npu.arm.8snt9b3.d"),
                        "count": node_pool.get("count", 1)}
            if node_pool.get("name"):
                resource["nodePool"] = node_pool["name"]
            if node_pool.get("driver_version"):
                resource["driver"] = {"version": node_pool["driver_version"]}
            for key in ("labels", "taints"):
                if node_pool.get(key):
                    resource[key] = node_pool[key]
            resources.append(resource)
        body = {"apiVersion": "v2", "kind": "Pool",
                "metadata": {"labels": {"os.modelarts/name": spec["name"], "os.modelarts/workspace.id": "0"},
                             "annotations": {"os.modelarts/description": spec.get("description", "")}},
                "spec": {"type": "Dedicate", "scope": spec.get("scope", ["Train"]), "resources": resources,
                         "network": {"vpcId": "vpc-sim", "subnetId": "subnet-sim"},
                         "clusters": [{"providerId": "cce-sim"}], "userLogin": {"keyPairName": "kp-sim"}}}
        if spec.get("workloads") and self.kube is None:
            raise ApiError(400, "SIM.400", "workloads need the Kubernetes side, which is not installed")
        pool = self.cloud.create_pool(body, ready=True)
        try:
            workloads = self.kube.seed_workloads(pool["id"], self._by_index(pool, spec["workloads"])) \
                if spec.get("workloads") else None
        except ValueError as exc:      # a gang job or super node the seed cannot place
            raise ApiError(400, "SIM.400", str(exc)) from exc
        return {"id": pool["id"], "name": pool["display_name"], "workloads": workloads,
                "node_pools": {name: [n["name"] for n in self.cloud.sorted_nodes(pool, name)]
                               for name in pool["node_pools"]},
                "nodes": [n["name"] for n in self.cloud.sorted_nodes(pool)],
                "private_ips": {n["name"]: n["ip"] for n in pool["nodes"].values()}}
