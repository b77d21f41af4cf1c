"""Batch node operations of the simulated ModelArts (a mixin of Cloud): delete, lock, reboot, reset
and driver upgrade, each accepted at once and carried out on timers."""

from . import catalog
from .cloud_base import bad_request

DRIVER_UPGRADE_SECONDS = 12 * 60
DRIVER_PENDING_SECONDS = 60
BUSY_RECHECK_SECONDS = 60
REBOOT_SECONDS = 5 * 60
RESET_SECONDS = 10 * 60
# A reboot or reset job is queued a while before the node goes down: an accepted batch call is no
# sign that the node has gone down yet (the collection must see it happen, docs/api-contract.yml).
NODE_JOB_QUEUED_SECONDS = 60


class NodeOperations:
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
