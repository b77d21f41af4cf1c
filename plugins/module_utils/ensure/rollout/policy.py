# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The rollout's policy: pure decisions over a snapshot. Nothing here reads or writes the cluster,
the clock or the journal; the engine hands in a Snapshot and carries out the Decision.

- **Budgets**: ``max_unavailable`` (a count or a percentage of the pool's nodes, rounded down,
  at least 1) and ``max_unavailable_per_node_pool``. Every node that is cordoned or NotReady,
  whoever caused it, uses up the budget, as do this run's in-flight and failed nodes.
- **Order**: nodes a previous run left in flight first, then pending nodes in a hash order of
  (name, target), so a rerun picks the same next nodes and node pools interleave.
- **Groups** (job- and topology-aware, groups.py): ``ordered`` puts each launch group's nodes
  together (the engine numbers them at plan time, ``Track.group``), ``group_nodes`` cuts the order
  into groups, and ``choose_launches`` launches a group back to back: its nodes take the free
  slots as they come and no later node overtakes one of them. A group that fits starts at once;
  a larger one does not wait for the whole budget (that would be a wave barrier): its waiting
  nodes are held by the engine (the queued taint) so its jobs stay down until its last node.
  Without job awareness every node is its own group.
- **Wait for idle** (``job_idle_wait`` > 0): a busy group that has not begun is gated at its turn
  (a slot free for it) by ``groups.idle_gate``: it waits while its jobs still run and the bound
  has not passed, and meanwhile the later groups take the free slots. After the bound it is
  drained anyway. The engine's clock gives the time waited (``Snapshot.waited``).
- **Canary**: one object, CanaryPolicy: which nodes go first, when they have passed, the pause
  after them, and what a failed canary means.
- **Window gate**: no node starts outside the maintenance window, or within ``window_margin``
  seconds of its end.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import groups as G
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import window as windows
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.machine import (
    DONE,
    FAILED,
    IN_FLIGHT,
    PAUSED_CANARY,
    PAUSED_WINDOW,
    PENDING,
    RUN_FAILED,
)
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes


# ----------------------------------------------------------------------------------------------
# Budgets
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


def unavailable(node):
    """Cordoned or NotReady, whoever caused it (the budget counts every such node)."""
    return knodes.is_cordoned(node) or not knodes.is_ready(node)


def unavailable_nodes(kube_nodes, by_kube_name):
    """Kubernetes names of the nodes that use up the budget: cordoned or NotReady (whoever caused
    it), plus this run's in-flight and failed nodes."""
    names = []
    for name, node in kube_nodes.items():
        track = by_kube_name.get(name)
        if unavailable(node) or (track is not None and track.phase in IN_FLIGHT + (FAILED,)):
            names.append(name)
    return sorted(names)


def unavailable_per_node_pool(kube_nodes, names):
    per_pool = {}
    for name in names:
        pool = knodes.labels_of(kube_nodes[name]).get(L.NODE_POOL_NAME)
        per_pool[pool] = per_pool.get(pool, 0) + 1
    return per_pool


# ----------------------------------------------------------------------------------------------
# Order and groups
# ----------------------------------------------------------------------------------------------
def order_key(name, target):
    """Deterministic, target-dependent order: reruns pick the same next nodes; node pools interleave."""
    return hashlib.sha256(("%s|%s" % (name, target)).encode("utf-8")).hexdigest()


def ordered(tracks, target, position=None):
    """In-flight (resumed) nodes first, then pending ones by launch-group position (job-aware runs)
    and hash order; the rest by name."""
    rank = dict.fromkeys(IN_FLIGHT, 0)
    rank[PENDING] = 1
    position = position or {}
    return sorted(tracks, key=lambda t: (rank.get(t.phase, 2), position.get(t.kube_name, 0),
                                         order_key(t.name, target) if t.phase in rank else t.name))


def group_nodes(tracks):
    """Launch groups in rollout order: consecutive tracks of one ``Track.group``; a track without
    a group is a group of its own."""
    out = []
    for track in tracks:
        if out and track.group is not None and out[-1][-1].group == track.group:
            out[-1].append(track)
        else:
            out.append([track])
    return out


