"""What the simulated cluster's loops read from pods and keep per controller, budget and DaemonSet:
plain functions of one object, and the small tallies the incremental loops update on each write."""
from typing import Dict, List, NamedTuple, Optional, Set, Tuple

from . import disruption
from . import labels as L
from .selectors import labels_match, selector_from_object
from .store import clone


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


def controller_uid(obj: dict) -> Optional[str]:
    return (controller_of(obj) or {}).get("uid")


def pod_node(pod: dict) -> Optional[str]:
    return (pod.get("spec") or {}).get("nodeName")


def is_active(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded", "Failed")


def pod_stage(pod: dict) -> Optional[str]:
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


class PodFacts(NamedTuple):
    """What the controllers read from a pod, as of its last write."""
    owner: Optional[str]                       # controller uid
    ref: Optional[Tuple[str, str, str]]        # controller (kind, name, uid), for PDB scales
    node: Optional[str]
    active: bool
    ready: bool
    healthy: bool                              # counts for a PDB: Ready and not being deleted


def pod_facts(pod: dict) -> PodFacts:
    owner = controller_of(pod)
    ready = disruption.pod_is_ready(pod)
    return PodFacts(owner.get("uid") if owner else None,
                    (owner.get("kind"), owner.get("name"), owner.get("uid")) if owner else None,
                    pod_node(pod), is_active(pod), ready, ready and not pod["metadata"].get("deletionTimestamp"))


class Tally:
    """One controller's pods as its loop counts them: the active ones, the Ready ones among
    those, and active ones per node (a DaemonSet's coverage)."""
    __slots__ = ("active", "ready", "nodes")

    def __init__(self):
        self.active = 0
        self.ready = 0
        self.nodes: Dict[Optional[str], int] = {}

    def add(self, facts: PodFacts, sign: int) -> None:
        self.active += sign
        self.ready += sign if facts.ready else 0
        count = self.nodes.get(facts.node, 0) + sign
        if count:
            self.nodes[facts.node] = count
        else:
            del self.nodes[facts.node]


NO_PODS = Tally()


class Budget:
    """A PodDisruptionBudget's pods: those its selector picks in its namespace, how many are
    healthy, and how many belong to each controller (whose scale gives the expected count)."""
    __slots__ = ("spec", "selector", "members", "healthy", "owners")

    def __init__(self, pdb: dict):
        self.spec = clone(pdb.get("spec"))
        self.selector = selector_from_object((pdb.get("spec") or {}).get("selector"))
        self.members: Dict[Tuple[str, str], PodFacts] = {}
        self.healthy = 0
        self.owners: Dict[Optional[Tuple[str, str, str]], int] = {}

    def put(self, key: Tuple[str, str], pod: Optional[dict], facts: Optional[PodFacts]) -> None:
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


class DaemonView:
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
