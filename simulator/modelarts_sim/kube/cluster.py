"""One simulated Kubernetes cluster (the cluster behind one Lite pool): the object store plus the
control loops a real cluster runs, reduced to what node maintenance meets.

* kubelet:      bound pods start (Pending -> Running/Ready) after `pod_start_seconds`; deleted pods
                disappear after min(grace period, `pod_stop_seconds`).
* scheduler:    unbound pods go to a Ready, schedulable node whose taints they tolerate, whose
                labels match their nodeSelector and whose NPUs they fit, least loaded first.
* controllers:  Deployment -> ReplicaSet -> Pods, DaemonSet -> one pod per Ready node it may run on
                (replacements appear `controller_delay_seconds` after a pod goes), PDB status,
                node lifecycle taints (unschedulable, not-ready), garbage collection of dependents.
* node coupling with the ModelArts side: join (NotReady then Ready), operations (driver upgrade,
                reboot, reset: NotReady, NPUs gone, pods killed), finish, removal.

The kubelet and scheduler (scheduling.py), the change tracking (tracking.py) and the workload
controllers (controllers.py) are mixins of Cluster, each in its own file; podfacts.py holds what
they read from pods. Everything runs inside `advance()`, called with the world lock held before each request is served
and by the server's ticker; times are simulated seconds from the world clock.

The loops are incremental, so a pass costs what changed, not the size of the pool: store
listeners keep per-controller pod tallies, per-budget member lists and each loop's work list
(what changed since it last looked) in step with every write, and kubelet timers sit in a heap.
A loop visits exactly the objects a full pass would have found something to do for, in the same
order, so clients see the same objects, resourceVersions and watch events as with full passes.
"""
import hashlib
import heapq
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from . import disruption, gang, jobs
from . import labels as L
from . import nodes as N
from .controllers import WorkloadControllers
from .podfacts import POD_STAGES, controller_of, controller_uid, is_active, pod_node, pod_stage
from .resources import Registry, ResourceType
from .scheduling import Scheduling
from .status import StatusError, not_found
from .store import ObjectStore, clone, compact_json, json_object, parse_rfc3339, random_suffix, rfc3339
from .tracking import ChangeTracking

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
MAX_EVENTS = 1000


@dataclass
class Timings:
    """Simulated seconds; the world clock's time scale makes them short in tests."""
    node_join_seconds: float = 60.0          # a new node's kubelet registers NotReady, then turns Ready
    node_recover_seconds: float = 20.0       # after a node operation finishes, until Ready
    pod_start_seconds: float = 5.0           # bound pod -> Running and Ready
    pod_stop_seconds: float = 2.0            # how long containers take to exit after SIGTERM
    controller_delay_seconds: float = 2.0    # a controller notices a missing replica


