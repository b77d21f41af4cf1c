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

Everything runs inside `advance()`, called with the world lock held before each request is served
and by the server's ticker; times are simulated seconds from the world clock.

The loops are incremental, so a pass costs what changed, not the size of the pool: store
listeners keep per-controller pod tallies, per-budget member lists and each loop's work list
(what changed since it last looked) in step with every write, and kubelet timers sit in a heap.
A loop visits exactly the objects a full pass would have found something to do for, in the same
order, so clients see the same objects, resourceVersions and watch events as with full passes.
"""
import bisect
import hashlib
import heapq
import json
from dataclasses import dataclass
from typing import Callable, Dict, List, NamedTuple, Optional, Set, Tuple

from . import disruption, gang, jobs
from . import labels as L
from . import nodes as N
from .resources import Registry, ResourceType
from .selectors import labels_match, selector_from_object
from .status import StatusError, bad_request, not_found
from .store import ObjectStore, clone, compact_json, json_object, parse_rfc3339, random_suffix, rfc3339

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


def tolerates(tolerations: List[dict], taint: dict) -> bool:
    for toleration in tolerations or []:
        if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
            continue
        if toleration.get("operator", "Equal") == "Exists":
            if not toleration.get("key") or toleration["key"] == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def npu_request(pod: dict) -> int:
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        value = (resources.get("requests") or {}).get(L.NPU_RESOURCE) or (resources.get("limits") or {}).get(
            L.NPU_RESOURCE)
        total += int(value or 0)
    return total


def controller_of(obj: dict) -> Optional[dict]:
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return reference
    return None


def _controller_uid(obj: dict) -> Optional[str]:
    return (controller_of(obj) or {}).get("uid")


def _pod_node(pod: dict) -> Optional[str]:
    return (pod.get("spec") or {}).get("nodeName")


def is_active(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded", "Failed")


def _pod_stage(pod: dict) -> Optional[str]:
    """What the kubelet or the scheduler still has to do with a pod: finish its termination, bind
    it, start it. None: nothing, until something else changes (an index, so a pass looks at
    these few pods only)."""
    if pod["metadata"].get("deletionTimestamp"):
        return "terminating"
    if not (pod.get("spec") or {}).get("nodeName"):
        return "unbound"
    if (pod.get("status") or {}).get("phase") == "Pending":
        return "starting"
    return None


POD_STAGES = ("terminating", "unbound", "starting")


class _PodFacts(NamedTuple):
    """What the controllers read from a pod, as of its last write."""
    owner: Optional[str]                       # controller uid
    ref: Optional[Tuple[str, str, str]]        # controller (kind, name, uid), for PDB scales
    node: Optional[str]
    active: bool
    ready: bool
    healthy: bool                              # counts for a PDB: Ready and not being deleted


def _pod_facts(pod: dict) -> _PodFacts:
    owner = controller_of(pod)
    ready = disruption.pod_is_ready(pod)
    return _PodFacts(owner.get("uid") if owner else None,
                     (owner.get("kind"), owner.get("name"), owner.get("uid")) if owner else None,
                     _pod_node(pod), is_active(pod), ready, ready and not pod["metadata"].get("deletionTimestamp"))


class _Tally:
    """One controller's pods as its loop counts them: the active ones, the Ready ones among
    those, and active ones per node (a DaemonSet's coverage)."""
    __slots__ = ("active", "ready", "nodes")

    def __init__(self):
        self.active = 0
        self.ready = 0
        self.nodes: Dict[Optional[str], int] = {}

    def add(self, facts: _PodFacts, sign: int) -> None:
        self.active += sign
        self.ready += sign if facts.ready else 0
        count = self.nodes.get(facts.node, 0) + sign
        if count:
            self.nodes[facts.node] = count
        else:
            del self.nodes[facts.node]


_NO_PODS = _Tally()


class _Budget:
    """A PodDisruptionBudget's pods: those its selector picks in its namespace, how many are
    healthy, and how many belong to each controller (whose scale gives the expected count)."""
    __slots__ = ("spec", "selector", "members", "healthy", "owners")

    def __init__(self, pdb: dict):
        self.spec = clone(pdb.get("spec"))
        self.selector = selector_from_object((pdb.get("spec") or {}).get("selector"))
        self.members: Dict[Tuple[str, str], _PodFacts] = {}
        self.healthy = 0
        self.owners: Dict[Optional[Tuple[str, str, str]], int] = {}

    def put(self, key: Tuple[str, str], pod: Optional[dict], facts: Optional[_PodFacts]) -> None:
        old = self.members.pop(key, None)
        if old is not None:
            self.healthy -= old.healthy
            self.owners[old.ref] -= 1
            if not self.owners[old.ref]:
                del self.owners[old.ref]
        if pod is not None and labels_match(self.selector, pod["metadata"].get("labels")):
            self.members[key] = facts
            self.healthy += facts.healthy
            self.owners[facts.ref] = self.owners.get(facts.ref, 0) + 1


class _DaemonView:
    """The Nodes a DaemonSet may run on (for one version of its pod template), those of them
    without its pod, and the Nodes to look at again (they or their pods changed since)."""
    __slots__ = ("template", "probe", "eligible", "missing", "check")

    def __init__(self, template: str, probe: dict):
        self.template = template
        self.probe = probe
        self.eligible: Set[str] = set()
        self.missing: Set[str] = set()
        self.check: Set[Optional[str]] = set()


# DaemonSet pods tolerate node conditions and cordons (pkg/controller/daemon/util).
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


class Cluster:
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
        self.store.add_index(self.kinds["Pod"], "node", _pod_node, field="spec.nodeName")
        self.store.add_index(self.kinds["Pod"], "controller", _controller_uid)
        self.store.add_index(self.kinds["Pod"], "stage", _pod_stage)
        self.store.add_index(self.kinds["ReplicaSet"], "controller", _controller_uid)
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

    def new_pod_status(self) -> dict:
        return {"phase": "Pending", "conditions": [], "qosClass": "BestEffort"}

    def _bind(self, pod: dict, node: dict) -> None:
        now = rfc3339(self.clock())
        pod.setdefault("spec", {})["nodeName"] = node["metadata"]["name"]
        status = pod.setdefault("status", self.new_pod_status())
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        status["conditions"].append({"type": "PodScheduled", "status": "True", "lastTransitionTime": now})
        self.record_event(pod, "Scheduled", f'Successfully assigned {pod["metadata"]["namespace"]}/'
                          f'{pod["metadata"]["name"]} to {node["metadata"]["name"]}', component="default-scheduler")

    def _start(self, pod: dict) -> None:
        now = rfc3339(self.clock())
        status = pod.setdefault("status", {})
        self.pod_ip_counter += 1
        node_name = pod["spec"]["nodeName"]
        host_network = pod["spec"].get("hostNetwork")
        status.update({
            "phase": "Running", "hostIP": node_name, "startTime": now,
            "podIP": node_name if host_network else
            f"172.16.{(self.pod_ip_counter // 250) % 250}.{self.pod_ip_counter % 250 + 2}",
        })
        status["podIPs"] = [{"ip": status["podIP"]}]
        status["hostIPs"] = [{"ip": node_name}]
        scheduled = [c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"]
        status["conditions"] = scheduled + [{"type": kind, "status": "True", "lastTransitionTime": now}
                                            for kind in ("Initialized", "Ready", "ContainersReady")]
        status["containerStatuses"] = [{
            "name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": True, "started": True,
            "restartCount": 0, "state": {"running": {"startedAt": now}},
            "containerID": "containerd://" + hashlib.sha256(
                f'{pod["metadata"]["uid"]}{c.get("name")}'.encode()).hexdigest()}
            for c in pod["spec"].get("containers") or []]

    def _fits(self, pod: dict, node: dict, ignore_unschedulable: bool = False) -> bool:
        spec = pod.get("spec") or {}
        if not N.is_ready(node):
            return False
        if node["spec"].get("unschedulable") and not ignore_unschedulable:
            return False
        tolerations = spec.get("tolerations") or []
        for taint in node["spec"].get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
                if not (ignore_unschedulable and taint.get("key") == L.TAINT_UNSCHEDULABLE):
                    return False
        node_labels = node["metadata"].get("labels") or {}
        if any(node_labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
            return False
        wanted = npu_request(pod)
        if wanted:
            available = int((node["status"].get("allocatable") or {}).get(L.NPU_RESOURCE, "0"))
            used = sum(npu_request(p) for p in self.pods(node["metadata"]["name"]) if is_active(p))
            if used + wanted > available:
                return False
        return True

    def _schedule(self, pod: dict) -> bool:
        """Bind the pod to the least loaded node it fits (ties by name). Like kube-scheduler's
        unschedulable queue, a pod that fit nowhere is retried only after a Node changed or a pod
        went away, so a stuck pod does not cost a scan of every node on every pass."""
        key = (pod["metadata"].get("namespace"), pod["metadata"]["name"])
        epoch = (self.store.writes(self.kind("Node")), self.pods_removed)
        if self.unschedulable.get(key) == epoch:
            return False
        target = None
        for _load, name in self._load_order:
            node = self.store.find(self.kind("Node"), None, name)
            if node is not None and self._fits(pod, node):
                target = node
                break
        if target is None:
            self.unschedulable[key] = epoch
            return False
        self.unschedulable.pop(key, None)
        self._bind(pod, target)
        return True

    def _set_load(self, name: str, load: Optional[int]) -> None:
        """Move a Node in the scheduler's order, [(pods bound to it, name)] ascending (None:
        the Node is gone). Kept in step with every pod and Node write, never re-sorted."""
        old = self._loads.pop(name, None)
        if old is not None:
            del self._load_order[bisect.bisect_left(self._load_order, (old, name))]
        if load is not None:
            self._loads[name] = load
            bisect.insort(self._load_order, (load, name))

    def create_pod(self, namespace: str, pod: dict) -> dict:
        """Create a pod the way the API does: status reset to Pending, bound by the scheduler."""
        pod = clone(pod)
        pod.setdefault("spec", {})
        for key, default in (("restartPolicy", "Always"), ("terminationGracePeriodSeconds", 30),
                             ("dnsPolicy", "ClusterFirst"), ("schedulerName", "default-scheduler")):
            pod["spec"].setdefault(key, default)
        pod["status"] = self.new_pod_status()
        if not pod["spec"].get("containers"):
            raise bad_request("Pod spec.containers: Required value")
        created = self.store.create(self.kind("Pod"), namespace, pod)
        stored = self.store.find(self.kind("Pod"), namespace, created["metadata"]["name"])
        node_name = stored["spec"].get("nodeName")
        node = self.store.find(self.kind("Node"), None, node_name) if node_name else None
        changed = False
        if node is not None:
            self._bind(stored, node)
            changed = True
        elif not node_name:
            changed = self._schedule(stored)
        if changed:
            return self.store.save(self.kind("Pod"), stored)
        return created

    def start_pending_pods(self) -> None:
        """Seeding: every bound Pending pod on a Ready node starts now."""
        for pod in self.pods():
            node_name = (pod.get("spec") or {}).get("nodeName")
            node = self.store.find(self.kind("Node"), None, node_name) if node_name else None
            if node is not None and N.is_ready(node) and is_active(pod) \
                    and (pod.get("status") or {}).get("phase") == "Pending":
                self._start(pod)
                self.store.commit(self.kind("Pod"), pod)

    # ---- change tracking --------------------------------------------------------------------------

    def _rebuild_tracking(self) -> None:
        """Derive the tallies, budgets and timers from the store and node_state afresh, and put
        every object on its loop's work list: the next pass is a full one."""
        self._pod_facts: Dict[Tuple[str, str], _PodFacts] = {}
        self._tallies: Dict[Tuple[str, str], _Tally] = {}      # (namespace, controller uid) -> tally
        self._budgets: Dict[str, Dict[str, _Budget]] = {}      # namespace -> PDB name -> budget
        self._daemon_views: Dict[str, _DaemonView] = {}        # DaemonSet uid -> view
        self._controllers: Set[str] = set()                     # uids of ReplicaSets and DaemonSets
        self._own_status_write = False                          # see _save_status
        # Each loop's work list, taken when the loop starts, so what an earlier loop of the same
        # pass writes is seen by the later ones, as in a full pass.
        self._dirty_deployments: Set[str] = set()    # Deployment uids, or uids of their ReplicaSets
        self._dirty_replica_sets: Set[str] = set()
        self._dirty_daemon_sets: Set[str] = set()
        self._dirty_budgets: Set[str] = set()        # namespaces
        self._ready_timers: List[Tuple[float, str]] = []        # (ready_at, node): lazily validated
        self._pods_looked_at: Tuple[int, int] = (-1, -1)        # _pod_inputs() when _advance_pods last ran
        self._loads: Dict[str, int] = {}                        # see _set_load
        self._load_order: List[Tuple[int, str]] = []
        for key, pod in list(self.store.objects.get(self.kind("Pod").key, {}).items()):
            self._pod_written(key, pod, False)
        for kind, listener in (("Deployment", self._deployment_written), ("ReplicaSet", self._replica_set_written),
                               ("DaemonSet", self._daemon_set_written),
                               ("PodDisruptionBudget", self._budget_written)):
            for key, obj in list(self.store.objects.get(self.kind(kind).key, {}).items()):
                listener(key, obj, False)
        for node in self.nodes():
            self._node_written(("", node["metadata"]["name"]), node, False)
        for name, state in self.node_state.items():
            self._set_ready_at(name, state.get("ready_at"))
        self._next_due = float("-inf")

    def _pod_written(self, key: Tuple[str, str], pod: dict, removed: bool) -> None:
        old = self._pod_facts.pop(key, None)
        new = None if removed else _pod_facts(pod)
        old_node, new_node = old.node if old else None, new.node if new else None
        if old_node != new_node:
            if old_node in self._loads:
                self._set_load(old_node, self._loads[old_node] - 1)
            if new_node in self._loads:
                self._set_load(new_node, self._loads[new_node] + 1)
        for facts, sign in ((old, -1), (new, 1)):
            if facts is None:
                continue
            if facts.owner is not None:
                if facts.active:
                    tally = self._tallies.get((key[0], facts.owner))
                    if tally is None:
                        tally = self._tallies[(key[0], facts.owner)] = _Tally()
                    tally.add(facts, sign)
                    if not tally.active:
                        del self._tallies[(key[0], facts.owner)]
                self._dirty_deployments.add(facts.owner)
                self._dirty_replica_sets.add(facts.owner)
                self._dirty_daemon_sets.add(facts.owner)
            for view in self._daemon_views.values():
                view.check.add(facts.node)       # NPUs in use there changed, or its node is gone
        if new is not None:
            self._pod_facts[key] = new
        budgets = self._budgets.get(key[0])
        if budgets:
            for budget in budgets.values():
                budget.put(key, None if removed else pod, new)
            self._dirty_budgets.add(key[0])

    def _node_written(self, key: Tuple[str, str], node: dict, removed: bool) -> None:
        name = key[1]
        if removed:
            self._set_load(name, None)
        elif name not in self._loads:
            self._set_load(name, self.store.index_size(self.kind("Pod"), "node", name))
        for view in self._daemon_views.values():
            view.check.add(name)

    # A controller's write of its own object's status changes nothing its loop reads (the loop
    # computed it), so it does not put the object back on the loop's work list.

    def _deployment_written(self, key: Tuple[str, str], deployment: dict, removed: bool) -> None:
        if not self._own_status_write:
            self._dirty_deployments.add(deployment["metadata"]["uid"])
        self._dirty_budgets.add(key[0])           # a PDB's expected pods follow spec.replicas

    def _replica_set_written(self, key: Tuple[str, str], replica_set: dict, removed: bool) -> None:
        uid = replica_set["metadata"]["uid"]
        if removed:
            self._controllers.discard(uid)
        else:
            self._controllers.add(uid)
        if not self._own_status_write:
            self._dirty_replica_sets.add(uid)
            self._dirty_deployments.add(uid)
            parent = _controller_uid(replica_set)
            if parent is not None:
                self._dirty_deployments.add(parent)
        self._dirty_budgets.add(key[0])

    def _daemon_set_written(self, key: Tuple[str, str], daemon_set: dict, removed: bool) -> None:
        uid = daemon_set["metadata"]["uid"]
        if removed:
            self._controllers.discard(uid)
            self._daemon_views.pop(uid, None)
        else:
            self._controllers.add(uid)
        if not self._own_status_write:
            self._dirty_daemon_sets.add(uid)
        self._dirty_budgets.add(key[0])           # expected pods follow status.desiredNumberScheduled

    def _budget_written(self, key: Tuple[str, str], pdb: dict, removed: bool) -> None:
        budgets = self._budgets.setdefault(key[0], {})
        if removed:
            budgets.pop(key[1], None)
        elif key[1] not in budgets or budgets[key[1]].spec != pdb.get("spec"):
            budget = budgets[key[1]] = _Budget(pdb)
            for pod in self.store.iter(self.kind("Pod"), key[0]):
                pod_key = (key[0], pod["metadata"]["name"])
                budget.put(pod_key, pod, self._pod_facts[pod_key])
        if not budgets:
            del self._budgets[key[0]]
        if not self._own_status_write:
            self._dirty_budgets.add(key[0])

    def _set_ready_at(self, name: str, when: Optional[float]) -> None:
        """Arm (or, with None, disarm) the node's kubelet timer: it turns Ready at `when`."""
        self.node_state[name]["ready_at"] = when
        if when is not None:
            heapq.heappush(self._ready_timers, (when, name))
            self._next_due = min(self._next_due, when)

    def _tally(self, namespace: str, uid: str) -> _Tally:
        return self._tallies.get((namespace, uid), _NO_PODS)

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

    def _owned(self, kind: str, owner: dict, namespace: str) -> List[dict]:
        resource = self.kind(kind)
        uid = owner["metadata"]["uid"]
        if self.store.has_index(resource, "controller"):
            return [o for o in self.store.indexed(resource, "controller", uid)
                    if o["metadata"].get("namespace") == namespace]
        return [o for o in self.store.iter(resource, namespace) if _controller_uid(o) == uid]

    @staticmethod
    def _reference(owner: dict) -> dict:
        return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

    def _save_status(self, resource: ResourceType, obj: dict, status: dict) -> None:
        if obj.get("status") != status:
            obj["status"] = status
            self._own_status_write = True
            try:
                self.store.commit(resource, obj)
            finally:
                self._own_status_write = False

    def _run_deployments(self) -> None:
        dirty, self._dirty_deployments = self._dirty_deployments, set()
        if not dirty:
            return
        replica_sets = self.kind("ReplicaSet")
        for deployment in list(self.store.iter(self.kind("Deployment"))):
            if deployment["metadata"].get("deletionTimestamp"):
                continue
            namespace = deployment["metadata"]["namespace"]
            owned = self._owned("ReplicaSet", deployment, namespace)
            if deployment["metadata"]["uid"] not in dirty and not any(
                    rs["metadata"]["uid"] in dirty for rs in owned):
                continue      # neither it, its ReplicaSets nor their pods changed
            spec = deployment.get("spec") or {}
            template = spec.get("template") or {}
            template_hash = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
            replicas = spec.get("replicas", 1)
            current = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get(
                "pod-template-hash") == template_hash), None)
            if current is None:
                labels = dict((template.get("metadata") or {}).get("labels") or {}, **{
                    "pod-template-hash": template_hash})
                rs_template = clone(template)
                rs_template.setdefault("metadata", {})["labels"] = labels
                selector = clone(spec.get("selector") or {})
                selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash
                self.store.create(replica_sets, namespace, {
                    "metadata": {"name": f'{deployment["metadata"]["name"]}-{template_hash}', "labels": labels,
                                 "annotations": {"deployment.kubernetes.io/revision": "1"},
                                 "ownerReferences": [self._reference(deployment)]},
                    "spec": {"replicas": replicas, "selector": selector, "template": rs_template}})
            else:
                if current["spec"].get("replicas") != replicas:
                    current["spec"]["replicas"] = replicas
                    current["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
                    self.store.commit(replica_sets, current)
            for old in owned:
                if old is not current and old["spec"].get("replicas", 0) != 0:
                    old["spec"]["replicas"] = 0
                    self.store.commit(replica_sets, old)
            tallies = [self._tally(namespace, rs["metadata"]["uid"])
                       for rs in self._owned("ReplicaSet", deployment, namespace)]
            active = sum(t.active for t in tallies)
            ready = sum(t.ready for t in tallies)
            status = {"observedGeneration": deployment["metadata"].get("generation", 1), "replicas": active,
                      "updatedReplicas": active, "readyReplicas": ready, "availableReplicas": ready,
                      "conditions": [
                          {"type": "Available", "status": "True" if ready >= replicas else "False",
                           "reason": "MinimumReplicasAvailable" if ready >= replicas
                           else "MinimumReplicasUnavailable",
                           "message": "Deployment has minimum availability." if ready >= replicas
                           else "Deployment does not have minimum availability."},
                          {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                           "message": f'ReplicaSet "{deployment["metadata"]["name"]}-{template_hash}" has '
                                      "successfully progressed."}]}
            if active - ready:
                status["unavailableReplicas"] = active - ready
            for field in ("readyReplicas", "availableReplicas"):
                if not status[field]:
                    status.pop(field)
            self._save_status(self.kind("Deployment"), deployment, status)

    def _template_pod(self, owner: dict, name_prefix: str) -> dict:
        template = clone((owner.get("spec") or {}).get("template") or {})
        metadata = template.get("metadata") or {}
        return {"metadata": {"generateName": f"{name_prefix}-", "labels": metadata.get("labels") or {},
                             "annotations": metadata.get("annotations") or {},
                             "ownerReferences": [self._reference(owner)]},
                "spec": template.get("spec") or {}}

    def _replacement_due(self, owner: dict, now: float, missing: bool) -> bool:
        """True when pods are missing and the controller's reaction delay after losing one has
        passed; a delay that ran out while nothing was missing is forgotten."""
        uid = owner["metadata"]["uid"]
        due = self.replacement_due.get(uid)
        if due is not None and now >= due:
            del self.replacement_due[uid]
            due = None
        return missing and due is None

    def _wants_visit(self, owner: dict, dirty: Set[str], now: float) -> bool:
        """A controller's loop looks at an owner whose inputs changed or whose reaction delay ran
        out (the delay is forgotten then, see _replacement_due)."""
        uid = owner["metadata"]["uid"]
        due = self.replacement_due.get(uid)
        return uid in dirty or (due is not None and now >= due)

    def _run_replicasets(self, now: float) -> None:
        dirty, self._dirty_replica_sets = self._dirty_replica_sets, set()
        resource = self.kind("ReplicaSet")
        for replica_set in list(self.store.iter(resource)):
            if not self._wants_visit(replica_set, dirty, now):
                continue
            namespace = replica_set["metadata"]["namespace"]
            uid = replica_set["metadata"]["uid"]
            replicas = (replica_set.get("spec") or {}).get("replicas", 1)
            active = self._tally(namespace, uid).active
            if self._replacement_due(replica_set, now, active < replicas):
                for _ in range(replicas - active):
                    self.create_pod(namespace, self._template_pod(replica_set, replica_set["metadata"]["name"]))
            elif active > replicas:
                pods = [p for p in self._owned("Pod", replica_set, namespace) if is_active(p)]
                surplus = sorted(pods, key=lambda p: (disruption.pod_is_ready(p), p["metadata"]["name"]))
                for pod in surplus[:active - replicas]:
                    self.delete_pod(namespace, pod["metadata"]["name"], reason="scaled down")
            tally = self._tally(namespace, uid)
            status = {"replicas": tally.active, "fullyLabeledReplicas": tally.active, "readyReplicas": tally.ready,
                      "availableReplicas": tally.ready,
                      "observedGeneration": replica_set["metadata"].get("generation", 1)}
            for field in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
                if not status[field]:
                    status.pop(field)
            self._save_status(resource, replica_set, status)

    @staticmethod
    def _daemon_probe(daemon_set: dict) -> dict:
        """The pod shape the DaemonSet controller checks nodes with (its template plus the
        tolerations it adds)."""
        pod = {"spec": dict((daemon_set["spec"].get("template") or {}).get("spec") or {})}
        pod["spec"]["tolerations"] = list(pod["spec"].get("tolerations") or []) + DAEMON_TOLERATIONS
        return pod

    def _daemon_view(self, daemon_set: dict, covered: Dict[Optional[str], int]) -> _DaemonView:
        """The DaemonSet's eligible and missing Nodes, brought up to date: all Nodes are checked
        for a new pod template, only the changed ones otherwise."""
        uid = daemon_set["metadata"]["uid"]
        template = json.dumps((daemon_set.get("spec") or {}).get("template"), sort_keys=True)
        view = self._daemon_views.get(uid)
        if view is None or view.template != template:
            view = self._daemon_views[uid] = _DaemonView(template, self._daemon_probe(daemon_set))
            view.eligible = {n["metadata"]["name"] for n in self.nodes()
                             if self._fits(view.probe, n, ignore_unschedulable=True)}
            view.missing = view.eligible.difference(covered)
            view.check = set(covered)      # its pods' nodes are all worth a look for being gone
            return view
        for name in view.check:
            node = self.store.find(self.kind("Node"), None, name) if name is not None else None
            if node is not None and self._fits(view.probe, node, ignore_unschedulable=True):
                view.eligible.add(name)
                if name in covered:
                    view.missing.discard(name)
                else:
                    view.missing.add(name)
            else:
                view.eligible.discard(name)
                view.missing.discard(name)
        return view

    def _run_daemonsets(self, now: float) -> None:
        dirty, self._dirty_daemon_sets = self._dirty_daemon_sets, set()
        resource = self.kind("DaemonSet")
        for daemon_set in list(self.store.iter(resource)):
            uid = daemon_set["metadata"]["uid"]
            view = self._daemon_views.get(uid)
            if view is not None and not view.check and not self._wants_visit(daemon_set, dirty, now):
                continue
            namespace = daemon_set["metadata"]["namespace"]
            covered = self._tally(namespace, uid).nodes
            view = self._daemon_view(daemon_set, covered)
            checked, view.check = view.check, set()
            if self._replacement_due(daemon_set, now, bool(view.missing)):
                for name in sorted(view.missing):
                    pod = self._template_pod(daemon_set, daemon_set["metadata"]["name"])
                    pod["spec"]["nodeName"] = name
                    pod["spec"]["tolerations"] = list(pod["spec"].get("tolerations") or []) + DAEMON_TOLERATIONS
                    self.create_pod(namespace, pod)
            # Pods on Nodes that are gone (only a changed node can have gone), in the order a
            # full scan of the DaemonSet's pods meets them.
            gone = {name for name in checked if name in covered and name not in view.eligible
                    and (name is None or self.store.find(self.kind("Node"), None, name) is None)}
            if gone:
                by_node: Dict[Optional[str], List[dict]] = {}
                for pod in self._owned("Pod", daemon_set, namespace):
                    if is_active(pod) and _pod_node(pod) in gone:
                        by_node.setdefault(_pod_node(pod), []).append(pod)
                for node_pods in by_node.values():
                    for pod in node_pods:
                        self._remove_pod(pod, reason="node gone")
            tally = self._tally(namespace, uid)
            eligible = len(view.eligible)
            status = {"currentNumberScheduled": tally.active, "desiredNumberScheduled": eligible,
                      "numberMisscheduled": 0, "numberReady": tally.ready, "numberAvailable": tally.ready,
                      "updatedNumberScheduled": tally.active,
                      "observedGeneration": daemon_set["metadata"].get("generation", 1)}
            if eligible - tally.ready > 0:
                status["numberUnavailable"] = eligible - tally.ready
            self._save_status(resource, daemon_set, status)

    def _scale_of_ref(self, namespace: str, kind: str, name: str, uid: str) -> Optional[Tuple[str, int]]:
        """(controller uid, its desired replicas) for a pod's controller reference, as the
        disruption controller finds it; None when its ReplicaSet is gone."""
        if kind == "ReplicaSet":
            replica_set = self.store.find(self.kind("ReplicaSet"), namespace, name)
            if replica_set is None:
                return None
            parent = controller_of(replica_set)
            if parent is not None and parent.get("kind") == "Deployment":
                deployment = self.store.find(self.kind("Deployment"), namespace, parent["name"])
                if deployment is not None:
                    return deployment["metadata"]["uid"], deployment["spec"].get("replicas", 1)
            return replica_set["metadata"]["uid"], replica_set["spec"].get("replicas", 1)
        if kind == "DaemonSet":
            daemon_set = self.store.find(self.kind("DaemonSet"), namespace, name)
            if daemon_set is not None:
                return uid, (daemon_set.get("status") or {}).get("desiredNumberScheduled", 0)
        return uid, 1

    def _expected_pods(self, namespace: str, budget: _Budget) -> int:
        """A PDB's expected pods: the sum of its pods' controllers' scales, one per pod without
        (disruption.expected_pods, from the budget's tally)."""
        scales: Dict[str, int] = {}
        unscaled = 0
        for ref, count in budget.owners.items():
            scale = self._scale_of_ref(namespace, *ref) if ref is not None else None
            if scale is None:
                unscaled += count
            else:
                scales[scale[0]] = scale[1]
        return sum(scales.values()) + unscaled

    def refresh_budgets(self) -> None:
        """The disruption controller: status of the PDBs whose pods, controllers or spec changed."""
        dirty, self._dirty_budgets = self._dirty_budgets, set()
        if not dirty:
            return
        now = rfc3339(self.clock())
        resource = self.kind("PodDisruptionBudget")
        for pdb in list(self.store.iter(resource)):
            namespace = pdb["metadata"]["namespace"]
            if namespace not in dirty:
                continue
            budget = self._budgets[namespace][pdb["metadata"]["name"]]
            status = disruption.status_from_counts(pdb, len(budget.members), budget.healthy,
                                                   lambda: self._expected_pods(namespace, budget), now)
            # Keep the record of pods this controller still sees as being disrupted.
            disrupted = {name: when for name, when in ((pdb.get("status") or {}).get("disruptedPods") or {}).items()
                         if self.store.find(self.kind("Pod"), namespace, name) is not None}
            if disrupted:
                status["disruptedPods"] = disrupted
            self._save_status(resource, pdb, status)

    # ---- deletion of owners ---------------------------------------------------------------------

    def delete_dependents(self, owner: dict, orphan: bool) -> None:
        """Garbage collector: remove (or orphan) everything whose ownerReferences name `owner`."""
        uid = owner["metadata"]["uid"]
        for resource in self.registry.types.values():
            if not resource.namespaced:
                continue
            for obj in list(self.store.iter(resource, owner["metadata"].get("namespace") or None)):
                references = obj["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == uid for r in references):
                    continue
                if orphan:
                    obj["metadata"]["ownerReferences"] = [r for r in references if r.get("uid") != uid]
                    self.store.commit(resource, obj)
                elif resource.kind == "Pod":
                    self.delete_pod(obj["metadata"]["namespace"], obj["metadata"]["name"], reason="owner deleted")
                else:
                    self.store.remove(resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
                    self.delete_dependents(obj, orphan=False)

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
