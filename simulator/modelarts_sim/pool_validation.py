"""What the simulated ModelArts refuses in a pool or node-pool body (a mixin of Cloud), before
anything changes: names, labels and taints, resources against the flavor catalogue, drivers."""
import json
import re

from . import catalog
from .cloud_base import SCOPES, is_count, bad_request

DISPLAY_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{2,30}[a-z0-9]$")
NODE_POOL_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,48}[a-z0-9]$")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class PoolValidation:
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
        if not is_count(count) or count < 1:
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
