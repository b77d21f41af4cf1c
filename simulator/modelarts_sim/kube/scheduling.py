"""The kubelet and the scheduler of the simulated cluster (a mixin of Cluster): bind an unbound pod
to a Ready, schedulable node it tolerates and fits, and start bound pods once their node is Ready."""
import bisect
import hashlib
from typing import Optional

from . import labels as L
from . import nodes as N
from .status import bad_request
from .store import clone, rfc3339
from .podfacts import is_active, npu_request, tolerates


class Scheduling:
    def new_pod_status(self) -> dict:
        return {"phase": "Pending", "conditions": [], "qosClass": "BestEffort"}

    def _bind(self, pod: dict, node: dict) -> None:
        now = rfc3339(self.clock())
        pod.setdefault("spec", {})["nodeName"] = node["metadata"]["name"]
        status = pod.setdefault("status", self.new_pod_status())
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        status["conditions"].append({"type": "PodScheduled", "status": "True", "lastTransitionTime": now})
        self.record_event(pod, "Scheduled", f'Successfully assigned {pod["metadata"]["namespace"]}/'
                          f'{pod["metadata"]["name"]} to {node["metadata"]["name"]}', component="default-scheduler")

    def _start(self, pod: dict) -> None:
        now = rfc3339(self.clock())
        status = pod.setdefault("status", {})
        self.pod_ip_counter += 1
        node_name = pod["spec"]["nodeName"]
        host_network = pod["spec"].get("hostNetwork")
        status.update({
            "phase": "Running", "hostIP": node_name, "startTime": now,
            "podIP": node_name if host_network else
            f"172.16.{(self.pod_ip_counter // 250) % 250}.{self.pod_ip_counter % 250 + 2}",
        })
        status["podIPs"] = [{"ip": status["podIP"]}]
        status["hostIPs"] = [{"ip": node_name}]
        scheduled = [c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"]
        status["conditions"] = scheduled + [{"type": kind, "status": "True", "lastTransitionTime": now}
                                            for kind in ("Initialized", "Ready", "ContainersReady")]
        status["containerStatuses"] = [{
            "name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": True, "started": True,
            "restartCount": 0, "state": {"running": {"startedAt": now}},
            "containerID": "containerd://" + hashlib.sha256(
                f'{pod["metadata"]["uid"]}{c.get("name")}'.encode()).hexdigest()}
            for c in pod["spec"].get("containers") or []]

    def _fits(self, pod: dict, node: dict, ignore_unschedulable: bool = False) -> bool:
        spec = pod.get("spec") or {}
        if not N.is_ready(node):
            return False
        if node["spec"].get("unschedulable") and not ignore_unschedulable:
            return False
        tolerations = spec.get("tolerations") or []
        for taint in node["spec"].get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
                if not (ignore_unschedulable and taint.get("key") == L.TAINT_UNSCHEDULABLE):
                    return False
        node_labels = node["metadata"].get("labels") or {}
        if any(node_labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
            return False
        wanted = npu_request(pod)
        if wanted:
            available = int((node["status"].get("allocatable") or {}).get(L.NPU_RESOURCE, "0"))
            used = sum(npu_request(p) for p in self.pods(node["metadata"]["name"]) if is_active(p))
            if used + wanted > available:
                return False
        return True

    def _schedule(self, pod: dict) -> bool:
        """Bind the pod to the least loaded node it fits (ties by name). Like kube-scheduler's
        unschedulable queue, a pod that fit nowhere is retried only after a Node changed or a pod
        went away, so a stuck pod does not cost a scan of every node on every pass."""
        key = (pod["metadata"].get("namespace"), pod["metadata"]["name"])
        epoch = (self.store.writes(self.kind("Node")), self.pods_removed)
        if self.unschedulable.get(key) == epoch:
            return False
        target = None
        for _load, name in self._load_order:
            node = self.store.find(self.kind("Node"), None, name)
            if node is not None and self._fits(pod, node):
                target = node
                break
        if target is None:
            self.unschedulable[key] = epoch
            return False
        self.unschedulable.pop(key, None)
        self._bind(pod, target)
        return True

    def _set_load(self, name: str, load: Optional[int]) -> None:
        """Move a Node in the scheduler's order, [(pods bound to it, name)] ascending (None:
        the Node is gone). Kept in step with every pod and Node write, never re-sorted."""
        old = self._loads.pop(name, None)
        if old is not None:
            del self._load_order[bisect.bisect_left(self._load_order, (old, name))]
        if load is not None:
            self._loads[name] = load
            bisect.insort(self._load_order, (load, name))

    def create_pod(self, namespace: str, pod: dict) -> dict:
        """Create a pod the way the API does: status reset to Pending, bound by the scheduler."""
        pod = clone(pod)
        pod.setdefault("spec", {})
        for key, default in (("restartPolicy", "Always"), ("terminationGracePeriodSeconds", 30),
                             ("dnsPolicy", "ClusterFirst"), ("schedulerName", "default-scheduler")):
            pod["spec"].setdefault(key, default)
        pod["status"] = self.new_pod_status()
        if not pod["spec"].get("containers"):
            raise bad_request("Pod spec.containers: Required value")
        created = self.store.create(self.kind("Pod"), namespace, pod)
        stored = self.store.find(self.kind("Pod"), namespace, created["metadata"]["name"])
        node_name = stored["spec"].get("nodeName")
        node = self.store.find(self.kind("Node"), None, node_name) if node_name else None
        changed = False
        if node is not None:
            self._bind(stored, node)
            changed = True
        elif not node_name:
            changed = self._schedule(stored)
        if changed:
            return self.store.save(self.kind("Pod"), stored)
        return created

    def start_pending_pods(self) -> None:
        """Seeding: every bound Pending pod on a Ready node starts now."""
        for pod in self.pods():
            node_name = (pod.get("spec") or {}).get("nodeName")
            node = self.store.find(self.kind("Node"), None, node_name) if node_name else None
            if node is not None and N.is_ready(node) and is_active(pod) \
                    and (pod.get("status") or {}).get("phase") == "Pending":
                self._start(pod)
                self.store.commit(self.kind("Pod"), pod)
