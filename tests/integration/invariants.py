"""Safety invariants of a rolling driver upgrade, read from the simulator's own records.

Every check replays the simulator's history (`/_sim/history`) or audit log, or reads the cluster
itself, never the role's output alone, so a run that reports success while breaking a rule fails.
`check_all` runs the shared set after each fault-matrix row; `check_stopped` adds what a run stopped
mid-way must leave (the matrix's STOP_ROWS).
"""
import json
import subprocess

OWNER_PREFIX = "rolling-driver-upgrade/"
CORDON_OWNER = "modelarts.lite/cordoned-by"
DRIVER_LABEL = "os.modelarts.node/npu.firmware.driver.version"
MUTATING = ("POST", "PUT", "PATCH", "DELETE")
QUEUED_TAINT = "modelarts.lite/driver-upgrade-queued"


def kubectl_json(sim, pool_id, *args):
    proc = subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool_id, *args,
                           "-o", "json"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def kube_nodes(sim, pool_id):
    return {n["metadata"]["name"]: n for n in kubectl_json(sim, pool_id, "get", "nodes")["items"]}


def k8s_history(sim, pool_id, since=0):
    return [e for e in sim.history(since) if e.get("kind") == "k8s" and e.get("pool_id") == pool_id]


def most_nodes_out(sim, pool_id, since=0, initially_out=None):
    """Replay readiness and schedulability: the most nodes cordoned or NotReady at once, starting
    from `initially_out` (out_at_start() taken before the run)."""
    start = initially_out or {}
    cordoned, not_ready = set(start.get("cordoned", ())), set(start.get("not_ready", ()))
    worst = len(cordoned | not_ready)
    for entry in k8s_history(sim, pool_id, since):
        event, node = entry.get("event"), entry.get("node")
        if event == "node_unschedulable":
            cordoned.add(node)
        elif event == "node_schedulable":
            cordoned.discard(node)
        elif event == "node_not_ready":
            not_ready.add(node)
        elif event == "node_ready":
            not_ready.discard(node)
        worst = max(worst, len(cordoned | not_ready))
    return worst


def out_at_start(sim, pool_id):
    """{"cordoned": [...], "not_ready": [...]}: nodes already out before a run (they use up the budget too)."""
    nodes = kube_nodes(sim, pool_id)
    return {"cordoned": sorted(name for name, node in nodes.items() if node["spec"].get("unschedulable")),
            "not_ready": sorted(name for name, node in nodes.items()
                                if not any(c["type"] == "Ready" and c["status"] == "True"
                                           for c in node.get("status", {}).get("conditions", [])))}


def pdb_breaches(sim, pool_id, guarded_prefixes, since=0):
    """Pods of PDB-guarded workloads that left other than through an accepted (PDB-checked) eviction."""
    history = k8s_history(sim, pool_id, since)
    evicted = {e["pod"] for e in history if e.get("event") == "eviction"}
    return [e for e in history
            if e.get("event") in ("pod_terminating", "pod_deleted")
            and str(e.get("pod", "")).startswith(tuple(guarded_prefixes))
            and e.get("reason") != "evicted" and e["pod"] not in evicted]


def driver_changes(sim, pool_id, since=0):
    """{ModelArts node: [versions it was moved to]} from the ModelArts history."""
    changes = {}
    for entry in sim.history(since):
        if entry.get("kind") == "node" and entry.get("pool_id") == pool_id and "driver_version" in entry \
                and entry.get("previous_driver_version") not in (None, entry["driver_version"]):
            changes.setdefault(entry["node"], []).append(entry["driver_version"])
    return changes


def our_cordons(sim, pool_id):
    """{Kubernetes node: annotations} of the nodes a rollout cordoned and left cordoned."""
    found = {}
    for name, node in kube_nodes(sim, pool_id).items():
        annotations = node["metadata"].get("annotations") or {}
        if node["spec"].get("unschedulable") and str(annotations.get(CORDON_OWNER, "")).startswith(OWNER_PREFIX):
            found[name] = annotations
    return found


def unreported_cordons(sim, pool_id, report):
    """Nodes we left cordoned that the report does not list as failed, parked (or in flight) with a reason."""
    reported = {n.get("kube_name") for n in (report or {}).get("nodes", [])
                if n.get("result") in ("failed", "parked", "cordoned", "upgrading", "verifying", "smoke")
                and n.get("reason")}
    return sorted(set(our_cordons(sim, pool_id)) - reported)


def mutations(entries):
    return [e for e in entries if e.get("method") in MUTATING]