class Cluster(Scheduling, ChangeTracking, WorkloadControllers):
    def __init__(self, pool_id: str, registry: Registry, clock: Callable[[], float], token: str,
                 timings: Timings, history: Callable[[dict], None]):
        self.pool_id = pool_id
        self.registry = registry
        self.clock = clock
        self.token = token
        self.timings = timings
        self._history = history
        self.store = ObjectStore(registry, clock)
        # Per node, what the simulated kubelet is doing: ready_at (when it turns Ready), operation
        # (a ModelArts node operation in progress), never_ready (fault knob).
        self.node_state: Dict[str, dict] = {}
        # Controller uid -> simulated time at which it creates its missing pods.
        self.replacement_due: Dict[str, float] = {}
        self.pod_ip_counter = 0
        self.pods_removed = 0                          # capacity freed: unschedulable pods retry
        self.unschedulable: Dict[Tuple[str, str], tuple] = {}
        self._next_due = float("-inf")                 # see advance()
        self.modelarts_names: Dict[str, str] = {}     # ModelArts node name -> Node name (private IP)
        self.gangs = gang.GangJobs()                  # Volcano-style gang jobs (see gang.py)
        self.kinds = {name: registry.by_kind(group, name) for group, name in (
            ("", "Node"), ("", "Pod"), ("", "Namespace"), ("", "Event"), ("apps", "Deployment"),
            ("apps", "ReplicaSet"), ("apps", "DaemonSet"), ("policy", "PodDisruptionBudget"),
            ("coordination.k8s.io", "Lease"), ("batch", "Job"))}
        # Controllers look pods up by node and dependents by owner: indexed, so a loop's cost
        # follows the objects it touches, not the size of the cluster.
        self.store.add_index(self.kinds["Pod"], "node", pod_node, field="spec.nodeName")
        self.store.add_index(self.kinds["Pod"], "controller", controller_uid)
        self.store.add_index(self.kinds["Pod"], "stage", pod_stage)
        self.store.add_index(self.kinds["ReplicaSet"], "controller", controller_uid)
        for kind, listener in (("Node", self._node_written), ("Pod", self._pod_written),
                               ("Deployment", self._deployment_written), ("ReplicaSet", self._replica_set_written),
                               ("DaemonSet", self._daemon_set_written),
                               ("PodDisruptionBudget", self._budget_written)):
            self.store.add_listener(self.kinds[kind], listener)
        self._rebuild_tracking()
        for namespace in SYSTEM_NAMESPACES:
            self.ensure_namespace(namespace)

    def kind(self, name: str) -> ResourceType:
        return self.kinds[name]

    # ---- helpers --------------------------------------------------------------------------------

    def history(self, event: str, **fields) -> None:
        self._history({"kind": "k8s", "pool_id": self.pool_id, "event": event, **fields})

    def ensure_namespace(self, name: str) -> dict:
        existing = self.store.find(self.kind("Namespace"), None, name)
        if existing is not None:
            return existing
        self.store.create(self.kind("Namespace"), None, {
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        return self.store.find(self.kind("Namespace"), None, name)

    def record_event(self, involved: dict, reason: str, message: str, event_type: str = "Normal",
                     component: str = "kubelet") -> None:
        events = self.kind("Event")
        for old in self.store.oldest(events, self.store.count(events) - MAX_EVENTS + 1):
            self.store.remove(events, old["metadata"]["namespace"], old["metadata"]["name"])
        metadata = involved["metadata"]
        namespace = metadata.get("namespace") or "default"
        now = rfc3339(self.clock())
        self.store.create(events, namespace, {
            "metadata": {"name": f'{metadata["name"]}.{hashlib.sha1(random_suffix(8).encode()).hexdigest()[:16]}',
                         "namespace": namespace},
            "involvedObject": {"kind": involved.get("kind"), "name": metadata["name"],
                               "namespace": metadata.get("namespace", ""), "uid": metadata.get("uid"),
                               "apiVersion": involved.get("apiVersion")},
            "reason": reason, "message": message, "type": event_type,
            "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": component, "reportingInstance": ""})

    def nodes(self) -> List[dict]:
        return list(self.store.iter(self.kind("Node")))

    def pods(self, node_name: Optional[str] = None) -> List[dict]:
        if node_name is None:
            return list(self.store.iter(self.kind("Pod")))
        return self.store.indexed(self.kind("Pod"), "node", node_name)

    # ---- node coupling (called by the ModelArts side) -----------------------------------------------

    def add_node(self, record: dict, node_pool: Optional[dict] = None) -> dict:
        """A ModelArts node joined: its Node registers NotReady and turns Ready after node_join_seconds."""
        name = N.node_name(record)
        now = self.clock()
        existing = self.store.find(self.kind("Node"), None, name)
        if existing is not None:
            return self.sync_node(record, node_pool)
        node = N.new_node(record, node_pool, now)
        self._apply_node_taints(node)      # NotReady: registered with the not-ready taint
        node = self.store.create(self.kind("Node"), None, node)
        self.node_state[name] = {"ready_at": None, "operation": None,
                                 "never_ready": self.node_state.get(name, {}).get("never_ready", False)}
        self._set_ready_at(name, now + self.timings.node_join_seconds)
        model_name = (record.get("metadata") or {}).get("name")
        if model_name:
            self.modelarts_names[model_name] = name
        self.store.create(self.kind("Lease"), "kube-node-lease", {
            "metadata": {"name": name, "ownerReferences": [{
                "apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": rfc3339(now)[:-1] + ".000000Z"}})
        self.record_event(node, "Starting", "Starting kubelet.")
        self.history("node_registered", node=name, ready=False)
        return self.store.get(self.kind("Node"), None, name)

    def sync_node(self, record: dict, node_pool: Optional[dict] = None) -> dict:
        """Refresh ModelArts-owned labels (driver version, node pool labels) of an existing Node."""
        name = N.node_name(record)
        node = self.store.find(self.kind("Node"), None, name)
        if node is None:
            raise not_found("", "nodes", name)
        wanted = N.node_labels(record, node_pool)
        labels = node["metadata"].setdefault("labels", {})
        if any(labels.get(k) != v for k, v in wanted.items()):
            before = labels.get(L.DRIVER_VERSION)
            labels.update(wanted)
            self.store.commit(self.kind("Node"), node)
            if before != labels.get(L.DRIVER_VERSION):
                self.history("node_driver_label", node=name, before=before, after=labels.get(L.DRIVER_VERSION))
        return self.store.get(self.kind("Node"), None, name)

    def start_node_operation(self, name: str, operation: str) -> None:
        """A driver upgrade, reboot or reset began: NotReady, no NPUs, pods killed."""
        node = self.store.find(self.kind("Node"), None, name)
        if node is None:
            raise not_found("", "nodes", name)
        state = self.node_state.setdefault(name, {"never_ready": False})
        state.update(operation=operation, ready_at=None)
        now = self.clock()
        N.set_npu_allocatable(node, 0)
        if N.set_ready(node, False, now, "KubeletNotReady", f"node is under maintenance: {operation}"):
            self.history("node_not_ready", node=name, reason=operation)
            self.record_event(node, "NodeNotReady", f"Node {name} status is now: NodeNotReady",
                              component="node-controller")
        self._apply_node_taints(node)
        self.store.commit(self.kind("Node"), node)
        for pod in self.pods(name):
            self._remove_pod(pod, reason=f"node {operation}")

    def finish_node_operation(self, name: str, record: Optional[dict] = None, node_pool: Optional[dict] = None,
                              immediate: bool = False, npu_healthy: bool = True) -> None:
        """The operation finished: the node turns Ready (after node_recover_seconds unless immediate)
        with its new driver label; without healthy NPUs (driver Abnormal) it advertises none; a
        node with the never_ready fault stays NotReady."""
        if self.store.find(self.kind("Node"), None, name) is None:
            raise not_found("", "nodes", name)
        if record is not None:
            self.sync_node(record, node_pool)
        state = self.node_state.setdefault(name, {"never_ready": False})
        state.update(operation=None, npu_healthy=npu_healthy, boots=state.get("boots", 0) + 1)
        node = self.store.find(self.kind("Node"), None, name)
        N.set_booted(node, state["boots"])
        self.store.commit(self.kind("Node"), node)
        self._set_ready_at(name, self.clock() + (0 if immediate else self.timings.node_recover_seconds))
        if state.pop("stuck_after_operation", False):
            state["never_ready"] = True      # the fault: this operation's node never rejoins
            self.history("node_stuck", node=name, reason="fault")
        self.advance()

    def remove_node(self, name: str) -> None:
        """The ModelArts node is gone: its Node, pods and lease go too."""
        node = self.store.find(self.kind("Node"), None, name)
        if node is None:
            return
        for pod in self.pods(name):
            self._remove_pod(pod, reason="node deleted")
        self.store.remove(self.kind("Node"), None, name)
        if self.store.find(self.kind("Lease"), "kube-node-lease", name) is not None:
            self.store.remove(self.kind("Lease"), "kube-node-lease", name)
        self.node_state.pop(name, None)
        self.history("node_removed", node=name)

    def set_never_ready(self, name: str, never_ready: bool = True) -> None:
        """Fault knob: the node never (again) reports Ready."""
        self.node_state.setdefault(name, {"operation": None, "ready_at": None})["never_ready"] = never_ready
        if never_ready:
            node = self.store.find(self.kind("Node"), None, name)
            # An already NotReady node is left alone (set_ready would touch its heartbeat unsaved).
            if node is not None and N.is_ready(node) and N.set_ready(
                    node, False, self.clock(), "NodeStatusUnknown", "Kubelet stopped posting node status."):
                self._apply_node_taints(node)
                self.store.commit(self.kind("Node"), node)
                self.history("node_not_ready", node=name, reason="fault")
        elif self.node_state[name].get("ready_at") is None and not self.node_state[name].get("operation"):
            self._set_ready_at(name, self.clock())
        else:
            # The timer may have been dropped while the fault held it: arm it again.
            self._set_ready_at(name, self.node_state[name].get("ready_at"))

    def set_stuck_after_operation(self, name: str, stuck: bool = True) -> None:
        """Fault knob: the node stays Ready now, but never rejoins after its next operation ends."""
        if self.store.find(self.kind("Node"), None, name) is None:
            raise not_found("", "nodes", name)
        self.node_state.setdefault(name, {"operation": None, "ready_at": None, "never_ready": False})[
            "stuck_after_operation"] = stuck

    def node_busy(self, name: str) -> bool:
        return any(is_active(p) and (controller_of(p) or {}).get("kind") != "DaemonSet" for p in self.pods(name))

    def node_changed(self, before: Optional[dict], after: dict) -> None:
        """After an API write to a Node: keep control-plane taints and record schedulability changes."""
        name = after["metadata"]["name"]
        was = bool((before or {}).get("spec", {}).get("unschedulable"))
        now_unschedulable = bool((after.get("spec") or {}).get("unschedulable"))
        node = self.store.find(self.kind("Node"), None, name)
        if node is not None and self._apply_node_taints(node):
            self.store.commit(self.kind("Node"), node)
        if was != now_unschedulable:
            self.history("node_unschedulable" if now_unschedulable else "node_schedulable", node=name)
            self.record_event(after, "NodeNotSchedulable" if now_unschedulable else "NodeSchedulable",
                              f"Node {name} status is now: "
                              f"{'NodeNotSchedulable' if now_unschedulable else 'NodeSchedulable'}")
        was_ready = N.is_ready(before) if before else None
        if before is not None and was_ready != N.is_ready(after):
            self.history("node_ready" if N.is_ready(after) else "node_not_ready", node=name, reason="api")

    def _apply_node_taints(self, node: dict) -> bool:
        """The node lifecycle controller's taints for cordon and NotReady; True when changed."""
        spec = node.setdefault("spec", {})
        taints = [t for t in spec.get("taints") or []
                  if t.get("key") not in (L.TAINT_UNSCHEDULABLE, L.TAINT_NOT_READY)]
        now = rfc3339(self.clock())
        previous = {(t.get("key"), t.get("effect")): t for t in spec.get("taints") or []}
        wanted = []
        if spec.get("unschedulable"):
            wanted.append((L.TAINT_UNSCHEDULABLE, "NoSchedule"))
        if not N.is_ready(node):
            wanted.append((L.TAINT_NOT_READY, "NoSchedule"))
        for key, effect in wanted:
            taints.append(previous.get((key, effect)) or {"key": key, "effect": effect, "timeAdded": now})
        if taints == (spec.get("taints") or []):
            return False
        if taints:
            spec["taints"] = taints
        else:
            spec.pop("taints", None)
        return True

    # ---- pods -----------------------------------------------------------------------------------

    def _remove_pod(self, pod: dict, reason: str) -> None:
        metadata = pod["metadata"]
        was_terminating = bool(metadata.get("deletionTimestamp"))
        self.store.remove(self.kind("Pod"), metadata["namespace"], metadata["name"])
        self.pods_removed += 1
        self.unschedulable.pop((metadata["namespace"], metadata["name"]), None)
        self.history("pod_deleted", pod=f'{metadata["namespace"]}/{metadata["name"]}',
                     node=(pod.get("spec") or {}).get("nodeName"), reason=reason)
        owner = controller_of(pod)
        if owner is not None and not was_terminating:
            self.replacement_due.setdefault(owner["uid"], self.clock() + self.timings.controller_delay_seconds)

    def delete_pod(self, namespace: str, name: str, grace_seconds: Optional[int] = None,
                   reason: str = "deleted") -> Tuple[dict, bool]:
        """Graceful delete: (the pod as returned by DELETE, True when it is already gone)."""
        pod = self.store.find(self.kind("Pod"), namespace, name)
        if pod is None:
            raise not_found("", "pods", name)
        spec = pod.get("spec") or {}
        grace = spec.get("terminationGracePeriodSeconds", 30) if grace_seconds is None else int(grace_seconds)
        phase = (pod.get("status") or {}).get("phase")
        if grace <= 0 or not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            final = clone(pod)
            self._remove_pod(pod, reason)
            return final, True
        now = self.clock()
        metadata = pod["metadata"]
        if metadata.get("deletionTimestamp"):
            # A second delete may only shorten the grace period, as in the real registry.
            if grace < metadata.get("deletionGracePeriodSeconds", grace):
                metadata["deletionTimestamp"] = rfc3339(now + grace)
                metadata["deletionGracePeriodSeconds"] = grace
                return self.store.save(self.kind("Pod"), pod), False
            return clone(pod), False
        metadata["deletionTimestamp"] = rfc3339(now + grace)
        metadata["deletionGracePeriodSeconds"] = grace
        self.record_event(pod, "Killing", "Stopping container", component="kubelet")
        self.history("pod_terminating", pod=f"{namespace}/{name}", node=spec.get("nodeName"), reason=reason)
        owner = controller_of(pod)
        if owner is not None:
            self.replacement_due.setdefault(owner["uid"], now + self.timings.controller_delay_seconds)
        return self.store.save(self.kind("Pod"), pod), False

    def evict(self, namespace: str, name: str, delete_options: Optional[dict] = None) -> None:
        """POST pods/eviction. Raises the real apiserver's StatusError when refused."""
        pod = self.store.find(self.kind("Pod"), namespace, name)
        if pod is None:
            raise not_found("", "pods", name)
        self.refresh_budgets()
        budgets = disruption.matching_budgets(pod, list(self.store.iter(self.kind("PodDisruptionBudget"))))
        node = (pod.get("spec") or {}).get("nodeName")
        try:
            budget = disruption.budget_blocks_eviction(pod, budgets)
        except StatusError as refusal:
            self.history("eviction_refused", pod=f"{namespace}/{name}", node=node, code=refusal.code,
                         pdb=budgets[0]["metadata"]["name"] if budgets else None)
            raise
        if budget is not None:
            status = budget["status"]
            status["disruptionsAllowed"] -= 1
            status.setdefault("disruptedPods", {})[name] = rfc3339(self.clock())
            self.store.commit(self.kind("PodDisruptionBudget"), budget)
        grace = (delete_options or {}).get("gracePeriodSeconds")
        self.delete_pod(namespace, name, grace, reason="evicted")
        self.history("eviction", pod=f"{namespace}/{name}", node=node,
                     pdb=budget["metadata"]["name"] if budget else None)

    # ---- control loops --------------------------------------------------------------------------

    def wake(self) -> None:
        """Kubelet or controller state changed outside the store (seeding, a state load): the
        next advance rebuilds what the loops track and runs them over everything."""
        self._rebuild_tracking()

    def _pod_inputs(self) -> Tuple[int, int]:
        """Writes of Nodes and pods so far: what the kubelet and scheduler steps depend on."""
        return self.store.writes(self.kind("Node")), self.store.writes(self.kind("Pod"))

    def _has_work(self) -> bool:
        return bool(self._dirty_deployments or self._dirty_replica_sets or self._dirty_daemon_sets
                    or self._dirty_budgets or self._pod_inputs() != self._pods_looked_at
                    or any(view.check for view in self._daemon_views.values()))

    def needs_pass(self) -> bool:
        """A hint, read without the world lock, for callers that poll (watch streams): False when
        advance() would return at once. A write in flight may make it stale; the next poll or
        the ticker catches up."""
        try:
            return self.clock() >= self._next_due or self._has_work() or bool(self.store.count(self.kind("Job"))) \
                or self.gangs.active
        except RuntimeError:          # a work list changed size under us: someone is writing
            return True

    def advance(self) -> None:
        """Run the control loops over what changed since they last looked and the timers that
        are due. With nothing written and no timer due (the cluster is settled) this returns at
        once, so reads and polls cost the same on 16 nodes as on 2,000. Jobs carry timers of
        their own, so their controller runs on every call while a Job exists."""
        now = self.clock()
        has_jobs = self.store.count(self.kind("Job"))
        has_gangs = self.gangs.active
        if now < self._next_due and not has_jobs and not has_gangs and not self._has_work():
            return
        self._advance_nodes(now)
        self._advance_pods(now)
        self._run_deployments()
        self._run_replicasets(now)
        self._run_daemonsets(now)
        if has_jobs:
            jobs.run_jobs(self, now)
        if has_gangs:
            self.gangs.run(self, now)
        self.refresh_budgets()
        self._next_due = self._earliest_due()

    def _earliest_due(self) -> float:
        """When the next kubelet or controller timer fires (a node turns Ready, a pod starts or
        finishes terminating, a controller replaces a pod). A stale node timer at the heap's top
        only costs an early, empty pass."""
        due = [self._ready_timers[0][0]] if self._ready_timers else []
        due.extend(when for uid, when in self.replacement_due.items() if uid in self._controllers)
        pods = self.kind("Pod")
        for key in self.store.indexed_keys(pods, "stage", "terminating"):
            metadata = self.store.find(pods, *key)["metadata"]
            grace = metadata.get("deletionGracePeriodSeconds", 0)
            due.append(parse_rfc3339(metadata["deletionTimestamp"]) - grace + min(grace, self.timings.pod_stop_seconds))
        for key in self.store.indexed_keys(pods, "stage", "starting"):
            pod = self.store.find(pods, *key)
            node = self.store.find(self.kind("Node"), None, pod["spec"]["nodeName"])
            if node is None or not N.is_ready(node):
                continue      # it starts once its node is Ready: that node's own timer
            scheduled = next((c for c in pod["status"].get("conditions") or [] if c.get("type") == "PodScheduled"),
                             None)
            due.append(parse_rfc3339(scheduled["lastTransitionTime"]) + self.timings.pod_start_seconds
                       if scheduled else 0.0)
        return min(due, default=float("inf"))

    def _advance_nodes(self, now: float) -> None:
        due = set()
        while self._ready_timers and self._ready_timers[0][0] <= now:
            due.add(heapq.heappop(self._ready_timers)[1])
        for name in sorted(due):
            node = self.store.find(self.kind("Node"), None, name)
            state = self.node_state.get(name) or {}
            ready_at = state.get("ready_at")
            if node is None or state.get("never_ready") or state.get("operation") or ready_at is None \
                    or ready_at > now:
                continue      # a stale timer: the state it was armed for has changed since
            state["ready_at"] = None
            changed = N.set_ready(node, True, now)
            N.set_npu_allocatable(node, None if state.get("npu_healthy", True) else 0)
            self._apply_node_taints(node)
            self.store.commit(self.kind("Node"), node)
            if changed:
                self.history("node_ready", node=name)
                self.record_event(node, "NodeReady", f"Node {name} status is now: NodeReady")

    def _advance_pods(self, now: float) -> None:
        self._pods_looked_at = self._pod_inputs()
        resource = self.kind("Pod")
        keys = set()
        for stage in POD_STAGES:
            keys.update(self.store.indexed_keys(resource, "stage", stage))
        for key in sorted(keys):
            pod = self.store.find(resource, *key)
            if pod is None:
                continue
            metadata = pod["metadata"]
            spec = pod.get("spec") or {}
            if metadata.get("deletionTimestamp"):
                grace = metadata.get("deletionGracePeriodSeconds", 0)
                started = parse_rfc3339(metadata["deletionTimestamp"]) - grace
                if now >= started + min(grace, self.timings.pod_stop_seconds):
                    self._remove_pod(pod, reason="terminated")
                continue
            status = pod.get("status") or {}
            if not spec.get("nodeName"):
                if self._schedule(pod):
                    self.store.commit(resource, pod)
                continue
            if status.get("phase") == "Pending":
                node = self.store.find(self.kind("Node"), None, spec["nodeName"])
                scheduled = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"),
                                 None)
                bound_at = parse_rfc3339(scheduled["lastTransitionTime"]) if scheduled else now
                if node is not None and N.is_ready(node) and now >= bound_at + self.timings.pod_start_seconds:
                    self._start(pod)
                    self.store.commit(resource, pod)

    def delete_namespace(self, name: str) -> dict:
        namespace = self.store.get(self.kind("Namespace"), None, name)
        if name in SYSTEM_NAMESPACES:
            raise StatusError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be '
                              "deleted", {"name": name, "kind": "namespaces"})
        for resource in self.registry.types.values():
            if resource.namespaced:
                for obj in list(self.store.iter(resource, name)):
                    if resource.kind == "Pod":
                        self._remove_pod(obj, reason="namespace deleted")
                    else:
                        self.store.remove(resource, name, obj["metadata"]["name"])
        self.store.remove(self.kind("Namespace"), None, name)
        namespace["status"] = {"phase": "Terminating"}
        return namespace

    # ---- persistence ----------------------------------------------------------------------------

    def to_state(self) -> dict:
        return {"token": self.token, "store": self.store.to_state(), "node_state": clone(self.node_state),
                "replacement_due": dict(self.replacement_due), "pod_ip_counter": self.pod_ip_counter,
                "modelarts_names": dict(self.modelarts_names), "gangs": self.gangs.to_state()}

    def snapshot(self) -> Callable[[], str]:
        """to_state() as JSON text, built by the returned function without the world lock (see
        ObjectStore.snapshot); only the small parts are copied now."""
        store = self.store.snapshot()
        rest = clone({"node_state": self.node_state, "replacement_due": self.replacement_due,
                      "pod_ip_counter": self.pod_ip_counter, "modelarts_names": self.modelarts_names,
                      "gangs": self.gangs.to_state()})
        token = self.token
        return lambda: json_object([("token", compact_json(token)), ("store", store())]
                                   + [(key, compact_json(value)) for key, value in rest.items()])

    def load_state(self, state: dict) -> None:
        self.token = state.get("token", self.token)
        self.store.load_state(state.get("store") or {})
        self.node_state = clone(state.get("node_state") or {})
        self.replacement_due = dict(state.get("replacement_due") or {})
        self.pod_ip_counter = int(state.get("pod_ip_counter", 0))
        self.modelarts_names = dict(state.get("modelarts_names") or {})
        self.gangs = gang.GangJobs(state.get("gangs"))
        self.wake()
