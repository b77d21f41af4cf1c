"""ModelArts Lite Cluster resources and their asynchronous state machines.

Records live in world.state (plain JSON) so they persist as they are. Every public method is
called with world.lock held (the HTTP layer takes it); timer handlers run under it too.
Durations are realistic cloud seconds on the simulated clock (world.now()), which runs
`time_scale` times faster than the wall clock.
"""
import json
import random
import re
import string
import uuid

from . import catalog
from .world import iso
from .wire import UNKNOWN_NODE_PHASE, Wire

POOL_CREATE_SECONDS = 15 * 60
NODE_CREATE_SECONDS = 10 * 60
DRIVER_UPGRADE_SECONDS = 12 * 60
DRIVER_PENDING_SECONDS = 60
BUSY_RECHECK_SECONDS = 60
DELETE_SECONDS = 3 * 60
REBOOT_SECONDS = 5 * 60
RESET_SECONDS = 10 * 60
# A reboot or reset job is queued a while before the node goes down: an accepted batch call is no
# sign that the node has gone down yet (the collection must see it happen, docs/api-contract.yml).
NODE_JOB_QUEUED_SECONDS = 60
ORDER_PENDING_SECONDS = 30

DISPLAY_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{2,30}[a-z0-9]$")
NODE_POOL_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,48}[a-z0-9]$")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
SCOPES = ("Train", "Infer", "Notebook")
BUSY_DRIVER_PHASES = ("Pending", "Updating")
# node activity -> the operation name subscribers see in node_operation events
OPERATIONS = {"rebooting": "reboot", "resetting": "reset", "upgrading": "driver_upgrade"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message):
    return ApiError(400, "ModelArts.50004000", message)


def pool_not_found(name):
    return ApiError(404, "ModelArts.50015001", "Pool %s not found." % name)


def ms(epoch):
    return int(epoch * 1000)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool)


