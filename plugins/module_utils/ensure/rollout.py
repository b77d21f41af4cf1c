# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The rolling NPU driver upgrade engine (lite_rollout, role rolling_driver_upgrade).

One loop drives every node through a small state machine::

    pending -> cordoned (drain) -> upgrading -> verifying [-> smoke] -> done
                                \\-> failed (stays cordoned, annotated with why)

A cycle runs every poll interval, and at once when a Kubernetes watch reports a change that
matters (a node's readiness, cordon, driver label or NPUs; a pod deleted while nodes drain): a
freed slot is refilled within milliseconds, not half a poll interval later. Nodes come from the
watch's cache (a list per cycle only while the watch is down), pods are listed only while nodes
drain, and ModelArts nodes only when that can tell something new: a node looks finished in
Kubernetes (Ready again with the new driver label), or a background check for failed upgrades is
due. Nodes start as soon as a slot frees, with no wave barrier, and several nodes drained in the
same cycle share one batch-update call. That keeps ModelArts calls per node small and the wall
time near ceil(N / max_unavailable) x T_node.

The per-node state lives on the Node itself (label ``modelarts.lite/driver-upgrade-state`` and
annotation ``modelarts.lite/driver-upgrade`` with the run id, target, phase and reason). Two writes
per node: one PATCH cordons and marks it, one uncordons and marks it done (a third only on
failure). Between them the ModelArts driver phase and version say how far it got, so a rerun (an
AWX container is gone after a kill) resumes from the cluster: nodes at the target are skipped,
half-done ones repaired. The pool lock is a Lease
(k8s/lease.py). Clock, sleep and wall time are injectable for tests.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure import rollout_compat as compat
from ansible_collections.modelarts.lite.plugins.module_utils.ensure import rollout_window as windows
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    ApiError,
    LiteError,
    PreconditionError,
    RolloutFailedError,
    TransportError,
    ValidationError,
)
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import watch as kwatch
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeConflictError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.lease import LockLostError, PoolLock

STATE_LABEL = L.DRIVER_UPGRADE_STATE
STATE_ANNOTATION = L.DRIVER_UPGRADE
OWNER_PREFIX = "rolling-driver-upgrade/"

PENDING, CORDONED, UPGRADING, VERIFYING, SMOKE = "pending", "cordoned", "upgrading", "verifying", "smoke"
DONE, FAILED, SKIPPED, ALREADY = "done", "failed", "skipped", "already"
IN_FLIGHT = (CORDONED, UPGRADING, VERIFYING, SMOKE)
BUSY_DRIVER_PHASES = ("Pending", "Updating")

# Run outcomes.
SUCCEEDED = "succeeded"
RUN_FAILED = "failed"
PAUSED_CANARY = "paused_after_canary"
PAUSED_WINDOW = "paused_window_closed"
BLOCKED = "blocked"

DEFAULT_NODE_SECONDS = 900.0
# Consecutive poll cycles that may fail on transport errors, throttling or 5xx before the run gives up.
MAX_CYCLE_ERRORS = 10
# Nodes confirmed with one GET each; more at once are confirmed with one list of the pool's nodes.
MAX_NODE_SHOWS = 3
# Node writes sent at once when several nodes change in one cycle.
MAX_PARALLEL_WRITES = 16
# Watch events that arrive together share a cycle: at least this share of the poll interval
# passes between two cycles, however many events come.
MIN_CYCLE_SHARE = 0.1
# Seconds between real node lists while the node watch's cache is in use.
RESYNC_SECONDS = 60.0


# ----------------------------------------------------------------------------------------------
# Small pure helpers
# ----------------------------------------------------------------------------------------------
def parse_budget(value, total, option):
    """A count ("2", 2) or a percentage ("25%") of ``total``; percentages round DOWN, minimum 1."""
    text = str(value if value is not None else "").strip()
    try:
        if text.endswith("%"):
            percent = float(text[:-1])
            if not 0 < percent <= 100:
                raise ValueError
            return max(1, int(math.floor(total * percent / 100.0)))
        count = int(text)
        if count < 1:
            raise ValueError
        return count
    except ValueError:
        raise ValidationError("%s must be a positive count (for example 2) or a percentage (for example 25%%), "
                              "got %r." % (option, value), option=option) from None


def order_key(name, target):
    """Deterministic, target-dependent order: reruns pick the same next nodes; node pools interleave."""
    return hashlib.sha256(("%s|%s" % (name, target)).encode("utf-8")).hexdigest()


def state_of(node):
    """Our per-node record on the Node (dict) or None."""
    return knodes.driver_upgrade_record(node)


def cordoned_by_rollout(node):
    return knodes.is_cordoned(node) and str(knodes.cordon_owner(node) or "").startswith(OWNER_PREFIX)


def unavailable(node):
    """Cordoned or NotReady, whoever caused it (the budget counts every such node)."""
    return knodes.is_cordoned(node) or not knodes.is_ready(node)


def npus_back(node):
    capacity, allocatable = knodes.npu_counts(node)
    return allocatable >= capacity


def kube_upgraded(node, target):
    """The Node reports the new driver: Ready, every NPU allocatable, driver label at the target
    (when the node carries the label at all)."""
    if node is None or not knodes.is_ready(node) or not npus_back(node):
        return False
    label = knodes.driver_version(node)
    return label is None or compat.norm(label) == compat.norm(target)


def node_view(node):
    """What the engine decides on: readiness, cordon, driver label, NPUs, our state label. Heartbeat
    and other status updates leave it unchanged, so they do not wake the loop."""
    return (knodes.is_ready(node), knodes.is_cordoned(node), knodes.driver_version(node), knodes.npu_counts(node),
            knodes.labels_of(node).get(STATE_LABEL))


def node_event_matters(event_type, old, new):
    return event_type != "MODIFIED" or old is None or node_view(old) != node_view(new)


def pod_event_matters(event_type, _old, _new):
    return event_type == "DELETED"      # a drain waits for its evicted pods to be gone


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


def transient(error):
    """A failure the next poll cycle may not meet again: transport, throttling, 5xx."""
    if isinstance(error, TransportError):
        return True
    status = getattr(error, "status", None) or 0
    return isinstance(error, ApiError) and (status == 429 or status >= 500)


def iso(epoch):
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def expected_duration(pending, canaries, max_unavailable, node_seconds):
    """Physical limit of the plan: canary waves, then ceil(rest / max_unavailable) node durations."""
    canary_waves = math.ceil(canaries / float(max_unavailable)) if canaries else 0
    rest_waves = math.ceil(max(0, pending - canaries) / float(max_unavailable))
    return (canary_waves + rest_waves) * node_seconds


