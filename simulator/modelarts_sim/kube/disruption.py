"""PodDisruptionBudget arithmetic and the eviction decision, as kube-controller-manager's
disruption controller and the apiserver's eviction REST handler compute them.

Status (pkg/controller/disruption):
  minAvailable N        expected = pods selected,           desiredHealthy = N
  minAvailable P%       expected = sum of controller scales, desiredHealthy = ceil(P% * expected)
  maxUnavailable N|P%   expected = sum of controller scales, desiredHealthy = expected - ceil(..)
  currentHealthy = selected pods that are Ready and not being deleted
  disruptionsAllowed = max(0, currentHealthy - desiredHealthy)
Eviction (pkg/registry/core/pod/storage/eviction.go): terminal, pending or already deleting pods
skip the budget; more than one matching PDB is a 500; an unready pod may go while the budget is
met (policy IfHealthyBudget) or always (AlwaysAllow); otherwise disruptionsAllowed == 0 is a 429.
"""
import math
from typing import Callable, List, Optional, Tuple

from .selectors import labels_match, selector_from_object
from .status import StatusError

TOO_MANY_REQUESTS_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"

# Given a pod: (controller uid, that controller's desired replicas) or None for a bare pod.
ScaleOf = Callable[[dict], Optional[Tuple[str, int]]]


def scaled_value(value, total: int, round_up: bool) -> int:
    """IntOrString: an int as is, "P%" as P% of total (rounded up or down)."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        fraction = int(text[:-1]) * total / 100
        return math.ceil(fraction) if round_up else math.floor(fraction)
    return int(text)


def pod_is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def pod_is_healthy(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and pod_is_ready(pod)


def selected_pods(pdb: dict, pods: List[dict]) -> List[dict]:
    selector = selector_from_object((pdb.get("spec") or {}).get("selector"))
    namespace = pdb["metadata"].get("namespace")
    return [p for p in pods
            if p["metadata"].get("namespace") == namespace and labels_match(selector, p["metadata"].get("labels"))]


def expected_pods(pods: List[dict], scale_of: ScaleOf) -> int:
    """The sum of the scales of the pods' controllers, one for each pod without one."""
    scales = {}
    for pod in pods:
        owner = scale_of(pod)
        if owner is None:
            scales[pod["metadata"]["uid"]] = 1
        else:
            scales[owner[0]] = owner[1]
    return sum(scales.values())


def desired_healthy(pdb: dict, selected: int, expected_pods: Callable[[], int]) -> Tuple[int, int]:
    """(expectedPods, desiredHealthy) for a PDB selecting `selected` pods; expected_pods() sums
    their controllers' scales (only called when the budget needs it)."""
    spec = pdb.get("spec") or {}
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    if max_unavailable is None and isinstance(min_available, int):
        return selected, min_available
    expected = expected_pods()
    if max_unavailable is not None:
        return expected, max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
    if min_available is None:       # neither set: the API defaults minAvailable to 1
        return selected, 1
    return expected, scaled_value(min_available, expected, round_up=True)


def compute_status(pdb: dict, all_pods: List[dict], scale_of: ScaleOf, now_text: str) -> dict:
    pods = selected_pods(pdb, all_pods)
    return status_from_counts(pdb, len(pods), sum(1 for p in pods if pod_is_healthy(p)),
                              lambda: expected_pods(pods, scale_of), now_text)


def status_from_counts(pdb: dict, selected: int, healthy: int, expected_pods: Callable[[], int],
                       now_text: str) -> dict:
    """The PDB status from its selected and healthy pod counts (the cluster keeps these as tallies)."""
    expected, desired = desired_healthy(pdb, selected, expected_pods)
    allowed = max(0, healthy - desired)
    previous = pdb.get("status") or {}
    condition = {
        "type": "DisruptionAllowed", "status": "True" if allowed > 0 else "False",
        "reason": "SufficientPods" if allowed > 0 else "InsufficientPods", "message": "",
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "lastTransitionTime": now_text,
    }
    for old in previous.get("conditions") or []:
        if old.get("type") == "DisruptionAllowed" and old.get("status") == condition["status"]:
            condition["lastTransitionTime"] = old.get("lastTransitionTime", now_text)
    return {
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [condition],
    }


def matching_budgets(pod: dict, pdbs: List[dict]) -> List[dict]:
    return [pdb for pdb in pdbs
            if pdb["metadata"].get("namespace") == pod["metadata"].get("namespace")
            and labels_match(selector_from_object((pdb.get("spec") or {}).get("selector")),
                             pod["metadata"].get("labels"))]


def budget_blocks_eviction(pod: dict, budgets: List[dict]) -> Optional[dict]:
    """The PDB (with fresh status) whose budget the eviction would consume, None when the pod may go
    without touching a budget. Raises the apiserver's StatusError when the eviction is refused."""
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed", "Pending") or pod["metadata"].get("deletionTimestamp"):
        return None
    if not budgets:
        return None
    if len(budgets) > 1:
        raise StatusError(500, "InternalError",
                          "This pod has more than one PodDisruptionBudget, which the eviction subresource "
                          "does not support.", {})
    pdb = budgets[0]
    status = pdb.get("status") or {}
    if not pod_is_ready(pod):
        policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
        if policy == "AlwaysAllow":
            return None
        if status.get("currentHealthy", 0) >= status.get("desiredHealthy", 0) > 0:
            return None
    if status.get("observedGeneration", 0) < pdb["metadata"].get("generation", 1):
        raise StatusError(
            429, "TooManyRequests",
            f"{TOO_MANY_REQUESTS_MESSAGE} The disruption budget {pdb['metadata']['name']} is still being "
            "processed by the server.", {"retryAfterSeconds": 10}, {"Retry-After": "10"})
    if status.get("disruptionsAllowed", 0) <= 0:
        raise StatusError(429, "TooManyRequests", TOO_MANY_REQUESTS_MESSAGE, {"causes": [{
            "reason": DISRUPTION_BUDGET_CAUSE,
            "message": f"The disruption budget {pdb['metadata']['name']} needs {status.get('desiredHealthy', 0)} "
                       f"healthy pods and has {status.get('currentHealthy', 0)} currently"}]})
    return pdb
