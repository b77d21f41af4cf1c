"""Kubernetes Node objects built from ModelArts node records (ModelArts API §6.1 shape).

CCE names a node by its private IP, so the Node name is `status.privateIp`. Readiness and NPU
allocatable are driven by the cluster (see cluster.py); these helpers only shape the object.
"""
import re
import uuid
from typing import Dict, List, Optional

from . import labels as L
from .store import rfc3339

KUBELET_VERSION = "v1.31.6-r0-31.0.3"
CONTAINER_RUNTIME = "containerd://1.7.21"
# ascend-facts.md §2.4: node OS images and their kernels on Lite Cluster nodes.
OS_IMAGES = {
    "hce": ("Huawei Cloud EulerOS 2.0 (aarch64)", "5.10.0-60.18.0.50.r865_35.hce2.aarch64"),
    "euler": ("EulerOS 2.0 (SP10)", "4.19.90-vhulk2211.3.0.h1543.eulerosv2r10.aarch64"),
}
DEFAULT_CPU = "192"
DEFAULT_MEMORY = "1583098132Ki"
DEFAULT_PODS = "110"


def node_name(record: dict) -> str:
    name = (record.get("status") or {}).get("privateIp")
    if not name:
        raise ValueError(f'ModelArts node {record.get("metadata", {}).get("name")!r} has no status.privateIp')
    return name


def flavor_of(record: dict) -> str:
    return (record.get("spec") or {}).get("flavor", "")


def npu_count(record: dict) -> int:
    """NPUs the device plugin would advertise: the record's NPU resource, else the flavor's count."""
    for key, value in ((record.get("status") or {}).get("resources") or {}).items():
        if key.startswith("huawei.com/ascend"):
            return int(str(value))
    flavor = flavor_of(record)
    match = re.search(r"\.(\d+)snt9", flavor)
    if not match:
        return 0
    # Snt9b23 (A3) nodes expose 16 NPU units: 8 cards of 2 dies each (ascend-facts.md §2.5).
    return int(match.group(1)) * (2 if "snt9b23" in flavor else 1)


def chip_name(record: dict) -> str:
    flavor = flavor_of(record)
    if "snt9b23" in flavor:
        return "Ascend910"
    match = re.search(r"snt9b(\d)", flavor)
    return f"910B{match.group(1)}" if match else "910B3"


def driver_version(record: dict) -> str:
    return ((record.get("status") or {}).get("driver") or {}).get("version") or ""


def node_labels(record: dict, node_pool: Optional[dict] = None) -> Dict[str, str]:
    name = node_name(record)
    labels = {key: str(value) for key, value in ((record.get("metadata") or {}).get("labels") or {}).items()
              if key.startswith(L.MODELARTS_LABEL_PREFIXES)}
    labels.update({
        L.HOSTNAME: name,
        L.ARCH: "arm64" if ".arm." in flavor_of(record) or "snt9" in flavor_of(record) else "amd64",
        L.OS: "linux",
        L.INSTANCE_TYPE: flavor_of(record),
    })
    zone = (record.get("status") or {}).get("az")
    if zone:
        labels[L.ZONE] = zone
    if npu_count(record):
        labels[L.ACCELERATOR] = L.ACCELERATOR_VALUE
        labels[L.NPU_CHIP_NAME] = chip_name(record)
    if driver_version(record):
        labels[L.DRIVER_VERSION] = driver_version(record)
    labels.update({k: str(v) for k, v in ((node_pool or {}).get("labels") or {}).items()})
    return labels


def node_pool_taints(node_pool: Optional[dict], now: float) -> List[dict]:
    taints = []
    for taint in (node_pool or {}).get("taints") or []:
        item = {"key": taint["key"], "effect": taint["effect"], "timeAdded": rfc3339(now)}
        if taint.get("value"):
            item["value"] = taint["value"]
        taints.append(item)
    return taints


def _os_image(record: dict):
    os_name = (((record.get("spec") or {}).get("os") or {}).get("name") or "").lower()
    return OS_IMAGES["euler" if "euler" in os_name else "hce"]


def ready_condition(ready: bool, now: float, reason: str = "", message: str = "") -> dict:
    return {
        "type": "Ready", "status": "True" if ready else "False",
        "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(now),
        "reason": reason or ("KubeletReady" if ready else "KubeletNotReady"),
        "message": message or ("kubelet is posting ready status" if ready
                               else "container runtime network not ready: NetworkReady=false"),
    }


