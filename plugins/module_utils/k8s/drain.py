# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Draining a node: kubectl's pod rules, PDB-aware eviction with retries, waiting for termination.

``plan_drain`` is pure (kubectl drain's filters, in kubectl's order). ``NodeDrain`` is a small state
machine: each ``step()`` makes one pass (try every pending eviction once, then check which evicted
pods are gone) and never sleeps, so one loop can drive many nodes at once (the rolling upgrade);
``drain_node`` is the blocking convenience for a single node.
"""

from __future__ import annotations

import re
import time

from ansible_collections.modelarts.lite.plugins.module_utils.errors import DrainBlockedError, WaitTimeoutError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeNotFoundError, kube_path
from ansible_collections.modelarts.lite.plugins.module_utils.waiting import Deadline

PODS = "/api/v1/pods"
PDBS = "/apis/policy/v1/poddisruptionbudgets"
FINISHED = ("Succeeded", "Failed")
EVICT, SKIP, REFUSE, WAIT = "evict", "skip", "refuse", "wait"
# Nodes whose pods are listed one node at a time (concurrently); more take one cluster-wide list.
MAX_NODE_POD_LISTS = 16
_PDB_NAME = re.compile(r"disruption budget ([a-z0-9][-a-z0-9.]*)")


def pod_key(pod):
    metadata = pod.get("metadata") or {}
    return "%s/%s" % (metadata.get("namespace"), metadata.get("name"))


def controller_of(pod):
    for reference in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return reference
    return None


# -- reading pods and budgets ----------------------------------------------------------------------

def list_pods_on_node(kube, node_name):
    return kube.list_items(PODS, {"fieldSelector": "spec.nodeName=%s" % node_name})


def pods_by_node(kube, node_names):
    """{node: [pods]}: a field-selected list per node (as kubectl drain lists), sent concurrently,
    for up to MAX_NODE_POD_LISTS nodes; one cluster-wide list for more. A rolling upgrade asks on
    every cycle while nodes drain: on a big cluster a list of every pod costs the API server and
    us far more than a few lists of one node's pods."""
    names = list(dict.fromkeys(node_names))
    if len(names) == 1:
        return {names[0]: list_pods_on_node(kube, names[0])}
    if len(names) <= MAX_NODE_POD_LISTS:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            return dict(zip(names, pool.map(lambda name: list_pods_on_node(kube, name), names)))
    grouped = {name: [] for name in names}
    for pod in kube.list_items(PODS):
        node = (pod.get("spec") or {}).get("nodeName")
        if node in grouped:
            grouped[node].append(pod)
    return grouped


def list_pdbs(kube):
    return kube.list_items(PDBS)


def selector_matches(selector, labels):
    """A metav1.LabelSelector against labels (policy/v1: an empty selector matches every pod)."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def pdbs_for_pod(pod, pdbs):
    metadata = pod.get("metadata") or {}
    return [p for p in pdbs or []
            if (p.get("metadata") or {}).get("namespace") == metadata.get("namespace")
            and selector_matches((p.get("spec") or {}).get("selector"), metadata.get("labels"))]


# -- planning (kubectl drain's filters) -------------------------------------------------------------

def classify_pod(pod, force=False, delete_emptydir_data=False):
    """(action, reason) for one pod, by kubectl drain's rules in kubectl's order."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    phase = (pod.get("status") or {}).get("phase")
    if metadata.get("deletionTimestamp"):
        return WAIT, "already terminating"
    owner = controller_of(pod)
    if owner is not None and owner.get("kind") == "DaemonSet":
        return SKIP, "DaemonSet-managed (the DaemonSet would recreate it)"
    if L.MIRROR_POD in (metadata.get("annotations") or {}):
        return SKIP, "mirror pod (static pod managed by the kubelet)"
    finished = phase in FINISHED
    if not finished and any("emptyDir" in (v or {}) for v in spec.get("volumes") or []) and not delete_emptydir_data:
        return REFUSE, "uses emptyDir local storage, whose data is lost (set delete_emptydir_data=true)"
    if owner is None and not finished:
        if not force:
            return REFUSE, "is not managed by a controller, so nothing recreates it (set force=true)"
        return EVICT, "unmanaged pod, evicted because force=true"
    if finished:
        return EVICT, "finished (%s)" % phase
    return EVICT, "managed by %s %s" % (owner.get("kind"), owner.get("name"))


def plan_drain(pods, pdbs=None, force=False, delete_emptydir_data=False):
    """Every pod of a node with its action: {"evict", "skip", "refuse", "wait"} lists of entries."""
    plan = {EVICT: [], SKIP: [], REFUSE: [], WAIT: []}
    for pod in sorted(pods, key=pod_key):
        action, reason = classify_pod(pod, force, delete_emptydir_data)
        metadata = pod.get("metadata") or {}
        entry = {"pod": pod_key(pod), "namespace": metadata.get("namespace"), "name": metadata.get("name"),
                 "uid": metadata.get("uid"), "reason": reason}
        if action == EVICT:
            budgets = pdbs_for_pod(pod, pdbs)
            if budgets:
                status = budgets[0].get("status") or {}
                entry["pdb"] = pod_key(budgets[0])
                entry["disruptions_allowed"] = status.get("disruptionsAllowed", 0)
        plan[action].append(entry)
    return plan


