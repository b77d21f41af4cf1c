# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Job- and topology-aware grouping of a rolling upgrade's nodes: a pure function of a snapshot.

A distributed training job lives or dies as a whole: evicting any one of its pods restarts it
from its last checkpoint on every node. A job-blind order (a hash of node names) spreads a
16-node job over up to 16 launches, each one a restart. So nodes are grouped before they are
ordered:

* **by job**: the nodes running the pods of one multi-node job (pods sharing Volcano's
  ``volcano.sh/job-name``, else ``scheduling.k8s.io/group-name``, else a pod label the user names,
  in the same namespace);
* **by super node**: the servers of one super node (same ``os.modelarts.node/spod.id`` and
  ``os.modelarts.node/batch.uid``) share HCCS links, so they go together;
* merged transitively: a job spanning two super nodes joins both into one group.

**Launch rule.** A group's nodes are launched back to back: when it is the group's turn, each
freed slot goes to its next node and no other node starts until all of them have been launched.
A group that fits the free slots starts at once. While any node of the group is out, its jobs
cannot restart (a gang needs every pod placed), so **each job is interrupted once**, at its first
node's drain, whatever the group's size.

**Groups larger than max_unavailable** (``oversized_groups``):

* ``roll`` (default): the same rule; the group takes every slot that frees until all its nodes are
  launched, so its jobs are still interrupted once, but stay down for about
  ceil(size / max_unavailable) node upgrades instead of one. The plan states both.
* ``skip``: its nodes are skipped and reported (the job keeps running on the old driver); run
  again with a larger budget, or after the job ends.

**Wait for idle.** Groups whose nodes run no multi-node job go first; groups with running jobs go
last, so a job that ends while the rest of the pool upgrades is never interrupted. With
``job_idle_wait`` > 0 a busy group that has not begun also waits at its turn until its jobs end
or the bound passes (``idle_gate``, applied by the policy; the engine's clock gives the time
waited); meanwhile later groups take the free slots. After the bound the group is drained anyway.

The engine's order inside these rules stays its own deterministic key (``order`` below).
``queued_taints`` builds the hold (a pure patch of the taint list); ``interrupted`` decides
whether a drain's eviction is a new interruption of a job.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L

ROLL, SKIP = "roll", "skip"
WAIT, LAUNCH = "wait", "launch"
OVERSIZED_POLICIES = (ROLL, SKIP)
FINISHED = ("Succeeded", "Failed")


def job_of(pod, job_labels):
    """"namespace/name" of the job a pod belongs to (the first of job_labels it carries), or None
    for a pod that is finished, terminating or not part of a job."""
    metadata = pod.get("metadata") or {}
    if metadata.get("deletionTimestamp") or (pod.get("status") or {}).get("phase") in FINISHED:
        return None
    labels = metadata.get("labels") or {}
    for key in job_labels:
        if labels.get(key):
            return "%s/%s" % (metadata.get("namespace"), labels[key])
    return None


def super_node_of(labels):
    """The super node a Node belongs to ("<spod.id>/<batch.uid>"), None for a plain server."""
    spod = (labels or {}).get(L.SUPER_NODE_ID)
    if not spod:
        return None
    return "%s/%s" % (spod, (labels or {}).get(L.SUPER_NODE_BATCH) or "")


def jobs_by_node(pods, job_labels):
    """{job: set of node names its live pods run on}."""
    jobs = {}
    for pod in pods:
        job = job_of(pod, job_labels)
        node = (pod.get("spec") or {}).get("nodeName")
        if job and node:
            jobs.setdefault(job, set()).add(node)
    return jobs


class _Union:
    def __init__(self, items):
        self.parent = {item: item for item in items}

    def find(self, item):
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, items):
        items = [i for i in items if i in self.parent]
        for item in items[1:]:
            self.parent[self.find(item)] = self.find(items[0])