class Cloud:
    def __init__(self, world, wire=None):
        self.world = world
        self.state = world.state
        self.wire = wire or Wire.from_env()
        for kind, handler in (("pool_ready", self._on_pool_ready), ("order_processing", self._on_order_processing),
                              ("node_created", self._on_node_created), ("node_gone", self._on_node_gone),
                              ("pool_gone", self._on_pool_gone), ("driver_step", self._on_driver_step),
                              ("node_job_started", self._on_node_job_started),
                              ("node_job_done", self._on_node_job_done)):
            world.register_timer(kind, handler)
        # Lite Server (v1 dev-servers, super nodes, scheduled events); imported here: it imports this module.
        from .devservers import DevServers
        self.devservers = DevServers(world, self)
        self.ims = None  # the IMS service (ims.py) when served: private images Lite Servers can switch to

    # ---- small helpers ------------------------------------------------------------------------
    def _random(self):
        return random.Random("%d|rand|%d" % (self.world.seed, self.world.next_serial()))

    def _suffix(self, length=5):
        rng = self._random()
        return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(length))

    def _uuid(self):
        return str(uuid.UUID(int=self._random().getrandbits(128), version=4))

    def spread(self, key: str) -> float:
        """A per-node/operation duration factor between 0.5 and 2, reproducible from --seed."""
        return 2 ** random.Random("%d|spread|%s" % (self.world.seed, key)).uniform(-1, 1)

    def _history(self, **event):
        self.world.history(event)

    def _emit(self, kind, pool, node=None, **extra):
        """Tell subscribers; node events carry the ModelArts node object, its PoolResource and NodeInfo."""
        event = dict(extra, type=kind, pool_id=pool["id"], sim_time=self.world.now())
        if node is not None:
            node_pool = pool["node_pools"].get(node["node_pool"])
            event["node"] = self.node_view(pool, node)
            event["node_pool"] = json.loads(json.dumps(node_pool["resource"])) if node_pool else None
            event["info"] = self.node_info(pool, node)
        self.world.emit(event)

    def _fails(self, operation, *names):
        return self.world.faults.fails(operation, names)

    def get_pool(self, pool_id):
        pool = self.state["pools"].get(pool_id)
        if pool is None:
            raise pool_not_found(pool_id)
        return pool

    def _require_running(self, pool, action):
        if pool["phase"] != "Running":
            raise bad_request("Cannot %s: pool %s is %s; wait until it is Running." % (action, pool["id"],
                                                                                       pool["phase"]))

    # ---- views ------------------------------------------------------------------------------
    def _resource_counts(self, nodes):
        """status.resources: arrays of {flavor,count,maxCount,azs,nodePool} per node phase."""
        buckets = {}
        for node in nodes:
            phase = {"Creating": "creating", "Available": "available", "Abnormal": "abnormal",
                     "Deleting": "deleting"}.get(node["phase"], "available")
            key = (phase, node["flavor"], node["node_pool"])
            entry = buckets.setdefault(key, {"azs": {}})
            entry["azs"][node["az"]] = entry["azs"].get(node["az"], 0) + 1
        result = {}
        for (phase, flavor, node_pool), entry in buckets.items():
            count = sum(entry["azs"].values())
            result.setdefault(phase, []).append({
                "flavor": flavor, "count": count, "maxCount": count, "nodePool": node_pool,
                "azs": [{"az": az, "count": n} for az, n in sorted(entry["azs"].items())]})
        return self.wire.resources(result)

    def _npu_driver_status(self, pool):
        npu_pools = [np for np in pool["node_pools"].values() if catalog.driver_family(np["resource"]["flavor"])]
        if not npu_pools:
            return None
        phases = {n["driver_phase"] for n in pool["nodes"].values() if catalog.driver_family(n["flavor"])}
        if pool["phase"] == "Creating":
            state = "Creating"
        elif phases & set(BUSY_DRIVER_PHASES):
            state = "Upgrading"
        elif "Abnormal" in phases:
            state = "Abnormal"
        else:
            state = "Running"
        version = (pool["spec"].get("driver") or {}).get("npuVersion") \
            or npu_pools[0]["resource"].get("driver", {}).get("version", "")
        return {"version": version, "state": state}

    def pool_view(self, pool, just_created=False):
        spec = json.loads(json.dumps(pool["spec"]))
        spec["resources"] = [json.loads(json.dumps(np["resource"])) for np in pool["node_pools"].values()
                             if not np["deleting"]]
        view = {"apiVersion": "v2", "kind": "Pool",
                "metadata": {"name": pool["id"], "creationTimestamp": iso(pool["created"]),
                             "labels": dict(pool["labels"]), "annotations": dict(pool["annotations"])},
                "spec": spec}
        if just_created:
            view["status"] = {"resources": {}}
            return view
        status = {"phase": pool["phase"], "message": pool.get("message", ""), "root": pool["id"], "parent": "",
                  "resources": self._resource_counts(pool["nodes"].values()),
                  "scope": [{"scopeType": s, "state": pool["scope_state"]} for s in spec.get("scope", [])],
                  "clusters": {"name": pool["cluster_name"], "clusterFlavor": "cce.s2.small", "type": "Lite",
                               "version": "v1.31"}}
        driver = self._npu_driver_status(pool)
        if driver:
            status["driver"] = {"npu": driver}
        if "missing_pool_phase" in self.wire.drift:
            del status["phase"]
        view["status"] = status
        return view

    def node_labels(self, pool, node):
        labels = {
            "os.modelarts.node/cluster": pool["cluster_name"],
            "os.modelarts.node/nodepool": node["node_pool"],
            "os.modelarts.node/nodepoolname": node["node_pool"],
            "os.modelarts/resource.id": node["resource_id"],
            "os.modelarts/tenant.domain.id": self.world.credentials["domain_id"],
            "os.modelarts/tenant.project.id": self.world.project_id,
            "os.modelarts/billing.status": "0",
            "os.modelarts.node/underlying.instance.id": node["instance_id"],
            "os.modelarts.node/ha.redundant.enabled": "true" if node.get("ha") else "false",
        }
        return labels

    def _node_resources(self, node):
        flavor = catalog.FLAVORS[node["flavor"]]
        resources = {"cpu": flavor["allocatable_cpu"], "memory": flavor["allocatable_memory"]}
        if flavor["npu_resource"]:
            resources[catalog.NPU_RESOURCE_NAME] = str(flavor["npu_resource"])
        return resources

    def node_view(self, pool, node):
        node_pool = pool["node_pools"].get(node["node_pool"], {"resource": {}})
        resource = node_pool["resource"]
        resources = self._node_resources(node)
        status = {"phase": node["phase"], "az": node["az"], "privateIp": node["ip"], "resources": resources,
                  "availableResources": dict(resources),
                  "taints": [dict(t, timeAdded=iso(node["created"])) for t in resource.get("taints", [])],
                  "os": {"name": node["os"]}, "plugins": []}
        if catalog.driver_family(node["flavor"]):
            status["driver"] = {"phase": node["driver_phase"], "version": node["driver_version"]}
        if node.get("message"):
            status["message"] = node["message"]
        if "unknown_node_phase" in self.wire.drift:
            status["phase"] = UNKNOWN_NODE_PHASE
        return {"apiVersion": "v2", "kind": "Node",
                "metadata": {"name": node["name"], "creationTimestamp": iso(node["created"]),
                             "labels": self.node_labels(pool, node),
                             "annotations": {"os.modelarts/billing.mode": "0"}},
                "spec": {"flavor": node["flavor"], "os": {"name": node["os"]},
                         # Copies all the way down: a node list is serialised without the lock.
                         "hostNetwork": json.loads(json.dumps(resource["network"])) if resource.get("network") else {},
                         "extendParams": json.loads(json.dumps(resource["extendParams"]))
                         if resource.get("extendParams") else {}},
                "status": status}

    def node_info(self, pool, node):
        """The stable, plain description of a node the Kubernetes side builds Node objects from."""
        node_pool = pool["node_pools"].get(node["node_pool"], {"resource": {}})
        resource = node_pool["resource"]
        labels = self.node_labels(pool, node)
        labels.update(resource.get("labels") or {})
        flavor = catalog.FLAVORS[node["flavor"]]
        return {"pool_id": pool["id"], "pool_display_name": pool["display_name"], "name": node["name"],
                "private_ip": node["ip"], "phase": node["phase"], "activity": node.get("activity"),
                "driver_version": node["driver_version"], "driver_phase": node["driver_phase"],
                "node_pool": node["node_pool"], "flavor": node["flavor"], "az": node["az"],
                "created": iso(node["created"]), "labels": labels,
                "taints": [dict(t) for t in resource.get("taints", [])],
                "npu": ({catalog.NPU_RESOURCE_NAME: flavor["npu_resource"]} if flavor["npu_resource"] else {}),
                "cpu": flavor["allocatable_cpu"], "memory": flavor["allocatable_memory"]}

    def nodes_info(self, pool_id):
        pool = self.state["pools"].get(pool_id)
        return [] if pool is None else [self.node_info(pool, n) for n in pool["nodes"].values()]

    def node_pool_view(self, pool, node_pool, with_status=True):
        view = {"apiVersion": "v2", "kind": "NodePool",
                "metadata": {"name": node_pool["name"], "creationTimestamp": iso(node_pool["created"])},
                "spec": {"resources": json.loads(json.dumps(node_pool["resource"]))}}
        if with_status:
            nodes = [n for n in pool["nodes"].values() if n["node_pool"] == node_pool["name"]]
            view["status"] = {"phase": "Deleting" if node_pool["deleting"] else "Running",
                              "resources": self._resource_counts(nodes)}
        return view

    def sorted_nodes(self, pool, node_pool=None):
        nodes = [n for n in pool["nodes"].values() if node_pool is None or n["node_pool"] == node_pool]
        nodes.sort(key=lambda n: (n["created"], n["name"]))
        return nodes

    # ---- validation ---------------------------------------------------------------------------
    def _check_labels_taints(self, raw, where):
        labels = raw.get("labels")
        if labels is not None and (not isinstance(labels, dict)
                                   or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())):
            raise bad_request("%s: labels must map strings to strings." % where)
        taints = raw.get("taints")
        if taints is not None:
            if not isinstance(taints, list):
                raise bad_request("%s: taints must be a list." % where)
            for taint in taints:
                if not isinstance(taint, dict) or not taint.get("key") or taint.get("effect") not in TAINT_EFFECTS:
                    raise bad_request("%s: each taint needs a key and effect in %s." % (where, ", ".join(TAINT_EFFECTS)))
        tags = raw.get("tags")
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, dict) and t.get("key")
                                                                       for t in tags)):
            raise bad_request("%s: tags must be a list of {key, value}." % where)

    def normalize_resource(self, raw, current=None, where="spec.resources"):
        """A validated PoolResource. Fields absent from `raw` keep their value in `current`."""
        if not isinstance(raw, dict):
            raise bad_request("%s must be an object." % where)
        flavor = raw.get("flavor") or (current or {}).get("flavor")
        if flavor not in catalog.FLAVORS:
            raise bad_request("%s: unknown flavor %r; see GET /v1/{project_id}/resourceflavors." % (where, flavor))
        if current and flavor != current["flavor"]:
            raise bad_request("%s: node pool %s has flavor %s; the flavor of a node pool cannot change."
                              % (where, current["nodePool"], current["flavor"]))
        count = raw.get("count", (current or {}).get("count"))
        if not _is_count(count) or count < 1:
            raise bad_request("%s: count must be an integer >= 1, got %r." % (where, count))
        name = raw.get("nodePool") or (current or {}).get("nodePool") or "%s-default" % flavor
        if name != "%s-default" % flavor and (not NODE_POOL_NAME_RE.match(name) or name.endswith("-default")):
            raise bad_request("Bad request. invalid nodepool name %r: 2-50 characters, lowercase letters, digits "
                              "and '-', starting with a letter, not ending with '-' or '-default'." % name)
        self._check_labels_taints(raw, where)
        resource = json.loads(json.dumps(current)) if current else {}
        resource.update(json.loads(json.dumps(raw)))
        resource.update({"flavor": flavor, "count": count, "maxCount": count, "nodePool": name})
        family = catalog.driver_family(flavor)
        if family:
            version = (raw.get("driver") or {}).get("version") or (current or {}).get("driver", {}).get("version") \
                or catalog.default_driver(flavor)
            self.check_driver(version, flavor, where)
            resource["driver"] = {"version": version}
        elif raw.get("driver"):
            raise bad_request("%s: flavor %s has no NPU; it takes no driver version." % (where, flavor))
        azs = raw.get("azs")
        if azs is not None:
            if not isinstance(azs, list) or sum(a.get("count", 0) for a in azs if isinstance(a, dict)) != count:
                raise bad_request("%s: azs counts must add up to count (%d)." % (where, count))
        else:
            resource["azs"] = [{"az": catalog.AZS[0], "count": count}]
        return resource

    def check_driver(self, version, flavor, where="driver"):
        if version not in catalog.all_npu_versions():
            raise bad_request("%s: unknown NPU driver version %r; see GET /v1/{project_id}/plugintemplates/"
                              "npu-driver." % (where, version))
        if not catalog.driver_supports(version, flavor):
            raise bad_request("%s: NPU driver %s does not support flavor %s (chip %s)."
                              % (where, version, flavor, catalog.driver_family(flavor)))

    def _check_sold_out(self, flavor, where):
        if catalog.FLAVORS[flavor]["sold_out"]:
            raise bad_request("%s: flavor %s is sold out in every availability zone of %s."
                              % (where, flavor, catalog.REGION))

    # ---- orders and jobs ------------------------------------------------------------------------
    def _new_order(self, pool, operation, init_counts, spec_counts):
        name = "order.%s-%s" % (pool["display_name"], self._suffix())
        now = self.world.now()
        self.state["orders"][name] = {
            "orderName": name, "orderId": self._uuid().replace("-", ""), "resourceName": pool["id"],
            "resourceDisplayName": pool["display_name"], "workspaceId": "0", "operation": operation,
            "phase": "pending", "failReason": "", "creationTimestamp": ms(now), "beginTimestamp": 0,
            "endTimestamp": 0, "initCount": init_counts, "specCount": spec_counts, "resultCount": [],
            "billingMode": "0", "items": {}, "open": 0}
        self.world.schedule(ORDER_PENDING_SECONDS, "order_processing", order=name)
        pool["labels"]["os.modelarts/order.name"] = name
        return name

    def _order_item(self, order_name, resource_name, action):
        order = self.state["orders"][order_name]
        stamp = str(ms(self.world.now()))
        order["items"][resource_name] = {"resourceName": resource_name, "action": action, "status": "processing",
                                         "beginTimestamp": stamp, "updateTimestamp": stamp, "message": ""}
        order["open"] += 1

    def _finish_item(self, order_name, resource_name, ok, message=""):
        order = self.state["orders"].get(order_name)
        if not order or resource_name not in order["items"]:
            return
        item = order["items"][resource_name]
        if item["status"] != "processing":
            return
        item.update(status="succeed" if ok else "failed", message=message,
                    updateTimestamp=str(ms(self.world.now())))
        order["open"] -= 1
        if order["open"] == 0 and order["phase"] == "processing" and not self._waits_for_pool(order):
            self._finish_order(order)

    def _waits_for_pool(self, order):
        """A create order completes only once its pool is provisioned, even if its nodes were faster."""
        pool = self.state["pools"].get(order["resourceName"])
        return order.get("operation") == "apply" and pool is not None and pool["phase"] == "Creating"

    def _finish_order(self, order):
        failed = [i for i in order["items"].values() if i["status"] == "failed"]
        if order.get("fail_reason"):
            order["phase"], order["failReason"] = "failed", order["fail_reason"]
        elif failed and len(failed) == len(order["items"]):
            order["phase"], order["failReason"] = "failed", failed[0]["message"]
        elif failed:
            order["phase"], order["failReason"] = "partialSuccessed", "%d of %d items failed: %s" % (
                len(failed), len(order["items"]), failed[0]["message"])
        else:
            order["phase"] = "successed"
        order["endTimestamp"] = ms(self.world.now())
        pool = self.state["pools"].get(order["resourceName"])
        if pool:
            order["resultCount"] = self._spec_counts(pool)
        self._history(kind="order", order=order["orderName"], pool_id=order["resourceName"], phase=order["phase"])

    def _on_order_processing(self, due, order):
        record = self.state["orders"].get(order)
        if not record or record["phase"] != "pending":
            return
        record["phase"] = "processing"
        record["beginTimestamp"] = ms(due)
        if record["open"] == 0:
            self._finish_order(record)

    def order_view(self, order, with_items=False):
        view = {k: v for k, v in order.items() if k not in ("items", "open", "fail_reason")}
        if with_items:
            view["items"] = list(order["items"].values())
        return view

    def _spec_counts(self, pool):
        return [{"flavor": np["resource"]["flavor"], "count": np["resource"]["count"],
                 "nodePool": np["name"]} for np in pool["node_pools"].values() if not np["deleting"]]

    def _new_job(self, pool, job_type, node_names, inputs):
        job_id = self._uuid()
        self.state["jobs"][job_id] = {
            "jobId": job_id, "jobName": "%s-%s" % (job_type, self._suffix()), "type": job_type, "phase": "Running",
            "suspend": False, "startTimestamp": ms(self.world.now()), "endTimestamp": 0,
            "involvedObjects": json.dumps({"pool": pool["id"], "nodes": node_names}),
            "inputs": json.dumps(inputs), "conditions": "[]", "message": "", "pool": pool["id"],
            "node_status": {n: "Running" for n in node_names}}
        return job_id

    def _finish_job_node(self, job_id, node_name, ok, message=""):
        job = self.state["jobs"].get(job_id)
        if not job or job["node_status"].get(node_name) != "Running":
            return
        job["node_status"][node_name] = "Success" if ok else "Failed"
        job["conditions"] = json.dumps([{"node": n, "status": s} for n, s in job["node_status"].items()])
        if message:
            job["message"] = (job["message"] + "; " if job["message"] else "") + message
        if all(s != "Running" for s in job["node_status"].values()):
            job["phase"] = "Failed" if "Failed" in job["node_status"].values() else "Success"
            job["endTimestamp"] = ms(self.world.now())
            self._history(kind="job", job_id=job_id, type=job["type"], phase=job["phase"])

    def job_view(self, job):
        return {k: v for k, v in job.items() if k not in ("node_status", "pool")}

    # ---- nodes ------------------------------------------------------------------------------
    def _add_node(self, pool, node_pool, order_name, created=None, ready=False):
        rng = self._random()
        while True:
            name = "os-node-created-" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))
            if name not in pool["nodes"]:
                break
        index = pool["ip_next"]
        pool["ip_next"] += 1
        resource = node_pool["resource"]
        azs = [a for a in resource.get("azs", []) for _ in range(a.get("count", 0))] or [{"az": catalog.AZS[0]}]
        in_pool = node_pool.get("added", 0)  # spreads nodes over the AZs without rescanning the pool
        node_pool["added"] = in_pool + 1
        node = {"name": name, "node_pool": node_pool["name"], "flavor": resource["flavor"],
                "created": self.world.now() if created is None else created,
                "phase": "Available" if ready else "Creating",
                "ip": "192.168.%d.%d" % (index // 250, index % 250 + 2), "az": azs[in_pool % len(azs)]["az"],
                "driver_version": resource.get("driver", {}).get("version", ""),
                "driver_phase": "Running" if ready else "Pending",
                "activity": None if ready else "creating", "locked": [], "ha": False, "tags": {},
                "instance_id": self._uuid(), "resource_id": "maos-node-" + self._suffix(), "os": "HCE 2.0",
                "order": order_name, "token": 0}
        pool["nodes"][name] = node
        if not ready:
            node["token"] = self.world.next_serial()
            self.world.schedule(NODE_CREATE_SECONDS * self.spread(name + "|create"), "node_created",
                                pool_id=pool["id"], node=name, token=node["token"])
            self._order_item(order_name, name, "createNode")
        self._emit("node_created" if ready else "node_phase", pool, node)
        return node

    def _set(self, pool, node, **changes):
        """Change node fields, record history for phase/driver changes, and tell subscribers."""
        before = {k: node.get(k) for k in changes}
        node.update(changes)
        interesting = {k: (before[k], v) for k, v in changes.items()
                       if k in ("phase", "driver_phase", "driver_version", "activity") and before[k] != v}
        if interesting:
            event = {"kind": "node", "pool_id": pool["id"], "node": node["name"]}
            for key, (old, new) in interesting.items():
                event[key] = new
                event["previous_" + key] = old
            self._history(**event)
        old_activity, new_activity = before.get("activity"), node.get("activity")
        if "activity" in changes and new_activity in OPERATIONS and old_activity not in OPERATIONS:
            self._emit("node_operation", pool, node, operation=OPERATIONS[new_activity], state="started")
        elif "activity" in changes and old_activity in OPERATIONS and new_activity not in OPERATIONS:
            self._emit("node_operation", pool, node, operation=OPERATIONS[old_activity], state="finished")
        elif "phase" in interesting and interesting["phase"] == ("Creating", "Available"):
            self._emit("node_created", pool, node)
        elif "phase" in interesting:
            self._emit("node_phase", pool, node)
        elif "driver_phase" in interesting or "driver_version" in interesting:
            self._emit("node_driver", pool, node)
        else:
            self._emit("node_changed", pool, node)

    def _start_delete(self, pool, node, order_name=None):
        node["token"] = self.world.next_serial()
        node["order"] = order_name
        self._set(pool, node, phase="Deleting", activity="deleting")
        if order_name:
            self._order_item(order_name, node["name"], "deleteNode")
        self.world.schedule(DELETE_SECONDS * self.spread(node["name"] + "|delete"), "node_gone",
                            pool_id=pool["id"], node=node["name"], token=node["token"])

    def _on_node_created(self, due, pool_id, node, token):
        pool = self.state["pools"].get(pool_id)
        record = pool and pool["nodes"].get(node)
        if not record or record["token"] != token or record["phase"] != "Creating":
            return
        order = self.state["orders"].get(record["order"] or "", {})
        failing = self._fails("create", node) or (order.get("operation") == "modify" and self._fails(
            "scale", pool_id, pool["display_name"]))
        node_pool = pool["node_pools"].get(record["node_pool"])
        version = node_pool["resource"].get("driver", {}).get("version", "") if node_pool else record["driver_version"]
        if failing:
            self._set(pool, record, phase="Abnormal", driver_phase="Abnormal", activity=None,
                      message="node creation failed (injected fault)")
            self._finish_item(record["order"], node, False, "node %s creation failed: injected fault" % node)
        else:
            self._set(pool, record, phase="Available", driver_phase="Running", driver_version=version, activity=None)
            self._finish_item(record["order"], node, True)

    def _on_node_gone(self, due, pool_id, node, token):
        pool = self.state["pools"].get(pool_id)
        record = pool and pool["nodes"].get(node)
        if not record or record["token"] != token or record["phase"] != "Deleting":
            return
        if self._fails("delete", node, pool_id, pool["display_name"]):
            node_pool = pool["node_pools"].get(record["node_pool"])
            if node_pool and not node_pool["deleting"]:
                node_pool["resource"]["count"] += 1
                node_pool["resource"]["maxCount"] = node_pool["resource"]["count"]
            self._set(pool, record, phase="Available", activity=None, message="node deletion failed (injected fault)")
            self._finish_item(record.get("order"), node, False, "node %s deletion failed: injected fault" % node)
            return
        del pool["nodes"][node]
        self._history(kind="node", pool_id=pool_id, node=node, phase="Deleted", previous_phase="Deleting")
        self._emit("node_deleted", pool, record)
        self._finish_item(record.get("order"), node, True)
        node_pool = pool["node_pools"].get(record["node_pool"])
        if node_pool and node_pool["deleting"] and not any(n["node_pool"] == node_pool["name"]
                                                           for n in pool["nodes"].values()):
            del pool["node_pools"][node_pool["name"]]

    # ---- pools ------------------------------------------------------------------------------
    def find_by_display_name(self, display_name):
        for pool in self.state["pools"].values():
            if pool["display_name"] == display_name:
                return pool
        return None

    def validate_pool_body(self, body):
        if not isinstance(body, dict):
            raise bad_request("Bad request: the body must be a JSON object.")
        if body.get("apiVersion") != "v2" or body.get("kind") != "Pool":
            raise bad_request("Bad request: apiVersion must be 'v2' and kind 'Pool'.")
        metadata = body.get("metadata") or {}
        labels = metadata.get("labels") or {}
        display = labels.get("os.modelarts/name")
        if not isinstance(display, str) or not DISPLAY_NAME_RE.match(display):
            raise bad_request("Bad request: metadata.labels.os.modelarts/name %r must be 4-32 characters of lowercase "
                              "letters, digits and '-', start with a letter and end with a letter or digit." % display)
        spec = body.get("spec")
        if not isinstance(spec, dict):
            raise bad_request("Bad request: spec is required.")
        if spec.get("type") not in ("Dedicate", "Logical"):
            raise bad_request("Bad request: spec.type must be 'Dedicate' (or 'Logical').")
        scope = spec.get("scope")
        if not isinstance(scope, list) or not scope or any(s not in SCOPES for s in scope):
            raise bad_request("Bad request: spec.scope must be a non-empty list of %s." % ", ".join(SCOPES))
        network = spec.get("network")
        if not (isinstance(network, dict)
                and (network.get("name") or (network.get("vpcId") and network.get("subnetId")))):
            raise bad_request("Bad request: spec.network needs 'name' or both 'vpcId' and 'subnetId'.")
        if network.get("vpcId"):
            self._check_vpc_pool(spec)
        resources = spec.get("resources")
        if not isinstance(resources, list) or not resources:
            raise bad_request("Bad request: spec.resources must list at least one node pool.")
        normalized = []
        for index, raw in enumerate(resources):
            where = "spec.resources[%d]" % index
            resource = self.normalize_resource(raw, where=where)
            self._check_sold_out(resource["flavor"], where)
            normalized.append(resource)
        names = [r["nodePool"] for r in normalized]
        if len(set(names)) != len(names):
            raise bad_request("Bad request: node pool names in spec.resources must be unique: %s." % ", ".join(names))
        self._check_pool_driver(spec.get("driver"), normalized)
        return display, normalized

    @staticmethod
    def _check_vpc_pool(spec):
        """A pool in a VPC needs its CCE clusters and a node login (the vendor's Terraform provider:
        vpc_id RequiredWith subnet_id, clusters, user_login)."""
        clusters = spec.get("clusters")
        if not isinstance(clusters, list) or not clusters or not all(
                isinstance(c, dict) and c.get("providerId") for c in clusters):
            raise bad_request("Bad request: spec.clusters (a list of {providerId}) is required when "
                              "spec.network.vpcId is given.")
        login = spec.get("userLogin")
        if not isinstance(login, dict) or not (login.get("keyPairName") or login.get("password")):
            raise bad_request("Bad request: spec.userLogin (keyPairName or password) is required when "
                              "spec.network.vpcId is given.")

    def _check_pool_driver(self, driver, resources):
        if not driver:
            return
        if not isinstance(driver, dict):
            raise bad_request("Bad request: spec.driver must be an object.")
        if driver.get("updateStrategy") not in (None, "force", "idle"):
            raise bad_request("Bad request: spec.driver.updateStrategy must be 'force' or 'idle'.")
        version = driver.get("npuVersion")
        if version:
            npu_resources = [r for r in resources if catalog.driver_family(r["flavor"])]
            if not npu_resources:
                raise bad_request("Bad request: spec.driver.npuVersion needs a node pool with NPUs.")
            for resource in npu_resources:
                self.check_driver(version, resource["flavor"], "spec.driver.npuVersion")

    def create_pool(self, body, ready=False, node_created=None):
        """POST /v2/{pid}/pools. ready=True builds a Running pool at once (admin seed)."""
        display, resources = self.validate_pool_body(body)
        if self.find_by_display_name(display):
            raise ApiError(409, "ModelArts.50015000", "Pool already exists. The name %s is used by pool %s."
                           % (display, self.find_by_display_name(display)["id"]))
        spec = json.loads(json.dumps(body["spec"]))
        spec.pop("resources")
        if isinstance(spec.get("userLogin"), dict):
            spec["userLogin"] = {k: v for k, v in spec["userLogin"].items() if k != "password"}
        if spec.get("driver", {}).get("npuVersion"):
            for resource in resources:
                if catalog.driver_family(resource["flavor"]):
                    resource["driver"] = {"version": spec["driver"]["npuVersion"]}
        metadata = body.get("metadata") or {}
        while True:
            pool_id = "pool-%s-%s" % (self._suffix(4), self.world.project_id)
            if pool_id not in self.state["pools"]:
                break
        now = self.world.now()
        labels = {"os.modelarts/workspace.id": "0", "os.modelarts/node.prefix": ""}
        labels.update(metadata.get("labels") or {})
        labels.update({"os.modelarts/name": display, "os.modelarts/resource.id": "maos-%s-%s" % (display, self._suffix()),
                       "os.modelarts/tenant.domain.id": self.world.credentials["domain_id"],
                       "os.modelarts/tenant.project.id": self.world.project_id, "os.modelarts.pool/biz": "private",
                       "os.modelarts/create-from": "api", "os.modelarts/region": catalog.REGION})
        annotations = {"os.modelarts/description": "", "os.modelarts/billing.mode": "0"}
        annotations.update(metadata.get("annotations") or {})
        pool = {"id": pool_id, "display_name": display, "created": now if node_created is None else node_created,
                "phase": "Running" if ready else "Creating", "message": "", "labels": labels,
                "annotations": annotations, "spec": spec, "scope_state": "Enabled" if ready else "Enabling",
                "node_pools": {}, "nodes": {}, "ip_next": 0, "tags": {},
                "cluster_name": "cce-" + pool_id[:9]}
        self.state["pools"][pool_id] = pool
        self._emit("pool_added", pool)
        order = self._new_order(pool, "apply", [], [{"flavor": r["flavor"], "count": r["count"],
                                                     "nodePool": r["nodePool"]} for r in resources])
        for resource in resources:
            node_pool = {"name": resource["nodePool"], "created": pool["created"], "resource": resource,
                         "deleting": False}
            pool["node_pools"][node_pool["name"]] = node_pool
            for _ in range(resource["count"]):
                self._add_node(pool, node_pool, order, created=node_created, ready=ready)
        self._history(kind="pool", pool_id=pool_id, phase=pool["phase"], previous_phase=None)
        if ready:
            self._on_order_processing(self.world.now(), order)
        else:
            self.world.schedule(POOL_CREATE_SECONDS * self.spread(display + "|pool-create"), "pool_ready",
                                pool_id=pool_id)
        return pool

    def _on_pool_ready(self, due, pool_id):
        pool = self.state["pools"].get(pool_id)
        if not pool or pool["phase"] != "Creating":
            return
        if self._fails("create", pool_id, pool["display_name"]):
            pool["phase"], pool["scope_state"] = "CreationFailed", "EnableFailed"
            pool["message"] = "Pool creation failed: CCE cluster provisioning failed (injected fault)"
            order = self.state["orders"].get(pool["labels"].get("os.modelarts/order.name"))
            for node in list(pool["nodes"].values()):
                del pool["nodes"][node["name"]]
                self._emit("node_deleted", pool, node)
                if order:
                    self._finish_item(order["orderName"], node["name"], False, pool["message"])
            if order and order["phase"] not in ("successed", "failed", "partialSuccessed"):
                order["fail_reason"] = pool["message"]
                if order["phase"] == "processing" and order["open"] == 0:
                    self._finish_order(order)
            self._history(kind="pool", pool_id=pool_id, phase=pool["phase"], previous_phase="Creating")
            return
        pool["phase"], pool["scope_state"] = "Running", "Enabled"
        self._history(kind="pool", pool_id=pool_id, phase="Running", previous_phase="Creating")
        self._emit("pool_changed", pool)
        order = self.state["orders"].get(pool["labels"].get("os.modelarts/order.name"))
        if order and order["phase"] == "processing" and order["open"] == 0:
            self._finish_order(order)

    def delete_pool(self, pool_id):
        pool = self.get_pool(pool_id)
        if pool["phase"] == "Deleting":
            return pool
        previous = pool["phase"]
        pool["phase"] = "Deleting"
        for node in pool["nodes"].values():
            node["token"] = self.world.next_serial()
            self._set(pool, node, phase="Deleting", activity="deleting")
        self._history(kind="pool", pool_id=pool_id, phase="Deleting", previous_phase=previous)
        self._emit("pool_changed", pool)
        self.world.schedule(DELETE_SECONDS * self.spread(pool["display_name"] + "|pool-delete"), "pool_gone",
                            pool_id=pool_id)
        return pool

    def _on_pool_gone(self, due, pool_id):
        pool = self.state["pools"].get(pool_id)
        if not pool or pool["phase"] != "Deleting":
            return
        if self._fails("delete", pool_id, pool["display_name"]):
            pool["phase"], pool["message"] = "Abnormal", "Pool deletion failed (injected fault)"
            for node in pool["nodes"].values():
                self._set(pool, node, phase="Available", activity=None)
            self._history(kind="pool", pool_id=pool_id, phase="Abnormal", previous_phase="Deleting")
            return
        for node in list(pool["nodes"].values()):
            del pool["nodes"][node["name"]]
            self._emit("node_deleted", pool, node)
        del self.state["pools"][pool_id]
        self._history(kind="pool", pool_id=pool_id, phase="Deleted", previous_phase="Deleting")
        self._emit("pool_removed", pool)

    # ---- changes to node pools (PATCH pool, node pool CRUD) ---------------------------------------
    def _plan_node_pool_change(self, pool, node_pool, resource, plan):
        current = node_pool["resource"]
        delta = resource["count"] - current["count"]
        nodes = [n for n in pool["nodes"].values() if n["node_pool"] == node_pool["name"] and n["phase"] != "Deleting"]
        if delta > 0:
            self._check_sold_out(resource["flavor"], "node pool %s" % node_pool["name"])
        if delta < 0:
            candidates = [n for n in nodes if "delete" not in n["locked"] and n.get("activity") in (None, "creating")]
            rank = {"Abnormal": 0, "Creating": 1}
            candidates.sort(key=lambda n: (rank.get(n["phase"], 2), -n["created"]))
            if len(candidates) < -delta:
                raise bad_request("Cannot scale node pool %s down to %d: only %d of its nodes can be deleted (the "
                                  "others are locked or busy)." % (node_pool["name"], resource["count"],
                                                                   len(candidates)))
            plan["delete_nodes"].extend(candidates[:-delta])
        elif delta > 0:
            plan["add_nodes"].append((node_pool["name"], delta))
        new_version = resource.get("driver", {}).get("version")
        if new_version and new_version != current.get("driver", {}).get("version"):
            busy = [n["name"] for n in nodes if n["driver_phase"] in BUSY_DRIVER_PHASES
                    or n.get("activity") in ("queued", "rebooting", "resetting")]
            if busy:
                raise bad_request("Cannot upgrade the driver of node pool %s: nodes %s are busy (driver upgrade, "
                                  "reboot or reset in progress)." % (node_pool["name"], ", ".join(sorted(busy))))
            plan["upgrades"].append((node_pool["name"], new_version))
        plan["updates"].append((node_pool["name"], resource))

    def _new_plan(self):
        return {"add_pools": [], "updates": [], "remove_pools": [], "add_nodes": [], "delete_nodes": [],
                "upgrades": [], "strategy": "force"}

    def _apply_plan(self, pool, plan):
        """Apply a validated plan; returns the new order name when nodes come or go."""
        order = None
        if plan["add_nodes"] or plan["delete_nodes"] or plan["add_pools"] or plan["remove_pools"]:
            order = self._new_order(pool, "modify", self._spec_counts(pool), [])
        for resource in plan["add_pools"]:
            pool["node_pools"][resource["nodePool"]] = {"name": resource["nodePool"], "created": self.world.now(),
                                                        "resource": resource, "deleting": False}
            plan["add_nodes"].append((resource["nodePool"], resource["count"]))
        labels_changed = []
        for name, resource in plan["updates"]:
            node_pool = pool["node_pools"][name]
            old = node_pool["resource"]
            if (old.get("labels"), old.get("taints")) != (resource.get("labels"), resource.get("taints")):
                labels_changed.append(name)
            node_pool["resource"] = dict(resource)
        for name in plan["remove_pools"]:
            pool["node_pools"][name]["deleting"] = True
            for node in list(pool["nodes"].values()):
                if node["node_pool"] == name and node["phase"] != "Deleting":
                    self._start_delete(pool, node, order)
            if not any(n["node_pool"] == name for n in pool["nodes"].values()):
                del pool["node_pools"][name]
        for node in plan["delete_nodes"]:
            self._start_delete(pool, node, order)
        for name, count in plan["add_nodes"]:
            for _ in range(count):
                self._add_node(pool, pool["node_pools"][name], order)
        for name, version in plan["upgrades"]:
            for node in list(pool["nodes"].values()):
                if node["node_pool"] == name and node["phase"] == "Available" and node["driver_version"] != version:
                    self.start_driver_upgrade(pool, node, version, plan["strategy"])
        for name in labels_changed:
            for node in pool["nodes"].values():
                if node["node_pool"] == name:
                    self._emit("node_changed", pool, node)
        if order:
            self.state["orders"][order]["specCount"] = self._spec_counts(pool)
        return order

    @staticmethod
    def _node_pool_for_flavor(resources, flavor):
        """An entry without nodePool means the only node pool of that flavor (the SDK has no nodePool field)."""
        matches = [name for name, resource in resources.items() if resource["flavor"] == flavor]
        return matches[0] if len(matches) == 1 else "%s-default" % flavor

    def patch_pool(self, pool_id, body):
        pool = self.get_pool(pool_id)
        self._require_running(pool, "update the pool")
        if not isinstance(body, dict):
            raise bad_request("Bad request: the body must be a JSON merge patch object.")
        spec_patch = body.get("spec") or {}
        metadata_patch = body.get("metadata") or {}
        if not isinstance(spec_patch, dict) or not isinstance(metadata_patch, dict):
            raise bad_request("Bad request: metadata and spec must be objects.")
        plan = self._new_plan()
        if "scope" in spec_patch:
            scope = spec_patch["scope"]
            if not isinstance(scope, list) or not scope or any(s not in SCOPES for s in scope):
                raise bad_request("Bad request: spec.scope must be a non-empty list of %s." % ", ".join(SCOPES))
        driver_patch = spec_patch.get("driver")
        current_resources = {name: np["resource"] for name, np in pool["node_pools"].items() if not np["deleting"]}
        desired = None
        if "resources" in spec_patch:
            raw_list = spec_patch["resources"]
            if not isinstance(raw_list, list) or not raw_list:
                raise bad_request("Bad request: spec.resources must list at least one node pool; a pool must "
                                  "keep at least one node pool.")
            desired = {}
            for index, raw in enumerate(raw_list):
                where = "spec.resources[%d]" % index
                if not isinstance(raw, dict):
                    raise bad_request("%s must be an object." % where)
                name = raw.get("nodePool") or self._node_pool_for_flavor(current_resources, raw.get("flavor"))
                if name in desired:
                    raise bad_request("Bad request: node pool %s appears twice in spec.resources." % name)
                desired[name] = self.normalize_resource(dict(raw, nodePool=name), current_resources.get(name), where)
        npu_version = (driver_patch or {}).get("npuVersion") if isinstance(driver_patch, dict) else None
        if driver_patch is not None:
            self._check_pool_driver(driver_patch, list((desired or current_resources).values()))
            plan["strategy"] = driver_patch.get("updateStrategy") or "force"
        if desired is None and npu_version:
            desired = {name: dict(resource) for name, resource in current_resources.items()}
        if desired is not None:
            for name, resource in desired.items():
                if npu_version and catalog.driver_family(resource["flavor"]):
                    resource["driver"] = {"version": npu_version}
                if name in current_resources:
                    self._plan_node_pool_change(pool, pool["node_pools"][name], resource, plan)
                else:
                    self._check_sold_out(resource["flavor"], "spec.resources node pool %s" % name)
                    plan["add_pools"].append(resource)
            plan["remove_pools"] = [name for name in current_resources if name not in desired]
        # everything is validated: apply
        annotations = metadata_patch.get("annotations")
        if isinstance(annotations, dict):
            for key, value in annotations.items():
                if value is None:
                    pool["annotations"].pop(key, None)
                else:
                    pool["annotations"][key] = str(value)
        labels = metadata_patch.get("labels")
        if isinstance(labels, dict):
            for key, value in labels.items():
                if key.startswith("os.modelarts/"):
                    continue  # system labels are not user-editable
                if value is None:
                    pool["labels"].pop(key, None)
                else:
                    pool["labels"][key] = str(value)
        if "scope" in spec_patch:
            pool["spec"]["scope"] = list(spec_patch["scope"])
        if isinstance(driver_patch, dict):
            pool["spec"]["driver"] = dict(pool["spec"].get("driver") or {}, **driver_patch)
        if "jobFlavors" in spec_patch:
            pool["spec"]["jobFlavors"] = spec_patch["jobFlavors"]
        self._apply_plan(pool, plan)
        self.world.mark_dirty()
        return pool

    def create_node_pool(self, pool_id, body):
        pool = self.get_pool(pool_id)
        self._require_running(pool, "create a node pool")
        if not isinstance(body, dict) or not isinstance((body.get("spec") or {}).get("resources"), dict):
            raise bad_request("Bad request: body needs spec.resources (one PoolResource object).")
        name = (body.get("metadata") or {}).get("name") or body["spec"]["resources"].get("nodePool")
        if not name:
            raise bad_request("Bad request: metadata.name (the node pool name) is required.")
        raw = dict(body["spec"]["resources"], nodePool=name)
        resource = self.normalize_resource(raw, where="spec.resources")
        if name in pool["node_pools"]:
            raise ApiError(409, "ModelArts.50015000", "Node pool %s already exists in pool %s." % (name, pool_id))
        self._check_sold_out(resource["flavor"], "spec.resources")
        plan = self._new_plan()
        plan["add_pools"].append(resource)
        self._apply_plan(pool, plan)
        return pool["node_pools"][name]

    def get_node_pool(self, pool, name):
        node_pool = pool["node_pools"].get(name)
        if node_pool is None:
            raise ApiError(404, "ModelArts.50015001", "Node pool %s not found in pool %s." % (name, pool["id"]))
        return node_pool

    def patch_node_pool(self, pool_id, name, body):
        pool = self.get_pool(pool_id)
        node_pool = self.get_node_pool(pool, name)
        self._require_running(pool, "update node pool %s" % name)
        if node_pool["deleting"]:
            raise bad_request("Cannot update node pool %s: it is being deleted." % name)
        if not isinstance(body, dict) or not isinstance((body.get("spec") or {}).get("resources"), dict):
            raise bad_request("Bad request: body needs spec.resources (one PoolResource object).")
        raw = dict(body["spec"]["resources"])
        if raw.get("nodePool") not in (None, name):
            raise bad_request("Bad request: spec.resources.nodePool %r does not match node pool %s."
                              % (raw.get("nodePool"), name))
        resource = self.normalize_resource(raw, node_pool["resource"], "spec.resources")
        plan = self._new_plan()
        self._plan_node_pool_change(pool, node_pool, resource, plan)
        self._apply_plan(pool, plan)
        return node_pool

    def delete_node_pool(self, pool_id, name):
        pool = self.get_pool(pool_id)
        node_pool = self.get_node_pool(pool, name)
        self._require_running(pool, "delete node pool %s" % name)
        if node_pool["deleting"]:
            return node_pool
        remaining = [n for n, np in pool["node_pools"].items() if not np["deleting"] and n != name]
        if not remaining:
            raise bad_request("Cannot delete node pool %s: it is the last node pool of pool %s; a pool must keep at "
                              "least one node pool (delete the pool instead)." % (name, pool_id))
        locked = [n["name"] for n in pool["nodes"].values() if n["node_pool"] == name and "delete" in n["locked"]]
        if locked:
            raise bad_request("Cannot delete node pool %s: nodes %s are locked against deletion."
                              % (name, ", ".join(sorted(locked))))
        plan = self._new_plan()
        plan["remove_pools"].append(name)
        self._apply_plan(pool, plan)
        return node_pool

    # ---- node operations ------------------------------------------------------------------------
    def _names(self, body, key="nodeNames"):
        names = body.get(key) if isinstance(body, dict) else None
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise bad_request("Bad request: %s must be a non-empty list of node names." % key)
        if len(set(names)) != len(names):
            raise bad_request("Bad request: %s lists a node twice." % key)
        return names

    def _existing_nodes(self, pool, names):
        unknown = [n for n in names if n not in pool["nodes"]]
        if unknown:
            raise bad_request("Bad request: nodes not found in pool %s: %s." % (pool["id"], ", ".join(unknown)))
        return [pool["nodes"][n] for n in names]

    def batch_delete(self, pool_id, body):
        pool = self.get_pool(pool_id)
        self._require_running(pool, "delete nodes")
        nodes = self._existing_nodes(pool, self._names(body, "deleteNodeNames"))
        locked = [n["name"] for n in nodes if "delete" in n["locked"]]
        if locked:
            raise bad_request("Cannot delete nodes %s: they are locked against deletion (batch-unlock them first)."
                              % ", ".join(locked))
        deleting = [n["name"] for n in nodes if n["phase"] == "Deleting"]
        if deleting:
            raise bad_request("Nodes %s are already being deleted." % ", ".join(deleting))
        remaining = [n for n in pool["nodes"].values() if n["phase"] != "Deleting" and n not in nodes]
        if not remaining:
            raise bad_request("Cannot delete every node of pool %s; delete the pool instead." % pool_id)
        for node in nodes:
            node_pool = pool["node_pools"].get(node["node_pool"])
            if node_pool and not node_pool["deleting"]:
                node_pool["resource"]["count"] = max(0, node_pool["resource"]["count"] - 1)
                node_pool["resource"]["maxCount"] = node_pool["resource"]["count"]
                node_pool["resource"]["azs"] = [{"az": catalog.AZS[0], "count": node_pool["resource"]["count"]}]
            self._start_delete(pool, node)
        return {}

    def batch_lock(self, pool_id, body, lock):
        pool = self.get_pool(pool_id)
        names = self._names(body)
        actions = body.get("actions") or ["delete"]
        if not isinstance(actions, list) or any(a != "delete" for a in actions):
            raise bad_request("Bad request: actions may only contain 'delete'.")
        results = []
        for name in names:
            node = pool["nodes"].get(name)
            if node is None or node["phase"] == "Deleting":
                results.append({"name": name, "status": "failed"})
                continue
            for action in actions:
                if lock and action not in node["locked"]:
                    node["locked"].append(action)
                elif not lock and action in node["locked"]:
                    node["locked"].remove(action)
            self._history(kind="node", pool_id=pool_id, node=name, locked=list(node["locked"]))
            results.append({"name": name, "status": "success"})
        return {"nodes": results}

    def _start_node_job(self, pool_id, body, job_type, activity, seconds, operation, inputs):
        pool = self.get_pool(pool_id)
        self._require_running(pool, "%s nodes" % operation)
        names = self._names(body)
        nodes = self._existing_nodes(pool, names)
        busy = [n["name"] for n in nodes if n["phase"] != "Available" or n.get("activity")]
        if busy:
            raise bad_request("Cannot %s nodes %s: they are not Available or are busy with another operation."
                              % (operation, ", ".join(busy)))
        job_id = self._new_job(pool, job_type, names, inputs)
        for node in nodes:
            node["token"] = self.world.next_serial()
            self._set(pool, node, activity="queued")
            self.world.schedule(NODE_JOB_QUEUED_SECONDS, "node_job_started", pool_id=pool_id, node=node["name"],
                                token=node["token"], job_id=job_id, activity=activity, seconds=seconds,
                                operation=operation)
        return job_id, names

    def _on_node_job_started(self, due, pool_id, node, token, job_id, activity, seconds, operation):
        pool = self.state["pools"].get(pool_id)
        record = pool and pool["nodes"].get(node)
        if not record or record["token"] != token:
            self._finish_job_node(job_id, node, False, "node %s disappeared" % node)
            return
        self._set(pool, record, activity=activity)
        self.world.schedule(seconds * self.spread(node + "|" + operation), "node_job_done", pool_id=pool_id,
                            node=node, token=token, job_id=job_id, operation=operation)

    def batch_reboot(self, pool_id, body):
        job_id, names = self._start_node_job(pool_id, body, "reboot-node", "rebooting", REBOOT_SECONDS, "reboot",
                                             {"nodeNames": body.get("nodeNames")})
        return self.wire.reboot_answer(job_id, names)

    def batch_reset(self, pool_id, body):
        rolling = body.get("rollingConfig") if isinstance(body, dict) else None
        if not isinstance(rolling, dict) or rolling.get("strategy") not in ("RollingByNumber", "RollingByPercent"):
            raise bad_request("Bad request: rollingConfig.strategy must be RollingByNumber or RollingByPercent.")
        job_id, _names = self._start_node_job(pool_id, body, "reset-nodes", "resetting", RESET_SECONDS, "reset",
                                              {"rollingConfig": rolling, "nodeConfig": body.get("nodeConfig") or {}})
        return {"job_id": job_id}

    def _on_node_job_done(self, due, pool_id, node, token, job_id, operation):
        pool = self.state["pools"].get(pool_id)
        record = pool and pool["nodes"].get(node)
        if not record or record["token"] != token:
            self._finish_job_node(job_id, node, False, "node %s disappeared" % node)
            return
        if self._fails(operation, node, pool_id, pool["display_name"]):
            self._set(pool, record, activity=None, phase="Abnormal", message="%s failed (injected fault)" % operation)
            self._finish_job_node(job_id, node, False, "%s of node %s failed" % (operation, node))
        else:
            self._set(pool, record, activity=None, message="")
            self._finish_job_node(job_id, node, True)

    def batch_update(self, pool_id, body):
        pool = self.get_pool(pool_id)
        names = self._names(body)
        action = body.get("action")
        driver = body.get("driver")
        if action is None and driver is None:
            raise bad_request("Bad request: batch-update needs an action or a driver.")
        if action not in (None, "openHaRedundant", "closeHaRedundant", "createTags", "deleteTags"):
            raise bad_request("Bad request: unknown action %r." % action)
        if driver is not None:
            if not isinstance(driver, dict) or not driver.get("version"):
                raise bad_request("Bad request: driver.version is required.")
            if driver.get("updateStrategy") not in (None, "force", "idle"):
                raise bad_request("Bad request: driver.updateStrategy must be 'force' or 'idle'.")
            self._require_running(pool, "upgrade node drivers")
            for name in names:
                if name in pool["nodes"]:
                    self.check_driver(driver["version"], pool["nodes"][name]["flavor"], "driver.version")
        effect = body.get("haRedundantEffect")
        if effect is not None and (action != "openHaRedundant" or effect not in ("NoSchedule", "NoExecute")):
            raise bad_request("Bad request: haRedundantEffect must be NoSchedule or NoExecute, with action "
                              "openHaRedundant.")
        if action in ("createTags", "deleteTags") and not isinstance(body.get("tags"), list):
            raise bad_request("Bad request: %s needs tags." % action)
        success, failed = [], []
        for name in names:
            node = pool["nodes"].get(name)
            if node is None or node["phase"] == "Deleting":
                failed.append(name)
                continue
            if driver is not None:
                if node["phase"] != "Available" or node.get("activity") or node["driver_phase"] != "Running":
                    failed.append(name)
                    continue
                if node["driver_version"] != driver["version"]:
                    self.start_driver_upgrade(pool, node, driver["version"], driver.get("updateStrategy") or "force")
            if action in ("openHaRedundant", "closeHaRedundant"):
                node["ha"] = action == "openHaRedundant"
                node["ha_effect"] = (effect or "NoSchedule") if node["ha"] else None
                self._emit("node_changed", pool, node)
            elif action == "createTags":
                node["tags"].update({t.get("key"): t.get("value", "") for t in body["tags"]})
            elif action == "deleteTags":
                for tag in body["tags"]:
                    node["tags"].pop(tag.get("key"), None)
            success.append(name)
        return {"successNodeNames": success, "failNodeNames": failed}

    def start_driver_upgrade(self, pool, node, version, strategy):
        node["token"] = self.world.next_serial()
        node["upgrade"] = {"version": version, "strategy": strategy}
        self._set(pool, node, driver_phase="Pending", activity="upgrading")
        self.world.schedule(DRIVER_PENDING_SECONDS, "driver_step", pool_id=pool["id"], node=node["name"],
                            token=node["token"])

    def _on_driver_step(self, due, pool_id, node, token):
        pool = self.state["pools"].get(pool_id)
        record = pool and pool["nodes"].get(node)
        if not record or record["token"] != token or "upgrade" not in record:
            return
        upgrade = record["upgrade"]
        if record["driver_phase"] == "Pending":
            probe = self.world.busy_probe
            if upgrade["strategy"] == "idle" and probe is not None and probe(pool_id, node):
                self.world.schedule(BUSY_RECHECK_SECONDS, "driver_step", pool_id=pool_id, node=node, token=token)
                return
            self._set(pool, record, driver_phase="Updating")
            self.world.schedule(DRIVER_UPGRADE_SECONDS * self.spread(node + "|driver|" + upgrade["version"]),
                                "driver_step", pool_id=pool_id, node=node, token=token)
            return
        del record["upgrade"]
        if self._fails("driver_upgrade", node, pool_id, pool["display_name"]):
            self._set(pool, record, driver_phase="Abnormal", activity=None,
                      message="driver upgrade to %s failed (injected fault)" % upgrade["version"])
            return
        self._set(pool, record, driver_phase="Running", driver_version=upgrade["version"], activity=None, message="")
        node_pool = pool["node_pools"].get(record["node_pool"])
        if node_pool and all(n["driver_version"] == upgrade["version"] for n in pool["nodes"].values()
                             if n["node_pool"] == node_pool["name"]):
            node_pool["resource"]["driver"] = {"version": upgrade["version"]}

    # ---- tags -----------------------------------------------------------------------------------
    def tags_view(self, tags):
        return {"tags": [{"key": k, "values": [v]} for k, v in sorted(tags.items())]}

    def create_tags(self, pool_id, body):
        pool = self.get_pool(pool_id)
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list) or not all(isinstance(t, dict) and t.get("key") for t in tags):
            raise bad_request("Bad request: tags must be a list of {key, value}.")
        for tag in tags:
            pool["tags"][tag["key"]] = str(tag.get("value", ""))

    def delete_tags(self, pool_id, body):
        pool = self.get_pool(pool_id)
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list):
            raise bad_request("Bad request: tags must be a list of {key, value}.")
        for tag in tags:
            pool["tags"].pop(tag.get("key"), None)

    def all_tags(self):
        merged = {}
        for pool in self.state["pools"].values():
            for key, value in pool["tags"].items():
                values = merged.setdefault(key, [])
                if value not in values:
                    values.append(value)
        return {"tags": [{"key": k, "values": v} for k, v in sorted(merged.items())]}
