# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Desired state of a Lite Cluster resource pool (lite_pool, lite_pool_info).

Plan first, then mutate: every input check and every high-risk refusal happens before the first
mutating call, so a refused run changes nothing, and check mode reports the same plan.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import MAX_POOL_NODES
from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools as api
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    NotFoundError,
    PreconditionError,
    ValidationError,
)

POOL_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{2,30}[a-z0-9]$")
NODE_POOL_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,48}[a-z0-9]$")
# Phases in which the service accepts a change; others are waited out or refused.
SETTLED_PHASES = ("Running",)
FAILED_PHASES = ("Abnormal", "Error", "CreationFailed", "ScalingFailed")
CREATE_REQUIRED = ("vpc_id", "subnet_id", "clusters", "user_login", "node_pools")


# ----------------------------------------------------------------------------------------------
# Input checks that need no API call
# ----------------------------------------------------------------------------------------------
def validate_pool_name(name):
    if not POOL_NAME_RE.match(name or ""):
        raise ValidationError(
            "name %r is not a valid pool name: use 4 to 32 lowercase letters, digits and hyphens, "
            "starting with a letter and ending with a letter or digit." % name, option="name")


def validate_node_pools(node_pools):
    seen = set()
    for entry in node_pools or []:
        name = entry["name"]
        if not NODE_POOL_NAME_RE.match(name) or name.endswith(api.DEFAULT_NODE_POOL_SUFFIX):
            raise ValidationError(
                "node pool name %r is not valid: use 2 to 50 lowercase letters, digits and hyphens, "
                "starting with a letter, not ending with '-' or %r." % (name, api.DEFAULT_NODE_POOL_SUFFIX),
                option="node_pools")
        if name in seen:
            raise ValidationError("node pool %r is listed twice in node_pools." % name, option="node_pools")
        seen.add(name)
        if entry.get("state", "present") == "present" and entry["count"] < 1:
            raise ValidationError(
                "node pool %r: count %d is below 1. A node pool keeps at least one node; to remove "
                "it, set its state to absent (with allow_scale_down)." % (name, entry["count"]),
                option="node_pools")
        for key, value in (entry.get("labels") or {}).items():
            if not isinstance(value, str):
                raise ValidationError("node pool %r: label %r must have a string value, not %r."
                                      % (name, key, value), option="node_pools")
    check_pool_total([e["count"] for e in node_pools or [] if e.get("state", "present") == "present"])


def check_pool_total(counts):
    total = sum(counts)
    if total > MAX_POOL_NODES:
        raise ValidationError("the node pools add up to %d nodes; a pool holds at most %d (the largest CCE cluster "
                              "it can run on)." % (total, MAX_POOL_NODES), option="node_pools")


# ----------------------------------------------------------------------------------------------
# The pool as we show it (snake_case, stable), from the API object
# ----------------------------------------------------------------------------------------------
def describe_pool(raw, tags=None):
    """Turn a v2 Pool object into the module's return shape."""
    metadata = raw.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    observed = api.node_counts_by_node_pool(status)
    node_pools = []
    for resource in spec.get("resources") or []:
        name = api.node_pool_of_entry(resource)
        counts = observed.get(name, {})
        node_pools.append({
            "name": name,
            "flavor": resource.get("flavor"),
            "count": resource.get("count"),
            "available": counts.get("available", 0),
            "creating": counts.get("creating", 0),
            "deleting": counts.get("deleting", 0),
            "abnormal": counts.get("abnormal", 0),
            "labels": resource.get("labels") or {},
            "taints": [_taint(t) for t in resource.get("taints") or []],
            "driver_version": (resource.get("driver") or {}).get("version"),
        })
    versions = {np["driver_version"] for np in node_pools}
    network = spec.get("network") or {}
    npu_driver = (status.get("driver") or {}).get("npu") or {}
    return {
        "id": metadata.get("name"),
        "name": labels.get("os.modelarts/name"),
        "description": annotations.get("os.modelarts/description", ""),
        "phase": status.get("phase"),
        "scope": spec.get("scope") or [],
        "vpc_id": network.get("vpcId"),
        "subnet_id": network.get("subnetId"),
        "driver_version": versions.pop() if len(versions) == 1 else None,
        "driver_state": npu_driver.get("state"),
        "node_pools": node_pools,
        "node_count": sum(np["count"] or 0 for np in node_pools),
        "tags": dict(tags or {}),
        "created_at": metadata.get("creationTimestamp"),
        "order_name": labels.get("os.modelarts/order.name"),
    }


