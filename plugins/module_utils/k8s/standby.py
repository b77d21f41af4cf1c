# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Hot standby of Lite Cluster nodes, the vendor's Kubernetes procedure: standby nodes carry a taint
that keeps work off them; on a failure the faulty node is tainted and a standby's taint removed.

``plan()`` is a pure function of the Nodes and the request: it says which patches to send, in which
order, and refuses (PreconditionError) a failover that would leave fewer schedulable nodes than
before. The order itself keeps that promise at every moment: the standby is promoted first, the
faulty node is fenced after.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes

# The vendor's procedure names no keys: these are the collection's own (one place, k8s/labels.py).
STANDBY = L.STANDBY_TAINT
FAULTY = L.FAULTY_TAINT
OURS = (STANDBY, FAULTY)


def _taints(node):
    return (node.get("spec") or {}).get("taints") or []


def has_taint(node, key):
    return any(t.get("key") == key for t in _taints(node))


def schedulable(node):
    """Takes new work: Ready, not cordoned, neither standby nor fenced as faulty."""
    return knodes.is_ready(node) and not knodes.is_cordoned(node) and not any(has_taint(node, k) for k in OURS)


def role(node):
    if has_taint(node, FAULTY):
        return "faulty"
    if has_taint(node, STANDBY):
        return "standby"
    return "active"


def _without_ours(node, *keys):
    return [t for t in _taints(node) if t.get("key") not in keys]


def standby_patch(node):
    """Declare standby: our standby taint on, our faulty fence (and its note) off."""
    taints = _without_ours(node, *OURS) + [{"key": STANDBY, "value": "true", "effect": "NoSchedule"}]
    return {"metadata": {"annotations": {L.REPLACED_BY: None, L.STANDBY_REPLACES: None}},
            "spec": {"taints": taints}}


def promote_patch(node, failed):
    return {"metadata": {"annotations": {L.STANDBY_REPLACES: failed}}, "spec": {"taints": _without_ours(node, STANDBY)}}


def fence_patch(node, replacement):
    taints = _without_ours(node, *OURS) + [{"key": FAULTY, "value": "true", "effect": "NoSchedule"}]
    return {"metadata": {"annotations": {L.REPLACED_BY: replacement}}, "spec": {"taints": taints}}


def plan(nodes, standby=(), failed=None, replacement=None):
    """-> {"steps": [(node name, what, patch)], "failover": {...} or None} for Nodes by name.

    ``standby``: node names to declare standby. ``failed``: the faulty node to fail over from;
    ``replacement``: the standby to promote (default: the first Ready standby by name)."""
    for name in list(standby) + [n for n in (failed, replacement) if n]:
        if name not in nodes:
            raise ValidationError("the cluster has no node %r." % name, option="standby_nodes")
    if failed and failed in standby:
        raise ValidationError("node %s cannot be both the failed node and a standby." % failed, option="failed_node")
    steps = []
    for name in sorted(set(standby)):
        node = nodes[name]
        if role(node) != "standby":
            steps.append((name, "declare_standby", standby_patch(node)))
    failover = None
    if failed:
        failover = _failover(nodes, set(standby), failed, replacement, steps)
    return {"steps": steps, "failover": failover}


def _failover(nodes, declared, failed, replacement, steps):
    before = sum(1 for n in nodes.values() if schedulable(n))
    node = nodes[failed]
    done_by = knodes.annotations_of(node).get(L.REPLACED_BY)
    if role(node) == "faulty" and done_by:
        # An earlier run did it: nothing to send, the same report.
        return {"failed": failed, "replacement": done_by, "schedulable_before": before,
                "schedulable_after": before, "done_before": True}
    if replacement:
        candidates = [replacement]
        if role(nodes[replacement]) != "standby" or not knodes.is_ready(nodes[replacement]) \
                or knodes.is_cordoned(nodes[replacement]):
            raise PreconditionError(
                "replacement %s is not a Ready, uncordoned standby node (it is %s%s); a failover to it would not add "
                "a schedulable node." % (replacement, role(nodes[replacement]),
                                         "" if knodes.is_ready(nodes[replacement]) else ", NotReady"),
                details={"replacement": replacement})
    else:
        candidates = sorted(name for name, n in nodes.items() if name != failed and name not in declared
                            and role(n) == "standby" and knodes.is_ready(n) and not knodes.is_cordoned(n))
    if not candidates:
        raise PreconditionError(
            "no Ready standby node to take over from %s: failing over now would leave fewer schedulable nodes "
            "(%d now). Declare a standby node first (standby_nodes), or repair %s." % (failed, before, failed),
            details={"schedulable": before})
    chosen = candidates[0]
    after = before + 1 - (1 if schedulable(node) else 0)
    if after < before:  # kept as a guard: the plan must never shrink the schedulable set
        raise PreconditionError("failover would leave %d schedulable nodes, fewer than %d." % (after, before),
                                details={"schedulable": before})
    steps.append((chosen, "promote_standby", promote_patch(nodes[chosen], failed)))
    steps.append((failed, "fence_faulty", fence_patch(node, chosen)))
    return {"failed": failed, "replacement": chosen, "schedulable_before": before, "schedulable_after": after,
            "done_before": False}


def describe(nodes):
    """{node name: role} and the schedulable count, for the module's report."""
    return {"roles": {name: role(n) for name, n in sorted(nodes.items())},
            "schedulable": sum(1 for n in nodes.values() if schedulable(n))}
