# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Desired state of Lite Cluster nodes in Kubernetes and ModelArts (lite_node, lite_node_info).

Plan first, then mutate: the nodes are resolved, pods and budgets read, kubectl's drain rules
applied and every opt-in checked before the first write, so a refused run changes nothing and
check mode reports the same plan (with the evictions it would make). Nodes are then handled one
at a time: labels/taints, cordon (recording that we did), drain, the ModelArts operation and its
wait, and finally an uncordon of our own cordon only.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools as api
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    NotFoundError,
    OperationFailedError,
    PreconditionError,
    ValidationError,
)
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes
from ansible_collections.modelarts.lite.plugins.module_utils.waiting import Deadline, wait_until

CORDONING_STATES = ("cordoned", "drained", "absent")
DRAINING_STATES = ("drained", "absent")
# Seconds between drain passes at most: evictions refused by a PDB are retried this often.
MAX_DRAIN_INTERVAL = 5.0
RESET_ROLLING = {"strategy": "RollingByNumber", "maxUnavailable": 1}


# ----------------------------------------------------------------------------------------------
# Input checks that need no API call
# ----------------------------------------------------------------------------------------------
def validate_params(params):
    for key in (params.get("labels") or {}):
        if L.is_system_key(key):
            raise ValidationError("label %r belongs to Kubernetes, CCE or ModelArts and cannot be set here." % key,
                                  option="labels")
    for value in (params.get("labels") or {}).values():
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ValidationError("label values must be strings (or null to remove a label).", option="labels")
    for taint in params.get("taints") or []:
        if L.is_system_key(taint["key"]):
            raise ValidationError("taint %r is managed by Kubernetes or ModelArts and cannot be set here."
                                  % taint["key"], option="taints")
    if params.get("state") == "absent" and (params.get("driver_version") or params.get("action")):
        raise ValidationError("state=absent removes the node; it cannot be combined with driver_version or action.",
                              option="state")
    if params.get("driver_version") and params.get("action"):
        raise ValidationError("driver_version and action each restart the node; run them as separate tasks.",
                              option="action")
    if params.get("state") == "absent" and params.get("ha_redundant") is not None:
        raise ValidationError("state=absent removes the node; ha_redundant cannot be set on it.", option="state")
    if params.get("ha_redundant_effect") and not params.get("ha_redundant"):
        raise ValidationError("ha_redundant_effect applies when HA redundancy is switched on (ha_redundant=true).",
                              option="ha_redundant_effect")
    if params.get("state") == "absent" and (params.get("labels") or params.get("taints")):
        raise ValidationError("state=absent removes the node; labels and taints cannot be set on it.",
                              option="state")
    action = params.get("action")
    if action == "reboot" and not params.get("allow_reboot"):
        raise PreconditionError("action=reboot restarts the node and kills what runs on it after the drain. "
                                "Set allow_reboot=true to confirm.", details={"action": action})
    if action == "reset" and not params.get("allow_reset"):
        raise PreconditionError("action=reset reinstalls the node's operating system; local data is lost. "
                                "Set allow_reset=true to confirm.", details={"action": action})


# ----------------------------------------------------------------------------------------------
# Resolving the addressed nodes
# ----------------------------------------------------------------------------------------------
class Target:
    """One addressed node: its ModelArts record, its Kubernetes Node and what we plan for it."""

    def __init__(self, record, kube_node):
        self.record = record
        self.kube_node = kube_node
        self.labels_patch = None
        self.taints = None
        self.cordon = False
        self.drain_plan = None
        self.upgrade = False
        self.uncordon = False
        self.delete = False
        self.ha = None  # the batch-update action that switches HA redundancy, when it must change

    @property
    def name(self):
        return self.record["metadata"]["name"]

    @property
    def kube_name(self):
        return api.private_ip(self.record)

    def changed(self, params):
        return bool(self.labels_patch is not None or self.taints is not None or self.cordon or self.upgrade
                    or self.uncordon or self.delete or self.ha or params.get("action")
                    or (self.drain_plan and self.drain_plan[kdrain.EVICT]))