def _taint(taint):
    out = {"key": taint.get("key"), "effect": taint.get("effect")}
    if taint.get("value") not in (None, ""):
        out["value"] = taint["value"]
    return out


def _desired_taints(taints):
    return [_taint(t) for t in taints or []]


def _diff_view(pool):
    """What --diff compares: the declared parts, not the moving status counters."""
    if not pool:
        return {}
    # Not the id: the service assigns it, so check mode could not predict it for a new pool.
    view = {k: pool[k] for k in ("name", "description", "scope", "driver_version", "tags", "node_count")}
    view["node_pools"] = [
        {k: np[k] for k in ("name", "flavor", "count", "labels", "taints", "driver_version")}
        for np in pool["node_pools"]
    ]
    return view


# ----------------------------------------------------------------------------------------------
# Plan
# ----------------------------------------------------------------------------------------------
class PoolPlan:
    """The changes needed to reach the desired pool, computed without mutating anything."""

    def __init__(self):
        self.resources = None        # new spec.resources list when it changes, else None
        self.description = None      # new description when it changes
        self.driver_change = False
        self.scale_down = []         # (node pool, from, to) where nodes go away
        self.removed = []            # node pools removed entirely
        self.tags_to_add = {}
        self.tags_to_remove = []
        self.already_absent = []     # node pools marked absent that the pool does not have

    @property
    def patch_body(self):
        body = {}
        if self.description is not None:
            body["metadata"] = {"annotations": {"os.modelarts/description": self.description}}
        if self.resources is not None:
            body["spec"] = {"resources": self.resources}
        return body

    @property
    def changed(self):
        return bool(self.patch_body or self.tags_to_add or self.tags_to_remove)


def plan_update(params, raw, current_tags):
    plan = PoolPlan()
    spec = raw.get("spec") or {}
    current = {api.node_pool_of_entry(r): r for r in spec.get("resources") or []}
    wanted = {e["name"]: e for e in params.get("node_pools") or []}

    # A node pool marked absent that is gone already is a removal done: a rerun converges.
    plan.already_absent = sorted(name for name, entry in wanted.items()
                                 if entry.get("state") == "absent" and name not in current)

    resources = []
    for name, resource in current.items():
        entry = wanted.get(name)
        if entry is None and params["purge_node_pools"]:
            plan.removed.append(name)
            continue
        if entry is not None and entry.get("state") == "absent":
            plan.removed.append(name)
            continue
        new = copy.deepcopy(resource)
        if entry is not None:
            if entry["flavor"] != resource.get("flavor"):
                raise ValidationError(
                    "node pool %r has flavor %s; a node pool's flavor cannot be changed. Add a new "
                    "node pool with flavor %s instead." % (name, resource.get("flavor"), entry["flavor"]),
                    option="node_pools")
            if entry["count"] < (resource.get("count") or 0):
                plan.scale_down.append((name, resource.get("count"), entry["count"]))
            new["count"] = entry["count"]
            if "maxCount" in new:
                new["maxCount"] = entry["count"]
            if new.get("azs"):
                new["azs"] = rebalance_azs(new["azs"], entry["count"])
            if entry.get("labels") is not None:
                new["labels"] = dict(entry["labels"])
            if entry.get("taints") is not None:
                new["taints"] = _desired_taints(entry["taints"])
        if params.get("driver_version") and (new.get("driver") or {}).get("version") != params["driver_version"]:
            new["driver"] = dict(new.get("driver") or {}, version=params["driver_version"])
            plan.driver_change = True
        resources.append(new)

    for name, entry in wanted.items():
        if name in current or entry.get("state") == "absent":
            continue
        resources.append(_new_resource(params, entry))

    if plan.removed and len(resources) == 0:
        raise ValidationError("this change would remove every node pool; a pool keeps at least one. "
                              "Delete the pool with state=absent instead.", option="node_pools")
    if _comparable(resources) != _comparable(list(current.values())):
        check_pool_total([r.get("count") or 0 for r in resources])
        plan.resources = resources

    current_description = ((raw.get("metadata") or {}).get("annotations") or {}).get("os.modelarts/description", "")
    if params.get("description") is not None and params["description"] != current_description:
        plan.description = params["description"]

    if params.get("tags") is not None:
        desired = {str(k): str(v) for k, v in params["tags"].items()}
        plan.tags_to_add = {k: v for k, v in desired.items() if current_tags.get(k) != v}
        if params["purge_tags"]:
            plan.tags_to_remove = sorted(k for k in current_tags if k not in desired)
    return plan