def plan_groups(candidates, node_labels, pods, job_labels=L.JOB_LABELS, topology=True, order=None):
    """Groups of candidate nodes to launch back to back, in launch order.

    candidates: names of the Nodes to upgrade; node_labels: {node name: labels} (super-node
    topology); pods: the pool's pods (a job's nodes outside the candidates are counted, never
    grouped); order: the engine's key for a node name (default: the name).

    Each group: {"nodes": [names, in order], "jobs": [{"job", "nodes" (all its nodes),
    "selected" (how many of them are in this run)}], "super_nodes": [ids], "busy": bool}. Groups
    without a multi-node job come first, then busy ones; each set by its first node's key.
    """
    key = order or (lambda name: name)
    names = list(dict.fromkeys(candidates))
    union = _Union(names)
    chosen = set(names)
    jobs = {job: nodes for job, nodes in jobs_by_node(pods, job_labels).items() if len(nodes) > 1}
    for nodes in jobs.values():
        union.join(sorted(nodes & chosen))
    supers = {}
    if topology:
        for name in names:
            spod = super_node_of(node_labels.get(name))
            if spod:
                supers.setdefault(spod, []).append(name)
        for members in supers.values():
            union.join(members)
    members = {}
    for name in names:
        members.setdefault(union.find(name), []).append(name)
    groups = []
    for nodes in members.values():
        nodes.sort(key=key)
        inside = set(nodes)
        group_jobs = [{"job": job, "nodes": len(on), "selected": len(on & inside)}
                      for job, on in sorted(jobs.items()) if on & inside]
        groups.append({"nodes": nodes, "jobs": group_jobs, "busy": bool(group_jobs),
                       "super_nodes": sorted(s for s, m in supers.items() if inside & set(m))})
    groups.sort(key=lambda g: (g["busy"], key(g["nodes"][0])))
    return groups


def apply_oversized(groups, max_unavailable, policy=ROLL):
    """(groups kept, {node: skip reason}) under the oversized_groups policy, and each kept group
    annotated with what it costs: "interruptions" per job (1) and "down_slots" (how many rounds
    of max_unavailable node upgrades its jobs stay down)."""
    if policy not in OVERSIZED_POLICIES:
        raise ValueError("oversized_groups must be one of %s, got %r" % (", ".join(OVERSIZED_POLICIES), policy))
    kept, skipped = [], {}
    budget = max(1, int(max_unavailable))
    for group in groups:
        size = len(group["nodes"])
        if size > budget and policy == SKIP and group["jobs"]:
            reason = "job-aware: group of %d nodes (jobs %s) is larger than max_unavailable %d and " \
                     "oversized_groups=skip" % (size, ", ".join(j["job"] for j in group["jobs"]), budget)
            skipped.update((name, reason) for name in group["nodes"])
            continue
        kept.append(dict(group, down_rounds=-(-size // budget), interruptions={j["job"]: 1 for j in group["jobs"]}))
    return kept, skipped


def launch_order(groups):
    """The flat node order and, per node, the index of its group (the engine launches in this
    order and never lets a later group's node overtake an unlaunched node of an earlier group)."""
    order, group_of = [], {}
    for index, group in enumerate(groups):
        for name in group["nodes"]:
            order.append(name)
            group_of[name] = index
    return order, group_of


def pick_canaries(groups, count):
    """Canary nodes: single nodes without jobs first (a canary pause must not hold a job down, nor
    split a group's launches around the gate), then whole groups in order (so there may be more
    canaries than asked, never half a group)."""
    chosen = []
    for group in groups:
        if len(chosen) >= count:
            break
        if not group["busy"] and len(group["nodes"]) == 1:
            chosen.append(group["nodes"][0])
    for group in groups:
        if len(chosen) >= count:
            break
        if group["nodes"][0] not in chosen:
            chosen.extend(n for n in group["nodes"] if n not in chosen)
    return chosen


def queued_taints(node, hold):
    """The Node's new taint list with (hold True) or without (hold False) the queued taint; None
    when that changes nothing (or hold is None)."""
    if hold is None:
        return None
    current = (node.get("spec") or {}).get("taints") or []
    kept = [t for t in current if t.get("key") != L.QUEUED_TAINT]
    wanted = kept + ([{"key": L.QUEUED_TAINT, "effect": "NoSchedule"}] if hold else [])
    return None if wanted == current else wanted


def interrupted(earlier_nodes_out):
    """A drain that evicts a running pod of a job interrupts it anew unless a node it was evicted
    from earlier in the run is still out: a gang cannot restart while one of its nodes is out."""
    return not earlier_nodes_out


def idle_gate(group, running_jobs, waited_seconds, wait_timeout):
    """(LAUNCH | WAIT, reason) for a group at its turn: wait while any of its jobs still runs
    and the bound (seconds) has not passed; a bound of 0 never waits."""
    still = sorted(j["job"] for j in group["jobs"] if j["job"] in running_jobs)
    if not still:
        return LAUNCH, "no multi-node job runs on the group" if group["jobs"] else "no job on the group"
    if wait_timeout and waited_seconds < wait_timeout:
        return WAIT, "waiting up to %ss for %s to end (%ds so far)" % (wait_timeout, ", ".join(still), waited_seconds)
    return LAUNCH, "%s still running%s: interrupted once" % (
        ", ".join(still), " after %ss" % wait_timeout if wait_timeout else "")
