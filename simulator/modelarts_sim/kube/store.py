"""The object store of one simulated cluster (one pool).

Holds every object as a plain dict keyed by (group, plural) and (namespace, name), with the
metadata the API server owns: a cluster-wide monotonic resourceVersion, uid, creationTimestamp and
generation. Optimistic concurrency works as in etcd-backed storage: a write that names a stale
resourceVersion is a 409 Conflict. A bounded change log feeds watches.

Cost per operation does not grow with the store: lookups are dict hits, name-ordered iteration
reuses a sorted key list until a key is added or removed, controllers find pods by node or owner
through secondary indexes, and copies are pickle round trips (several times faster than
copy.deepcopy on these plain JSON trees). Write listeners let the cluster's controllers keep their
own tallies and work lists in step with every write instead of rescanning the store.

Each write also renders the object's JSON once: the watch log sends that text as is, and a save
splices the latest text of every object, so saving copies strings under the world lock instead
of serialising thousands of objects while every request waits.
"""
import functools
import json
import pickle
import random
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


@functools.lru_cache(maxsize=4096)
def parse_rfc3339(text: str) -> float:
    # Cached: the kubelet steps parse the same few timestamps on every pass, and strptime is slow.
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def clone(value):
    """A deep copy of a JSON-like value."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def compact_json(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def json_object(members) -> str:
    """A JSON object from (key, value already rendered as JSON text) pairs."""
    return "{" + ",".join(json.dumps(key) + ":" + text for key, text in members) + "}"


_names = random.Random(secrets.randbits(64))     # names need no cryptographic randomness (no syscall each)


def random_suffix(length: int = 5) -> str:
    return "".join(_names.choice(_GENERATE_ALPHABET) for _ in range(length))


class ObjectStore:
    def __init__(self, registry: Registry, clock: Callable[[], float]):
        self.registry = registry
        self.clock = clock
        self.resource_version = 0
        self.objects: Dict[Tuple[str, str], Dict[Tuple[str, str], dict]] = {}
        # (resourceVersion, event type, resource key, the object's JSON text at that version)
        self._log: deque = deque(maxlen=WATCH_LOG_SIZE)
        # resource key -> {object key: JSON text as of its last write} (see snapshot())
        self._texts: Dict[Tuple[str, str], Dict[Tuple[str, str], str]] = {}
        self._item_texts: Dict[Tuple[str, str], Dict[Tuple[str, str], str]] = {}    # see item_json()
        self.changed = threading.Condition()
        self._sorted_keys: Dict[Tuple[str, str], List[Tuple[str, str]]] = {}
        # resource key -> index name -> (key_of(obj) -> value or None, {obj key: value}, {value: {obj keys}})
        self._indexes: Dict[Tuple[str, str], Dict[str, tuple]] = {}
        self._writes: Dict[Tuple[str, str], int] = {}   # resource key -> writes so far (change detection)
        # resource key -> [fn(object key, stored object, removed)], after every write
        self._listeners: Dict[Tuple[str, str], List[Callable[[Tuple[str, str], dict, bool], None]]] = {}
        # resource key -> {field selector field: index name} (a list's fast path, see list())
        self._field_indexes: Dict[Tuple[str, str], Dict[str, str]] = {}

    # ---- secondary indexes ------------------------------------------------------------------------

    def add_index(self, resource: ResourceType, name: str, key_of: Callable[[dict], Optional[str]],
                  field: Optional[str] = None) -> None:
        """Maintain objects of `resource` by key_of(obj) (e.g. a pod's node). Objects changed in
        place are re-indexed when they are written back (save/update/patch). With `field`, key_of
        is that field selector's value, and lists selecting `field=value` read only the index."""
        index = (key_of, {}, {})
        self._indexes.setdefault(resource.key, {})[name] = index
        if field:
            self._field_indexes.setdefault(resource.key, {})[field] = name
        for key, obj in self._bucket(resource).items():
            self._index_one(index, key, obj)

    def add_listener(self, resource: ResourceType, listener: Callable[[Tuple[str, str], dict, bool], None]) -> None:
        """Call listener(object key, stored object, removed) after each write of this kind (the
        object's last state when it was removed). Not on load_state: whoever loads state rebuilds
        what it derives from the store."""
        self._listeners.setdefault(resource.key, []).append(listener)

    def _notify(self, resource_key: Tuple[str, str], key: Tuple[str, str], obj: dict, removed: bool = False) -> None:
        for listener in self._listeners.get(resource_key, ()):
            listener(key, obj, removed)

    @staticmethod
    def _index_one(index: tuple, key: Tuple[str, str], obj: Optional[dict]) -> None:
        key_of, forward, reverse = index
        old = forward.pop(key, None)
        if old is not None:
            members = reverse.get(old)
            if members is not None:
                members.discard(key)
                if not members:
                    del reverse[old]
        value = key_of(obj) if obj is not None else None
        if value is not None:
            forward[key] = value
            reverse.setdefault(value, set()).add(key)

    def _reindex(self, resource_key: Tuple[str, str], key: Tuple[str, str], obj: Optional[dict]) -> None:
        for index in self._indexes.get(resource_key, {}).values():
            self._index_one(index, key, obj)

    def has_index(self, resource: ResourceType, name: str) -> bool:
        return name in self._indexes.get(resource.key, {})

    def index_size(self, resource: ResourceType, name: str, value: str) -> int:
        return len(self._indexes[resource.key][name][2].get(value) or ())

    def indexed(self, resource: ResourceType, name: str, value: str) -> List[dict]:
        """Stored objects (not copies) whose index `name` has `value`, in name order."""
        keys = self._indexes[resource.key][name][2].get(value)
        if not keys:
            return []
        bucket = self._bucket(resource)
        return [bucket[key] for key in sorted(keys)]

    def indexed_keys(self, resource: ResourceType, name: str, value: str):
        """The (namespace, name) keys whose index `name` has `value` (a live set: do not modify)."""
        return self._indexes[resource.key][name][2].get(value) or ()

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
        return clone(obj)

    def iter(self, resource: ResourceType, namespace: Optional[str] = None) -> Iterable[dict]:
        """Stored objects (not copies), optionally of one namespace, in name order."""
        bucket = self._bucket(resource)
        keys = self._sorted_keys.get(resource.key)
        if keys is None:
            keys = self._sorted_keys[resource.key] = sorted(bucket)
        for key in keys:
            if namespace is None or key[0] == namespace:
                obj = bucket.get(key)
                if obj is not None:   # removed while the caller iterates
                    yield obj

    def count(self, resource: ResourceType) -> int:
        return len(self._bucket(resource))

    def oldest(self, resource: ResourceType, count: int) -> List[dict]:
        """The `count` objects stored longest ago (insertion order), e.g. to cap Events."""
        bucket = self._bucket(resource)
        result = []
        for obj in bucket.values():
            if len(result) >= count:
                break
            result.append(obj)
        return result

    def list(self, resource: ResourceType, namespace: Optional[str] = None,
             label_selector: Optional[LabelSelector] = None, field_selector=None) -> Tuple[List[dict], str]:
        return clone(self.select(resource, namespace, label_selector, field_selector)), str(self.resource_version)

    def select(self, resource: ResourceType, namespace: Optional[str] = None,
               label_selector: Optional[LabelSelector] = None, field_selector=None) -> List[dict]:
        """The stored objects (not copies) a list with these selectors returns, in name order."""
        items = []
        objects = self.iter(resource, namespace if resource.namespaced else None)
        fields = self._field_indexes.get(resource.key, {})
        for field_name, operator, value in field_selector or ():
            # `spec.nodeName=X` (a drain's pod list) reads the index, not every pod; the
            # selectors below still decide, so the answer is the same as a full scan's.
            if operator == "=" and value and field_name in fields:
                bucket = self._bucket(resource)
                keys = sorted(self.indexed_keys(resource, fields[field_name], value))
                objects = (bucket[key] for key in keys
                           if not resource.namespaced or namespace is None or key[0] == namespace)
                break
        for obj in objects:
            if label_selector and not labels_match(label_selector, obj["metadata"].get("labels")):
                continue
            if field_selector and not fields_match(field_selector, obj):
                continue
            items.append(obj)
        return items

    def object_json(self, resource: ResourceType, namespace: Optional[str], name: str) -> Optional[str]:
        """A stored object's JSON text as of its last write (what get() would serialise to), or None."""
        return self._texts.get(resource.key, {}).get((self._ns(resource, namespace), name))

    def item_json(self, resource: ResourceType, obj: dict) -> str:
        """A stored object as a list answer's item (without apiVersion and kind, as the API
        server sends them), rendered once per version of the object."""
        texts = self._item_texts.setdefault(resource.key, {})
        key = (self._ns(resource, obj["metadata"].get("namespace")), obj["metadata"]["name"])
        text = texts.get(key)
        if text is None:
            text = texts[key] = json.dumps({k: v for k, v in obj.items() if k not in ("apiVersion", "kind")})
        return text

    # ---- writes -----------------------------------------------------------------------------------

    def _next_version(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)

    def writes(self, resource: ResourceType) -> int:
        """How many times objects of this kind were created, changed or removed."""
        return self._writes.get(resource.key, 0)

    def _record(self, event_type: str, resource: ResourceType, key: Tuple[str, str], obj: dict) -> None:
        self._writes[resource.key] = self._writes.get(resource.key, 0) + 1
        text = json.dumps(obj)
        self._item_texts.get(resource.key, {}).pop(key, None)
        texts = self._texts.setdefault(resource.key, {})
        if event_type == "DELETED":
            texts.pop(key, None)
        else:
            texts[key] = text
        with self.changed:
            self._log.append((self.resource_version, event_type, resource.key, text))
            self.changed.notify_all()

    def events_since(self, resource_version: int, key: Tuple[str, str]) -> Tuple[List[tuple], bool]:
        """Changes (rv, type, key, the object's JSON text) of one kind after resource_version.
        The flag is False when the log no longer reaches back that far (the caller answers 410
        Gone, like etcd after compaction)."""
        with self.changed:
            missing_history = not self._log or self._log[0][0] > resource_version + 1
            if resource_version < self.resource_version and missing_history:
                return [], False
            # A watcher is usually nearly up to date: walk back from the newest change only.
            newer = []
            for entry in reversed(self._log):
                if entry[0] <= resource_version:
                    break
                if entry[2] == key:
                    newer.append(entry)
            newer.reverse()
            return newer, True

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
        obj = clone(obj)
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
        metadata["uid"] = str(uuid.UUID(int=_names.getrandbits(128), version=4))   # uuid4 without a syscall
        metadata["creationTimestamp"] = rfc3339(self.clock())
        metadata.pop("deletionTimestamp", None)
        if resource.kind not in ("Event", "Namespace", "ConfigMap", "Lease", "Pod", "Node"):
            metadata["generation"] = 1
        metadata["resourceVersion"] = self._next_version()
        self._bucket(resource)[(namespace, name)] = obj
        self._sorted_keys.pop(resource.key, None)
        self._reindex(resource.key, (namespace, name), obj)
        self._record("ADDED", resource, (namespace, name), obj)
        self._notify(resource.key, (namespace, name), obj)
        return clone(obj)

    def update(self, resource: ResourceType, namespace: Optional[str], name: str, obj: dict,
               subresource: Optional[str] = None, check_version: bool = True) -> dict:
        """PUT semantics. With a status subresource the main resource ignores status changes and
        the status subresource ignores everything but status, as the real registry does."""
        current = self.find(resource, namespace, name)
        if current is None:
            raise st.not_found(resource.group, resource.plural, name)
        obj = clone(obj)
        metadata = obj.setdefault("metadata", {})
        if metadata.get("name") not in (None, name):
            raise st.bad_request(f'the name of the object ({metadata.get("name")}) does not match the name '
                                 f"on the URL ({name})")
        sent_version = metadata.get("resourceVersion")
        if check_version and sent_version and sent_version != current["metadata"]["resourceVersion"]:
            raise st.conflict(resource.group, resource.plural, name)
        if subresource == "status":
            updated = clone(current)
            updated["status"] = obj.get("status")
            if updated["status"] is None:
                updated.pop("status")
        else:
            updated = obj
            if "status" in resource.subresources:
                if "status" in current:
                    updated["status"] = clone(current["status"])
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
        return clone(self._commit(resource, updated))

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
        return clone(self._commit(resource, obj))

    def commit(self, resource: ResourceType, obj: dict) -> None:
        """save() for a caller that does not need a copy back (most controller writes)."""
        self._commit(resource, obj)

    def _commit(self, resource: ResourceType, obj: dict) -> dict:
        metadata = obj["metadata"]
        obj["apiVersion"] = resource.api_version
        obj["kind"] = resource.kind
        metadata["resourceVersion"] = self._next_version()
        key = (self._ns(resource, metadata.get("namespace")), metadata["name"])
        bucket = self._bucket(resource)
        if key not in bucket:
            self._sorted_keys.pop(resource.key, None)
        bucket[key] = obj
        self._reindex(resource.key, key, obj)
        self._record("MODIFIED", resource, key, obj)
        self._notify(resource.key, key, obj)
        return obj

    def remove(self, resource: ResourceType, namespace: Optional[str], name: str) -> dict:
        """Remove the object now; returns its last state."""
        key = (self._ns(resource, namespace), name)
        obj = self._bucket(resource).pop(key, None)
        if obj is None:
            raise st.not_found(resource.group, resource.plural, name)
        self._sorted_keys.pop(resource.key, None)
        self._reindex(resource.key, key, None)
        obj["metadata"]["resourceVersion"] = self._next_version()
        self._record("DELETED", resource, key, obj)
        self._notify(resource.key, key, obj, removed=True)
        return clone(obj)

    # ---- persistence ------------------------------------------------------------------------------

    def to_state(self) -> dict:
        return {
            "resourceVersion": self.resource_version,
            "objects": {f"{group}/{plural}": list(bucket.values())
                        for (group, plural), bucket in self.objects.items() if bucket},
        }

    def snapshot(self) -> Callable[[], str]:
        """to_state() as JSON text, in two steps: this call (under the world lock) only copies
        references to each object's latest JSON text; the function it returns joins them (no
        lock needed: the texts never change)."""
        version = self.resource_version
        kinds = [(f"{group}/{plural}", list(self._texts.get((group, plural), {}).values()))
                 for (group, plural), bucket in self.objects.items() if bucket]

        def render() -> str:
            objects = json_object((name, "[" + ",".join(texts) + "]") for name, texts in kinds)
            return json_object([("resourceVersion", str(version)), ("objects", objects)])
        return render

    def load_state(self, state: dict) -> None:
        self.resource_version = int(state.get("resourceVersion", 0))
        self.objects = {}
        self._sorted_keys = {}
        for key, items in (state.get("objects") or {}).items():
            group, plural = key.rsplit("/", 1)
            bucket = self.objects.setdefault((group, plural), {})
            for obj in items:
                metadata = obj["metadata"]
                resource = self.registry.types.get((group, plural))
                namespace = metadata.get("namespace", "") if resource is None or resource.namespaced else ""
                bucket[(namespace, metadata["name"])] = clone(obj)
        for resource_key, indexes in self._indexes.items():
            for key_of, forward, reverse in indexes.values():
                forward.clear()
                reverse.clear()
            for key, obj in self.objects.get(resource_key, {}).items():
                self._reindex(resource_key, key, obj)
        self._texts = {resource_key: {key: json.dumps(obj) for key, obj in bucket.items()}
                       for resource_key, bucket in self.objects.items()}
        self._item_texts = {}
        with self.changed:
            self._log.clear()