def rebalance_azs(azs, count):
    """Spread a new node count over the node pool's AZs (the service requires the sum to match).

    Growth goes to the smallest AZ, shrinking takes from the largest, one node at a time, so an
    existing split is disturbed as little as possible.
    """
    azs = [dict(az) for az in azs]
    while sum(az["count"] for az in azs) < count:
        min(azs, key=lambda az: az["count"])["count"] += 1
    while sum(az["count"] for az in azs) > count:
        max(azs, key=lambda az: az["count"])["count"] -= 1
    return azs


def _comparable(resources):
    keys = ("flavor", "nodePool", "count", "labels", "taints", "driver")
    return [{k: r.get(k) or None for k in keys} for r in resources]


def _new_resource(params, entry):
    resource = {"flavor": entry["flavor"], "count": entry["count"], "nodePool": entry["name"]}
    if entry.get("labels"):
        resource["labels"] = dict(entry["labels"])
    if entry.get("taints"):
        resource["taints"] = _desired_taints(entry["taints"])
    network = {}
    if params.get("vpc_id"):
        network["vpc"] = params["vpc_id"]
    if params.get("subnet_id"):
        network["subnet"] = params["subnet_id"]
    if params.get("security_group_ids"):
        network["securityGroups"] = list(params["security_group_ids"])
    if network:
        resource["network"] = network
    if params.get("driver_version"):
        resource["driver"] = {"version": params["driver_version"]}
    return resource


def create_body(params):
    labels = {"os.modelarts/name": params["name"], "os.modelarts/workspace.id": "0"}
    annotations = {"os.modelarts/description": params.get("description") or "", "os.modelarts/billing.mode": "0"}
    spec = {
        "type": "Dedicate",
        "scope": list(params["scope"]),
        "resources": [_new_resource(params, e) for e in params["node_pools"] if e.get("state") != "absent"],
        "network": {"vpcId": params["vpc_id"], "subnetId": params["subnet_id"]},
    }
    spec["clusters"] = [{"providerId": cluster} for cluster in params["clusters"]]
    login = params["user_login"]
    spec["userLogin"] = ({"keyPairName": login["key_pair_name"]} if login.get("key_pair_name")
                         else {"password": login["password"]})
    if params.get("driver_version"):
        spec["driver"] = {"npuVersion": params["driver_version"], "updateStrategy": params["driver_update_strategy"]}
    return {"apiVersion": "v2", "kind": "Pool", "metadata": {"labels": labels, "annotations": annotations}, "spec": spec}


def predict(raw, plan, params):
    """The pool as it will be once the plan has run (check mode, and the wait target)."""
    predicted = copy.deepcopy(raw)
    if plan.resources is not None:
        predicted["spec"]["resources"] = copy.deepcopy(plan.resources)
    if plan.description is not None:
        predicted.setdefault("metadata", {}).setdefault("annotations", {})["os.modelarts/description"] = plan.description
    return predicted


# ----------------------------------------------------------------------------------------------
# Catalogue checks (read-only calls, before any mutation)
# ----------------------------------------------------------------------------------------------
def check_catalogue(client, params, new_flavors, driver_flavors):
    """Flavors offered and in stock; the driver version offered and made for the chip of every
    flavor it goes to (``driver_flavors``; empty when the driver does not change)."""
    if new_flavors:
        flavors = api.list_flavors(client)
        for flavor in sorted(new_flavors):
            info = flavors.get(flavor)
            if info is None:
                raise ValidationError(
                    "flavor %r is not offered in region %s. Offered flavors: %s."
                    % (flavor, client.region, ", ".join(sorted(flavors)) or "none"), option="node_pools")
            if info.get("sold_out"):
                raise PreconditionError(
                    "flavor %r is sold out in every availability zone of region %s; pick another "
                    "flavor or retry later." % (flavor, client.region), details={"flavor": flavor})
    if driver_flavors and params.get("driver_version"):
        api.check_npu_driver(client, params["driver_version"], driver_flavors)


# ----------------------------------------------------------------------------------------------
# Waiting
# ----------------------------------------------------------------------------------------------
def settled(raw, expect_driver=None):
    """True when the pool runs and every node pool has exactly its desired nodes, all available."""
    status = raw.get("status") or {}
    if status.get("phase") not in SETTLED_PHASES:
        return False
    counts = api.node_counts_by_node_pool(status)
    for resource in (raw.get("spec") or {}).get("resources") or []:
        name = api.node_pool_of_entry(resource)
        observed = counts.get(name, {})
        if observed.get("creating") or observed.get("deleting"):
            return False
        if observed.get("available", 0) != resource.get("count"):
            return False
    npu = (status.get("driver") or {}).get("npu") or {}
    if expect_driver and npu.get("state") not in (None, "Running"):
        return False
    return True


