# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The per-node state machine of a rollout: phases, the table of allowed transitions, the one
function that changes a phase, and ``classify``, which reads from the cluster where a node stands
when a run starts (so a rerun resumes).

::

    pending -> cordoned (drain) -> upgrading -> verifying [-> smoke] -> done
                     |  \\               \\              \\         \\
                     |   `---------------`--------------`---------`--> failed (stays cordoned)
                     `-----------------`--------------`---------`--> parked (the run stopped with the
                                                                      node in flight; stays cordoned)

``skipped`` and ``already`` are where ``classify`` may leave a node; nothing moves from them.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import compat
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes

PENDING, CORDONED, UPGRADING, VERIFYING, SMOKE = "pending", "cordoned", "upgrading", "verifying", "smoke"
DONE, FAILED, SKIPPED, ALREADY, PARKED = "done", "failed", "skipped", "already", "parked"
IN_FLIGHT = (CORDONED, UPGRADING, VERIFYING, SMOKE)

# How a run ends.
SUCCEEDED = "succeeded"
# Every node handled, some failed within max_failed_nodes (left cordoned): never a plain success.
SUCCEEDED_WITH_FAILURES = "succeeded_with_failures"
RUN_FAILED = "failed"
PAUSED_CANARY = "paused_after_canary"
PAUSED_WINDOW = "paused_window_closed"
BLOCKED = "blocked"
STOPPED = "stopped"          # stop_requested() said so: nothing new started; in-flight nodes finished or parked

# (from, to) -> what the move means. Every phase change goes through transition(); anything not
# in this table is a bug and raises TransitionRefused.
TRANSITIONS = {
    (PENDING, CORDONED): "cordoned with the run's state; its drain starts",
    (CORDONED, UPGRADING): "drained; the batch-update call started the driver upgrade",
    (CORDONED, FAILED): "the drain was refused or ran out of time, or ModelArts refused the upgrade",
    (CORDONED, PARKED): "the run stopped before its upgrade started; it stays cordoned and a rerun resumes it",
    (UPGRADING, PARKED): "the run stopped (its controller is gone) while ModelArts upgrades it; it stays cordoned "
                         "and a rerun waits for the upgrade, verifies and uncordons it",
    (VERIFYING, PARKED): "the run stopped (its controller is gone) while waiting for it; a rerun verifies it",
    (SMOKE, PARKED): "the run stopped (its controller is gone) during its smoke check, which was ended; a rerun "
                     "verifies it and runs the check again",
    (UPGRADING, VERIFYING): "Kubernetes or ModelArts shows the new driver; waiting for both",
    (UPGRADING, FAILED): "ModelArts reports the upgrade failed, or node_timeout ran out",
    (VERIFYING, SMOKE): "Ready with the new driver and its NPUs; the smoke command runs",
    (VERIFYING, DONE): "Ready with the new driver and its NPUs; uncordoned",
    (VERIFYING, FAILED): "ModelArts reports a failure, node_timeout ran out, or the smoke check could not start",
    (SMOKE, DONE): "the smoke check passed; uncordoned",
    (SMOKE, FAILED): "the smoke check failed or timed out",
}

# The ModelArts driver phases of an upgrade that is under way.
BUSY_DRIVER_PHASES = ("Pending", "Updating")
# The cordon owner of a rollout: rolling-driver-upgrade/<run id>.
OWNER_PREFIX = "rolling-driver-upgrade/"


class TransitionRefused(Exception):
    """A phase change the table does not allow: a bug in the engine, never an operator's error."""


class Track:
    """One selected node and where it is in the rollout."""

    def __init__(self, record, kube_node, target):
        self.record = record
        self.name = record["metadata"]["name"]
        self.kube_name = (record.get("status") or {}).get("privateIp")
        self.node_pool = api.node_pool_of_node(record) or knodes.labels_of(kube_node or {}).get(L.NODE_POOL_NAME)
        self.flavor = (record.get("spec") or {}).get("flavor")
        self.before = cloud_driver(record).get("version") or knodes.driver_version(kube_node or {})
        self.after = None
        self.target = target
        self.phase = PENDING
        self.reason = None
        self.canary = False
        self.resumed = False
        self.group = None            # index of its launch group (job-aware runs, groups.py)
        self.held = False            # carries the queued taint (its group has started)
        self.started = None          # wall clock, for the report
        self.ended = None
        self.launched_at = None      # monotonic, for durations and timeouts
        self.upgrade_started = None
        self.cloud_confirmed = False
        self.drain = None
        self.evicted = []
        self.smoke = None


def transition(track, phase, emit, message, reason=None):
    """Move ``track`` to ``phase`` (it must be in TRANSITIONS) and write the journal event."""
    if (track.phase, phase) not in TRANSITIONS:
        raise TransitionRefused("node %s cannot go from %s to %s" % (track.name, track.phase, phase))
    track.phase = phase
    if reason:
        track.reason = reason
    emit("node", message, track)


# ----------------------------------------------------------------------------------------------
# Facts the machine reads
# ----------------------------------------------------------------------------------------------
def cloud_driver(record):
    return ((record or {}).get("status") or {}).get("driver") or {}


