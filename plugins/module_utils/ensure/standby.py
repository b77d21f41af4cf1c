# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Hot standby of Lite Cluster nodes (lite_standby): declare standby nodes, fail over from a faulty one.

The plan is k8s/standby.py's (pure); this file resolves node names (ModelArts name or private IP,
which is the Kubernetes Node name), sends the planned patches in order, and reports.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools as api
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import standby as kstandby


def ensure_standby(clients, params, check_mode):
    standby = params.get("standby_nodes") or []
    failed = params.get("failed_node")
    if not standby and not failed:
        raise ValidationError("give standby_nodes, failed_node, or both.", option="standby_nodes")
    if params.get("replacement") and not failed:
        raise ValidationError("replacement only applies to a failover (failed_node).", option="replacement")
    pool_id = clients.pool_id
    records = api.list_nodes(clients.cloud, pool_id)
    names = {api.private_ip(r): r["metadata"]["name"] for r in records}

    def kube_names(wanted, option):
        return [api.private_ip(r) for r in api.nodes_by_name_or_ip(records, wanted, pool_id, option=option)]

    standby_ips = kube_names(standby, "standby_nodes")
    failed_ip = kube_names([failed], "failed_node")[0] if failed else None
    replacement_ip = kube_names([params["replacement"]], "replacement")[0] if params.get("replacement") else None
    nodes = {n["metadata"]["name"]: n for n in knodes.list_nodes(clients.kube)}
    the_plan = kstandby.plan(nodes, standby_ips, failed_ip, replacement_ip)
    before = kstandby.describe(nodes)
    actions = [{"node": names.get(ip, ip), "kube_name": ip, "action": what} for ip, what, _patch in the_plan["steps"]]
    failover = the_plan["failover"]
    if failover:
        failover = dict(failover, failed=names.get(failover["failed"], failover["failed"]),
                        replacement=names.get(failover["replacement"], failover["replacement"]))
    changed = bool(the_plan["steps"])
    if not check_mode:
        for ip, _what, patch in the_plan["steps"]:
            nodes[ip] = knodes.patch_node(clients.kube, ip, patch)
    after = kstandby.describe(nodes) if not check_mode else _predicted(nodes, the_plan["steps"])
    return {"changed": changed, "actions": actions, "failover": failover or {},
            "roles": {names.get(ip, ip): role for ip, role in after["roles"].items()},
            "schedulable_before": before["schedulable"], "schedulable_after": after["schedulable"],
            "diff": {"before": {names.get(ip, ip): r for ip, r in before["roles"].items()},
                     "after": {names.get(ip, ip): r for ip, r in after["roles"].items()}}}


def _predicted(nodes, steps):
    predicted = dict(nodes)
    for ip, _what, patch in steps:
        node = dict(predicted[ip])
        node["spec"] = dict(node.get("spec") or {}, taints=patch["spec"]["taints"])
        predicted[ip] = node
    return kstandby.describe(predicted)