def is_leaving(record):
    return (record.get("status") or {}).get("phase") == "Deleting"


def already_absent(params, records):
    """Names of state=absent that are gone from the pool or being removed: nothing to do for them."""
    if params.get("state") != "absent" or not params.get("nodes"):
        return []
    by_key = {}
    for record in records:
        by_key[record["metadata"]["name"]] = record
        if api.private_ip(record):
            by_key[api.private_ip(record)] = record
    return [name for name in params["nodes"] if name not in by_key or is_leaving(by_key[name])]


def node_pool_of(record, kube_node):
    """The node pool name: ModelArts' label, else the Node's."""
    return api.node_pool_of_node(record) or (knodes.labels_of(kube_node).get(L.NODE_POOL_NAME) if kube_node else None)


def resolve_targets(clients, params, pool_id, records):
    """[Target] for the nodes or node_selector of the task (read-only calls)."""
    by_ip = {api.private_ip(r): r for r in records if api.private_ip(r)}
    if params.get("node_selector"):
        kube_nodes = knodes.list_nodes(clients.kube, params["node_selector"])
        targets = []
        for node in kube_nodes:
            record = by_ip.get(node["metadata"]["name"])
            if record is None:
                raise PreconditionError("Kubernetes node %s matches node_selector but is not a node of pool %s."
                                        % (node["metadata"]["name"], pool_id), details={"node": node["metadata"]["name"]})
            targets.append(Target(record, node))
        return sorted(targets, key=lambda t: t.name)
    names = params["nodes"]
    if params.get("state") == "absent":
        gone = set(already_absent(params, records))   # a rerun of state=absent: those are done
        names = [name for name in names if name not in gone]
        if not names:
            return []
    wanted = api.nodes_by_name_or_ip(records, names, pool_id)
    if len(wanted) == 1:
        kube_nodes = {}
        name = api.private_ip(wanted[0])
        try:
            kube_nodes[name] = knodes.get_node(clients.kube, name)
        except NotFoundError:
            pass
    else:
        kube_nodes = {n["metadata"]["name"]: n for n in knodes.list_nodes(clients.kube)}
    targets = []
    for record in wanted:
        node = kube_nodes.get(api.private_ip(record))
        if node is None:
            phase = (record.get("status") or {}).get("phase")
            raise PreconditionError("node %s (%s) is %s in ModelArts but has no Kubernetes Node yet; wait until it "
                                    "has joined the cluster." % (record["metadata"]["name"], api.private_ip(record), phase),
                                    details={"node": record["metadata"]["name"], "phase": phase})
        targets.append(Target(record, node))
    return targets


# ----------------------------------------------------------------------------------------------
# Views
# ----------------------------------------------------------------------------------------------
def describe_node(record, kube_node):
    status = record.get("status") or {}
    view = {"name": record["metadata"]["name"], "kube_name": api.private_ip(record), "phase": status.get("phase"),
            "driver_phase": (status.get("driver") or {}).get("phase")}
    view.update(knodes.summary(kube_node) if kube_node is not None else knodes.not_joined_summary())
    view["driver_version"] = (status.get("driver") or {}).get("version") or view.get("driver_version")
    view["node_pool"] = node_pool_of(record, kube_node)
    view["ha_redundant"] = api.ha_redundant(record)
    return view


def _diff_view(view):
    if not view:
        return {}
    return {k: view.get(k) for k in ("name", "schedulable", "cordoned_by", "driver_version", "labels", "taints",
                                     "ha_redundant")}


