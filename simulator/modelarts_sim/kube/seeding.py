"""Seed a cluster with the workloads node maintenance meets, already running.

spec (every key optional):
{
  "ready_nodes": true,                 # default true: Nodes still joining turn Ready now
  "device_plugin": true,               # DaemonSet kube-system/huawei-npu-device-plugin on NPU nodes
  "namespaces": ["training"],
  "deployments": [{"name": "web", "namespace": "default", "replicas": 3, "npus": 0,
                   "pdb": {"minAvailable": 2} | {"maxUnavailable": "50%"} | "blocking" | null,
                   "empty_dir": false, "node_selector": {}, "tolerations": [], "grace_seconds": 30}],
  "daemonsets": [{"name": "log-agent", "namespace": "kube-system", "node_selector": {}}],
  "pods": [{"name": "debug", "namespace": "default", "node": "<node name>", "empty_dir": true, "npus": 0}],
  "pdbs": [{"name": "p", "namespace": "default", "selector": {"matchLabels": {...}}, "minAvailable": 1}],
  "never_ready_nodes": ["<node name>"], # fault: these nodes never report Ready (again)
  "super_nodes": [{"id": "spod-0", "batch_uid": "b-0", "nodes": [...]}],   # see gang.py
  "gang_jobs": [{"name": "llm", "namespace": "training", "nodes": [...], "npus": 8,
                 "checkpoint_seconds": 1800, "work_seconds": null, "elapsed_seconds": 0}]
}
"blocking" is a PDB with minAvailable = replicas: it never allows a disruption.
"""
from typing import List

from . import gang
from . import labels as L
from .cluster import Cluster

PAUSE_IMAGE = "swr.cn-north-4.myhuaweicloud.com/cce/pause:3.9"


def _container(name: str, npus: int, empty_dir: bool) -> dict:
    container = {"name": name, "image": PAUSE_IMAGE, "imagePullPolicy": "IfNotPresent",
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}
    if npus:
        container["resources"]["requests"][L.NPU_RESOURCE] = str(npus)
        container["resources"]["limits"] = {L.NPU_RESOURCE: str(npus)}
    if empty_dir:
        container["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    return container


def _pod_spec(item: dict, name: str) -> dict:
    spec = {"containers": [_container(name, int(item.get("npus", 0)), bool(item.get("empty_dir")))],
            "terminationGracePeriodSeconds": int(item.get("grace_seconds", 30))}
    if item.get("empty_dir"):
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    if item.get("node_selector"):
        spec["nodeSelector"] = dict(item["node_selector"])
    if item.get("tolerations"):
        spec["tolerations"] = list(item["tolerations"])
    return spec


def _pdb(cluster: Cluster, name: str, namespace: str, selector: dict, budget: dict) -> None:
    spec = {"selector": selector}
    spec.update({k: v for k, v in budget.items()
                 if k in ("minAvailable", "maxUnavailable", "unhealthyPodEvictionPolicy")})
    cluster.store.create(cluster.kind("PodDisruptionBudget"), namespace, {"metadata": {"name": name}, "spec": spec})


def seed_workloads(cluster: Cluster, spec: dict) -> dict:
    created: dict = {"deployments": [], "daemonsets": [], "pods": [], "pdbs": [], "gang_jobs": []}

    def resolve(name):
        return cluster.modelarts_names.get(name, name)

    try:
        jobs = gang.check_seed(cluster, spec, resolve)     # refused before anything is written
    except gang.GangError as exc:
        raise ValueError(str(exc)) from exc
    for name in spec.get("never_ready_nodes") or []:
        cluster.set_never_ready(name, True)
    if spec.get("ready_nodes", True):
        for name, state in cluster.node_state.items():
            if not state.get("operation") and not state.get("never_ready") and state.get("ready_at") is not None:
                state["ready_at"] = cluster.clock()
        cluster.wake()
        cluster.advance()
    for namespace in spec.get("namespaces") or []:
        cluster.ensure_namespace(namespace)
    daemonsets: List[dict] = list(spec.get("daemonsets") or [])
    if spec.get("device_plugin", True):
        # Device plugins tolerate every taint so NPUs are advertised on tainted node pools too.
        daemonsets.append({"name": L.DEVICE_PLUGIN_NAME, "namespace": "kube-system",
                           "node_selector": {L.ACCELERATOR: L.ACCELERATOR_VALUE},
                           "tolerations": [{"operator": "Exists"}]})
    for item in daemonsets:
        namespace = item.get("namespace", "kube-system")
        cluster.ensure_namespace(namespace)
        labels = {"app": item["name"]}
        cluster.store.create(cluster.kind("DaemonSet"), namespace, {
            "metadata": {"name": item["name"], "labels": labels},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": _pod_spec(item, item["name"])}}})
        created["daemonsets"].append(f'{namespace}/{item["name"]}')
    for item in spec.get("deployments") or []:
        namespace = item.get("namespace", "default")
        cluster.ensure_namespace(namespace)
        labels = {"app": item["name"]}
        replicas = int(item.get("replicas", 1))
        cluster.store.create(cluster.kind("Deployment"), namespace, {
            "metadata": {"name": item["name"], "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": _pod_spec(item, item["name"])}}})
        created["deployments"].append(f'{namespace}/{item["name"]}')
        budget = item.get("pdb")
        if budget == "blocking":
            budget = {"minAvailable": replicas}
        if budget:
            _pdb(cluster, f'{item["name"]}-pdb', namespace, {"matchLabels": labels}, budget)
            created["pdbs"].append(f'{namespace}/{item["name"]}-pdb')
    for item in spec.get("pdbs") or []:
        namespace = item.get("namespace", "default")
        _pdb(cluster, item["name"], namespace, item.get("selector") or {}, item)
        created["pdbs"].append(f'{namespace}/{item["name"]}')
    cluster.advance()
    for item in spec.get("pods") or []:
        namespace = item.get("namespace", "default")
        cluster.ensure_namespace(namespace)
        pod = {"metadata": {"name": item["name"], "labels": dict(item.get("labels") or {"app": item["name"]})},
               "spec": _pod_spec(item, item["name"])}
        if item.get("node"):
            pod["spec"]["nodeName"] = item["node"]
        cluster.create_pod(namespace, pod)
        created["pods"].append(f'{namespace}/{item["name"]}')
    gang.label_super_nodes(cluster, spec.get("super_nodes") or [], resolve)
    for job in jobs:
        cluster.gangs.add(job)
    created["gang_jobs"] = [f'{job["namespace"]}/{job["name"]}' for job in jobs]
    cluster.advance()                 # gang jobs create their pods
    cluster.start_pending_pods()
    cluster.advance()                 # ... and run once all of them are Running
    return created