# ----------------------------------------------------------------------------------------------
# Canary
# ----------------------------------------------------------------------------------------------
class CanaryPolicy:
    """The first ``nodes`` nodes of the order go alone; the others wait until every canary node is
    done. Nodes an earlier run of the same target finished count as canaries already passed. With
    ``pause`` the run then stops (``paused_after_canary``) until a rerun with ``approved``. A failed
    canary node stops the run, whatever the failure budget."""

    def __init__(self, nodes=0, pause=False, approved=False):
        self.nodes = int(nodes or 0)
        self.pause = bool(pause)
        self.approved = bool(approved)

    def choose(self, tracks, done_before, preferred=None):
        """The canary nodes among ``tracks`` (in rollout order); ``done_before`` nodes already count.
        ``preferred(count)`` (job-aware runs): the pending nodes to take, never half a group."""
        need = max(0, self.nodes - done_before)
        if preferred is None:
            return [t for t in tracks if t.phase in (PENDING,) + IN_FLIGHT][:need]
        in_flight = [t for t in tracks if t.phase in IN_FLIGHT][:need]
        return in_flight + (list(preferred(need - len(in_flight))) if need > len(in_flight) else [])

    @staticmethod
    def passed(tracks):
        canaries = [t for t in tracks if t.canary]
        return not canaries or all(t.phase == DONE for t in canaries)

    @staticmethod
    def may_start(track, passed):
        return passed or track.canary

    def pause_after(self, passed):
        """(status, reason) when the run must stop after its canary, else None."""
        if passed and self.nodes > 0 and self.pause and not self.approved:
            return PAUSED_CANARY, "paused after canary; rerun with canary approval to continue"
        return None

    @staticmethod
    def failure(track, reason):
        """(status, reason) when the failure of ``track`` stops the run by itself, else None."""
        if track.canary:
            return RUN_FAILED, "canary node %s failed: %s" % (track.name, reason)
        return None

    @staticmethod
    def waves(canaries, max_unavailable):
        return math.ceil(canaries / float(max_unavailable)) if canaries else 0


def expected_duration(pending, canaries, max_unavailable, node_seconds, canary=CanaryPolicy):
    """Physical limit of the plan: canary waves, then ceil(rest / max_unavailable) node durations."""
    rest_waves = math.ceil(max(0, pending - canaries) / float(max_unavailable))
    return (canary.waves(canaries, max_unavailable) + rest_waves) * node_seconds


# ----------------------------------------------------------------------------------------------
# Window gate
# ----------------------------------------------------------------------------------------------
def window_gate(window, override, margin, now_utc):
    """(status, reason) when no node may start now because of the maintenance window, else None."""
    if override:
        return None
    state = windows.window_state(window, now_utc)
    if not state["open"] or (state["seconds_left"] is not None and state["seconds_left"] < margin):
        return PAUSED_WINDOW, "the maintenance window %s is closed or closes within %ss" % (
            window["text"], int(margin))
    return None


# ----------------------------------------------------------------------------------------------
# The policy object
# ----------------------------------------------------------------------------------------------
@dataclass
class Snapshot:
    """What the policy decides on. ``tracks`` in rollout order; ``unavailable`` the kube names
    using up the budget; ``per_pool`` their count per node pool. Wait for idle: ``groups`` the
    launch groups (groups.plan_groups, indexed by ``Track.group``), ``running_jobs`` the jobs seen
    running on the nodes of busy groups that have not begun, ``waited`` {group index: seconds
    since it began to wait}."""

    tracks: list
    unavailable: list
    per_pool: dict
    now_utc: object
    deadline_passed: bool = False
    canary_passed: bool = False
    groups: list = field(default_factory=list)
    running_jobs: set = field(default_factory=set)
    waited: dict = field(default_factory=dict)


@dataclass
class Decision:
    """``launch``: the nodes to cordon now. ``stop``: (status, reason) when launching must stop.
    ``canary_passed``: the canary passed in this snapshot (the engine says so once).
    ``idle_gates``: {group index: (groups.WAIT or groups.LAUNCH, reason)} of the busy groups gated
    at their turn in this snapshot."""

    launch: list = field(default_factory=list)
    stop: tuple = None
    canary_passed: bool = False
    idle_gates: dict = field(default_factory=dict)


