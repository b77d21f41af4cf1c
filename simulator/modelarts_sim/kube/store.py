"""The object store of one simulated cluster (one pool).

Holds every object as a plain dict keyed by (group, plural) and (namespace, name), with the
metadata the API server owns: a cluster-wide monotonic resourceVersion, uid, creationTimestamp and
generation. Optimistic concurrency works as in etcd-backed storage: a write that names a stale
resourceVersion is a 409 Conflict. A bounded change log feeds watches.
"""
import copy
import re
import secrets
import threading
import uuid
from collections import deque
from datetime import datetime, timezone
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from . import status as st
from .patch import apply_patch
from .resources import Registry, ResourceType
from .selectors import LabelSelector, fields_match, labels_match

WATCH_LOG_SIZE = 5000
_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"   # the apiserver's name generator alphabet


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(length))


class ObjectStore:
    def __init__(self, registry: Registry, clock: Callable[[], float]):
        self.registry = registry
        self.clock = clock
        self.resource_version = 0
        self.objects: Dict[Tuple[str, str], Dict[Tuple[str, str], dict]] = {}
        self._log: deque = deque(maxlen=WATCH_LOG_SIZE)
        self.changed = threading.Condition()

    # ---- reads ------------------------------------------------------------------------------------

    def _bucket(self, resource: ResourceType) -> Dict[Tuple[str, str], dict]:
        return self.objects.setdefault(resource.key, {})

    def _ns(self, resource: ResourceType, namespace: Optional[str]) -> str:
        return (namespace or "") if resource.namespaced else ""

    def find(self, resource: ResourceType, namespace: Optional[str], name: str) -> Optional[dict]:
        """The stored object itself (not a copy) or None; for controllers inside the lock."""
        return self._bucket(resource).get((self._ns(resource, namespace), name))

    def get(self, resource: ResourceType, namespace: Optional[str], name: str) -> dict:
        obj = self.find(resource, namespace, name)
        if obj is None:
            raise st.not_found(resource.group, resource.plural, name)
        return copy.deepcopy(obj)

    def iter(self, resource: ResourceType, namespace: Optional[str] = None) -> Iterable[dict]:
        """Stored objects (not copies), optionally of one namespace, in name order."""
        for (ns, _), obj in sorted(self._bucket(resource).items()):
            if namespace is None or ns == namespace:
                yield obj

    def list(self, resource: ResourceType, namespace: Optional[str] = None,
             label_selector: Optional[LabelSelector] = None, field_selector=None) -> Tuple[List[dict], str]:
        items = []
        for obj in self.iter(resource, namespace if resource.namespaced else None):
            if label_selector and not labels_match(label_selector, obj["metadata"].get("labels")):
                continue
            if field_selector and not fields_match(field_selector, obj):
                continue
            items.append(copy.deepcopy(obj))
        return items, str(self.resource_version)

    # ---- writes -----------------------------------------------------------------------------------

    def _next_version(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)

    def _record(self, event_type: str, resource: ResourceType, obj: dict) -> None:
        with self.changed:
            self._log.append((self.resource_version, event_type, resource.key, copy.deepcopy(obj)))
            self.changed.notify_all()

    def events_since(self, resource_version: int, key: Tuple[str, str]) -> Tuple[List[tuple], bool]:
        """Changes (rv, type, key, object) of one kind after resource_version. The flag is False
        when the log no longer reaches back that far (the caller answers 410 Gone, like etcd
        after compaction)."""
        with self.changed:
            missing_history = not self._log or self._log[0][0] > resource_version + 1
            if resource_version < self.resource_version and missing_history:
                return [], False
            return [e for e in self._log if e[0] > resource_version and e[2] == key], True

    def _validate_name(self, resource: ResourceType, name: str) -> None:
        if resource.kind == "Event" or resource.kind == "Lease":
            ok = bool(name) and len(name) <= 253
        else:
            ok = len(name) <= 253 and _NAME_RE.fullmatch(name) is not None
        if not ok:
            raise st.invalid(resource.group, resource.kind, name, [{
                "reason": "FieldValueInvalid", "field": "metadata.name",
                "message": f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                           "case alphanumeric characters, '-' or '.', and must start and end with an "
                           "alphanumeric character"}])

    def create(self, resource: ResourceType, namespace: Optional[str], obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        namespace = self._ns(resource, namespace or metadata.get("namespace"))
        if resource.namespaced:
            if not namespace:
                raise st.bad_request("the namespace of the provided object does not match the namespace "
                                     "sent on the request")
            if metadata.get("namespace") not in (None, "", namespace):
                raise st.bad_request("the namespace of the provided object does not match the namespace "
                                     "sent on the request")
            namespace_type = self.registry.find("", "v1", "namespaces")
            if self.find(namespace_type, None, namespace) is None:
                raise st.not_found("", "namespaces", namespace)
            metadata["namespace"] = namespace
        name = metadata.get("name")
        if not name:
            if not metadata.get("generateName"):
                raise st.invalid(resource.group, resource.kind, "", [{
                    "reason": "FieldValueRequired", "field": "metadata.name",
                    "message": "Required value: name or generateName is required"}])
            name = metadata["generateName"] + random_suffix()
            while self.find(resource, namespace, name) is not None:
                name = metadata["generateName"] + random_suffix()
            metadata["name"] = name
        self._validate_name(resource, name)
        if self.find(resource, namespace, name) is not None:
            raise st.already_exists(resource.group, resource.plural, name)
        obj["apiVersion"] = resource.api_version
        obj["kind"] = resource.kind
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = rfc3339(self.clock())
        metadata.pop("deletionTimestamp", None)
        if resource.kind not in ("Event", "Namespace", "ConfigMap", "Lease", "Pod", "Node"):
            metadata["generation"] = 1
        metadata["resourceVersion"] = self._next_version()
        self._bucket(resource)[(namespace, name)] = obj
        self._record("ADDED", resource, obj)
        return copy.deepcopy(obj)

    def update(self, resource: ResourceType, namespace: Optional[str], name: str, obj: dict,
               subresource: Optional[str] = None, check_version: bool = True) -> dict:
        """PUT semantics. With a status subresource the main resource ignores status changes and
        the status subresource ignores everything but status, as the real registry does."""
        current = self.find(resource, namespace, name)
        if current is None:
            raise st.not_found(resource.group, resource.plural, name)
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        if metadata.get("name") not in (None, name):
            raise st.bad_request(f'the name of the object ({metadata.get("name")}) does not match the name '
                                 f"on the URL ({name})")
        sent_version = metadata.get("resourceVersion")
        if check_version and sent_version and sent_version != current["metadata"]["resourceVersion"]:
            raise st.conflict(resource.group, resource.plural, name)
        if subresource == "status":
            updated = copy.deepcopy(current)
            updated["status"] = obj.get("status")
            if updated["status"] is None:
                updated.pop("status")
        else:
            updated = obj
            if "status" in resource.subresources:
                if "status" in current:
                    updated["status"] = copy.deepcopy(current["status"])
                else:
                    updated.pop("status", None)
            for owned in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "generation", "namespace"):
                if owned in current["metadata"]:
                    metadata[owned] = current["metadata"][owned]
                else:
                    metadata.pop(owned, None)
            metadata["name"] = name
            if "generation" in metadata and updated.get("spec") != current.get("spec"):
                metadata["generation"] += 1
        return self._commit(resource, updated)

    def patch(self, resource: ResourceType, namespace: Optional[str], name: str, content_type: str,
              patch, subresource: Optional[str] = None) -> dict:
        current = self.find(resource, namespace, name)
        if current is None:
            raise st.not_found(resource.group, resource.plural, name)
        patched = apply_patch(content_type, current, patch)
        sent_version = (patched.get("metadata") or {}).get("resourceVersion")
        if sent_version and sent_version != current["metadata"]["resourceVersion"]:
            raise st.conflict(resource.group, resource.plural, name)
        return self.update(resource, namespace, name, patched, subresource, check_version=False)

    def save(self, resource: ResourceType, obj: dict) -> dict:
        """Controller write of a stored object: no checks, new resourceVersion, watch event."""
        return copy.deepcopy(self._commit(resource, obj))

    def _commit(self, resource: ResourceType, obj: dict) -> dict:
        metadata = obj["metadata"]
        obj["apiVersion"] = resource.api_version
        obj["kind"] = resource.kind
        metadata["resourceVersion"] = self._next_version()
        key = (self._ns(resource, metadata.get("namespace")), metadata["name"])
        self._bucket(resource)[key] = obj
        self._record("MODIFIED", resource, obj)
        return copy.deepcopy(obj)

    def remove(self, resource: ResourceType, namespace: Optional[str], name: str) -> dict:
        """Remove the object now; returns its last state."""
        obj = self._bucket(resource).pop((self._ns(resource, namespace), name), None)
        if obj is None:
            raise st.not_found(resource.group, resource.plural, name)
        obj["metadata"]["resourceVersion"] = self._next_version()
        self._record("DELETED", resource, obj)
        return copy.deepcopy(obj)

    # ---- persistence ------------------------------------------------------------------------------

    def to_state(self) -> dict:
        return {
            "resourceVersion": self.resource_version,
            "objects": {f"{group}/{plural}": list(bucket.values())
                        for (group, plural), bucket in self.objects.items() if bucket},
        }

    def load_state(self, state: dict) -> None:
        self.resource_version = int(state.get("resourceVersion", 0))
        self.objects = {}
        for key, items in (state.get("objects") or {}).items():
            group, plural = key.rsplit("/", 1)
            bucket = self.objects.setdefault((group, plural), {})
            for obj in items:
                metadata = obj["metadata"]
                resource = self.registry.types.get((group, plural))
                namespace = metadata.get("namespace", "") if resource is None or resource.namespaced else ""
                bucket[(namespace, metadata["name"])] = copy.deepcopy(obj)
        with self.changed:
            self._log.clear()