# ----------------------------------------------------------------------------------------------
# One node
# ----------------------------------------------------------------------------------------------
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
        self.started = None          # wall clock, for the report
        self.ended = None
        self.launched_at = None      # monotonic, for durations and timeouts
        self.upgrade_started = None
        self.cloud_confirmed = False
        self.drain = None
        self.evicted = []
        self.smoke = None

    def report(self):
        entry = {"name": self.name, "kube_name": self.kube_name, "node_pool": self.node_pool,
                 "canary": self.canary, "result": self.phase, "from_version": self.before,
                 "to_version": self.after, "start": iso(self.started), "end": iso(self.ended),
                 "duration": None if self.started is None or self.ended is None
                 else round(self.ended - self.started, 1)}
        if self.reason:
            entry["reason"] = self.reason
        if self.resumed:
            entry["resumed"] = True
        if self.evicted:
            entry["evicted"] = list(self.evicted)
        return entry


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------
class Rollout:
    """Plan and run a rolling driver upgrade of one pool.

    ``config`` keys: target, run_id, max_unavailable, max_unavailable_per_node_pool,
    max_failed_nodes, canary_nodes, canary_pause, canary_approved, window (parse_window result or
    None), window_override, window_margin, drain_timeout, grace_period, force,
    delete_emptydir_data, node_timeout, run_timeout, poll_interval, retry_failed, smoke_command,
    smoke_timeout, lease_duration, force_unlock, expected_node_seconds, owner (dict).
    """

    def __init__(self, cloud, kube, pool_id, config, journal=None, clock=time.monotonic, wall=time.time,
                 sleep=time.sleep, lock=None, node_watch=None, changes=None):
        self.cloud = cloud
        self.kube = kube
        self.pool_id = pool_id
        self.config = config
        self.target = config["target"]
        self.run_id = config["run_id"]
        self.owner = OWNER_PREFIX + self.run_id
        self.journal = journal or (lambda event: None)
        self.clock = clock
        self.wall = wall
        self.sleep = sleep
        # Optional (run_rollout sets them up): a node watch whose cache replaces the per-cycle node
        # list, and the event that wakes the loop before its poll interval is up.
        self.node_watch = node_watch
        self.changes = changes
        self.listed_nodes_at = float("-inf")
        self.lock = lock or PoolLock(kube, pool_id, self.run_id, config.get("lease_duration") or 300,
                                     owner=config.get("owner"), clock=wall)
        self.tracks = []
        self.by_kube_name = {}
        self.kube_nodes = {}
        self.records = {}
        self.pdbs = []
        self.max_unavailable = 1
        self.pool_limits = {}
        self.pool_sizes = {}
        self.stop_reason = None
        self.status = None
        self.canary_passed = False
        self.done_before = 0
        self.cloud_listed_at = None
        self.node_seconds = []
        self.started_wall = None
        self.started_mono = None
        self.run_deadline = None

    # -- events ------------------------------------------------------------------------------------

    def emit(self, event, message, track=None, **fields):
        record = {"time": iso_ms(self.wall()), "event": event, "msg": message}
        if track is not None:
            record.update(node=track.name, kube_name=track.kube_name, phase=track.phase)
        record.update(fields)
        self.journal(record)

    def tally(self):
        counts = {}
        for track in self.tracks:
            key = "in_flight" if track.phase in IN_FLIGHT else track.phase
            counts[key] = counts.get(key, 0) + 1
        return counts

    def tally_text(self):
        counts = self.tally()
        return "done %d, in flight %d, failed %d, pending %d, skipped %d" % (
            counts.get(DONE, 0) + counts.get(ALREADY, 0), counts.get("in_flight", 0), counts.get(FAILED, 0),
            counts.get(PENDING, 0), counts.get(SKIPPED, 0))

    # -- planning ----------------------------------------------------------------------------------

    def plan(self, records, kube_nodes, pods, pdbs, selected):
        """Classify every selected node from the cluster itself (resume included); order them."""
        self.records = {r["metadata"]["name"]: r for r in records}
        self.kube_nodes = {n["metadata"]["name"]: n for n in kube_nodes}
        self.pdbs = pdbs
        total = len(self.kube_nodes) or len(records)
        self.max_unavailable = parse_budget(self.config.get("max_unavailable", 1), total, "max_unavailable")
        for node in self.kube_nodes.values():
            pool = knodes.labels_of(node).get(L.NODE_POOL_NAME)
            self.pool_sizes[pool] = self.pool_sizes.get(pool, 0) + 1
        per_pool = self.config.get("max_unavailable_per_node_pool")
        if per_pool not in (None, ""):
            self.pool_limits = {pool: parse_budget(per_pool, size, "max_unavailable_per_node_pool")
                                for pool, size in self.pool_sizes.items()}
        pods_by_node = {}
        for pod in pods:
            pods_by_node.setdefault((pod.get("spec") or {}).get("nodeName"), []).append(pod)
        tracks = []
        for record in selected:
            track = Track(record, self.kube_nodes.get((record.get("status") or {}).get("privateIp")), self.target)
            self._classify(track, pods_by_node.get(track.kube_name, []))
            tracks.append(track)
        # In-flight (resumed) nodes first, then pending in hash order; the rest by name.
        rank = {CORDONED: 0, UPGRADING: 0, VERIFYING: 0, SMOKE: 0, PENDING: 1}
        tracks.sort(key=lambda t: (rank.get(t.phase, 2), order_key(t.name, self.target) if t.phase in rank else t.name))
        self.tracks = tracks
        self.by_kube_name = {t.kube_name: t for t in tracks}
        self.done_before = sum(1 for t in tracks if t.phase == ALREADY and t.resumed)
        need = max(0, int(self.config.get("canary_nodes") or 0) - self.done_before)
        for track in tracks:
            if need <= 0:
                break
            if track.phase in (PENDING,) + IN_FLIGHT:
                track.canary = True
                need -= 1
        self.canary_passed = not any(t.canary for t in tracks)
        return tracks

    def _classify(self, track, pods):
        node = self.kube_nodes.get(track.kube_name)
        record = track.record
        status = record.get("status") or {}
        driver = cloud_driver(record)
        at_target = compat.norm(driver.get("version")) == compat.norm(self.target)
        state = state_of(node)
        ours = state is not None and compat.norm(state.get("target")) == compat.norm(self.target)
        track.resumed = ours
        if ours and state.get("from"):
            track.before = state["from"]
        if node is None:
            return self._skip(track, "no Kubernetes node %s (not joined yet)" % track.kube_name)
        if not driver:
            return self._skip(track, "the node has no NPU driver")
        if ours and state.get("phase") == FAILED and not self.config.get("retry_failed"):
            track.phase, track.reason = FAILED, "failed in run %s: %s (set retry_failed=true to retry)" % (
                state.get("run"), state.get("reason") or "no reason recorded")
            return None
        if driver.get("phase") in BUSY_DRIVER_PHASES and ours:
            track.phase = UPGRADING
            track.launched_at = track.upgrade_started = self.clock()
            return None
        if at_target:
            track.after = driver.get("version")
            if cordoned_by_rollout(node):
                track.phase = VERIFYING      # upgraded but still cordoned by a rollout: verify, uncordon
                track.launched_at = self.clock()
                return None
            track.phase = ALREADY
            track.reason = "already at %s" % self.target
            return None
        unhealthy = driver.get("phase") == "Abnormal" or status.get("phase") != "Available"
        if unhealthy and cordoned_by_rollout(node):
            # A rollout's earlier failure: report it again (never a silent skip of a node we cordoned).
            track.phase, track.reason = FAILED, (
                "left cordoned by %s: ModelArts shows the node %s with driver %s; repair it, then rerun"
                % (knodes.cordon_owner(node), status.get("phase"), driver.get("phase")))
            return None
        if unhealthy:
            return self._skip(track, "ModelArts shows the node %s with driver %s"
                              % (status.get("phase"), driver.get("phase")))
        if driver.get("phase") in BUSY_DRIVER_PHASES:
            return self._skip(track, "a driver operation not started by a rollout is running on it")
        if knodes.is_cordoned(node) and not cordoned_by_rollout(node):
            return self._skip(track, "cordoned by somebody else (%s); it is left alone"
                              % (knodes.cordon_owner(node) or "no ownership annotation"))
        if cordoned_by_rollout(node):
            track.phase = CORDONED           # cordoned by a rollout, not upgraded: drain again, upgrade
            track.launched_at = self.clock()
            return None
        if not knodes.is_ready(node):
            return self._skip(track, "node is NotReady")
        plan = kdrain.plan_drain(pods, self.pdbs, self.config.get("force"), self.config.get("delete_emptydir_data"))
        if plan[kdrain.REFUSE]:
            return self._skip(track, kdrain.refusal_summary(track.kube_name, plan[kdrain.REFUSE]))
        track.phase = PENDING
        return None

    @staticmethod
    def _skip(track, reason):
        track.phase, track.reason = SKIPPED, reason

    def plan_report(self):
        pending = [t for t in self.tracks if t.phase == PENDING or t.phase in IN_FLIGHT]
        canaries = [t for t in self.tracks if t.canary]
        seconds = self.config.get("expected_node_seconds") or DEFAULT_NODE_SECONDS
        return {
            "order": [t.name for t in pending],
            "canary": [t.name for t in canaries],
            "max_unavailable": self.max_unavailable,
            "max_unavailable_per_node_pool": self.pool_limits,
            "expected_duration_seconds": expected_duration(len(pending), len(canaries), self.max_unavailable,
                                                           seconds),
            "expected_node_seconds": seconds,
            "nodes": [t.report() for t in self.tracks],
            "blocking_pdbs": sorted({kdrain.pod_key(p) for p in self.pdbs
                                     if ((p.get("status") or {}).get("disruptionsAllowed", 1)) <= 0}),
        }

    # -- writes --------------------------------------------------------------------------------------

    def _state_value(self, track, phase, reason=None):
        return json.dumps({"run": self.run_id, "target": self.target, "phase": phase, "from": track.before,
                           "reason": reason, "updated": iso(self.wall())}, sort_keys=True)

    def _write(self, track, phase, cordon=False, uncordon=False, reason=None):
        node = self._patch_state(track, phase, cordon, uncordon, reason)
        self.kube_nodes[track.kube_name] = node
        return node

    def _patch_state(self, track, phase, cordon=False, uncordon=False, reason=None):
        """One guarded PATCH: the state label/annotation, plus the cordon or uncordon with ownership.
        Returns the updated Node (safe to run in a worker thread: it only reads shared state)."""
        name = track.kube_name
        node = self.kube_nodes.get(name) or knodes.get_node(self.kube, name)
        for _attempt in range(3):
            patch = None
            if cordon:
                patch = knodes.cordon_patch(node, self.owner, "driver upgrade to %s" % self.target)
            elif uncordon and cordoned_by_rollout(node):
                patch = knodes.uncordon_patch(node)
            patch = patch or {"metadata": {"resourceVersion": (node.get("metadata") or {}).get("resourceVersion")}}
            metadata = patch.setdefault("metadata", {})
            metadata.setdefault("annotations", {})[STATE_ANNOTATION] = self._state_value(track, phase, reason)
            metadata["labels"] = {STATE_LABEL: phase}
            try:
                node = knodes.patch_node(self.kube, name, patch)
                break
            except KubeConflictError:
                node = knodes.get_node(self.kube, name)
        else:
            raise PreconditionError("node %s kept changing while the rollout wrote its state; stopped." % name)
        return node

    def _write_all(self, writes):
        """Several node writes at once (``[(track, phase, write kwargs)]``). Each PATCH is a round trip;
        sent one after another, 32 launches in one cycle would delay every node in flight."""
        if len(writes) <= 1:
            for track, phase, kwargs in writes:
                self._write(track, phase, **kwargs)
            return
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_WRITES, len(writes))) as pool:
            futures = [pool.submit(self._patch_state, track, phase, **kwargs) for track, phase, kwargs in writes]
        errors = []
        for (track, _phase, _kwargs), future in zip(writes, futures):
            try:
                self.kube_nodes[track.kube_name] = future.result()
            except LiteError as error:
                errors.append(error)
        if errors:
            raise errors[0]

    # -- transitions -------------------------------------------------------------------------------

    def _set(self, track, phase, message, reason=None, write=True, **write_args):
        if write:
            self._write(track, phase, reason=reason, **write_args)
        track.phase = phase
        if reason:
            track.reason = reason
        self.emit("node", message, track)

    def _fail(self, track, reason):
        track.ended = self.wall()
        try:
            self._set(track, FAILED, "%s (%s) FAILED: %s; left cordoned" % (track.name, track.kube_name, reason),
                      reason=reason)
        except LiteError as error:   # the failure is what matters; the annotation is best effort
            track.phase, track.reason = FAILED, "%s (state annotation not written: %s)" % (reason, error)
        if track.canary:
            self._stop(RUN_FAILED, "canary node %s failed: %s" % (track.name, reason))
        elif self.failed_count() > int(self.config.get("max_failed_nodes") or 0):
            self._stop(RUN_FAILED, "%d node(s) failed, more than max_failed_nodes=%s" % (
                self.failed_count(), self.config.get("max_failed_nodes") or 0))
        self.emit("tally", self.tally_text())

    def failed_count(self):
        return sum(1 for t in self.tracks if t.phase == FAILED)

    def _stop(self, status, reason):
        if self.stop_reason is None:
            self.stop_reason = reason
            self.status = status
            self.emit("stop", "no new nodes will start: %s" % reason, status=status)

    def _launch(self, tracks):
        """Cordon (with the state) every node given, in one concurrent batch of writes."""
        self._write_all([(t, CORDONED, {"cordon": not knodes.is_cordoned(self.kube_nodes[t.kube_name])})
                         for t in tracks])
        for track in tracks:
            track.started = self.wall()
            track.launched_at = self.clock()
            self._set(track, CORDONED, "%s (%s) cordoned%s, draining" % (
                track.name, track.kube_name, " [canary]" if track.canary else ""), write=False)

    def _start_drain(self, track, pods):
        plan = kdrain.plan_drain(pods, self.pdbs, self.config.get("force"), self.config.get("delete_emptydir_data"))
        if plan[kdrain.REFUSE]:
            self._fail(track, kdrain.refusal_summary(track.kube_name, plan[kdrain.REFUSE]))
            return
        track.drain = kdrain.NodeDrain(track.kube_name, plan, self.config["drain_timeout"],
                                       self.config.get("grace_period"), clock=self.clock)

    def _step_drains(self, draining, pods=None):
        """Advance the draining nodes given by one eviction pass; returns the nodes now drained.
        ``pods`` is a ``pods_by_node`` snapshot taken after their cordon (listed here when None)."""
        if not draining:
            return []
        if pods is None:
            pods = kdrain.pods_by_node(self.kube, [t.kube_name for t in draining])
        drained = []
        for track in draining:
            if track.drain is None:
                self._start_drain(track, pods.get(track.kube_name, []))
                if track.phase == FAILED:
                    continue
            try:
                finished = track.drain.step(self.kube, pods.get(track.kube_name, []))
            except (TransportError, ApiError) as error:
                if transient(error):     # an API outage is the cycle's to ride out, not the node's failure
                    raise
                track.evicted = track.drain.report()["evicted"]
                self._fail(track, str(error))
                continue
            except LiteError as error:   # PDB still refusing or pods still terminating at drain_timeout
                track.evicted = track.drain.report()["evicted"]
                self._fail(track, str(error))
                continue
            if finished:
                track.evicted = track.drain.report()["evicted"]
                drained.append(track)
        return drained

    def _start_upgrades(self, tracks):
        """One batch-update for every node drained in this cycle."""
        if not tracks:
            return
        # No state write here: the Node keeps "cordoned" until done. A rerun tells an upgrade that
        # went out from one that did not by the ModelArts driver phase (Pending/Updating, or the
        # target version), so this saves a PATCH per node on the critical path. The in-memory phase
        # changes only once the call went out: a failed call leaves the nodes to be retried.
        names = [t.name for t in tracks]
        try:
            result = api.batch_update_nodes(self.cloud, self.pool_id, names,
                                            driver={"version": self.target, "updateStrategy": "idle"})
        except ApiError as error:
            for track in tracks:
                self._fail(track, "ModelArts refused the driver upgrade: %s" % (error.error_msg or error))
            return
        except TransportError as error:
            for track in tracks:
                self._fail(track, "the batch-update call may not have reached ModelArts (%s); rerun with "
                                  "retry_failed=true once the node is idle" % error.reason)
            return
        refused = set(result.get("failNodeNames") or [])
        for track in tracks:
            track.upgrade_started = self.clock()
            self._set(track, UPGRADING, "%s (%s) drained (%d pod(s) evicted), driver upgrade to %s started"
                      % (track.name, track.kube_name, len(track.evicted), self.target), write=False)
            if track.name in refused:
                self._fail(track, "ModelArts refused to upgrade the driver (the node must be Available with its "
                                  "driver Running)")

    def _background_interval(self):
        """Seconds between ModelArts lists that only look for failed upgrades: about one node duration."""
        interval = float(self.config.get("poll_interval") or 10)
        if self.node_seconds:
            ordered = sorted(self.node_seconds)
            return max(interval, ordered[len(ordered) // 2])
        return interval * 10

    def _show_cloud(self, tracks):
        """The ModelArts records of a few nodes, one GET each (concurrently): on a large pool that
        is far less than listing every node to confirm one."""
        if len(tracks) == 1:
            self.records[tracks[0].name] = api.get_node(self.cloud, self.pool_id, tracks[0].name)
            return
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=len(tracks)) as pool:
            shown = list(pool.map(lambda t: api.get_node(self.cloud, self.pool_id, t.name), tracks))
        for track, record in zip(tracks, shown):
            self.records[track.name] = record

    def _refresh_cloud(self):
        self.records = {r["metadata"]["name"]: r for r in api.list_nodes(self.cloud, self.pool_id)}
        self.cloud_listed_at = self.clock()

    def _advance_upgrades(self):
        active = [t for t in self.tracks if t.phase in (UPGRADING, VERIFYING)]
        if not active:
            return
        for track in active:
            if track.phase == UPGRADING and kube_upgraded(self.kube_nodes.get(track.kube_name), self.target) \
                    and compat.norm(knodes.driver_version(self.kube_nodes.get(track.kube_name))) \
                    == compat.norm(self.target):
                track.phase = VERIFYING
        confirming = [t for t in active if t.phase == VERIFYING and not t.cloud_confirmed]
        background_due = self.cloud_listed_at is None or \
            self.clock() - self.cloud_listed_at >= self._background_interval()
        if confirming or (background_due and any(t.phase == UPGRADING for t in active)):
            if background_due or len(confirming) > MAX_NODE_SHOWS:
                self._refresh_cloud()
            else:
                self._show_cloud(confirming)
            for track in active:
                record = self.records.get(track.name)
                reason = cloud_failure(record)
                if reason:
                    self._fail(track, "driver upgrade failed: %s" % reason)
                elif cloud_upgraded(record, self.target):
                    track.cloud_confirmed = True
                    if track.phase == UPGRADING:
                        track.phase = VERIFYING
        finishing = []
        for track in active:
            if track.phase != VERIFYING:
                continue
            node = self.kube_nodes.get(track.kube_name)
            if track.cloud_confirmed and kube_upgraded(node, self.target):
                track.after = cloud_driver(self.records.get(track.name)).get("version") or self.target
                if self.config.get("smoke_command"):
                    self._start_smoke(track)
                else:
                    finishing.append(track)
        self._finish(finishing)

    def _timeouts(self):
        limit = float(self.config.get("node_timeout") or 3600)
        for track in self.tracks:
            if track.phase in (UPGRADING, VERIFYING) and track.launched_at is not None \
                    and self.clock() - (track.upgrade_started or track.launched_at) > limit:
                node = self.kube_nodes.get(track.kube_name) or {}
                self._fail(track, "not back after %ss: Ready=%s, NPUs %s/%s, driver label %s" % (
                    int(limit), knodes.is_ready(node), knodes.npu_counts(node)[1], knodes.npu_counts(node)[0],
                    knodes.driver_version(node)))

    # -- smoke check -------------------------------------------------------------------------------

    def _start_smoke(self, track):
        env = dict(os.environ, MODELARTS_LITE_POOL_ID=self.pool_id, MODELARTS_LITE_NODE=track.name,
                   MODELARTS_LITE_KUBE_NODE=track.kube_name, MODELARTS_LITE_DRIVER_VERSION=self.target)
        output = tempfile.TemporaryFile()
        try:
            process = subprocess.Popen(list(self.config["smoke_command"]), stdout=output, stderr=subprocess.STDOUT,
                                       env=env)
        except OSError as error:
            output.close()
            self._fail(track, "smoke check could not start: %s" % error)
            return
        track.smoke = (process, output, self.clock())
        self._set(track, SMOKE, "%s (%s) is Ready with driver %s and its NPUs; smoke check running"
                  % (track.name, track.kube_name, track.after))

    def _advance_smoke(self):
        limit = float(self.config.get("smoke_timeout") or 600)
        for track in [t for t in self.tracks if t.phase == SMOKE]:
            process, output, started = track.smoke
            code = process.poll()
            if code is None and self.clock() - started <= limit:
                continue
            if code is None:
                process.kill()
                process.wait()
            output.seek(0)
            tail = output.read()[-400:].decode("utf-8", "replace").strip()
            output.close()
            track.smoke = None
            if code == 0:
                self._finish([track])
            else:
                self._fail(track, "smoke check %s: %s" % (
                    "timed out after %ss" % int(limit) if code is None else "exited %s" % code, tail or "no output"))

    def _finish(self, tracks):
        """Mark done and uncordon (our own cordon only) every node given, in one batch of writes."""
        if not tracks:
            return
        self._write_all([(t, DONE, {"uncordon": True}) for t in tracks])
        for track in tracks:
            track.ended = self.wall()
            if track.launched_at is not None:
                self.node_seconds.append(self.clock() - track.launched_at)
            self._set(track, DONE, "%s (%s) upgraded %s -> %s in %ss, uncordoned" % (
                track.name, track.kube_name, track.before, track.after,
                int(track.ended - track.started) if track.started else "?"), write=False)
            self.emit("tally", self.tally_text())

    # -- slots -------------------------------------------------------------------------------------

    def unavailable_nodes(self):
        """Kubernetes names of the nodes that use up the budget: cordoned or NotReady (whoever caused
        it), plus our in-flight and failed nodes."""
        names = []
        for name, node in self.kube_nodes.items():
            track = self.by_kube_name.get(name)
            if unavailable(node) or (track is not None and track.phase in IN_FLIGHT + (FAILED,)):
                names.append(name)
        return sorted(names)

    def _unavailable(self):
        names = self.unavailable_nodes()
        per_pool = {}
        for name in names:
            pool = knodes.labels_of(self.kube_nodes[name]).get(L.NODE_POOL_NAME)
            per_pool[pool] = per_pool.get(pool, 0) + 1
        return len(names), per_pool

    def _may_launch(self):
        if self.stop_reason:
            return False
        if not self.config.get("window_override"):
            state = windows.window_state(self.config.get("window"), datetime.fromtimestamp(self.wall(), timezone.utc))
            margin = float(self.config.get("window_margin") or 0)
            if not state["open"] or (state["seconds_left"] is not None and state["seconds_left"] < margin):
                self._stop(PAUSED_WINDOW, "the maintenance window %s is closed or closes within %ss"
                           % (self.config["window"]["text"], int(margin)))
                return False
        if self.run_deadline is not None and self.clock() >= self.run_deadline:
            self._stop(RUN_FAILED, "wait_timeout ran out")
            return False
        budget = int(self.config.get("max_failed_nodes") or 0)
        if self.failed_count() > budget:
            self._stop(RUN_FAILED, "%d node(s) failed, more than max_failed_nodes=%d" % (self.failed_count(), budget))
            return False
        if not self.canary_passed:
            canaries = [t for t in self.tracks if t.canary]
            if canaries and all(t.phase == DONE for t in canaries):
                self.canary_passed = True
                self.emit("canary", "canary passed: %s" % ", ".join(t.name for t in canaries))
        if self.canary_passed and int(self.config.get("canary_nodes") or 0) > 0 \
                and self.config.get("canary_pause") and not self.config.get("canary_approved"):
            self._stop(PAUSED_CANARY, "paused after canary; rerun with canary approval to continue")
            return False
        return True

    def _fill_slots(self):
        """Cordon pending nodes into free slots; returns the nodes launched."""
        if not self._may_launch():
            return []
        total, per_pool = self._unavailable()
        launching = []
        for track in self.tracks:
            if total >= self.max_unavailable:
                break
            if track.phase != PENDING or (not self.canary_passed and not track.canary):
                continue
            limit = self.pool_limits.get(track.node_pool)
            if limit is not None and per_pool.get(track.node_pool, 0) >= limit:
                continue
            launching.append(track)
            total += 1
            per_pool[track.node_pool] = per_pool.get(track.node_pool, 0) + 1
        if launching:
            self._launch(launching)
        return launching

    # -- the loop ----------------------------------------------------------------------------------

    def _read_cluster(self, draining):
        """The nodes (the watch's cache, or a list while the watch is down), and while nodes drain
        the pods on them, always listed: a pod scheduled just before the cordon must not be missed.
        Two lists go out concurrently: the cycle's latency is what delays every node."""
        cached = self.node_watch.snapshot() if self.node_watch is not None else None
        if cached is not None and self.clock() - self.listed_nodes_at >= RESYNC_SECONDS:
            cached = None             # now and then a real list: a watch that went quiet cannot fool us long
        if cached is not None:
            return self._fresher(cached), kdrain.pods_by_node(self.kube, [t.kube_name for t in draining]) \
                if draining else None
        self.listed_nodes_at = self.clock()
        if not draining:
            return knodes.list_nodes(self.kube), None
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=2) as pool:
            nodes = pool.submit(knodes.list_nodes, self.kube)
            pods = pool.submit(kdrain.pods_by_node, self.kube, [t.kube_name for t in draining])
        return nodes.result(), pods.result()

    def _fresher(self, cached):
        """The watch's nodes, except where our own last write answered with a later version that
        the watch has not delivered yet (a stale copy would only cost a 409 and a re-read)."""
        return [self.kube_nodes[n["metadata"]["name"]]
                if kwatch.newer(self.kube_nodes.get(n["metadata"]["name"]), n) else n for n in cached]

    def _cycle(self):
        """One poll cycle. Steps chain inside it when nothing needs waiting for: a node drained by
        now goes to batch-update first; a node seen upgraded is uncordoned, its slot refilled at
        once, and the new node cordoned, drained and (when it has nothing to evict) upgraded."""
        if self.lock.due():
            self.lock.renew()
        if self.changes is not None:
            self.changes.clear()      # an event from now on asks for another cycle
        draining = [t for t in self.tracks if t.phase == CORDONED]
        kube_nodes, pods = self._read_cluster(draining)
        self.kube_nodes = {n["metadata"]["name"]: n for n in kube_nodes}
        self._start_upgrades(self._step_drains(draining, pods))
        self._advance_upgrades()
        self._advance_smoke()
        self._timeouts()
        # Pods listed after the cordon: a pod scheduled just before it is not missed.
        self._start_upgrades(self._step_drains(self._fill_slots()))

    def run(self):
        self.started_wall, self.started_mono = self.wall(), self.clock()
        timeout = self.config.get("run_timeout")
        self.run_deadline = self.started_mono + timeout if timeout else None
        interval = float(self.config.get("poll_interval") or 10)
        idle_since = None
        errors = 0
        try:
            while True:
                cycle_start = self.clock()
                try:
                    self._cycle()
                    errors = 0
                except (TransportError, ApiError) as error:
                    # A poll that failed after the client's own retries: the state is on the nodes,
                    # so the next cycle simply looks again. Persistent failure ends the run.
                    if not transient(error):
                        raise
                    errors += 1
                    self.emit("warning", "API trouble (%d in a row): %s" % (errors, error))
                    if errors >= MAX_CYCLE_ERRORS:
                        raise
                in_flight = [t for t in self.tracks if t.phase in IN_FLIGHT]
                pending = [t for t in self.tracks if t.phase == PENDING]
                if not in_flight and (not pending or self.stop_reason):
                    break
                if not in_flight and pending:
                    # Nothing of ours is out, yet no slot is free: other nodes are unavailable.
                    idle_since = idle_since if idle_since is not None else self.clock()
                    if self.clock() - idle_since > float(self.config.get("node_timeout") or 3600):
                        self._stop(BLOCKED, "no slot freed for %ss: %d node(s) of the pool are cordoned or NotReady"
                                   % (int(self.config.get("node_timeout") or 3600), self._unavailable()[0]))
                        break
                else:
                    idle_since = None
                self._pause(interval, cycle_start)
        except LockLostError as error:
            self._stop(RUN_FAILED, str(error))
        return self.finish()

    def _pause(self, interval, cycle_start):
        """Until the poll interval is up, or (with watches) until a change that matters arrives,
        but never less than MIN_CYCLE_SHARE of the interval after the last cycle began."""
        remaining = interval - (self.clock() - cycle_start)
        if self.changes is not None and remaining > 0:
            self.changes.wait(remaining)
        self.sleep(max(0.0, interval * MIN_CYCLE_SHARE - (self.clock() - cycle_start)) if self.changes is not None
                   else max(0.0, remaining))

    def finish(self):
        if self.started_wall is None:     # nothing to do: the run ends where it starts
            self.started_wall, self.started_mono = self.wall(), self.clock()
        if self.status is None:
            self.status = RUN_FAILED if self.failed_count() > int(self.config.get("max_failed_nodes") or 0) \
                else SUCCEEDED
        elapsed = self.wall() - self.started_wall
        upgraded = [t for t in self.tracks if t.phase == DONE]
        durations = sorted(t.ended - t.started for t in upgraded if t.started and t.ended)
        report = {
            "run_id": self.run_id, "pool_id": self.pool_id, "target": self.target, "status": self.status,
            "stop_reason": self.stop_reason, "started": iso(self.started_wall), "ended": iso(self.wall()),
            "elapsed_seconds": round(elapsed, 1), "max_unavailable": self.max_unavailable,
            "counts": self.tally(), "nodes": [t.report() for t in self.tracks],
        }
        if durations:
            mean = sum(durations) / len(durations)
            report["node_seconds"] = {"min": round(durations[0], 1), "mean": round(mean, 1),
                                      "max": round(durations[-1], 1)}
            canaries = sum(1 for t in upgraded if t.canary)
            report["physical_limit_seconds"] = round(expected_duration(len(upgraded), canaries, self.max_unavailable,
                                                                       mean), 1)
        self.emit("end", "rollout %s: %s (%s)" % (self.status, self.tally_text(), self.stop_reason or "all selected "
                                                  "nodes handled"), status=self.status)
        return report