class Policy:
    """Budgets, order, canary and window gate of one run, sized from the pool at plan time."""

    def __init__(self, config, kube_nodes, total):
        self.config = config
        self.max_unavailable = parse_budget(config.max_unavailable, total, "max_unavailable")
        self.pool_sizes = {}
        for node in kube_nodes:
            pool = knodes.labels_of(node).get(L.NODE_POOL_NAME)
            self.pool_sizes[pool] = self.pool_sizes.get(pool, 0) + 1
        self.pool_limits = {}
        if config.max_unavailable_per_node_pool not in (None, ""):
            self.pool_limits = {pool: parse_budget(config.max_unavailable_per_node_pool, size,
                                                   "max_unavailable_per_node_pool")
                                for pool, size in self.pool_sizes.items()}
        self.canary = CanaryPolicy(config.canary_nodes, config.canary_pause, config.canary_approved)

    def failure_stop(self, track, reason, failed_count):
        """(status, reason) when a node failure stops new launches: a canary, or the budget spent."""
        return self.canary.failure(track, reason) or self.budget_stop(failed_count)

    def budget_stop(self, failed_count):
        budget = int(self.config.max_failed_nodes or 0)
        if failed_count > budget:
            return RUN_FAILED, "%d node(s) failed, more than max_failed_nodes=%d" % (failed_count, budget)
        return None

    def expected_duration(self, pending, canaries, node_seconds):
        return expected_duration(pending, canaries, self.max_unavailable, node_seconds, self.canary)

    def decide(self, snapshot):
        """Which nodes start now, or why none may start any more."""
        config = self.config
        gate = window_gate(config.window, config.window_override, float(config.window_margin or 0),
                           snapshot.now_utc)
        if gate:
            return Decision(stop=gate)
        if snapshot.deadline_passed:
            return Decision(stop=(RUN_FAILED, "wait_timeout ran out"))
        stop = self.budget_stop(sum(1 for t in snapshot.tracks if t.phase == FAILED))
        if stop:
            return Decision(stop=stop)
        passed_now = not snapshot.canary_passed and self.canary.passed(snapshot.tracks)
        passed = snapshot.canary_passed or passed_now
        pause = self.canary.pause_after(passed)
        if pause:
            return Decision(stop=pause, canary_passed=passed_now)
        gates = {}
        return Decision(launch=self.choose_launches(snapshot, passed, gates), canary_passed=passed_now,
                        idle_gates=gates)

    def idle_gate(self, group, snapshot):
        """groups.idle_gate for a busy group that has not begun (every node pending), else None."""
        index = group[0].group
        if not self.config.job_idle_wait or index is None or any(t.phase != PENDING for t in group):
            return None
        info = snapshot.groups[index]
        if not info["jobs"]:
            return None
        return G.idle_gate(info, snapshot.running_jobs, snapshot.waited.get(index, 0), self.config.job_idle_wait)

    def choose_launches(self, snapshot, canary_passed, gates=None):
        """Groups in order, back to back, while slots are free under max_unavailable and the
        per-node-pool limits. A node of a single-node group that its pool's limit holds back is
        passed over; a held-back node of a larger group stops the launches (nothing overtakes a
        group that has begun). A busy group that waits for idle at its turn is passed over (its
        gate goes into ``gates``)."""
        total, per_pool = len(snapshot.unavailable), dict(snapshot.per_pool)
        launching = []
        gates = {} if gates is None else gates
        for group in group_nodes(snapshot.tracks):
            members = [t for t in group if t.phase == PENDING and self.canary.may_start(t, canary_passed)]
            if members and total < self.max_unavailable:
                gate = self.idle_gate(group, snapshot)
                if gate:
                    gates[group[0].group] = gate
                    if gate[0] == G.WAIT:
                        continue
            for track in members:
                if total >= self.max_unavailable:
                    return launching
                limit = self.pool_limits.get(track.node_pool)
                if limit is not None and per_pool.get(track.node_pool, 0) >= limit:
                    if len(group) > 1:
                        return launching
                    break
                launching.append(track)
                total += 1
                per_pool[track.node_pool] = per_pool.get(track.node_pool, 0) + 1
        return launching