# ----------------------------------------------------------------------------------------------
# Planning
# ----------------------------------------------------------------------------------------------
def plan_targets(clients, params, pool_id, targets, records):
    state = params.get("state")
    action = params.get("action")
    protected_labels, protected_taints = set(), set()
    if params.get("purge_labels") or params.get("purge_taints"):
        for node_pool in api.list_node_pools(clients.cloud, pool_id):
            for resource in api.spec_resources(node_pool):
                protected_labels.update((resource.get("labels") or {}).keys())
                protected_taints.update((t.get("key"), t.get("effect")) for t in resource.get("taints") or [])

    wanted_driver = params.get("driver_version")
    for target in targets:
        if params.get("labels") is not None or params.get("purge_labels"):
            target.labels_patch = knodes.labels_patch(target.kube_node, params.get("labels") or {},
                                                      params.get("purge_labels"), protected_labels)
        if params.get("taints") is not None or params.get("purge_taints"):
            target.taints = knodes.desired_taints(target.kube_node, params.get("taints") or [],
                                                  params.get("purge_taints"), protected_taints)
        if params.get("ha_redundant") is not None and api.ha_redundant(target.record) != params["ha_redundant"]:
            target.ha = api.HA_ACTIONS[params["ha_redundant"]]
        current_driver = ((target.record.get("status") or {}).get("driver") or {}).get("version")
        target.upgrade = bool(wanted_driver) and current_driver != wanted_driver
        disruptive = target.upgrade or bool(action)
        target.delete = state == "absent"
        if state in CORDONING_STATES or disruptive:
            target.cordon = not knodes.is_cordoned(target.kube_node)
        # Our own cordon is lifted when the node should end schedulable: state=schedulable, or a
        # maintenance flow (upgrade/action) that runs without a cordoning state.
        ends_schedulable = state == "schedulable" or (state is None and disruptive)
        if state == "schedulable":
            target.uncordon = knodes.uncordon_patch(target.kube_node, params.get("release_foreign_cordon")) is not None
        elif ends_schedulable:
            target.uncordon = target.cordon or knodes.cordon_owner(target.kube_node) is not None

    if wanted_driver and any(t.upgrade for t in targets):
        api.check_npu_driver(clients.cloud, wanted_driver,
                             {(t.record.get("spec") or {}).get("flavor") for t in targets if t.upgrade} - {None})
        if not params.get("allow_driver_upgrade"):
            names = [t.name for t in targets if t.upgrade]
            raise PreconditionError(
                "upgrading the NPU driver of %s to %s drains and restarts the node(s). Set "
                "allow_driver_upgrade=true to confirm, or use the modelarts.lite.rolling_driver_upgrade role for "
                "many nodes." % (", ".join(names), wanted_driver),
                details={"nodes": names, "driver_version": wanted_driver})

    if state == "absent" and targets:
        if not params.get("allow_delete"):
            raise PreconditionError(
                "state=absent removes %s from pool %s and releases the server(s); everything on them is lost. "
                "Set allow_delete=true to confirm." % (", ".join(t.name for t in targets), pool_id),
                details={"nodes": [t.name for t in targets]})
        leaving = {t.name for t in targets}
        remaining = [r for r in records if r["metadata"]["name"] not in leaving
                     and not is_leaving(r)]
        if not remaining:
            raise PreconditionError(
                "removing %s would leave pool %s with no node; a pool keeps at least one. Delete the pool with "
                "modelarts.lite.lite_pool state=absent instead." % (", ".join(sorted(leaving)), pool_id),
                details={"nodes": sorted(leaving)})

    draining = [t for t in targets if state in DRAINING_STATES or t.upgrade or action]
    if draining:
        pods = kdrain.pods_by_node(clients.kube, [t.kube_name for t in draining])
        pdbs = kdrain.list_pdbs(clients.kube)
        refusals = []
        for target in draining:
            target.drain_plan = kdrain.plan_drain(pods.get(target.kube_name, []), pdbs, params.get("force"),
                                                  params.get("delete_emptydir_data"))
            if target.drain_plan[kdrain.REFUSE]:
                refusals.append((target, target.drain_plan[kdrain.REFUSE]))
        if refusals:
            raise PreconditionError(
                "cannot drain: %s. Nothing was changed." % "; ".join(
                    kdrain.refusal_summary("%s (%s)" % (t.name, t.kube_name), refused) for t, refused in refusals),
                details={"refused": {t.name: [e["pod"] for e in refused] for t, refused in refusals}})


