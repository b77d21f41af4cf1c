"""ModelArts Lite Cluster resources and their asynchronous state machines.

Records live in world.state (plain JSON) so they persist as they are. Every public method is
called with world.lock held (the HTTP layer takes it); timer handlers run under it too.
Durations are realistic cloud seconds on the simulated clock (world.now()), which runs
`time_scale` times faster than the wall clock.
"""
import json
import random
import string
import uuid

from . import catalog
from .wire import Wire
from .cloud_base import BUSY_DRIVER_PHASES, SCOPES, ApiError, bad_request, pool_not_found
from .node_operations import NodeOperations
from .pool_orders import OrdersAndJobs
from .pool_validation import PoolValidation
from .pool_views import PoolViews

POOL_CREATE_SECONDS = 15 * 60
NODE_CREATE_SECONDS = 10 * 60
DELETE_SECONDS = 3 * 60

# node activity -> the operation name subscribers see in node_operation events
OPERATIONS = {"rebooting": "reboot", "resetting": "reset", "upgrading": "driver_upgrade"}


class Cloud(PoolViews, PoolValidation, OrdersAndJobs, NodeOperations):
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
