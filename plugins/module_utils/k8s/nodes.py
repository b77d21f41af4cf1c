# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Node reads and writes: summary, health, cordon ownership, labels and taints.

Pure functions build the patches (unit-tested without a cluster); ``cordon``/``uncordon`` send
them with the node's resourceVersion so a concurrent change (an operator's cordon) is never
overwritten or mistaken for ours: on a conflict we re-read and decide again.
"""

from __future__ import annotations

import json

from ansible_collections.modelarts.lite.plugins.module_utils import times
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeConflictError, kube_path

NODES = "/api/v1/nodes"
CONFLICT_RETRIES = 3


def node_path(name):
    return NODES + kube_path(name)


def get_node(kube, name):
    return kube.get(node_path(name))


def list_nodes(kube, label_selector=None):
    return kube.list_items(NODES, {"labelSelector": label_selector} if label_selector else None)


# -- reading ---------------------------------------------------------------------------------------

def _metadata(node):
    return node.get("metadata") or {}


def annotations_of(node):
    return _metadata(node).get("annotations") or {}


def labels_of(node):
    return _metadata(node).get("labels") or {}


def is_ready(node):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def boot_id(node):
    """The kubelet's boot ID (status.nodeInfo.bootID): it changes on every boot of the machine."""
    return ((((node or {}).get("status") or {}).get("nodeInfo") or {}).get("bootID")) or None


def is_cordoned(node):
    return bool((node.get("spec") or {}).get("unschedulable"))


def cordon_owner(node):
    """Who cordoned the node through this collection (our annotation), or None."""
    return annotations_of(node).get(L.CORDONED_BY)


def npu_resource(node):
    status = node.get("status") or {}
    for key in L.NPU_RESOURCES:
        if key in (status.get("capacity") or {}):
            return key
    return None


