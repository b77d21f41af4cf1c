"""Gang-scheduled training jobs (a Volcano vcjob with its PodGroup), reduced to what node
maintenance meets: a distributed job lives or dies as a whole.

A gang job runs one pod on each of its nodes (pinned by `kubernetes.io/hostname`, as a job bound
to one super node is). Its pods carry Volcano's labels (`volcano.sh/job-name`,
`scheduling.k8s.io/group-name`, `volcano.sh/task-index`) plus any labels the seed names, and a
controller reference to the `batch.volcano.sh` Job, so a drain evicts them like any managed pod.

* Gang start: the pods are created together, and only once every node of the job is Ready,
  schedulable and has the NPUs free; the job runs from the moment its last pod is Running.
* Interruption: when any pod of a running job goes (evicted, deleted, killed by a node operation),
  the job restarts as a whole: its other pods are deleted, and it loses the work done since its
  last checkpoint. Checkpoints are taken every `checkpoint_seconds` of work, so the loss is
  (work done mod checkpoint_seconds) x the job's NPUs. The job then waits for its whole gang again
  and resumes from the checkpoint.
* End: a job with `work_seconds` completes when that much work is done (its pods go, Succeeded);
  without it, the job runs until deleted.

Counts (restarts, lost NPU-seconds, each interruption with its time, pod and node) are read
through the admin API (GET /_sim/gangs) by tests and the bench. The job is simulator state, not a
stored object: the collection never reads vcjobs, only the pods' labels.

Seed (workloads key "gang_jobs"): [{"name": "llm-a", "namespace": "training", "nodes": [...],
"npus": 8, "checkpoint_seconds": 1800, "work_seconds": null, "elapsed_seconds": 0,
"labels": {"team": "nlp"}}]; "super_nodes": [{"id": "spod-0", "batch_uid": "b-0", "nodes": [...]}]
puts the super-node labels on those Nodes. Node names may be ModelArts node names or Node names.
"""
import math
from typing import Dict, List, Optional

from . import labels as L
from .store import clone, parse_rfc3339, random_suffix

VOLCANO_API_VERSION = "batch.volcano.sh/v1alpha1"
TASK_NAME = "worker"
DEFAULT_CHECKPOINT_SECONDS = 1800.0
RUNNING, WAITING, COMPLETED = "Running", "Waiting", "Completed"


class GangError(ValueError):
    pass


def _pod_name(job: dict, index: int) -> str:
    return f'{job["name"]}-{TASK_NAME}-{index}'


def _npus(job: dict) -> int:
    return job["npus"] * len(job["nodes"])


def new_job(spec: dict, resolve) -> dict:
    """The job's state from a seed entry; resolve(name) maps a ModelArts node name to its Node."""
    if not isinstance(spec, dict) or not spec.get("name"):
        raise GangError("each gang job needs a name")
    nodes = [resolve(n) for n in spec.get("nodes") or []]
    if not nodes or len(set(nodes)) != len(nodes):
        raise GangError(f'gang job {spec["name"]} needs a list of distinct nodes')
    checkpoint = float(spec.get("checkpoint_seconds", DEFAULT_CHECKPOINT_SECONDS))
    if checkpoint <= 0:
        raise GangError(f'gang job {spec["name"]}: checkpoint_seconds must be above 0')
    work = spec.get("work_seconds")
    return {"name": spec["name"], "namespace": spec.get("namespace", "default"), "uid": random_suffix(32),
            "nodes": nodes, "npus": int(spec.get("npus", 8)), "checkpoint_seconds": checkpoint,
            "work_seconds": None if work is None else float(work), "labels": dict(spec.get("labels") or {}),
            "progress": float(spec.get("elapsed_seconds", 0.0)), "running_since": None, "state": WAITING,
            "restarts": 0, "lost_npu_seconds": 0.0, "interruptions": [], "completed_at": None}