def cloud_upgraded(record, target):
    status = (record or {}).get("status") or {}
    driver = cloud_driver(record)
    return (status.get("phase") == "Available" and driver.get("phase") == "Running"
            and compat.norm(driver.get("version")) == compat.norm(target))


def cloud_failure(record):
    """Why ModelArts says the upgrade failed, or None."""
    if record is None:
        return "the node disappeared from the pool"
    status = record.get("status") or {}
    if status.get("phase") == "Abnormal" or cloud_driver(record).get("phase") == "Abnormal":
        return "ModelArts reports the node %s/driver %s: %s" % (
            status.get("phase"), cloud_driver(record).get("phase"), status.get("message") or "no message")
    return None


def kube_upgraded(node, target):
    """The Node reports the new driver: Ready, every NPU allocatable, driver label at the target
    (when the node carries the label at all)."""
    if node is None or not knodes.is_ready(node):
        return False
    capacity, allocatable = knodes.npu_counts(node)
    if allocatable < capacity:
        return False
    label = knodes.driver_version(node)
    return label is None or compat.norm(label) == compat.norm(target)


def cordoned_by_rollout(node):
    return knodes.is_cordoned(node) and str(knodes.cordon_owner(node) or "").startswith(OWNER_PREFIX)


def foreign_cordon(node):
    """Why a node cordoned by other hands is skipped, naming them: lite_node (which writes the collection's
    default owner), another owner named in the annotation, or somebody outside this collection."""
    owner = knodes.cordon_owner(node)
    reason = knodes.annotations_of(node).get(L.CORDON_REASON)
    if owner == L.DEFAULT_OWNER:
        return "cordoned with modelarts.lite.lite_node%s, not by a rollout; it is left alone until lite_node " \
            "uncordons it" % (" (reason: %s)" % reason if reason else "")
    if owner:
        return "cordoned by %s, not by a rollout; it is left alone" % owner
    return "cordoned by somebody else (no %s annotation); it is left alone" % L.CORDONED_BY


# ----------------------------------------------------------------------------------------------
# Where a node stands when a run starts
# ----------------------------------------------------------------------------------------------
def classify(track, node, pods, pdbs, config, now):
    """Set the starting phase of ``track`` from the cluster itself: its Node, our record on it, the
    ModelArts driver phase and version, and (for a pending node) whether its pods can be drained.
    This is the machine's entry, not a transition: no journal event."""
    record = track.record
    status = record.get("status") or {}
    driver = cloud_driver(record)
    at_target = compat.norm(driver.get("version")) == compat.norm(config.target)
    state = knodes.driver_upgrade_record(node)
    ours = state is not None and compat.norm(state.get("target")) == compat.norm(config.target)
    track.resumed = ours
    if ours and state.get("from"):
        track.before = state["from"]
    if node is None:
        return _skip(track, "no Kubernetes node %s (not joined yet)" % track.kube_name)
    if not driver:
        return _skip(track, "the node has no NPU driver")
    if ours and state.get("phase") == FAILED and not config.retry_failed:
        track.phase, track.reason = FAILED, "failed in run %s: %s (set retry_failed=true to retry)" % (
            state.get("run"), state.get("reason") or "no reason recorded")
        return None
    if driver.get("phase") in BUSY_DRIVER_PHASES and ours:
        track.phase = UPGRADING
        track.launched_at = track.upgrade_started = now
        return None
    if at_target:
        track.after = driver.get("version")
        if cordoned_by_rollout(node):
            track.phase = VERIFYING      # upgraded but still cordoned by a rollout: verify, uncordon
            track.launched_at = now
            return None
        track.phase = ALREADY
        track.reason = "already at %s" % config.target
        return None
    unhealthy = driver.get("phase") == "Abnormal" or status.get("phase") != "Available"
    if unhealthy and cordoned_by_rollout(node):
        # A rollout's earlier failure: report it again (never a silent skip of a node we cordoned).
        track.phase, track.reason = FAILED, (
            "left cordoned by %s: ModelArts shows the node %s with driver %s; repair it, then rerun"
            % (knodes.cordon_owner(node), status.get("phase"), driver.get("phase")))
        return None
    if unhealthy:
        return _skip(track, "ModelArts shows the node %s with driver %s" % (status.get("phase"), driver.get("phase")))
    if driver.get("phase") in BUSY_DRIVER_PHASES:
        return _skip(track, "a driver operation not started by a rollout is running on it")
    if knodes.is_cordoned(node) and not cordoned_by_rollout(node):
        return _skip(track, foreign_cordon(node))
    if cordoned_by_rollout(node):
        track.phase = CORDONED           # cordoned by a rollout, not upgraded: drain again, upgrade
        track.launched_at = now
        return None
    if not knodes.is_ready(node):
        return _skip(track, "node is NotReady")
    plan = kdrain.plan_drain(pods, pdbs, config.force, config.delete_emptydir_data)
    if plan[kdrain.REFUSE]:
        return _skip(track, kdrain.refusal_summary(track.kube_name, plan[kdrain.REFUSE]))
    track.phase = PENDING
    return None


def _skip(track, reason):
    track.phase, track.reason = SKIPPED, reason
