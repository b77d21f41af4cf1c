"""The Job controller (batch/v1) of a simulated cluster, reduced to what stress tests need.

A Job creates pods from its template (up to `parallelism`, until `completions` succeeded). The
simulator runs no containers: a started pod of a Job "exits" `JOB_POD_RUN_SECONDS` simulated
seconds after it started, with exit code 0, unless its Node carries the annotation
`JOB_RESULT_ANNOTATION: "Failed"` (the knob tests use to make a node fail its stress test), then
with exit code 1. Failed pods count against `backoffLimit`; `activeDeadlineSeconds` ends the Job
with `DeadlineExceeded` (a pod stuck Pending on a busy or NotReady node, for example). The Job
then gets the `Complete` or `Failed` condition as the real controller sets it.

CronJobs are stored but not scheduled here: `kubectl create job --from=cronjob/...` (what an
on-demand run does) creates a Job, which this controller runs.
"""
from .store import parse_rfc3339, rfc3339

JOB_POD_RUN_SECONDS = 60.0
JOB_RESULT_ANNOTATION = "simulator.modelarts.lite/job-result"


def _finished(job):
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def _exit(cluster, pod, now):
    """A running pod of a Job whose work is done: Succeeded, or Failed when its node is marked."""
    node = cluster.store.find(cluster.kind("Node"), None, pod["spec"]["nodeName"])
    annotations = (node or {}).get("metadata", {}).get("annotations") or {}
    failed = node is None or annotations.get(JOB_RESULT_ANNOTATION) == "Failed"
    finished_at = rfc3339(now)
    status = pod["status"]
    status["phase"] = "Failed" if failed else "Succeeded"
    status["conditions"] = [dict(c, status="False", reason="PodCompleted", lastTransitionTime=finished_at)
                            if c.get("type") in ("Ready", "ContainersReady") else c
                            for c in status.get("conditions") or []]
    for container in status.get("containerStatuses") or []:
        started_at = ((container.get("state") or {}).get("running") or {}).get("startedAt", finished_at)
        container.update(ready=False, started=False, state={"terminated": {
            "exitCode": 1 if failed else 0, "reason": "Error" if failed else "Completed",
            "startedAt": started_at, "finishedAt": finished_at, "containerID": container.get("containerID")}})
    cluster.store.commit(cluster.kind("Pod"), pod)


def _condition(kind, reason, message, now):
    stamp = rfc3339(now)
    return {"type": kind, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": stamp, "lastTransitionTime": stamp}


def run_jobs(cluster, now):
    resource = cluster.registry.by_kind("batch", "Job")
    for job in list(cluster.store.iter(resource)):
        if job["metadata"].get("deletionTimestamp") or _finished(job):
            continue
        namespace = job["metadata"]["namespace"]
        spec = job.get("spec") or {}
        completions = spec.get("completions") or 1
        parallelism = spec.get("parallelism", 1)
        backoff_limit = spec.get("backoffLimit", 6)
        status = dict(job.get("status") or {})
        status.setdefault("startTime", rfc3339(now))
        for pod in cluster._owned("Pod", job, namespace):
            pod_status = pod.get("status") or {}
            if pod_status.get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp") \
                    and now >= parse_rfc3339(pod_status["startTime"]) + JOB_POD_RUN_SECONDS:
                _exit(cluster, pod, now)
        pods = cluster._owned("Pod", job, namespace)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        active = [p for p in pods if (p.get("status") or {}).get("phase") in ("Pending", "Running")
                  and not p["metadata"].get("deletionTimestamp")]
        deadline = spec.get("activeDeadlineSeconds")
        ending = None
        if succeeded >= completions:
            ending = _condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", now)
        elif failed > backoff_limit:
            ending = _condition("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now)
        elif deadline is not None and now >= parse_rfc3339(status["startTime"]) + deadline:
            ending = _condition("Failed", "DeadlineExceeded", "Job was active longer than specified deadline", now)
        if ending is not None:
            for pod in active:
                cluster.delete_pod(namespace, pod["metadata"]["name"], reason="job finished")
            active = []
            status["conditions"] = list(status.get("conditions") or []) + [ending]
            if ending["type"] == "Complete":
                status["completionTime"] = rfc3339(now)
        else:
            wanted = min(parallelism, completions - succeeded) - len(active)
            for _ in range(max(0, wanted)):
                pod = cluster._template_pod(job, job["metadata"]["name"])
                pod["metadata"]["labels"] = dict(pod["metadata"]["labels"], **{
                    "batch.kubernetes.io/job-name": job["metadata"]["name"],
                    "job-name": job["metadata"]["name"],
                    "batch.kubernetes.io/controller-uid": job["metadata"]["uid"]})
                active.append(cluster.create_pod(namespace, pod))
        status.update(active=len(active), succeeded=succeeded, failed=failed)
        for field in ("active", "succeeded", "failed"):
            if not status[field]:
                status.pop(field)
        cluster._save_status(resource, job, status)
