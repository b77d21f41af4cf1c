# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The rollout loop (ensure/rollout/README.md describes it). The engine reads and writes the world
only through its three ports (ports.py), asks the policy (policy.py) what may start, and moves
nodes only through machine.transition. Clock, sleep and wall time are injectable for tests.
"""

from __future__ import annotations

import json
import time

from ansible_collections.modelarts.lite.plugins.module_utils import times
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import compat
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import groups as G
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as M
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import policy as P
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import report as R
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.ports import (
    ClusterReader,
    NodeWriter,
    Upgrader,
)
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.smoke import SmokeCheck
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ApiError, LiteError, TransportError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.lease import LockLostError, PoolLock

# Consecutive poll cycles that may fail on transport errors, throttling or 5xx before the run gives up.
MAX_CYCLE_ERRORS = 10


def transient(error):
    """A failure the next poll cycle may not meet again: transport, throttling, 5xx."""
    if isinstance(error, TransportError):
        return True
    status = getattr(error, "status", None) or 0
    return isinstance(error, ApiError) and (status == 429 or status >= 500)


def never():
    return False


class Engine:
    """Plan and run a rolling driver upgrade of one pool.

    ``stop_requested``: called once per cycle; once it returns something true no new node starts
    and the run ends ``stopped``. The nodes in flight finish, unless the request has ``park`` set
    (the controller is gone, so nobody waits for them): then they are parked at once. The request's
    ``reason``, when it has one, is the report's stop reason. The default never asks to stop.
    """

    def __init__(self, pool_id, config, reader, writer, upgrader, lock, journal=None, clock=time.monotonic,
                 wall=time.time, sleep=time.sleep, stop_requested=never):
        self.pool_id = pool_id
        self.config = config
        self.target = config.target
        self.run_id = config.run_id
        self.reader, self.writer, self.upgrader = reader, writer, upgrader
        self.lock = lock
        self.journal = journal or (lambda event: None)
        self.clock, self.wall, self.sleep = clock, wall, sleep
        self.stop_requested = stop_requested
        self.policy = None
        self.tracks = []
        self.by_kube_name = {}
        self.kube_nodes = {}
        self.records = {}
        self.pdbs = []
        self.stop_reason = None
        self.status = None
        self.canary_passed = False
        self.upgrades_refused = False
        self.node_seconds = []
        self.started_wall = None
        self.started_mono = None
        self.run_deadline = None
        self.groups = []             # job-aware launch groups (groups.plan_groups, kept ones)
        self.multi_node_jobs = set()
        self.interruptions = {}      # job -> times a drain of this run interrupted it
        self.job_hits = {}           # job -> kube names whose drain evicted a running pod of it
        self.idle_waits = {}         # group index -> its wait for idle (since, nodes, jobs, outcome)
        self.waiting = set()         # group indexes the last decision made wait

    @classmethod
    def build(cls, cloud, kube, pool_id, config, journal=None, clock=time.monotonic, wall=time.time,
              sleep=time.sleep, lock=None, watch=None, stop_requested=never):
        """The engine over the real ports of ``cloud`` and ``kube`` (and the pool's Lease)."""
        lock = lock or PoolLock(kube, pool_id, config.run_id, config.lease_duration, owner=config.owner, clock=wall)
        return cls(pool_id, config, ClusterReader(cloud, kube, pool_id, clock, watch), NodeWriter(kube, config.run_id,
                   config.target, wall), Upgrader(cloud, pool_id), lock, journal, clock, wall, sleep, stop_requested)

    def emit(self, kind, message, track=None, **fields):
        self.journal(R.event(self.wall(), kind, message, track, **fields))

    # -- planning ----------------------------------------------------------------------------------

    def plan(self, records, kube_nodes, pods, pdbs, selected):
        """Classify every selected node from the cluster itself (resume included); order them."""
        self.records = {r["metadata"]["name"]: r for r in records}
        self.kube_nodes = {n["metadata"]["name"]: n for n in kube_nodes}
        self.pdbs = pdbs
        self.policy = P.Policy(self.config, kube_nodes, len(self.kube_nodes) or len(records))
        pods_by_node = {}
        for pod in pods:
            pods_by_node.setdefault((pod.get("spec") or {}).get("nodeName"), []).append(pod)
        tracks = []
        for record in selected:
            track = M.Track(record, self.kube_nodes.get((record.get("status") or {}).get("privateIp")), self.target)
            M.classify(track, self.kube_nodes.get(track.kube_name), pods_by_node.get(track.kube_name, []), pdbs,
                       self.config, self.clock())
            tracks.append(track)
        position = self._group(tracks, pods) if self.config.job_aware else {}
        self.tracks = P.ordered(tracks, self.target, position)
        self.by_kube_name = {t.kube_name: t for t in self.tracks}
        done_before = sum(1 for t in self.tracks if t.phase == M.ALREADY and t.resumed)
        preferred = None
        if self.groups:
            def preferred(count):
                return [self.by_kube_name[name] for name in G.pick_canaries(self.groups, count)]
        for track in self.policy.canary.choose(self.tracks, done_before, preferred):
            track.canary = True
        self.canary_passed = self.policy.canary.passed(self.tracks)
        return self.tracks

    def _group(self, tracks, pods):
        """Job-aware order (groups.py): {kube name: launch position} of the pending nodes, grouped
        by the multi-node jobs on them and by super node; oversized groups skipped when
        ``oversized_groups`` says so."""
        pending = {t.kube_name: t for t in tracks if t.phase == M.PENDING}
        labels = {name: knodes.labels_of(node) for name, node in self.kube_nodes.items()}
        self.multi_node_jobs = {job for job, on in G.jobs_by_node(pods, self.config.job_labels).items() if len(on) > 1}
        planned = G.plan_groups(list(pending), labels, pods, self.config.job_labels,
                                order=lambda name: P.order_key(pending[name].name, self.target))
        kept, skipped = G.apply_oversized(planned, self.policy.max_unavailable, self.config.oversized_groups)
        for name, reason in skipped.items():
            pending[name].phase, pending[name].reason = M.SKIPPED, reason
        order, group_of = G.launch_order(kept)
        for name, index in group_of.items():
            pending[name].group = index
        self.groups = kept
        return {name: index + 1 for index, name in enumerate(order)}

    def job_report(self):
        """The job-aware part of the plan: the groups of more than one node."""
        return {"job_aware": bool(self.config.job_aware),
                "groups": [{"nodes": [self.by_kube_name[n].name for n in g["nodes"]], "jobs": g["jobs"],
                            "super_nodes": g["super_nodes"], "down_rounds": g["down_rounds"]}
                           for g in self.groups if len(g["nodes"]) > 1]}

    def plan_report(self):
        return dict(R.plan_report(self.tracks, self.policy, self.pdbs, self.config.expected_node_seconds),
                    **self.job_report())

    @property
    def max_unavailable(self):
        return self.policy.max_unavailable

    # -- node state ----------------------------------------------------------------------------------

    def _set(self, track, phase, message, reason=None, write=True, **write_args):
        """Write the node's state (unless ``write`` is false), then make the transition."""
        if write:
            self.kube_nodes[track.kube_name] = self.writer.write(self.kube_nodes.get(track.kube_name), track, phase,
                                                                 reason=reason, **write_args)
        M.transition(track, phase, self.emit, message, reason)

    def _write_all(self, writes):
        self.kube_nodes.update(self.writer.write_all(self.kube_nodes, writes))

    def _fail(self, track, reason):
        track.ended = self.wall()
        message = "%s (%s) FAILED: %s; left cordoned" % (track.name, track.kube_name, reason)
        try:
            self._set(track, M.FAILED, message, reason=reason)
        except LiteError as error:   # the failure is what matters; the annotation is best effort
            M.transition(track, M.FAILED, self.emit, message,
                         "%s (state annotation not written: %s)" % (reason, error))
        stop = self.policy.failure_stop(track, reason, self.failed_count())
        if stop:
            self._stop(*stop)
        self.emit("tally", R.tally_text(self.tracks))

    def failed_count(self):
        return sum(1 for t in self.tracks if t.phase == M.FAILED)

    def _stop(self, status, reason, override=False):
        if self.stop_reason is None or override:
            self.stop_reason = reason
            self.status = status
            self.emit("stop", "no new nodes will start: %s" % reason, status=status)

    # -- the steps of a node ----------------------------------------------------------------------

    def _launch(self, tracks):
        """Cordon (with the state) every node given, in one concurrent batch of writes."""
        self._write_all([(t, M.CORDONED, {"cordon": not knodes.is_cordoned(self.kube_nodes[t.kube_name])})
                         for t in tracks])
        for track in tracks:
            track.started = self.wall()
            track.launched_at = self.clock()
            self._set(track, M.CORDONED, "%s (%s) cordoned%s, draining" % (
                track.name, track.kube_name, " [canary]" if track.canary else ""), write=False)
        self._hold_groups(tracks)

    def _hold_groups(self, launched):
        """Taint the waiting nodes of each group that just started (the queued taint): its jobs
        are about to be interrupted and must not restart before the group's last node is back."""
        started = {t.group for t in launched if t.group is not None}
        waiting = [t for t in self.tracks if t.group in started and t.phase == M.PENDING and not t.held]
        if not waiting:
            return
        self._write_all([(t, M.PENDING, {"hold": True}) for t in waiting])
        for track in waiting:
            track.held = True
        self.emit("hold", "holding %s for their group (NoSchedule %s)" % (
            ", ".join(t.name for t in waiting), L.QUEUED_TAINT))

    def _release_holds(self):
        """A run that stops early takes the queued taint off the nodes it never launched."""
        waiting = [t for t in self.tracks if t.held and t.phase in (M.PENDING, M.SKIPPED)]
        if not waiting:
            return
        try:
            self._write_all([(t, t.phase, {"hold": False}) for t in waiting])
        except LiteError as error:
            self.emit("warning", "could not remove %s from %s: %s" % (
                L.QUEUED_TAINT, ", ".join(t.kube_name for t in waiting), error))
            return
        for track in waiting:
            track.held = False

    def _note_interruptions(self, track, plan, pods):
        """Journal each job whose running pod this drain evicts, once per interruption."""
        evicting = {entry["pod"] for entry in plan[kdrain.EVICT]}
        hit = sorted({G.job_of(p, self.config.job_labels) for p in pods
                      if kdrain.pod_key(p) in evicting and (p.get("status") or {}).get("phase") == "Running"}
                     - {None})
        for job in hit:
            earlier = self.job_hits.setdefault(job, set())
            out = [name for name in earlier if self.by_kube_name[name].phase in M.IN_FLIGHT + (M.FAILED,)]
            earlier.add(track.kube_name)
            if not G.interrupted(out):
                continue
            self.interruptions[job] = self.interruptions.get(job, 0) + 1
            self.emit("interruption", "%s (%s): drain interrupts job %s" % (track.name, track.kube_name, job), track,
                      job=job, multi_node=job in self.multi_node_jobs)

    def _step_drains(self, draining, pods=None):
        """Advance the draining nodes given by one eviction pass; returns the nodes now drained.
        ``pods`` is a ``pods_by_node`` snapshot taken after their cordon (listed here when None)."""
        if not draining:
            return []
        if pods is None:
            pods = self.reader.pods([t.kube_name for t in draining])
        drained = []
        for track in draining:
            node_pods = pods.get(track.kube_name, [])
            if track.drain is None:
                plan = kdrain.plan_drain(node_pods, self.pdbs, self.config.force, self.config.delete_emptydir_data)
                if plan[kdrain.REFUSE]:
                    self._fail(track, kdrain.refusal_summary(track.kube_name, plan[kdrain.REFUSE]))
                    continue
                self._note_interruptions(track, plan, node_pods)
                track.drain = kdrain.NodeDrain(track.kube_name, plan, self.config.drain_timeout,
                                               self.config.grace_period, clock=self.clock)
            try:
                finished = self.writer.drain_pass(track.drain, node_pods)
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
        """One batch-update for every node drained in this cycle. No state write here: the Node keeps
        "cordoned" until done; a rerun tells an upgrade that went out from one that did not by the
        ModelArts driver phase (Pending/Updating) or version. The phase changes only once the call
        went out: a call that failed leaves its nodes to be retried, failed or parked."""
        if not tracks:
            return
        if self.upgrades_refused:
            return self._park(tracks)
        names = [t.name for t in tracks]
        try:
            result = self.upgrader.start(names, self.target)
        except ApiError as error:
            if error.status == 400:
                return self._refused_call(tracks, error)
            for track in tracks:
                self._fail(track, "ModelArts refused the driver upgrade: %s" % (error.error_msg or error))
            return None
        except TransportError as error:
            for track in tracks:
                self._fail(track, "the batch-update call may not have reached ModelArts (%s); rerun with "
                                  "retry_failed=true once the node is idle" % error.reason)
            return None
        refused = set(result.get("failNodeNames") or [])
        for track in tracks:
            track.upgrade_started = self.clock()
            self._set(track, M.UPGRADING, "%s (%s) drained (%d pod(s) evicted), driver upgrade to %s started"
                      % (track.name, track.kube_name, len(track.evicted), self.target), write=False)
            if track.name in refused:
                self._fail(track, "ModelArts refused to upgrade the driver (the node must be Available with its "
                                  "driver Running)")
        return None

    def _refused_call(self, tracks, error):
        """A 400 answers the call itself (its form or the version), not one node: every node would
        meet it, so the whole run stops here instead of failing node after node."""
        self.upgrades_refused = True
        body = self.upgrader.body([t.name for t in tracks], self.target)
        self._stop(M.RUN_FAILED, "ModelArts refused the batch-update driver-upgrade call (%s %s with %s): HTTP 400 %s%s. "
                   "The rollout stops: no other node starts, and the drained nodes stay cordoned (a rerun resumes "
                   "them). See docs/api-contract.md for the call's wire form and the version the node pool accepts"
                   % (error.method or "POST", error.path or "batch-update", json.dumps(body, sort_keys=True),
                      error.error_code or "", ": %s" % error.error_msg if error.error_msg else ""), override=True)
        self._park(tracks + [t for t in self.tracks if t.phase == M.CORDONED and t not in tracks])

    def _park(self, tracks):
        for track in tracks:
            self._set(track, M.PARKED, "%s (%s) parked: drained and cordoned, its upgrade not started (%s)"
                      % (track.name, track.kube_name, "the batch-update call was refused"),
                      reason="the batch-update call was refused; a rerun resumes it", write=False)

    def _park_in_flight(self, reason):
        """Leave every node in flight as it stands, cordoned, its state annotation saying "parked" and
        why, and stop its smoke check: nobody follows the run any more, so it does not wait for them.
        An upgrade ModelArts has started goes on in the cloud; a rerun resumes each node from the
        cluster (machine.classify) and upgrades none twice."""
        in_flight = [t for t in self.tracks if t.phase in M.IN_FLIGHT]
        notes = {t.name: "parked while %s: %s; a rerun resumes it" % (t.phase, reason) for t in in_flight}
        for track in in_flight:
            if track.smoke is not None:
                track.smoke.stop()
                track.smoke = None
        try:
            self._write_all([(t, M.PARKED, {"reason": notes[t.name]}) for t in in_flight])
        except LiteError as error:   # the cordon stays either way, and the report lists every parked node
            self.emit("warning", "parking notes not all written (%s); the nodes stay cordoned" % error)
        for track in in_flight:
            M.transition(track, M.PARKED, self.emit, "%s (%s) parked, left cordoned: %s"
                         % (track.name, track.kube_name, notes[track.name]), notes[track.name])

    def _advance_upgrades(self):
        active = [t for t in self.tracks if t.phase in (M.UPGRADING, M.VERIFYING)]
        if not active:
            return
        for track in active:
            node = self.kube_nodes.get(track.kube_name)
            if track.phase == M.UPGRADING and M.kube_upgraded(node, self.target) \
                    and compat.norm(knodes.driver_version(node)) == compat.norm(self.target):
                self._verifying(track, "Kubernetes")
        confirming = [t for t in active if t.phase == M.VERIFYING and not t.cloud_confirmed]
        listed_at = self.reader.cloud_listed_at
        background_due = listed_at is None or self.clock() - listed_at >= self._background_interval()
        if confirming or (background_due and any(t.phase == M.UPGRADING for t in active)):
            records, complete = self.reader.cloud_nodes(None if background_due else [t.name for t in confirming])
            if complete:
                self.records = records
            else:
                self.records.update(records)
            for track in active:
                record = self.records.get(track.name)
                reason = M.cloud_failure(record)
                if reason:
                    self._fail(track, "driver upgrade failed: %s" % reason)
                elif M.cloud_upgraded(record, self.target):
                    track.cloud_confirmed = True
                    if track.phase == M.UPGRADING:
                        self._verifying(track, "ModelArts")
        finishing = []
        for track in active:
            if track.phase != M.VERIFYING:
                continue
            if track.cloud_confirmed and M.kube_upgraded(self.kube_nodes.get(track.kube_name), self.target):
                track.after = M.cloud_driver(self.records.get(track.name)).get("version") or self.target
                if self.config.smoke_command:
                    self._start_smoke(track)
                else:
                    finishing.append(track)
        self._finish(finishing)

    def _verifying(self, track, source):
        self._set(track, M.VERIFYING, "%s (%s): %s shows driver %s; verifying the node" % (
            track.name, track.kube_name, source, self.target), write=False)

    def _background_interval(self):
        """Seconds between ModelArts lists that only look for failed upgrades: about one node duration."""
        interval = float(self.config.poll_interval)
        if self.node_seconds:
            ordered = sorted(self.node_seconds)
            return max(interval, ordered[len(ordered) // 2])
        return interval * 10

    def _timeouts(self):
        limit = float(self.config.node_timeout)
        for track in self.tracks:
            if track.phase in (M.UPGRADING, M.VERIFYING) and track.launched_at is not None \
                    and self.clock() - (track.upgrade_started or track.launched_at) > limit:
                node = self.kube_nodes.get(track.kube_name) or {}
                self._fail(track, "not back after %ss: Ready=%s, NPUs %s/%s, driver label %s" % (
                    int(limit), knodes.is_ready(node), knodes.npu_counts(node)[1], knodes.npu_counts(node)[0],
                    knodes.driver_version(node)))

    def _start_smoke(self, track):
        try:
            track.smoke = SmokeCheck(self.config.smoke_command, self.pool_id, track, self.target, self.clock())
        except OSError as error:
            self._fail(track, "smoke check could not start: %s" % error)
            return
        self._set(track, M.SMOKE, "%s (%s) is Ready with driver %s and its NPUs; smoke check running"
                  % (track.name, track.kube_name, track.after))

    def _advance_smoke(self):
        limit = float(self.config.smoke_timeout)
        for track in [t for t in self.tracks if t.phase == M.SMOKE]:
            outcome = track.smoke.outcome(self.clock(), limit)
            if outcome is None:
                continue
            track.smoke = None
            code, tail = outcome
            if code == 0:
                self._finish([track])
            else:
                self._fail(track, "smoke check %s: %s" % (
                    "timed out after %ss" % int(limit) if code is None else "exited %s" % code, tail or "no output"))

    def _finish(self, tracks):
        """Mark done and uncordon (our own cordon only) every node given, in one batch of writes."""
        if not tracks:
            return
        self._write_all([(t, M.DONE, {"uncordon": True}) for t in tracks])
        for track in tracks:
            track.ended = self.wall()
            if track.launched_at is not None:
                self.node_seconds.append(self.clock() - track.launched_at)
            self._set(track, M.DONE, "%s (%s) upgraded %s -> %s in %ss, uncordoned" % (
                track.name, track.kube_name, track.before, track.after,
                int(track.ended - track.started) if track.started else "?"), write=False)
            self.emit("tally", R.tally_text(self.tracks))

    # -- slots -------------------------------------------------------------------------------------

    def unavailable_nodes(self):
        return P.unavailable_nodes(self.kube_nodes, self.by_kube_name)

    def _running_jobs(self, unavailable):
        """The multi-node jobs running on the nodes of the busy groups that have not begun: listed
        (one pod list per node, or one of the cluster for many) only with ``job_idle_wait`` on and
        a slot free, the only time a group can be at its turn."""
        if not self.config.job_idle_wait or len(unavailable) >= self.max_unavailable:
            return set()
        begun = {t.group for t in self.tracks if t.group is not None and t.phase != M.PENDING}
        names = [t.kube_name for t in self.tracks if t.phase == M.PENDING and t.group is not None
                 and t.group not in begun and self.groups[t.group]["jobs"]]
        if not names:
            return set()
        pods = self.reader.pods(names)
        return {G.job_of(p, self.config.job_labels) for on in pods.values() for p in on} - {None}

    def _note_idle_gates(self, gates, running):
        """Journal when a group begins to wait for idle and how its wait ends."""
        self.waiting = {index for index, (verdict, _reason) in gates.items() if verdict == G.WAIT}
        for index, (verdict, reason) in sorted(gates.items()):
            group, wait = self.groups[index], self.idle_waits.get(index)
            nodes = [self.by_kube_name[n].name for n in group["nodes"]]
            if verdict == G.WAIT and wait is None:
                self.idle_waits[index] = {"since": self.clock(), "nodes": nodes, "outcome": None,
                                          "jobs": [j["job"] for j in group["jobs"]]}
                self.emit("idle-wait", "group %s: %s" % (", ".join(nodes), reason))
            elif verdict == G.LAUNCH and wait is not None and wait["outcome"] is None:
                still = {j["job"] for j in group["jobs"]} & running
                self._end_wait(wait, "bound" if still else "idle")
                self.emit("idle-wait", "group %s: %s after waiting %ss" % (
                    ", ".join(nodes), reason, wait["waited_seconds"]))

    def _end_wait(self, wait, outcome):
        wait.update(outcome=outcome, waited_seconds=int(self.clock() - wait["since"]))

    def _fill_slots(self):
        """Cordon the pending nodes the policy lets start; returns them."""
        request = self.stop_requested() if self.status != M.STOPPED else None
        if request:
            park = bool(getattr(request, "park", False))
            self._stop(M.STOPPED, getattr(request, "reason", None) or "a stop was requested", override=park)
            if park:
                self._park_in_flight(self.stop_reason)
        if self.stop_reason:
            return []
        names = self.unavailable_nodes()
        running = self._running_jobs(names)
        decision = self.policy.decide(P.Snapshot(
            tracks=self.tracks, unavailable=names, per_pool=P.unavailable_per_node_pool(self.kube_nodes, names),
            now_utc=times.utc(self.wall()), canary_passed=self.canary_passed,
            deadline_passed=self.run_deadline is not None and self.clock() >= self.run_deadline,
            groups=self.groups, running_jobs=running,
            waited={i: self.clock() - w["since"] for i, w in self.idle_waits.items() if w["outcome"] is None}))
        self._note_idle_gates(decision.idle_gates, running)
        if decision.canary_passed:
            self.canary_passed = True
            self.emit("canary", "canary passed: %s" % ", ".join(t.name for t in self.tracks if t.canary))
        if decision.stop:
            self._stop(*decision.stop)
            return []
        if decision.launch:
            self._launch(decision.launch)
        return decision.launch

    # -- the loop ----------------------------------------------------------------------------------

    def _cycle(self):
        """One poll cycle (see ensure/rollout/README.md for what it does and in which order)."""
        if self.lock.due():
            self.lock.renew()
        self.reader.watch.cycle_started()
        draining = [t for t in self.tracks if t.phase == M.CORDONED]
        kube_nodes, pods = self.reader.nodes_and_pods([t.kube_name for t in draining], self.kube_nodes)
        self.kube_nodes = {n["metadata"]["name"]: n for n in kube_nodes}
        self._start_upgrades(self._step_drains(draining, pods))
        self._advance_upgrades()
        self._advance_smoke()
        self._timeouts()
        # Pods listed after the cordon: a pod scheduled just before it is not missed.
        self._start_upgrades(self._step_drains(self._fill_slots()))

    def run(self):
        self.started_wall, self.started_mono = self.wall(), self.clock()
        timeout = self.config.run_timeout
        self.run_deadline = self.started_mono + timeout if timeout else None
        interval = float(self.config.poll_interval)
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
                in_flight = [t for t in self.tracks if t.phase in M.IN_FLIGHT]
                pending = [t for t in self.tracks if t.phase == M.PENDING]
                if not in_flight and (not pending or self.stop_reason):
                    break
                if not in_flight and pending and not self.waiting:
                    # Nothing of ours is out, yet no slot is free: other nodes are unavailable.
                    idle_since = idle_since if idle_since is not None else self.clock()
                    if self.clock() - idle_since > float(self.config.node_timeout):
                        self._stop(M.BLOCKED, "no slot freed for %ss: %d node(s) of the pool are cordoned or "
                                   "NotReady" % (int(self.config.node_timeout), len(self.unavailable_nodes())))
                        break
                else:
                    idle_since = None
                self.reader.watch.pause(interval, cycle_start, self.clock, self.sleep)
        except LockLostError as error:
            self._stop(M.RUN_FAILED, str(error))
        return self.finish()

    def finish(self):
        """The final report; the journal's "end" event says the same in one line."""
        self._release_holds()
        if self.started_wall is None:     # nothing to do: the run ends where it starts
            self.started_wall, self.started_mono = self.wall(), self.clock()
        if self.status is None:
            failed = self.failed_count()
            self.status = M.RUN_FAILED if self.policy.budget_stop(failed) else \
                M.SUCCEEDED_WITH_FAILURES if failed else M.SUCCEEDED
        report = R.run_report(self.run_id, self.pool_id, self.target, self.status, self.stop_reason,
                              self.started_wall, self.wall(), self.tracks, self.policy)
        for wait in self.idle_waits.values():
            if wait["outcome"] is None:
                self._end_wait(wait, "stopped")
        report.update(job_aware=bool(self.config.job_aware), job_interruptions=dict(sorted(self.interruptions.items())),
                      job_idle_waits=[{k: w[k] for k in ("nodes", "jobs", "waited_seconds", "outcome")}
                                      for w in sorted(self.idle_waits.values(), key=lambda w: w["since"])])
        self.emit("end", "rollout %s: %s (%s)" % (self.status, R.tally_text(self.tracks),
                                                  self.stop_reason or "all selected nodes handled"),
                  status=self.status)
        return report
