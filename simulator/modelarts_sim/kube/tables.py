"""Server-side printing (`meta.k8s.io/v1 Table`), which `kubectl get` asks for with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`. Columns follow the upstream printers
(pkg/printers/internalversion) for the kinds node maintenance looks at; other kinds get Name/Age.
"""
from typing import Callable, Dict, List, Optional, Tuple

from . import nodes as N
from .store import parse_rfc3339

TABLE_MEDIA = "application/json;as=Table;v=v1;g=meta.k8s.io"

Column = Tuple[str, str, int, str]      # name, type, priority, description


def wants_table(accept: Optional[str]) -> bool:
    if not accept:
        return False
    first = accept.split(",")[0].replace(" ", "")
    return "as=Table" in first and "g=meta.k8s.io" in first


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def _age(obj: dict, now: float) -> str:
    created = obj["metadata"].get("creationTimestamp")
    return human_duration(now - parse_rfc3339(created)) if created else "<unknown>"


def _node_row(node: dict, now: float) -> list:
    status = node.get("status") or {}
    state = "Ready" if N.is_ready(node) else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = node["metadata"].get("labels") or {}
    roles = ",".join(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))) or "<none>"
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [node["metadata"]["name"], state, roles, _age(node, now), info.get("kubeletVersion", ""),
            addresses.get("InternalIP", "<none>"), addresses.get("ExternalIP", "<none>"), info.get("osImage", ""),
            info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]


def _pod_row(pod: dict, now: float) -> list:
    status = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    ready = sum(1 for c in status.get("containerStatuses") or [] if c.get("ready"))
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
    phase = status.get("reason") or status.get("phase", "")
    if pod["metadata"].get("deletionTimestamp"):
        phase = "Terminating"
    return [pod["metadata"]["name"], f"{ready}/{len(containers)}", phase, restarts, _age(pod, now),
            status.get("podIP") or "<none>", (pod.get("spec") or {}).get("nodeName") or "<none>", "<none>", "<none>"]


def _deployment_row(obj: dict, now: float) -> list:
    status = obj.get("status") or {}
    return [obj["metadata"]["name"], f'{status.get("readyReplicas", 0)}/{(obj.get("spec") or {}).get("replicas", 1)}',
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), _age(obj, now)]


def _daemonset_row(obj: dict, now: float) -> list:
    status = obj.get("status") or {}
    selector = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeSelector") or {}
    return [obj["metadata"]["name"], status.get("desiredNumberScheduled", 0), status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0), status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0),
            ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>", _age(obj, now)]


def _pdb_row(obj: dict, now: float) -> list:
    spec = obj.get("spec") or {}
    return [obj["metadata"]["name"], str(spec["minAvailable"]) if "minAvailable" in spec else "N/A",
            str(spec["maxUnavailable"]) if "maxUnavailable" in spec else "N/A",
            (obj.get("status") or {}).get("disruptionsAllowed", 0), _age(obj, now)]


def _namespace_row(obj: dict, now: float) -> list:
    return [obj["metadata"]["name"], (obj.get("status") or {}).get("phase", "Active"), _age(obj, now)]


def _default_row(obj: dict, now: float) -> list:
    return [obj["metadata"]["name"], _age(obj, now)]


NAME: Column = ("Name", "string", 0, "Name must be unique within a namespace.")
AGE: Column = ("Age", "string", 0,
               "CreationTimestamp is a timestamp representing the server time when this object was created.")
PRINTERS: Dict[str, Tuple[List[Column], Callable[[dict, float], list]]] = {
    "Node": ([NAME, ("Status", "string", 0, "The status of the node"),
              ("Roles", "string", 0, "The roles of the node"), AGE,
              ("Version", "string", 0, "Kubelet Version reported by the node."),
              ("Internal-IP", "string", 1, "List of internal IPs for the node."),
              ("External-IP", "string", 1, "List of external IPs for the node."),
              ("OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release."),
              ("Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r'."),
              ("Container-Runtime", "string", 1, "Container Runtime Version reported by the node.")], _node_row),
    "Pod": ([NAME, ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
             ("Status", "string", 0, "The aggregate status of the containers in this pod."),
             ("Restarts", "string", 0, "The number of times the containers in this pod have been restarted."), AGE,
             ("IP", "string", 1, "IP address allocated to the pod."),
             ("Node", "string", 1, "Name of the Node this pod is running on."),
             ("Nominated Node", "string", 1, "Name of the node this pod is nominated to run on."),
             ("Readiness Gates", "string", 1, "Pod readiness gates.")], _pod_row),
    "Deployment": ([NAME, ("Ready", "string", 0, "Number of the pod with ready state"),
                    ("Up-to-date", "string", 0, "Total number of non-terminated pods targeted by this deployment "
                                                "that have the desired template spec."),
                    ("Available", "string", 0, "Total number of available pods (ready for at least "
                                               "minReadySeconds) targeted by this deployment."), AGE],
                   _deployment_row),
    "DaemonSet": ([NAME, ("Desired", "integer", 0, "The total number of nodes that should be running the daemon pod."),
                   ("Current", "integer", 0, "The number of nodes that are running at least 1 daemon pod."),
                   ("Ready", "integer", 0, "The number of nodes that should be running the daemon pod and have one "
                                           "or more of the daemon pod running and ready."),
                   ("Up-to-date", "integer", 0, "The total number of nodes that are running updated daemon pod"),
                   ("Available", "integer", 0, "The number of nodes that should be running the daemon pod and have "
                                               "one or more of the daemon pod running and available."),
                   ("Node Selector", "string", 0, "NodeSelector is a selector which must be true for the pod to fit "
                                                  "on a node."), AGE], _daemonset_row),
    "PodDisruptionBudget": ([NAME, ("Min Available", "string", 0, "The minimum number of pods that must be "
                                                                  "available."),
                             ("Max Unavailable", "string", 0, "The maximum number of pods that may be unavailable."),
                             ("Allowed Disruptions", "integer", 0, "Calculated number of pods that may be disrupted "
                                                                   "at this time."), AGE], _pdb_row),
    "Namespace": ([NAME, ("Status", "string", 0, "The status of the namespace"), AGE], _namespace_row),
}


def _row_object(obj: dict, include_object: Optional[str]) -> Optional[dict]:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table_for(kind: str, items: List[dict], resource_version: str, include_object: Optional[str],
              now: float) -> dict:
    columns, row_of = PRINTERS.get(kind, ([NAME, AGE], _default_row))
    rows = []
    for obj in items:
        row = {"cells": row_of(obj, now)}
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [{"name": name, "type": kind_, "format": "name" if name == "Name" else "",
                               "description": description, "priority": priority}
                              for name, kind_, priority, description in columns],
        "rows": rows,
    }