def failed_reason(raw):
    phase = (raw.get("status") or {}).get("phase")
    if phase in FAILED_PHASES:
        message = (raw.get("status") or {}).get("message") or "no message from the service"
        return "pool phase is %s (%s)" % (phase, message)
    return None


def wait_settled(cloud, pool_id, timeout, expect_driver=None):
    return cloud.wait_for(
        lambda: api.show_pool(cloud, pool_id),
        done=lambda raw: settled(raw, expect_driver),
        failed=failed_reason,
        timeout=timeout,
        describe="pool %s to be Running with every node available" % pool_id,
    )


def wait_gone(cloud, pool_id, timeout):
    def fetch():
        try:
            return api.show_pool(cloud, pool_id)
        except NotFoundError:
            return None
    return cloud.wait_for(fetch, done=lambda raw: raw is None, failed=None, timeout=timeout,
                          describe="pool %s to be deleted" % pool_id)


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------
def ensure_pool(clients, params, check_mode):
    validate_pool_name(params["name"])
    validate_node_pools(params.get("node_pools"))
    cloud = clients.cloud
    raw = api.find_pool(cloud, params["name"])

    if params["state"] == "absent":
        return _ensure_absent(cloud, params, check_mode, raw)
    if raw is None:
        return _ensure_created(cloud, params, check_mode)
    return _ensure_updated(cloud, params, check_mode, raw, clients.warn)


def _ensure_absent(cloud, params, check_mode, raw):
    if raw is None:
        return {"changed": False, "pool": {}, "diff": {"before": {}, "after": {}}}
    tags = api.pool_tags(cloud, raw["metadata"]["name"])
    before = describe_pool(raw, tags)
    if not params["allow_delete"]:
        doomed = ", ".join("%s (%d x %s)" % (np["name"], np["count"] or 0, np["flavor"]) for np in before["node_pools"])
        raise PreconditionError(
            "deleting pool %s would remove %d nodes in node pools %s, and everything running on "
            "them. Set allow_delete=true to confirm." % (before["id"], before["node_count"], doomed or "none"),
            details={"pool": before})
    result = {"changed": True, "pool": {}, "diff": {"before": _diff_view(before), "after": {}}}
    if check_mode:
        return result
    if before["phase"] != "Deleting":
        api.delete_pool(cloud, before["id"])
    if params["wait"]:
        wait_gone(cloud, before["id"], params["wait_timeout"])
    return result


def _ensure_created(cloud, params, check_mode):
    # A pool in a VPC needs its CCE clusters and a node login (Terraform: vpc_id RequiredWith
    # subnet_id, clusters, user_login; docs/api-contract.md, entry create_pool).
    missing = [opt for opt in CREATE_REQUIRED if not params.get(opt)]
    if missing:
        raise ValidationError("pool %s does not exist; creating it needs %s."
                              % (params["name"], ", ".join(missing)), option=missing[0])
    if not [e for e in params["node_pools"] if e.get("state") != "absent"]:
        raise ValidationError("creating pool %s needs at least one node pool that is present." % params["name"],
                              option="node_pools")
    absent = [e["name"] for e in params["node_pools"] if e.get("state") == "absent"]
    if absent:
        raise ValidationError("node pool(s) %s are marked absent but pool %s does not exist yet."
                              % (", ".join(absent), params["name"]), option="node_pools")
    flavors = {e["flavor"] for e in params["node_pools"]}
    check_catalogue(cloud, params, flavors, flavors)

    body = create_body(params)
    tags = {str(k): str(v) for k, v in (params.get("tags") or {}).items()}
    if check_mode:
        predicted = copy.deepcopy(body)
        predicted["metadata"]["name"] = None
        predicted["status"] = {"phase": "Creating"}
        pool = describe_pool(predicted, tags)
        return {"changed": True, "pool": pool, "diff": {"before": {}, "after": _diff_view(pool)}}

    created = api.create_pool(cloud, body)
    pool_id = created["metadata"]["name"]
    if tags:
        api.add_pool_tags(cloud, pool_id, tags)
    if params["wait"]:
        raw = wait_settled(cloud, pool_id, params["wait_timeout"], params.get("driver_version"))
    else:
        raw = api.show_pool(cloud, pool_id)
    pool = describe_pool(raw, tags)
    return {"changed": True, "pool": pool, "diff": {"before": {}, "after": _diff_view(pool)}}


