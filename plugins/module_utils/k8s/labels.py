# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Kubernetes keys a Lite Cluster node carries, and the ones this collection writes.

The simulator keeps its own copy in simulator/modelarts_sim/kube/labels.py (docs/development.md,
"Kubernetes"); the two must agree.
"""

from __future__ import annotations

# ModelArts node labels mirrored onto the Node.
NODE_POOL = "os.modelarts.node/nodepool"
NODE_POOL_NAME = "os.modelarts.node/nodepoolname"
# The servers of one super node (shared HCCS links) carry the same values of both.
SUPER_NODE_ID = "os.modelarts.node/spod.id"
SUPER_NODE_BATCH = "os.modelarts.node/batch.uid"
# Pod labels naming the gang-scheduled job a pod belongs to (Volcano's job, then its PodGroup).
VOLCANO_JOB_NAME = "volcano.sh/job-name"
POD_GROUP = "scheduling.k8s.io/group-name"
JOB_LABELS = (VOLCANO_JOB_NAME, POD_GROUP)
# NPU firmware/driver version "<firmware>-<driver>", e.g. 7.5.0.5.220-24.1.0.3.
DRIVER_VERSION = "os.modelarts.node/npu.firmware.driver.version"
# Extended resources the Ascend device plugin advertises (910B/910C class first).
NPU_RESOURCES = ("huawei.com/ascend-1980", "huawei.com/ascend-snt9", "huawei.com/ascend-snt3", "huawei.com/ascend-310")

# Taints the control plane manages (this prefix); never written or purged by us.
CONTROL_PLANE_TAINT_PREFIX = "node.kubernetes.io/"
TAINT_UNSCHEDULABLE = CONTROL_PLANE_TAINT_PREFIX + "unschedulable"
TAINT_NOT_READY = CONTROL_PLANE_TAINT_PREFIX + "not-ready"

# kubectl's mirror pod annotation (static pods shown by the kubelet).
MIRROR_POD = "kubernetes.io/config.mirror"

# Ownership of a cordon: set in the same write that cordons, removed in the same write that
# uncordons. A cordon without it belongs to somebody else and is never undone by us.
CORDONED_BY = "modelarts.lite/cordoned-by"
CORDON_REASON = "modelarts.lite/cordon-reason"
CORDONED_AT = "modelarts.lite/cordoned-at"
OWNERSHIP_ANNOTATIONS = (CORDONED_BY, CORDON_REASON, CORDONED_AT)
DEFAULT_OWNER = "modelarts.lite"

# The rolling driver upgrade's per-node state (ensure/rollout/ writes them): the phase as a
# label, and as an annotation the JSON record {run, target, phase, from, reason, updated}.
DRIVER_UPGRADE_STATE = "modelarts.lite/driver-upgrade-state"
DRIVER_UPGRADE = "modelarts.lite/driver-upgrade"
# NoSchedule taint on the waiting nodes of a launch group whose first node has been drained: the
# interrupted job must not restart (nor a new job land) before the group's last node is upgraded.
QUEUED_TAINT = "modelarts.lite/driver-upgrade-queued"

# Label and taint keys that belong to Kubernetes, CCE or ModelArts: never purged by purge_labels /
# purge_taints, and refused as user input.
SYSTEM_KEY_PREFIXES = (
    "kubernetes.io/", "k8s.io/", "os.modelarts", "cce.kubectl.kubernetes.io/", "accelerator/",
    "modelarts.lite/",
)


def is_system_key(key):
    """True for keys owned by Kubernetes/CCE/ModelArts (any domain ending in kubernetes.io or k8s.io too)."""
    if key.startswith(SYSTEM_KEY_PREFIXES):
        return True
    prefix = key.split("/", 1)[0] if "/" in key else ""
    return prefix.endswith((".kubernetes.io", ".k8s.io"))


# Hot standby (k8s/standby.py). The vendor's procedure taints standby nodes and fences a faulty one
# with a taint but names no keys; these are ours. Both NoSchedule: running pods are not evicted.
STANDBY_TAINT = "modelarts.lite/hot-standby"
FAULTY_TAINT = "modelarts.lite/faulty"
# Set on the promoted standby (the node it replaces) and on the fenced node (its replacement).
STANDBY_REPLACES = "modelarts.lite/standby-replaces"
REPLACED_BY = "modelarts.lite/replaced-by"