# ----------------------------------------------------------------------------------------------
# Human summary
# ----------------------------------------------------------------------------------------------
def summary_text(report):
    lines = ["Rolling driver upgrade %s of pool %s to %s: %s" % (report.get("run_id"), report.get("pool_id"),
                                                                 report.get("target"), report.get("status"))]
    if report.get("stop_reason"):
        lines.append("Stopped launching: %s" % report["stop_reason"])
    counts = report.get("counts") or {}
    lines.append("Nodes: " + ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items())))
    if report.get("elapsed_seconds") is not None:
        lines.append("Elapsed %ss (max_unavailable %s%s)" % (
            report["elapsed_seconds"], report.get("max_unavailable"),
            ", physical limit %ss" % report["physical_limit_seconds"] if report.get("physical_limit_seconds") else ""))
    for node in report.get("nodes") or []:
        line = "  %-24s %-16s %-9s %s -> %s" % (node["name"], node.get("kube_name") or "", node["result"],
                                                node.get("from_version"), node.get("to_version") or "-")
        if node.get("start"):
            line += "  %s .. %s" % (node["start"], node.get("end") or "")
        if node.get("reason") and node["result"] != ALREADY:
            line += "  (%s)" % node["reason"]
        lines.append(line)
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Entry point of lite_rollout
# ----------------------------------------------------------------------------------------------
class Journal:
    """Progress events as JSON lines, flushed as they happen (lite_rollout_info tails the file)."""

    def __init__(self, path):
        self.path = path
        self.handle = None
        if path:
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, exist_ok=True)
            self.handle = open(path, "a", encoding="utf-8")

    def __call__(self, event):
        if self.handle is not None:
            self.handle.write(json.dumps(event, sort_keys=True) + "\n")
            self.handle.flush()

    def close(self):
        if self.handle is not None:
            self.handle.close()