def boot_id(name: str, boots: int) -> str:
    """The kubelet's boot ID: a UUID that is new on every boot of the machine."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "%s.boot-%d" % (name, boots)))


def set_booted(node: dict, boots: int) -> None:
    """The machine booted again (driver upgrades, reboots and resets all reboot): a new boot ID."""
    node["status"]["nodeInfo"]["bootID"] = boot_id(node["metadata"]["name"], boots)


def new_node(record: dict, node_pool: Optional[dict], now: float) -> dict:
    """A NotReady Node for a ModelArts node that just joined the cluster."""
    name = node_name(record)
    resources = (record.get("status") or {}).get("resources") or {}
    capacity = {
        "cpu": str(resources.get("cpu", DEFAULT_CPU)),
        "memory": str(resources.get("memory", DEFAULT_MEMORY)),
        "pods": DEFAULT_PODS,
        "ephemeral-storage": "1055762868Ki",
    }
    npus = npu_count(record)
    if npus:
        capacity[L.NPU_RESOURCE] = str(npus)
    os_image, kernel = _os_image(record)
    pressure = [{"type": kind, "status": "False", "lastHeartbeatTime": rfc3339(now),
                 "lastTransitionTime": rfc3339(now), "reason": f"KubeletHas{reason}", "message": message}
                for kind, reason, message in (
                    ("MemoryPressure", "SufficientMemory", "kubelet has sufficient memory available"),
                    ("DiskPressure", "NoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "SufficientPID", "kubelet has sufficient PID available"))]
    instance_id = ((record.get("metadata") or {}).get("labels") or {}).get(L.UNDERLYING_INSTANCE_ID, "")
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": node_labels(record, node_pool),
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                     "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": {"providerID": instance_id, "taints": node_pool_taints(node_pool, now)},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": pressure + [ready_condition(False, now)],
            "addresses": [{"type": "InternalIP", "address": name}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": instance_id.replace("-", "")[:32], "systemUUID": instance_id.upper(),
                "bootID": boot_id(name, 0), "kernelVersion": kernel, "osImage": os_image,
                "containerRuntimeVersion": CONTAINER_RUNTIME, "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION, "operatingSystem": "linux",
                "architecture": "arm64",
            },
        },
    }


def is_ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def set_ready(node: dict, ready: bool, now: float, reason: str = "", message: str = "") -> bool:
    """Set the Ready condition; True when it changed."""
    conditions = node.setdefault("status", {}).setdefault("conditions", [])
    for index, condition in enumerate(conditions):
        if condition.get("type") == "Ready":
            if (condition.get("status") == "True") == ready:
                condition["lastHeartbeatTime"] = rfc3339(now)
                return False
            conditions[index] = ready_condition(ready, now, reason, message)
            return True
    conditions.append(ready_condition(ready, now, reason, message))
    return True


def set_npu_allocatable(node: dict, count: Optional[int]) -> None:
    """count None restores allocatable to capacity (device plugin healthy again)."""
    status = node.setdefault("status", {})
    capacity = status.get("capacity") or {}
    if L.NPU_RESOURCE not in capacity:
        return
    value = capacity[L.NPU_RESOURCE] if count is None else str(count)
    status.setdefault("allocatable", {})[L.NPU_RESOURCE] = value


def from_node_info(info: dict):
    """(record, node_pool) from the world's plain node description (cloud.node_info): the
    ModelArts v2 record shape the builders above read, and the node pool's labels and taints."""
    resources = {"cpu": info.get("cpu", DEFAULT_CPU), "memory": info.get("memory", DEFAULT_MEMORY)}
    resources.update({k: str(v) for k, v in (info.get("npu") or {}).items()})
    record = {
        "metadata": {"name": info["name"], "labels": dict(info.get("labels") or {})},
        "spec": {"flavor": info.get("flavor", ""), "os": {"name": info.get("os", "HCE 2.0")}},
        "status": {"privateIp": info["private_ip"], "az": info.get("az"), "phase": info.get("phase"),
                   "resources": resources,
                   "driver": {"version": info.get("driver_version", ""), "phase": info.get("driver_phase")}},
    }
    node_pool = {"labels": dict(info.get("labels") or {}), "taints": list(info.get("taints") or [])}
    return record, node_pool


def info_from_record(record: dict, node_pool: Optional[dict] = None, activity: Optional[str] = None) -> dict:
    """The plain node description (cloud.node_info shape) from a ModelArts v2 Node record."""
    status = record.get("status") or {}
    resources = status.get("resources") or {}
    labels = dict((record.get("metadata") or {}).get("labels") or {})
    labels.update((node_pool or {}).get("labels") or {})
    return {
        "name": (record.get("metadata") or {}).get("name", ""), "private_ip": node_name(record),
        "phase": status.get("phase"), "activity": activity,
        "driver_version": (status.get("driver") or {}).get("version", ""),
        "driver_phase": (status.get("driver") or {}).get("phase"),
        "flavor": flavor_of(record), "az": status.get("az"), "labels": labels,
        "taints": list((node_pool or {}).get("taints") or status.get("taints") or []),
        "npu": {L.NPU_RESOURCE: npu_count(record)} if npu_count(record) else {},
        "cpu": resources.get("cpu", DEFAULT_CPU), "memory": resources.get("memory", DEFAULT_MEMORY),
    }