def _count(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def npu_counts(node):
    """(capacity, allocatable) NPUs, (0, 0) for nodes without NPUs."""
    key = npu_resource(node)
    if key is None:
        return 0, 0
    status = node.get("status") or {}
    return _count((status.get("capacity") or {}).get(key)), _count((status.get("allocatable") or {}).get(key))


def driver_version(node):
    return labels_of(node).get(L.DRIVER_VERSION)


def health(node, expect_driver=None):
    """(healthy, reason): Ready, every NPU allocatable, and the driver label at ``expect_driver``."""
    if not is_ready(node):
        return False, "node is not Ready"
    capacity, allocatable = npu_counts(node)
    if allocatable < capacity:
        return False, "only %d of %d NPUs are allocatable" % (allocatable, capacity)
    if expect_driver and driver_version(node) != expect_driver:
        return False, "driver label is %s, not %s" % (driver_version(node) or "unset", expect_driver)
    return True, "healthy"


def is_control_plane_taint(taint):
    """Cordon, not-ready, ...: the control plane manages these taints, never us."""
    return taint.get("key", "").startswith(L.CONTROL_PLANE_TAINT_PREFIX)


def user_taints(node):
    """The node's taints without the control plane's own."""
    return [t for t in (node.get("spec") or {}).get("taints") or [] if not is_control_plane_taint(t)]


def user_labels(node):
    """The labels users and node pools set, without the system ones (Kubernetes, CCE, ModelArts, ours)."""
    return {key: value for key, value in labels_of(node).items() if not L.is_system_key(key)}


def driver_upgrade_record(node):
    """The rolling driver upgrade's record on the Node ({run, target, phase, from, reason, updated}),
    or None when it has none or it is not a JSON object."""
    text = annotations_of(node or {}).get(L.DRIVER_UPGRADE)
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def driver_upgrade(node):
    """driver_upgrade_record(), or ``{"phase": <label>}`` when only the label is readable, or None."""
    record = driver_upgrade_record(node)
    if record is not None:
        return record
    phase = labels_of(node).get(L.DRIVER_UPGRADE_STATE)
    return {"phase": phase} if phase else None


def summary(node):
    """The modules' view of a Node (snake_case, stable). ``labels`` are the user labels (what
    lite_node sets), the same in lite_node and lite_node_info."""
    capacity, allocatable = npu_counts(node)
    labels = labels_of(node)
    owner = cordon_owner(node)
    annotations = annotations_of(node)
    return {
        "kube_name": _metadata(node).get("name"),
        "ready": is_ready(node),
        "schedulable": not is_cordoned(node),
        "cordoned_by": (owner if owner else "other") if is_cordoned(node) else None,
        "cordon_reason": annotations.get(L.CORDON_REASON) if owner else None,
        "driver_version": driver_version(node),
        "npu_capacity": capacity,
        "npu_allocatable": allocatable,
        "node_pool": labels.get(L.NODE_POOL_NAME),
        "labels": user_labels(node),
        "taints": [taint_view(t) for t in user_taints(node)],
    }


def not_joined_summary():
    """summary()'s Kubernetes facts for a node that has no Node yet: not ready, nothing schedulable,
    NPUs unknown (same keys, so templates can filter on them)."""
    return {"ready": False, "schedulable": False, "cordoned_by": None, "cordon_reason": None,
            "npu_capacity": None, "npu_allocatable": None, "labels": {}, "taints": []}


def taint_view(taint):
    view = {"key": taint.get("key"), "effect": taint.get("effect")}
    if taint.get("value") not in (None, ""):
        view["value"] = taint["value"]
    return view


# -- patches (pure) --------------------------------------------------------------------------------

def cordon_patch(node, owner=L.DEFAULT_OWNER, reason="", when=None):
    """The patch that cordons ``node`` and records that we did, or None when already cordoned.

    A node somebody else cordoned stays theirs: no patch, so no ownership claim."""
    if is_cordoned(node):
        return None
    return {"metadata": {"resourceVersion": _metadata(node).get("resourceVersion"),
                         "annotations": {L.CORDONED_BY: owner or L.DEFAULT_OWNER,
                                         L.CORDON_REASON: reason or "cordoned",
                                         L.CORDONED_AT: when or times.iso_now()}},
            "spec": {"unschedulable": True}}


def uncordon_patch(node, release_foreign=False):
    """The patch that makes ``node`` schedulable, or None.

    Only a cordon carrying our annotation is undone (unless ``release_foreign``). A stale annotation
    on a schedulable node (somebody uncordoned it by hand) is removed."""
    ours = cordon_owner(node) is not None
    if is_cordoned(node) and not ours and not release_foreign:
        return None
    if not is_cordoned(node) and not ours:
        return None
    patch = {"metadata": {"resourceVersion": _metadata(node).get("resourceVersion")}}
    if ours:
        patch["metadata"]["annotations"] = {key: None for key in L.OWNERSHIP_ANNOTATIONS}
    if is_cordoned(node):
        patch["spec"] = {"unschedulable": None}
    return patch


def labels_patch(node, wanted, purge=False, protected=()):
    """Merge-patch body for labels (``wanted`` values None remove a key), or None when nothing changes.

    ``purge`` removes other labels except system keys and ``protected`` ones (node pool labels)."""
    current = labels_of(node)
    changes = {}
    for key, value in (wanted or {}).items():
        if value is None:
            if key in current:
                changes[key] = None
        elif current.get(key) != str(value):
            changes[key] = str(value)
    if purge:
        for key in current:
            if key not in (wanted or {}) and not L.is_system_key(key) and key not in protected:
                changes[key] = None
    return changes or None


def desired_taints(node, wanted, purge=False, protected=()):
    """The full new taint list (taints are replaced as a whole), or None when nothing changes.

    Taints are keyed by (key, effect); control-plane taints are always kept, and with ``purge``
    only ``protected`` (node pool) taints survive besides the wanted ones."""
    current = (node.get("spec") or {}).get("taints") or []
    wanted_by_id = {(t["key"], t["effect"]): t for t in wanted or []}
    result = []
    for taint in current:
        ident = (taint.get("key"), taint.get("effect"))
        if ident in wanted_by_id:
            result.append(_with_value(taint, wanted_by_id.pop(ident)))
        elif is_control_plane_taint(taint) or not purge or ident in protected:
            result.append(taint)
    for taint in wanted_by_id.values():
        result.append(_with_value({"key": taint["key"], "effect": taint["effect"]}, taint))
    return None if result == current else result


def _with_value(existing, wanted):
    taint = dict(existing)
    if wanted.get("value") not in (None, ""):
        taint["value"] = wanted["value"]
    else:
        taint.pop("value", None)
    return taint


# -- writing ---------------------------------------------------------------------------------------

def patch_node(kube, name, patch):
    return kube.merge_patch(node_path(name), patch)


def _apply_with_reread(kube, node, build):
    """Send ``build(node)`` guarded by resourceVersion; on a conflict re-read and rebuild."""
    for _attempt in range(CONFLICT_RETRIES):
        patch = build(node)
        if patch is None:
            return node, False
        try:
            return patch_node(kube, node["metadata"]["name"], patch), True
        except KubeConflictError:
            node = get_node(kube, node["metadata"]["name"])
    patch = build(node)
    if patch is None:
        return node, False
    return patch_node(kube, node["metadata"]["name"], patch), True


def cordon(kube, node, owner=L.DEFAULT_OWNER, reason=""):
    """Cordon (claiming ownership) unless already cordoned. Returns (node, changed)."""
    when = times.iso_now()
    return _apply_with_reread(kube, node, lambda n: cordon_patch(n, owner, reason, when))


def uncordon(kube, node, release_foreign=False):
    """Uncordon only our own cordon (or any with ``release_foreign``). Returns (node, changed)."""
    return _apply_with_reread(kube, node, lambda n: uncordon_patch(n, release_foreign))