def count_calls(client, counts, api_name):
    """Wrap ``client.request`` to count calls by method (the report's API call figures)."""
    original = client.request

    def counted(method, *args, **kwargs):
        bucket = counts.setdefault(api_name, {})
        bucket[method.upper()] = bucket.get(method.upper(), 0) + 1
        return original(method, *args, **kwargs)

    client.request = counted


def default_run_id(wall=time.time):
    stamp = datetime.fromtimestamp(wall(), timezone.utc).strftime("%Y%m%dt%H%M%S")
    return "rollout-%s-%s" % (stamp, hashlib.sha256(os.urandom(8)).hexdigest()[:6])


def select_nodes(kube, params, pool_id, records):
    """The ModelArts node records the rollout addresses (nodes, node_pools, node_selector; all when none)."""
    chosen = list(records)
    if params.get("nodes"):
        by_name = {r["metadata"]["name"]: r for r in records}
        by_ip = {(r.get("status") or {}).get("privateIp"): r for r in records}
        chosen = []
        for name in params["nodes"]:
            record = by_name.get(name) or by_ip.get(name)
            if record is None:
                raise ValidationError("pool %s has no node %r (give ModelArts node names or private IPs)."
                                      % (pool_id, name), option="nodes")
            if record not in chosen:
                chosen.append(record)
    if params.get("node_pools"):
        wanted = set(params["node_pools"])
        known = {api.node_pool_of_node(r) for r in records}
        unknown = wanted - known
        if unknown:
            raise ValidationError("pool %s has no node pool(s) %s (it has: %s)." % (
                pool_id, ", ".join(sorted(unknown)), ", ".join(sorted(k for k in known if k))), option="node_pools")
        chosen = [r for r in chosen if api.node_pool_of_node(r) in wanted]
    if params.get("node_selector"):
        names = {n["metadata"]["name"] for n in knodes.list_nodes(kube, params["node_selector"])}
        chosen = [r for r in chosen if (r.get("status") or {}).get("privateIp") in names]
    return chosen