def check_all(sim, pool, since, max_unavailable, report, initially_out=None, guarded_prefixes=("default/web-",)):
    """The shared invariants; returns a list of broken ones (empty when all hold)."""
    broken = []
    worst = most_nodes_out(sim, pool["id"], since, initially_out)
    if worst > max_unavailable:
        broken.append("%d nodes were cordoned or NotReady at once, max_unavailable is %d" % (worst, max_unavailable))
    breaches = pdb_breaches(sim, pool["id"], guarded_prefixes, since)
    if breaches:
        broken.append("PDB-guarded pods left without an accepted eviction: %s" % breaches[:3])
    unreported = unreported_cordons(sim, pool["id"], report)
    if unreported:
        broken.append("left cordoned by a rollout without a failure in the report: %s" % unreported)
    twice = {node: versions for node, versions in driver_changes(sim, pool["id"], since).items() if len(versions) > 1}
    if twice:
        broken.append("nodes upgraded more than once: %s" % twice)
    if (report or {}).get("job_aware"):
        restarts = gang_restarts(sim, pool["id"], since)
        many = {job: count for job, count in restarts.items() if count > 1}
        if many:
            broken.append("job-aware run interrupted gang jobs more than once: %s" % many)
        if (report or {}).get("job_interruptions", {}) != restarts:
            broken.append("the report's job interruptions %s are not what the jobs lived through %s"
                          % (report.get("job_interruptions"), restarts))
    held = queued_taints_left(sim, pool["id"], report)
    if held:
        broken.append("nodes left with %s though the run did not stop holding them: %s" % (QUEUED_TAINT, held))
    return broken


def gang_restarts(sim, pool_id, since=0):
    """{job: restarts} of the simulator's gang jobs (history events gang_restart) since `since`."""
    counts = {}
    for entry in k8s_history(sim, pool_id, since):
        if entry.get("event") == "gang_restart":
            counts[entry["job"]] = counts.get(entry["job"], 0) + 1
    return counts


def queued_taints_left(sim, pool_id, report):
    """Nodes carrying the queued taint that the report does not show in flight or failed."""
    out = {n.get("kube_name") for n in (report or {}).get("nodes", [])
           if n.get("result") in ("failed", "cordoned", "upgrading", "verifying", "smoke")}
    return sorted(name for name, node in kube_nodes(sim, pool_id).items()
                  if any(t.get("key") == QUEUED_TAINT for t in node["spec"].get("taints") or []) and name not in out)


LEASE_NAME = "modelarts-lite-driver-rollout-%s"


def lease_holder(sim, pool_id):
    """The holder of the pool's rollout Lease, or None when it is free (or gone)."""
    proc = subprocess.run(["kubectl", "--kubeconfig", sim.env["kubeconfig"], "--context", pool_id, "-n",
                           "kube-system", "get", "lease", LEASE_NAME % pool_id, "-o", "json"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    return (json.loads(proc.stdout).get("spec") or {}).get("holderIdentity") or None


def check_stopped(sim, pool, report):
    """The invariants of a run stopped mid-way (the fault matrix's STOP_ROWS), on top of check_all:
    it says `stopped`, every node in flight is parked with a reason, left cordoned and annotated
    `parked`, nothing else is left cordoned, and the Lease is free for the next run at once."""
    broken = []
    if (report or {}).get("status") != "stopped":
        broken.append("the run's status is %r, not 'stopped'" % (report or {}).get("status"))
    nodes = (report or {}).get("nodes", [])
    parked = [n for n in nodes if n.get("result") == "parked"]
    if not parked or not all(n.get("reason") for n in parked):
        broken.append("no node in flight was parked with a reason: %s" % [(n.get("kube_name"), n.get("result")) for n in nodes])
    left = our_cordons(sim, pool["id"])
    if sorted(left) != sorted(n["kube_name"] for n in parked):
        broken.append("left cordoned %s, parked in the report %s" % (sorted(left), [n["kube_name"] for n in parked]))
    phases = {name: json.loads(a.get("modelarts.lite/driver-upgrade") or "{}").get("phase") for name, a in left.items()}
    if any(phase != "parked" for phase in phases.values()):
        broken.append("cordoned nodes not annotated parked: %s" % phases)
    holder = lease_holder(sim, pool["id"])
    if holder is not None:
        broken.append("the Lease is still held by %s" % holder)
    return broken


def converged(sim, pool, target):
    """Every node runs the target in ModelArts and Kubernetes and none is left cordoned."""
    problems = []
    status, body, _headers = sim.request("GET", "/v2/{project_id}/pools/%s/nodes" % pool["id"])
    assert status == 200, body
    for item in body.get("items", []):
        driver = (item.get("status") or {}).get("driver") or {}
        if driver.get("version") != target or driver.get("phase") != "Running":
            problems.append("%s: driver %s %s" % (item["metadata"]["name"], driver.get("version"), driver.get("phase")))
    for name, node in kube_nodes(sim, pool["id"]).items():
        if node["spec"].get("unschedulable"):
            problems.append("%s still cordoned" % name)
        if (node["metadata"].get("labels") or {}).get(DRIVER_LABEL) != target:
            problems.append("%s: driver label %s" % (name, node["metadata"]["labels"].get(DRIVER_LABEL)))
    return problems