def eviction_record(target, entry):
    """One eviction as lite_node returns it, planned (check mode) or made: the same keys either way.
    ``blocked_now``: the pod's PDB allowed no disruption when the drain was planned."""
    return {"node": target.name, "kube_name": target.kube_name, "pod": entry["pod"], "reason": entry["reason"],
            "pdb": entry.get("pdb"), "blocked_now": bool(entry.get("pdb")) and entry.get("disruptions_allowed", 0) <= 0}


def planned_evictions(targets):
    return [eviction_record(target, entry) for target in targets
            for entry in (target.drain_plan or {}).get(kdrain.EVICT, [])]


def predict(target, params):
    """The node view as it will be after the plan (check mode and --diff)."""
    view = describe_node(target.record, target.kube_node)
    if target.delete:
        return {}
    labels = dict(view.get("labels") or {})
    for key, value in (target.labels_patch or {}).items():
        if value is None:
            labels.pop(key, None)
        else:
            labels[key] = value
    view["labels"] = labels
    if target.taints is not None:
        view["taints"] = [knodes.taint_view(t) for t in target.taints if not knodes.is_control_plane_taint(t)]
    if target.cordon:
        view.update(schedulable=False, cordoned_by=L.DEFAULT_OWNER)
    if target.uncordon:
        view.update(schedulable=True, cordoned_by=None, cordon_reason=None)
    if target.upgrade:
        view["driver_version"] = params["driver_version"]
    if target.ha:
        view["ha_redundant"] = params["ha_redundant"]
    return view


# ----------------------------------------------------------------------------------------------
# Execution
# ----------------------------------------------------------------------------------------------
def _reason(params, target):
    if target.upgrade:
        return "driver upgrade to %s" % params["driver_version"]
    if params.get("action"):
        return params["action"]
    return params.get("state") or "maintenance"


def _drain(clients, params, target, deadline_timeout):
    interval = min(params.get("poll_interval") or MAX_DRAIN_INTERVAL, MAX_DRAIN_INTERVAL)
    return kdrain.drain_node(clients.kube, target.kube_name, target.drain_plan, deadline_timeout, interval,
                             grace_period=params.get("grace_period"))


def _wait_healthy(clients, params, pool_id, target, deadline, expect_driver=None):
    """Poll (one ModelArts node GET-by-list and one Node GET per cycle) until the ModelArts node is
    idle and Available and the Kubernetes Node is Ready with its NPUs (and driver) back."""
    client = clients.cloud

    def fetch():
        record = api.get_node(client, pool_id, target.name)
        node = knodes.get_node(clients.kube, target.kube_name)
        return {"record": record, "node": node}

    def done(state):
        record = state["record"] or {}
        status = record.get("status") or {}
        driver = status.get("driver") or {}
        if status.get("phase") != "Available" or driver.get("phase") not in (None, "Running"):
            return False
        if expect_driver and driver.get("version") != expect_driver:
            return False
        return knodes.health(state["node"], expect_driver)[0]

    def failed(state):
        record = state["record"]
        if record is None:
            return "node %s disappeared from the pool" % target.name
        status = record.get("status") or {}
        if status.get("phase") == "Abnormal" or (status.get("driver") or {}).get("phase") == "Abnormal":
            return "node %s is Abnormal (%s); it stays cordoned" % (target.name, status.get("message") or "no message")
        return None

    state = wait_until(fetch, done, failed, timeout=deadline.remaining(), interval=client.poll_interval,
                       describe="node %s to be Ready with its NPUs%s" % (
                           target.name, " and driver %s" % expect_driver if expect_driver else ""),
                       sleep=time.sleep)
    return state["node"]