def start_watches(rollout):
    """A node watch (its cache replaces the per-cycle node list) and a pod watch that only wakes the
    loop. A watch that cannot start leaves the run to poll: slower, never wrong."""
    rollout.changes = threading.Event()
    watches = []
    for path, cache, relevant in ((knodes.NODES, True, node_event_matters), (kdrain.PODS, False, pod_event_matters)):
        try:
            watches.append(kwatch.Watch(rollout.kube, path, cache=cache, relevant=relevant,
                                        changed=rollout.changes).start())
        except LiteError as error:
            rollout.emit("warning", "no watch on %s (%s): polling every %ss instead"
                         % (path, error, rollout.config.get("poll_interval") or 10))
    rollout.node_watch = next((w for w in watches if w.path == knodes.NODES), None)
    return watches


def config_from_params(params, run_id):
    window = windows.parse_window(params.get("window"))
    for option in ("drain_timeout", "node_timeout", "lease_duration", "smoke_timeout"):
        value = params.get(option)
        if value is not None and not 0 < value <= 86400:
            raise ValidationError("%s must be between 1 and 86400 seconds, got %s." % (option, value), option=option)
    if (params.get("max_failed_nodes") or 0) < 0 or (params.get("canary_nodes") or 0) < 0:
        raise ValidationError("max_failed_nodes and canary_nodes must not be negative.", option="max_failed_nodes")
    for option in ("max_unavailable", "max_unavailable_per_node_pool"):
        if params.get(option) not in (None, ""):
            parse_budget(params[option], 100, option)
    return {
        "target": params["driver_version"], "run_id": run_id,
        "max_unavailable": params.get("max_unavailable") or "1",
        "max_unavailable_per_node_pool": params.get("max_unavailable_per_node_pool"),
        "max_failed_nodes": params.get("max_failed_nodes") or 0,
        "canary_nodes": params.get("canary_nodes") or 0,
        "canary_pause": params.get("canary_pause"), "canary_approved": params.get("canary_approved"),
        "window": window, "window_override": params.get("window_override"),
        "window_margin": params.get("window_margin") or 0,
        "drain_timeout": params.get("drain_timeout") or 600, "grace_period": params.get("grace_period"),
        "force": params.get("force"), "delete_emptydir_data": params.get("delete_emptydir_data"),
        "node_timeout": params.get("node_timeout") or 3600, "run_timeout": params.get("wait_timeout"),
        "poll_interval": params.get("poll_interval") or 10, "retry_failed": params.get("retry_failed"),
        "smoke_command": params.get("smoke_command"), "smoke_timeout": params.get("smoke_timeout") or 600,
        "lease_duration": params.get("lease_duration") or 300, "force_unlock": params.get("force_unlock"),
        "expected_node_seconds": params.get("expected_node_seconds") or DEFAULT_NODE_SECONDS,
        "owner": {"run-id": run_id, "user": os.environ.get("USER") or os.environ.get("AWX_USER") or "unknown",
                  "host": os.uname()[1] if hasattr(os, "uname") else "unknown", "target": params["driver_version"]},
    }