class GangJobs:
    """The gang jobs of one cluster, run by Cluster.advance() while any is not completed."""

    def __init__(self, state: Optional[dict] = None):
        self.jobs: Dict[str, dict] = clone((state or {}).get("jobs") or {})

    def to_state(self) -> dict:
        return {"jobs": clone(self.jobs)}

    @property
    def active(self) -> bool:
        return any(job["state"] != COMPLETED for job in self.jobs.values())

    def add(self, job: dict) -> None:
        key = f'{job["namespace"]}/{job["name"]}'
        if key in self.jobs:
            raise GangError(f"gang job {key} exists")
        self.jobs[key] = job

    def report(self, now: float) -> dict:
        jobs = []
        for key, job in sorted(self.jobs.items()):
            jobs.append({"job": key, "nodes": list(job["nodes"]), "npus": _npus(job), "state": job["state"],
                         "restarts": job["restarts"], "lost_npu_seconds": round(job["lost_npu_seconds"], 3),
                         "progress_seconds": round(_progress(job, now), 3), "completed_at": job["completed_at"],
                         "interruptions": clone(job["interruptions"])})
        multi = [j for j in jobs if len(j["nodes"]) > 1]
        return {"jobs": jobs, "totals": {
            "jobs": len(jobs), "restarts": sum(j["restarts"] for j in jobs),
            "max_restarts_multi_node": max((j["restarts"] for j in multi), default=0),
            "lost_npu_seconds": round(sum(j["lost_npu_seconds"] for j in jobs), 3)}}

    def run(self, cluster, now: float) -> None:
        for job in self.jobs.values():
            if job["state"] != COMPLETED:
                _run_job(cluster, job, now)


def _progress(job: dict, now: float) -> float:
    if job["running_since"] is None:
        return job["progress"]
    return job["progress"] + max(0.0, now - job["running_since"])


def _pods(cluster, job: dict) -> List[Optional[dict]]:
    return [cluster.store.find(cluster.kind("Pod"), job["namespace"], _pod_name(job, i))
            for i in range(len(job["nodes"]))]


def _gone_at(pod: Optional[dict], now: float) -> Optional[float]:
    """When the pod stopped serving its job: its deletion began, it left Running, or (already
    gone) now. None while it runs."""
    if pod is None:
        return now
    metadata = pod["metadata"]
    if metadata.get("deletionTimestamp"):
        return parse_rfc3339(metadata["deletionTimestamp"]) - metadata.get("deletionGracePeriodSeconds", 0)
    if (pod.get("status") or {}).get("phase") != "Running":
        return now
    return None


def _run_job(cluster, job: dict, now: float) -> None:
    pods = _pods(cluster, job)
    if job["running_since"] is not None:
        breaks = sorted((at, i) for i, at in ((i, _gone_at(p, now)) for i, p in enumerate(pods)) if at is not None)
        end = None if job["work_seconds"] is None else \
            job["running_since"] + max(0.0, job["work_seconds"] - job["progress"])
        if end is not None and end <= now and (not breaks or end <= breaks[0][0]):
            _complete(cluster, job, pods, end)
        elif breaks:
            _interrupt(cluster, job, pods, *breaks[0])
        return
    live = [p for p in pods if p is not None and not p["metadata"].get("deletionTimestamp")]
    if len(live) < len(pods):
        for pod in live:          # a gang member went before the job started: start the gang over
            cluster.delete_pod(job["namespace"], pod["metadata"]["name"], reason="gang restart")
        if any(p is not None for p in pods):
            return                # wait until the old pods are gone
    if all(p is None for p in pods):
        _start_gang(cluster, job)
    elif all((p.get("status") or {}).get("phase") == "Running" for p in pods):
        job["running_since"] = max(parse_rfc3339(p["status"]["startTime"]) for p in pods)
        job["state"] = RUNNING
        cluster.history("gang_running", job=f'{job["namespace"]}/{job["name"]}', progress=job["progress"])


def _template(job: dict, index: int) -> dict:
    labels = dict(job["labels"], **{
        L.VOLCANO_JOB_NAME: job["name"], L.POD_GROUP: job["name"], L.VOLCANO_TASK_INDEX: str(index)})
    requests = {"cpu": "1", "memory": "1Gi", L.NPU_RESOURCE: str(job["npus"])}
    owner = {"apiVersion": VOLCANO_API_VERSION, "kind": "Job", "name": job["name"], "uid": job["uid"],
             "controller": True, "blockOwnerDeletion": True}
    return {"metadata": {"name": _pod_name(job, index), "labels": labels, "ownerReferences": [owner]},
            "spec": {"nodeSelector": {L.HOSTNAME: job["nodes"][index]}, "schedulerName": "volcano",
                     "terminationGracePeriodSeconds": 30, "restartPolicy": "OnFailure",
                     "containers": [{"name": TASK_NAME, "image": "swr.cn-north-4.myhuaweicloud.com/train/llm:1",
                                     "resources": {"requests": requests,
                                                   "limits": {L.NPU_RESOURCE: str(job["npus"])}}}]}}