def _start_operation(clients, params, pool_id, target):
    client = clients.cloud
    if target.upgrade:
        result = api.batch_update_nodes(client, pool_id, [target.name],
                                        driver={"version": params["driver_version"], "updateStrategy": "idle"})
        if target.name in (result.get("failNodeNames") or []):
            raise OperationFailedError("ModelArts refused to upgrade the driver of node %s (it must be Available with "
                                       "its driver Running). The node stays cordoned." % target.name,
                                       last_state=result)
        return None
    if params["action"] == "reboot":
        return api.batch_reboot_nodes(client, pool_id, [target.name]).get("job_id")
    return api.batch_reset_nodes(client, pool_id, [target.name], RESET_ROLLING).get("job_id")


def _wait_job(clients, params, job_id, deadline, target):
    clients.cloud.wait_for(
        lambda: api.show_pool_job(clients.cloud, job_id),
        done=lambda job: job.get("phase") == "Success",
        failed=lambda job: "job %s is %s: %s" % (job_id, job.get("phase"), job.get("message") or "no message")
        if "Failed" in str(job.get("phase")) else None,
        timeout=deadline.remaining(),
        describe="%s of node %s (job %s)" % (params["action"], target.name, job_id))


def _wait_reboot_seen(clients, pool_id, target, boot_before, deadline):
    """batch-reboot answered without a job id (the SDK's {"nodeNames": [...]} form), and an answer
    is no proof that the reboot began: waiting for Ready right away could pass before the node
    goes down, and uncordon it early. Wait until the reboot shows: a new boot ID on the Node, the
    Node not Ready, or the ModelArts node out of Available (docs/api-contract.yml, batch_reboot_nodes)."""
    def fetch():
        return {"record": api.get_node(clients.cloud, pool_id, target.name),
                "node": knodes.get_node(clients.kube, target.kube_name)}

    def seen(state):
        booted = knodes.boot_id(state["node"])
        if boot_before and booted and booted != boot_before:
            return True
        phase = ((state["record"] or {}).get("status") or {}).get("phase")
        return not knodes.is_ready(state["node"]) or phase not in (None, "Available")

    def failed(state):
        return "node %s disappeared from the pool" % target.name if state["record"] is None else None

    wait_until(fetch, seen, failed, timeout=deadline.remaining(), interval=clients.cloud.poll_interval,
               describe="the reboot of node %s to begin (batch-reboot answered without a job id; the node "
                        "stays cordoned)" % target.name, sleep=time.sleep)


def _wait_gone(clients, params, pool_id, target, deadline):
    clients.cloud.wait_for(lambda: api.get_node(clients.cloud, pool_id, target.name), done=lambda r: r is None,
                           timeout=deadline.remaining(), describe="node %s to be removed" % target.name)


def _wait_all_gone(cloud, params, pool_id, names):
    """Wait (read-only) for nodes an earlier run already asked ModelArts to remove."""
    def present():
        return [r for r in api.list_nodes(cloud, pool_id)
                if r["metadata"]["name"] in names or api.private_ip(r) in names]
    cloud.wait_for(present, done=lambda records: not records, timeout=params["wait_timeout"],
                   describe="node(s) %s to be removed" % ", ".join(names))