def run_rollout(clients, params, check_mode):
    """lite_rollout: pre-flight, plan (check mode stops here), lock, run, report. Every outcome, a
    refusal included, ends the journal with an "end" event so a watcher never waits in vain. A run
    that ends failed or blocked raises RolloutFailedError, which carries the whole result."""
    run_id = params.get("run_id") or default_run_id()
    journal = Journal(params.get("journal"))
    journal({"time": iso_ms(time.time()), "event": "begin", "pid": os.getpid(), "run_id": run_id,
             "msg": "run %s: pre-flight checks of pool %s for driver %s"
                    % (run_id, params.get("pool"), params.get("driver_version"))})
    try:
        result = _run(clients, params, check_mode, run_id, journal)
        if params.get("report_dir") and result.get("report"):
            result["report_file"] = write_report(params["report_dir"], result)
    except LiteError as error:
        journal({"time": iso_ms(time.time()), "event": "end", "status": "refused", "msg": "refused: %s" % error})
        raise
    except Exception as error:
        journal({"time": iso_ms(time.time()), "event": "end", "status": "error",
                 "msg": "unexpected %s" % type(error).__name__})
        raise
    finally:
        journal.close()
    if result["status"] in (RUN_FAILED, BLOCKED):
        raise RolloutFailedError(result.pop("msg"), result)
    return result


