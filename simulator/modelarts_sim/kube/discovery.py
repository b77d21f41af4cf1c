"""Legacy (unaggregated) discovery documents: /version, /api, /api/v1, /apis, /apis/{g}, /apis/{g}/{v}.

kubectl 1.27+ first asks for aggregated discovery (Accept
`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,...,application/json`); an answer
with Content-Type plain `application/json` makes it fall back to these documents, like an older
apiserver.
"""
import hashlib
from typing import Optional

from .resources import Registry, ResourceType

KUBERNETES_VERSION = {
    "major": "1", "minor": "31", "gitVersion": "v1.31.6-r0-31.0.3",
    "gitCommit": "0a3f4bd4e7d3a8e0e1b1c7b5a2c6d9f1e8b4c2a7", "gitTreeState": "clean",
    "buildDate": "2025-03-20T08:00:00Z", "goVersion": "go1.23.6", "compiler": "gc",
    "platform": "linux/arm64",
}

SUBRESOURCE_VERBS = {"status": ["get", "patch", "update"], "eviction": ["create"]}


def _resource_entries(resource: ResourceType) -> list:
    entry = {
        "name": resource.plural, "singularName": resource.singular or resource.kind.lower(),
        "namespaced": resource.namespaced, "kind": resource.kind, "verbs": list(resource.verbs),
        "storageVersionHash": hashlib.sha256(resource.api_version.encode() + resource.plural.encode())
        .digest()[:8].hex(),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    entries = [entry]
    for subresource in resource.subresources:
        sub = {"name": f"{resource.plural}/{subresource}", "singularName": "", "namespaced": resource.namespaced,
               "kind": resource.kind, "verbs": SUBRESOURCE_VERBS[subresource]}
        if subresource == "eviction":
            # kubectl drain reads group/version here to decide how to evict (CheckEvictionSupport).
            sub.update(kind="Eviction", group="policy", version="v1")
        entries.append(sub)
    return entries


def resource_list(registry: Registry, group: str, version: str) -> Optional[dict]:
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [e for r in sorted(resources, key=lambda r: r.plural) for e in _resource_entries(r)]}


def core_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(group: str, version: str) -> dict:
    group_version = {"groupVersion": f"{group}/{version}", "version": version}
    return {"name": group, "versions": [group_version], "preferredVersion": group_version}


def group_list(registry: Registry) -> dict:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group(g, v) for g, v in sorted(registry.group_versions().items())]}


def api_group(registry: Registry, group: str) -> Optional[dict]:
    version = registry.group_versions().get(group)
    if version is None:
        return None
    return dict(_group(group, version), kind="APIGroup", apiVersion="v1")