def apply_target(clients, params, pool_id, target, report):
    kube = clients.kube
    node = target.kube_node
    patch = {}
    if target.labels_patch is not None:
        patch.setdefault("metadata", {})["labels"] = target.labels_patch
    if target.taints is not None:
        patch["spec"] = {"taints": target.taints}
    if patch:
        node = knodes.patch_node(kube, target.kube_name, patch)
    if target.ha:
        effect = params.get("ha_redundant_effect") if params["ha_redundant"] else None
        answer = api.batch_update_nodes(clients.cloud, pool_id, [target.name], action=target.ha,
                                        ha_redundant_effect=effect)
        if target.name in (answer.get("failNodeNames") or []):
            raise OperationFailedError("ModelArts refused %s on node %s." % (target.ha, target.name), last_state=answer)
    if target.cordon:
        node, _changed = knodes.cordon(kube, node, L.DEFAULT_OWNER, _reason(params, target))
    deadline = Deadline(params["wait_timeout"])
    if target.drain_plan is not None:
        drained = _drain(clients, params, target, params["drain_timeout"])
        evicted = set(drained["evicted"])
        report["evictions"].extend(eviction_record(target, entry) for entry in target.drain_plan[kdrain.EVICT]
                                   if entry["pod"] in evicted)
    if target.delete:
        api.batch_delete_nodes(clients.cloud, pool_id, [target.name])
        if params["wait"]:
            _wait_gone(clients, params, pool_id, target, deadline)
        return None
    if target.upgrade or params.get("action"):
        boot_before = knodes.boot_id(node)
        job_id = _start_operation(clients, params, pool_id, target)
        if not params["wait"]:
            report["in_progress"].append(target.name)
            return None   # still cordoned by us: a later run with state=schedulable lifts it
        if job_id:
            _wait_job(clients, params, job_id, deadline, target)
        elif not target.upgrade:  # a driver upgrade is confirmed by the new version in _wait_healthy
            _wait_reboot_seen(clients, pool_id, target, boot_before, deadline)
        node = _wait_healthy(clients, params, pool_id, target, deadline,
                             params["driver_version"] if target.upgrade else None)
    if target.uncordon:
        node, _changed = knodes.uncordon(kube, knodes.get_node(kube, target.kube_name),
                                         release_foreign=params.get("release_foreign_cordon")
                                         and params.get("state") == "schedulable")
    return node


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------
def ensure_node(clients, params, check_mode):
    validate_params(params)
    pool_id = clients.pool_id
    records = api.list_nodes(clients.cloud, pool_id)
    targets = resolve_targets(clients, params, pool_id, records)
    plan_targets(clients, params, pool_id, targets, records)

    before = [describe_node(t.record, t.kube_node) for t in targets]
    predicted = [predict(t, params) for t in targets]
    diff = {"before": {v["name"]: _diff_view(v) for v in before},
            "after": {t.name: _diff_view(p) for t, p in zip(targets, predicted) if p}}
    changed = any(t.changed(params) for t in targets)
    evictions = planned_evictions(targets)
    for target in targets:
        if params.get("state") == "schedulable" and knodes.is_cordoned(target.kube_node) and not target.uncordon:
            clients.warn("node %s was cordoned by somebody else (no %s annotation); it stays cordoned. Set "
                         "release_foreign_cordon=true to uncordon it anyway." % (target.name, L.CORDONED_BY))
    if not targets and params.get("node_selector"):
        clients.warn("node_selector %r matches no node of pool %s." % (params.get("node_selector"), pool_id))
    gone = already_absent(params, records)
    if gone and params["wait"] and not check_mode:
        _wait_all_gone(clients.cloud, params, pool_id, gone)
    gone_views = [{"name": name, "state": "absent"} for name in gone]

    if check_mode or not changed:
        return _result(changed, (predicted if check_mode else before) + gone_views, diff, evictions, params)

    report = {"evictions": [], "in_progress": []}
    finished = {t.name: apply_target(clients, params, pool_id, t, report) for t in targets}
    fresh = {r["metadata"]["name"]: r for r in api.list_nodes(clients.cloud, pool_id)}
    after = []
    for target in targets:
        if target.delete:
            after.append({"name": target.name, "kube_name": target.kube_name, "state": "absent",
                          "phase": (fresh.get(target.name) or {}).get("status", {}).get("phase")})
            continue
        node = finished[target.name] or knodes.get_node(clients.kube, target.kube_name)
        after.append(describe_node(fresh.get(target.name, target.record), node))
    result = _result(True, after + gone_views, diff, report["evictions"], params)
    if report["in_progress"]:
        result["in_progress"] = report["in_progress"]
    return result