def _start_gang(cluster, job: dict) -> None:
    """Volcano's gang rule: every pod fits now, or none is created."""
    templates = [_template(job, i) for i in range(len(job["nodes"]))]
    for template, name in zip(templates, job["nodes"]):
        node = cluster.store.find(cluster.kind("Node"), None, name)
        if node is None or not cluster._fits(template, node):
            return
    cluster.ensure_namespace(job["namespace"])
    for template in templates:
        cluster.create_pod(job["namespace"], template)


def _interrupt(cluster, job: dict, pods: List[Optional[dict]], at: float, index: int) -> None:
    done = job["progress"] + max(0.0, at - job["running_since"])
    checkpoint = math.floor(done / job["checkpoint_seconds"]) * job["checkpoint_seconds"]
    lost = (done - checkpoint) * _npus(job)
    job.update(progress=checkpoint, running_since=None, state=WAITING, restarts=job["restarts"] + 1,
               lost_npu_seconds=job["lost_npu_seconds"] + lost)
    node = job["nodes"][index]
    job["interruptions"].append({"at": at, "pod": _pod_name(job, index), "node": node,
                                 "lost_npu_seconds": round(lost, 3)})
    cluster.history("gang_restart", job=f'{job["namespace"]}/{job["name"]}', node=node,
                    lost_npu_seconds=round(lost, 3), restarts=job["restarts"])
    for pod in pods:
        if pod is not None and not pod["metadata"].get("deletionTimestamp"):
            cluster.delete_pod(job["namespace"], pod["metadata"]["name"], reason="gang restart")


def _complete(cluster, job: dict, pods: List[Optional[dict]], end: float) -> None:
    job.update(progress=job["work_seconds"], running_since=None, state=COMPLETED, completed_at=end)
    cluster.history("gang_completed", job=f'{job["namespace"]}/{job["name"]}')
    for pod in pods:
        if pod is not None and not pod["metadata"].get("deletionTimestamp"):
            pod["status"]["phase"] = "Succeeded"
            cluster.store.commit(cluster.kind("Pod"), pod)
            cluster.delete_pod(job["namespace"], pod["metadata"]["name"], reason="gang job finished")


def check_seed(cluster, spec: dict, resolve) -> List[dict]:
    """The gang jobs of a seed, every entry and super node checked before anything is written."""
    for entry in spec.get("super_nodes") or []:
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("nodes"):
            raise GangError("each super node needs an id and its nodes")
        for name in entry["nodes"]:
            if cluster.store.find(cluster.kind("Node"), None, resolve(name)) is None:
                raise GangError(f"super node {entry['id']}: no Node {name}")
    jobs = [new_job(item, resolve) for item in spec.get("gang_jobs") or []]
    for job in jobs:
        key = f'{job["namespace"]}/{job["name"]}'
        missing = [n for n in job["nodes"] if cluster.store.find(cluster.kind("Node"), None, n) is None]
        if missing:
            raise GangError(f"gang job {key}: no Node {missing[0]}")
        if key in cluster.gangs.jobs or sum(1 for j in jobs if j["name"] == job["name"]
                                            and j["namespace"] == job["namespace"]) > 1:
            raise GangError(f"gang job {key} exists")
    return jobs


def label_super_nodes(cluster, entries: List[dict], resolve) -> None:
    """Put the super-node labels (spod.id, batch.uid) on the Nodes of each entry (checked first)."""
    for entry in entries:
        for name in entry["nodes"]:
            node = cluster.store.find(cluster.kind("Node"), None, resolve(name))
            node["metadata"].setdefault("labels", {}).update({
                L.SUPER_NODE_ID: str(entry["id"]), L.SUPER_NODE_BATCH: str(entry.get("batch_uid", entry["id"]))})
            cluster.store.commit(cluster.kind("Node"), node)