def _ensure_updated(cloud, params, check_mode, raw, warn):
    pool_id = raw["metadata"]["name"]
    current_tags = api.pool_tags(cloud, pool_id)
    before = describe_pool(raw, current_tags)
    plan = plan_update(params, raw, current_tags)
    if plan.already_absent:
        warn("pool %s has no node pool %s; marked absent, it counts as removed already."
             % (pool_id, ", ".join(plan.already_absent)))

    if plan.scale_down or plan.removed:
        if not params["allow_scale_down"]:
            what = ["%s from %d to %d nodes" % step for step in plan.scale_down]
            what += ["remove node pool %s" % name for name in plan.removed]
            raise PreconditionError(
                "this change scales pool %s down (%s); pods on the removed nodes are killed. Drain "
                "the nodes first (modelarts.lite.lite_node), then set allow_scale_down=true."
                % (pool_id, "; ".join(what)), details={"scale_down": what})
    if plan.driver_change and not params["allow_driver_upgrade"]:
        raise PreconditionError(
            "this change upgrades the NPU driver of every node in pool %s to %s, which restarts them. "
            "Set allow_driver_upgrade=true, or roll it node by node with the "
            "modelarts.lite.rolling_driver_upgrade role." % (pool_id, params["driver_version"]),
            details={"driver_version": params["driver_version"]})

    new_flavors = {r["flavor"] for r in plan.resources or [] if r.get("nodePool") not in
                   {x.get("nodePool") for x in (raw.get("spec") or {}).get("resources") or []}}
    driver_flavors = {r["flavor"] for r in plan.resources or [] if (r.get("driver") or {}).get("version")
                      == params.get("driver_version")} if plan.driver_change or new_flavors else set()
    check_catalogue(cloud, params, new_flavors, driver_flavors)

    if plan.patch_body and before["phase"] not in SETTLED_PHASES:
        if before["phase"] in FAILED_PHASES:
            raise PreconditionError(
                "pool %s is %s; it cannot be changed until the service repairs it. Check its events "
                "in the console." % (pool_id, before["phase"]), details={"pool": before})

    after_tags = dict(current_tags)
    after_tags.update(plan.tags_to_add)
    for key in plan.tags_to_remove:
        after_tags.pop(key, None)
    predicted = describe_pool(predict(raw, plan, params), after_tags)
    diff = {"before": _diff_view(before), "after": _diff_view(predicted)}

    if not plan.changed:
        return {"changed": False, "pool": before, "diff": diff}
    if check_mode:
        return {"changed": True, "pool": predicted, "diff": diff}

    if plan.patch_body:
        if before["phase"] not in SETTLED_PHASES and params["wait"]:
            wait_settled(cloud, pool_id, params["wait_timeout"])
        api.patch_pool(cloud, pool_id, plan.patch_body)
    if plan.tags_to_remove:
        api.remove_pool_tags(cloud, pool_id, plan.tags_to_remove)
    if plan.tags_to_add:
        api.add_pool_tags(cloud, pool_id, plan.tags_to_add)
    if params["wait"]:
        raw = wait_settled(cloud, pool_id, params["wait_timeout"],
                           params.get("driver_version") if plan.driver_change else None)
    else:
        raw = api.show_pool(cloud, pool_id)
    return {"changed": True, "pool": describe_pool(raw, after_tags), "diff": diff}


def pool_info(clients, params, check_mode):
    """lite_pool_info: every pool, or the one named, with an optional node pool filter."""
    client = clients.cloud
    if params.get("name"):
        raw = api.find_pool(client, params["name"])
        raws = [raw] if raw else []
    else:
        raws = api.list_pools(client)
    pools = [describe_pool(raw, api.pool_tags(client, raw["metadata"]["name"])) for raw in raws]
    node_pool = params.get("node_pool")
    if node_pool:
        for pool in pools:
            names = [np["name"] for np in pool["node_pools"]]
            if node_pool not in names:
                raise ValidationError("pool %s has no node pool %r (it has: %s)."
                                      % (pool["name"], node_pool, ", ".join(names)), option="node_pool")
            pool["node_pools"] = [np for np in pool["node_pools"] if np["name"] == node_pool]
    return {"changed": False, "pools": pools}