def refusal_summary(node_name, refused):
    return "node %s has pods a drain must not remove: %s" % (
        node_name, "; ".join("%s %s" % (e["pod"], e["reason"]) for e in refused))


# -- evicting --------------------------------------------------------------------------------------

def evict(kube, namespace, name, grace_period=None):
    """POST the Eviction. True when the pod is going (or gone); False when a PDB refused (HTTP 429).

    The refusal's Status message is kept on the returned tuple for the error report."""
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
    if grace_period is not None:
        body["deleteOptions"] = {"gracePeriodSeconds": grace_period}
    path = "/api/v1/namespaces" + kube_path(namespace) + "/pods" + kube_path(name) + "/eviction"
    try:
        kube.request("POST", path, body=body, retry_throttled=False)
    except KubeNotFoundError:
        return True, None
    except Exception as error:  # only 429 is a PDB refusal; everything else is a real failure
        if getattr(error, "status", None) == 429:
            return False, _refusal_message(error)
        raise
    return True, None


def _refusal_message(error):
    body = getattr(error, "status_body", None) or {}
    causes = (body.get("details") or {}).get("causes") or []
    texts = [c.get("message") for c in causes if c.get("message")]
    return "; ".join(texts) or body.get("message") or str(error.error_msg or "")


class NodeDrain:
    """Drain one node, one non-blocking ``step()`` at a time.

    ``plan`` is ``plan_drain``'s result; refused pods must have been dealt with before (the caller
    refuses the whole operation), so only ``evict`` and ``wait`` entries matter here."""

    def __init__(self, node_name, plan, timeout, grace_period=None, clock=time.monotonic):
        self.node = node_name
        self.pending = list(plan[EVICT])
        self.terminating = {e["pod"]: e for e in plan[WAIT]}
        self.blocked = {}
        self.evicted = []
        self.timeout = timeout
        self.grace_period = grace_period
        self.deadline = Deadline(timeout, clock=clock)
        self.done = not self.pending and not self.terminating

    def step(self, kube, pods_on_node=None):
        """One pass; True when every pod is gone. Raises DrainBlockedError (a PDB still refuses at
        the deadline) or WaitTimeoutError (evicted pods still terminating at the deadline)."""
        if self.done:
            return True
        still_pending = []
        for entry in self.pending:
            going, refusal = evict(kube, entry["namespace"], entry["name"], self.grace_period)
            if going:
                self.blocked.pop(entry["pod"], None)
                self.evicted.append(entry)
                self.terminating[entry["pod"]] = entry
            else:
                self.blocked[entry["pod"]] = dict(entry, message=refusal, pdb=_pdb_name(entry, refusal))
                still_pending.append(entry)
        self.pending = still_pending
        if self.terminating:
            if pods_on_node is None:
                pods_on_node = list_pods_on_node(kube, self.node)
            present = {(pod_key(p), (p.get("metadata") or {}).get("uid")) for p in pods_on_node}
            self.terminating = {k: e for k, e in self.terminating.items() if (k, e.get("uid")) in present}
        self.done = not self.pending and not self.terminating
        if not self.done and self.deadline.expired():
            self._give_up()
        return self.done

    def _give_up(self):
        if self.blocked:
            blocked = sorted(self.blocked.values(), key=lambda e: e["pod"])
            first = blocked[0]
            raise DrainBlockedError(
                "Draining node %s timed out after %ss: evicting pod %s is refused by PodDisruptionBudget %s (%s). "
                "The node stays cordoned; %d pod(s) were evicted, %d remain blocked. Scale the workload up or "
                "relax the budget, then re-run, or uncordon the node with state=schedulable."
                % (self.node, _seconds(self.timeout), first["pod"], first.get("pdb") or "unknown",
                   first.get("message") or "no message", len(self.evicted), len(blocked)),
                node=self.node, pod=first["pod"], pdb=first.get("pdb"),
                details={"node": self.node, "blocked": [{"pod": e["pod"], "pdb": e.get("pdb"),
                                                         "message": e.get("message")} for e in blocked],
                         "evicted": [e["pod"] for e in self.evicted], "cordoned": True})
        raise WaitTimeoutError(
            "Draining node %s timed out after %ss: pods %s were evicted but are still terminating. The node "
            "stays cordoned; re-run once they are gone." % (self.node, _seconds(self.timeout),
                                                            ", ".join(sorted(self.terminating))),
            last_state={"node": self.node, "terminating": sorted(self.terminating), "cordoned": True},
            timeout=self.timeout)

    def report(self):
        return {"node": self.node, "evicted": [e["pod"] for e in self.evicted],
                "blocked": sorted(self.blocked), "terminating": sorted(self.terminating)}


def _pdb_name(entry, refusal):
    match = _PDB_NAME.search(refusal or "")
    if match:
        return "%s/%s" % (entry["namespace"], match.group(1))
    return entry.get("pdb")


def _seconds(value):
    return str(int(value)) if float(value).is_integer() else "%.1f" % value


def drain_node(kube, node_name, plan, timeout, interval, grace_period=None, sleep=time.sleep,
               clock=time.monotonic):
    """Run a NodeDrain to completion (bounded by ``timeout``); returns its report."""
    drain = NodeDrain(node_name, plan, timeout, grace_period, clock=clock)
    while not drain.step(kube):
        sleep(max(0.0, min(interval, drain.deadline.remaining())))
    return drain.report()
