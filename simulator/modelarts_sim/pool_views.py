"""How the simulated ModelArts shows its records (a mixin of Cloud): pools, nodes and node pools
as the API returns them, with the counts and driver status it derives."""
import json

from . import catalog
from .world import iso
from .wire import UNKNOWN_NODE_PHASE
from .cloud_base import BUSY_DRIVER_PHASES


class PoolViews:
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

    # ---- tags -----------------------------------------------------------------------------------
    def tags_view(self, tags):
        return {"tags": [{"key": k, "values": [v]} for k, v in sorted(tags.items())]}