def write_report(directory, result):
    """<run_id>.json (the report with the run's status and message) and <run_id>.txt (the summary),
    each replaced in one rename so a reader never sees half a file. Returns the JSON file's path."""
    report = dict(result["report"], run_id=result["run_id"], status=result.get("status"),
                  message=result.get("msg") or "")
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, result["run_id"])
    for path, text in ((base + ".json", json.dumps(report, indent=4, sort_keys=True) + "\n"),
                       (base + ".txt", (result.get("summary") or "") + "\n")):
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path + ".tmp", 0o644)
        os.replace(path + ".tmp", path)
    return base + ".json"


def _run(clients, params, check_mode, run_id, journal):
    cloud, kube, pool, pool_id = clients.cloud, clients.kube, clients.pool, clients.pool_id
    config = config_from_params(params, run_id)
    counts = {}
    phase = (pool.get("status") or {}).get("phase")
    if phase != "Running":
        raise PreconditionError("pool %s is %s, not Running; a rolling upgrade needs a healthy pool." % (pool_id, phase),
                                details={"phase": phase})
    count_calls(cloud, counts, "modelarts")
    count_calls(kube, counts, "kubernetes")

    records = api.list_nodes(cloud, pool_id)
    selected = select_nodes(kube, params, pool_id, records)
    compatibility = {}
    if params.get("compatibility"):
        flavors = sorted({(r.get("spec") or {}).get("flavor") for r in selected if cloud_driver(r)})
        problems, compatibility = compat.check(params["compatibility"], config["target"], flavors,
                                               params.get("cann_version"), params.get("images"),
                                               params.get("allow_unknown_compatibility"))
        if problems:
            raise ValidationError("driver_version %s fails the compatibility check: %s. Nothing was changed."
                                  % (config["target"], "; ".join(problems)), option="driver_version")
    offered = api.npu_driver_versions(cloud)
    if config["target"] not in offered:
        raise ValidationError("driver_version %r is not offered. Offered NPU driver versions: %s."
                              % (config["target"], ", ".join(offered) or "none"), option="driver_version")
    kube_nodes = knodes.list_nodes(kube)
    pods = kube.list_items(kdrain.PODS)
    pdbs = kdrain.list_pdbs(kube)

    rollout = Rollout(cloud, kube, pool_id, config, journal=journal)
    rollout.plan(records, kube_nodes, pods, pdbs, selected)
    plan = rollout.plan_report()
    plan.update(compatibility=compatibility, lock=rollout.lock.inspect(),
                window=windows.window_state(config["window"], datetime.now(timezone.utc)))
    if plan["window"]["closes_at"] is not None:
        plan["window"]["closes_at"] = plan["window"]["closes_at"].isoformat()
    work = [t for t in rollout.tracks if t.phase == PENDING or t.phase in IN_FLIGHT]
    result = {"run_id": run_id, "pool_id": pool_id, "plan": plan, "changed": bool(work)}
    if check_mode:
        result["status"] = "planned"
        journal({"time": iso_ms(time.time()), "event": "end", "status": "planned",
                 "msg": "check mode: %d node(s) would be upgraded, canary %s, expected %ss"
                 % (len(work), ", ".join(plan["canary"]) or "none", int(plan["expected_duration_seconds"]))})
        return result
    if not params.get("window_override") and config["window"] is not None and not plan["window"]["open"]:
        raise PreconditionError("outside the maintenance window %s; nothing was changed. Rerun inside the window "
                                "or set window_override=true." % config["window"]["text"],
                                details={"window": config["window"]["text"]})
    journal({"time": iso_ms(time.time()), "event": "start", "run_id": run_id,
             "msg": "run %s: %d node(s) to upgrade to %s in pool %s, max_unavailable %d, canary %s"
             % (run_id, len(work), config["target"], pool_id, rollout.max_unavailable,
                ", ".join(plan["canary"]) or "none")})
    if not work:
        report = rollout.finish()
        report["api_calls"] = counts
        return dict(result, changed=False, status=report["status"], report=report, summary=summary_text(report))
    names = rollout.unavailable_nodes()
    if len(names) >= rollout.max_unavailable and not any(t.phase in IN_FLIGHT for t in rollout.tracks):
        raise PreconditionError(
            "pool %s is not healthy enough to start: %d node(s) are already cordoned, NotReady or failed (%s), and "
            "max_unavailable is %d. Bring them back (or raise max_unavailable), then rerun; nothing was changed."
            % (pool_id, len(names), ", ".join(names[:20]), rollout.max_unavailable), details={"unavailable": names})
    rollout.lock.acquire(force=params.get("force_unlock"))
    watches = []
    try:
        watches = start_watches(rollout)
        report = rollout.run()
    finally:
        for watch in watches:
            watch.stop()
        rollout.lock.release()
    report["api_calls"] = counts
    upgraded = sum(1 for t in rollout.tracks if t.phase == DONE)
    calls = sum((counts.get("modelarts") or {}).values())
    report["modelarts_calls_per_upgraded_node"] = round(calls / float(upgraded), 2) if upgraded else None
    result.update(status=report["status"], report=report, summary=summary_text(report),
                  changed=bool(upgraded or any(t.phase == FAILED and t.started for t in rollout.tracks)))
    if report["status"] in (RUN_FAILED, BLOCKED):
        result.update(msg="rolling driver upgrade %s: %s" % (
            report["status"], report["stop_reason"] or "%d node(s) failed" % rollout.failed_count()))
    return result
