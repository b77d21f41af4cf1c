"""The resource types the simulated API server knows, as discovery documents describe them."""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CLUSTER_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str            # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: Tuple[str, ...] = ()
    categories: Tuple[str, ...] = ()
    verbs: Tuple[str, ...] = ALL_VERBS
    subresources: Tuple[str, ...] = ()    # e.g. ("status",)
    # Field selectors the real server accepts for this kind beyond metadata.name/namespace.
    field_labels: Tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> Tuple[str, str]:
        return (self.group, self.plural)


@dataclass
class Registry:
    types: Dict[Tuple[str, str], ResourceType] = field(default_factory=dict)

    def register(self, resource: ResourceType) -> ResourceType:
        self.types[resource.key] = resource
        return resource

    def find(self, group: str, version: str, plural: str) -> Optional[ResourceType]:
        resource = self.types.get((group, plural))
        if resource is None or resource.version != version:
            return None
        return resource

    def by_kind(self, group: str, kind: str) -> Optional[ResourceType]:
        for resource in self.types.values():
            if resource.group == group and resource.kind == kind:
                return resource
        return None

    def group_versions(self) -> Dict[str, str]:
        """{group: version} of every named group (the core group excluded)."""
        return {r.group: r.version for r in self.types.values() if r.group}

    def in_group_version(self, group: str, version: str):
        return [r for r in self.types.values() if r.group == group and r.version == version]


def default_registry() -> Registry:
    registry = Registry()
    core = [
        ResourceType("", "v1", "nodes", "Node", False, "node", ("no",), verbs=ALL_VERBS,
                     subresources=("status",), field_labels=("spec.unschedulable",)),
        ResourceType("", "v1", "namespaces", "Namespace", False, "namespace", ("ns",), verbs=CLUSTER_VERBS,
                     subresources=("status",), field_labels=("status.phase",)),
        ResourceType("", "v1", "pods", "Pod", True, "pod", ("po",), ("all",), subresources=("status", "eviction"),
                     field_labels=("spec.nodeName", "status.phase", "spec.restartPolicy",
                                   "spec.schedulerName", "spec.serviceAccountName", "status.podIP",
                                   "status.nominatedNodeName", "spec.hostNetwork")),
        ResourceType("", "v1", "events", "Event", True, "event", ("ev",),
                     field_labels=("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                                   "involvedObject.uid", "involvedObject.apiVersion",
                                   "involvedObject.resourceVersion", "involvedObject.fieldPath",
                                   "reason", "reportingComponent", "source", "type")),
        ResourceType("", "v1", "configmaps", "ConfigMap", True, "configmap", ("cm",)),
    ]
    apps = [
        ResourceType("apps", "v1", "daemonsets", "DaemonSet", True, "daemonset", ("ds",), ("all",),
                     subresources=("status",)),
        ResourceType("apps", "v1", "deployments", "Deployment", True, "deployment", ("deploy",), ("all",),
                     subresources=("status",)),
        ResourceType("apps", "v1", "replicasets", "ReplicaSet", True, "replicaset", ("rs",), ("all",),
                     subresources=("status",)),
    ]
    others = [
        ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True,
                     "poddisruptionbudget", ("pdb",), subresources=("status",)),
        ResourceType("batch", "v1", "jobs", "Job", True, "job", (), ("all",), subresources=("status",)),
        ResourceType("batch", "v1", "cronjobs", "CronJob", True, "cronjob", ("cj",), ("all",),
                     subresources=("status",)),
        ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True, "lease"),
    ]
    for resource in core + apps + others:
        registry.register(resource)
    return registry