def _result(changed, nodes, diff, evictions, params):
    result = {"changed": changed, "nodes": nodes, "diff": diff, "evictions": evictions}
    if params.get("nodes") and len(params["nodes"]) == 1:
        result["node"] = nodes[0] if nodes else {}
    return result


def node_info(clients, params, check_mode):
    """lite_node_info: one list of ModelArts nodes, one list of Nodes, at most one list of pods.

    The record is kept small (user labels only, pods on request): on 2,000 nodes every field is
    scrubbed for no_log values, encoded and decoded again by Ansible, which costs more than the lists."""
    pool_id = clients.pool_id
    selector = params.get("node_selector")
    # Without a node list to pick from, every pod is listed at once (what pods_by_node does for
    # many nodes anyway).
    all_pods = params.get("with_pods") and not params.get("nodes")
    # The lists are independent round trips (megabytes each on 2,000 nodes): fetched concurrently,
    # the task waits for the slowest one instead of their sum.
    kube = clients.kube
    with ThreadPoolExecutor(max_workers=3) as executor:
        records_future = executor.submit(api.list_nodes, clients.cloud, pool_id)
        kube_future = executor.submit(knodes.list_nodes, kube, selector)
        pods_future = executor.submit(kube.list_items, kdrain.PODS) if all_pods else None
    records = records_future.result()
    by_ip = {api.private_ip(r): r for r in records}
    kube_nodes = {n["metadata"]["name"]: n for n in kube_future.result()}
    if params.get("nodes"):
        chosen = api.nodes_by_name_or_ip(records, params["nodes"], pool_id)
    elif selector:
        chosen = [by_ip[name] for name in kube_nodes if name in by_ip]
    else:
        chosen = list(records)
    if params.get("node_pool"):
        node_pools = set(params["node_pool"])
        chosen = [r for r in chosen if node_pool_of(r, kube_nodes.get(api.private_ip(r))) in node_pools]
        empty = node_pools - {node_pool_of(r, kube_nodes.get(api.private_ip(r))) for r in chosen}
        if empty:
            clients.warn("node_pool %s matches no node of pool %s%s." % (
                ", ".join(sorted(empty)), pool_id, " that node_selector selects" if selector else ""))
    chosen.sort(key=lambda r: r["metadata"]["name"])
    pods = {}
    if pods_future is not None:
        for pod in pods_future.result():
            pods.setdefault((pod.get("spec") or {}).get("nodeName"), []).append(pod)
    elif params.get("with_pods") and chosen:
        pods = kdrain.pods_by_node(kube, [api.private_ip(r) for r in chosen])
    nodes = []
    for record in chosen:
        kube_node = kube_nodes.get(api.private_ip(record))
        view = describe_node(record, kube_node)
        view["driver_upgrade"] = knodes.driver_upgrade(kube_node) if kube_node is not None else None
        if params.get("with_pods"):
            node_pods = pods.get(api.private_ip(record), [])
            plan = kdrain.plan_drain(node_pods, None, params.get("force"), params.get("delete_emptydir_data"))
            view["pods"] = sorted(kdrain.pod_key(p) for p in node_pods
                                  if (p.get("status") or {}).get("phase") not in kdrain.FINISHED)
            view["drain_would_evict"] = [e["pod"] for e in plan[kdrain.EVICT]]
            view["drain_would_refuse"] = [{"pod": e["pod"], "reason": e["reason"]} for e in plan[kdrain.REFUSE]]
        if params.get("detail"):
            view["modelarts_node"] = record
            view["kube_node"] = kube_node
        nodes.append(view)
    return {"changed": False, "pool_id": pool_id, "nodes": nodes}
