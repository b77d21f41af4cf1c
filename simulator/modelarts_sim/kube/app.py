"""KubeApi: the Kubernetes API server of every simulated Lite pool, behind `/k8s/{pool_id}`.

The HTTP server constructs `KubeApi(world)` once and calls `handle(pool_id, request)` for every
request under `/k8s/{pool_id}/...`. The ModelArts side keeps Nodes in step with its node records
through the coupling methods (`node_created`, `node_operation_started`, ...) or the world
subscription (`on_world_event`).
"""
import base64
import json
import secrets
import time
from datetime import datetime
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote

from ..httpcore import Request, Response
from . import discovery, seeding
from . import nodes as N
from .cluster import Cluster, Timings
from .kubeconfig import write_kubeconfig
from .resources import ResourceType, default_registry
from .selectors import parse_field_selector, parse_label_selector, selectors_match
from .status import StatusError, bad_request, method_not_allowed, page_not_found, success_status, unauthorized
from .store import clone, json_object
from .tables import TABLE_MEDIA, table_for, wants_table

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
WATCH_POLL_SECONDS = 0.5
DEFAULT_WATCH_SECONDS = 300


class _Route:
    """A parsed resource path."""

    def __init__(self, resource: ResourceType, namespace: Optional[str], name: Optional[str],
                 subresource: Optional[str]):
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.subresource = subresource


class KubeApi:
    def __init__(self, world, timings: Optional[Timings] = None):
        self.world = world
        self.timings = timings or Timings()
        self.registry = default_registry()
        self.clusters: Dict[str, Cluster] = {}
        if hasattr(world, "subscribe"):
            world.subscribe(self.on_world_event)
        if hasattr(world, "on_save"):
            world.on_save("kube", self.to_state, self.load_state, snapshot=self.snapshot)
        if hasattr(world, "busy_probe"):
            world.busy_probe = self.node_busy

    # ---- world glue -----------------------------------------------------------------------------

    def now(self) -> float:
        value = self.world.now()
        return value.timestamp() if isinstance(value, datetime) else float(value)

    def _history(self, event: dict) -> None:
        if hasattr(self.world, "history"):
            self.world.history(event)

    # ---- clusters -------------------------------------------------------------------------------

    def ensure_cluster(self, pool_id: str, token: Optional[str] = None) -> Cluster:
        with self.world.lock:
            cluster = self.clusters.get(pool_id)
            if cluster is None:
                cluster = Cluster(pool_id, self.registry, self.now, token or secrets.token_urlsafe(32),
                                  self.timings, self._history)
                self.clusters[pool_id] = cluster
            elif token:
                cluster.token = token
            return cluster

    def remove_cluster(self, pool_id: str) -> None:
        with self.world.lock:
            self.clusters.pop(pool_id, None)

    def token(self, pool_id: str) -> str:
        return self.ensure_cluster(pool_id).token

    def tokens(self) -> Dict[str, str]:
        with self.world.lock:
            return {pool_id: cluster.token for pool_id, cluster in self.clusters.items()}

    def write_kubeconfig(self, path: str, server_base_url: str, ca_path: str) -> None:
        write_kubeconfig(path, server_base_url, ca_path, self.tokens())

    def tick(self) -> None:
        """Run every cluster's control loops (the server's ticker calls this)."""
        with self.world.lock:
            for cluster in self.clusters.values():
                cluster.advance()

    # ---- coupling with the ModelArts side ----------------------------------------------------------

    def node_created(self, pool_id: str, record: dict, node_pool: Optional[dict] = None) -> dict:
        with self.world.lock:
            return self.ensure_cluster(pool_id).add_node(record, node_pool)

    def node_updated(self, pool_id: str, record: dict, node_pool: Optional[dict] = None) -> dict:
        with self.world.lock:
            cluster = self.ensure_cluster(pool_id)
            if cluster.store.find(cluster.kind("Node"), None, N.node_name(record)) is None:
                return cluster.add_node(record, node_pool)
            return cluster.sync_node(record, node_pool)

    def node_operation_started(self, pool_id: str, node: object, operation: str) -> None:
        with self.world.lock:
            self.ensure_cluster(pool_id).start_node_operation(self._node_name(node), operation)

    def node_operation_finished(self, pool_id: str, record: dict, node_pool: Optional[dict] = None,
                                immediate: bool = False, npu_healthy: bool = True) -> None:
        with self.world.lock:
            self.ensure_cluster(pool_id).finish_node_operation(N.node_name(record), record, node_pool, immediate,
                                                               npu_healthy)

    def node_deleted(self, pool_id: str, node: object) -> None:
        with self.world.lock:
            cluster = self.clusters.get(pool_id)
            if cluster is not None:
                cluster.remove_node(self._node_name(node))

    def set_node_never_ready(self, pool_id: str, node_name: str, never_ready: bool = True) -> None:
        with self.world.lock:
            self.ensure_cluster(pool_id).set_never_ready(node_name, never_ready)

    def set_node_stuck_after_operation(self, pool_id: str, node_name: str, stuck: bool = True) -> None:
        with self.world.lock:
            self.ensure_cluster(pool_id).set_stuck_after_operation(node_name, stuck)

    @staticmethod
    def _node_name(node: object) -> str:
        return node if isinstance(node, str) else N.node_name(node)

    def on_world_event(self, event: dict) -> None:
        """The world's subscription callback (called with world.lock held). Node events from
        cloud.py: {"type": "node_created" | "node_phase" | "node_driver" | "node_changed" |
        "node_operation" | "node_deleted", "pool_id", "node": <ModelArts v2 Node>,
        "node_pool": <PoolResource>, "info": <cloud.node_info()>, "operation", "state"}.
        The Node follows the node's phase, activity and driver (see _follow_node); pool events
        are the server's to handle (ensure_cluster / remove_cluster)."""
        kind = event.get("type") or ""
        pool_id = event.get("pool_id")
        if not pool_id or not kind.startswith("node_"):
            return
        info = event.get("info")
        if info is None and event.get("node"):
            activity = None
            if kind == "node_operation" and event.get("state") == "started":
                activity = {v: k for k, v in self.OPERATIONS.items()}.get(event.get("operation"))
            info = N.info_from_record(event["node"], event.get("node_pool"), activity)
        if info is None:
            return
        if kind in ("node_deleted", "node_removed"):
            self.node_deleted(pool_id, info["private_ip"])
        else:
            self._follow_node(pool_id, info)

    # ModelArts activities during which the node's kubelet is down (cloud.py `activity`).
    OPERATIONS = {"rebooting": "reboot", "resetting": "reset", "upgrading": "driver_upgrade"}

    def _follow_node(self, pool_id: str, info: dict) -> None:
        """Keep the Node in step with a ModelArts node: it joins when the node becomes Available;
        rebooting, resetting and the Updating step of a driver upgrade take it down; the end of the
        activity brings it back (it stays NotReady if the node ended Abnormal)."""
        record, node_pool = N.from_node_info(info)
        with self.world.lock:
            cluster = self.ensure_cluster(pool_id)
            name = info["private_ip"]
            cluster.modelarts_names[info["name"]] = name
            activity = info.get("activity")
            if cluster.store.find(cluster.kind("Node"), None, name) is None:
                if info.get("phase") == "Available" and activity in (None, "deleting"):
                    cluster.add_node(record, node_pool)
                return
            in_operation = bool((cluster.node_state.get(name) or {}).get("operation"))
            operation = self.OPERATIONS.get(activity)
            down = operation is not None and (operation != "driver_upgrade" or info.get("driver_phase") == "Updating")
            if down and not in_operation:
                cluster.start_node_operation(name, operation)
            elif activity is None and in_operation and info.get("phase") != "Abnormal":
                cluster.finish_node_operation(name, record, node_pool,
                                              npu_healthy=info.get("driver_phase") != "Abnormal")
            else:
                cluster.sync_node(record, node_pool)

    def node_busy(self, pool_id: str, modelarts_node_name: str) -> bool:
        """world.busy_probe: does the node run pods other than DaemonSet pods? (idle-strategy
        driver upgrades wait while it does)."""
        with self.world.lock:
            cluster = self.clusters.get(pool_id)
            if cluster is None:
                return False
            return cluster.node_busy(cluster.modelarts_names.get(modelarts_node_name, modelarts_node_name))

    def seed_workloads(self, pool_id: str, spec: dict) -> dict:
        with self.world.lock:
            return seeding.seed_workloads(self.ensure_cluster(pool_id), spec)

    def gang_reports(self, pool_id: Optional[str] = None) -> dict:
        with self.world.lock:
            reports = {}
            for pid, cluster in self.clusters.items():
                if pool_id in (None, pid):
                    cluster.advance()
                    reports[pid] = cluster.gangs.report(self.world.now())
            return reports

    # ---- persistence ----------------------------------------------------------------------------

    def to_state(self) -> dict:
        with self.world.lock:
            return {"clusters": {pool_id: c.to_state() for pool_id, c in self.clusters.items()}}

    def snapshot(self):
        """The world's save: to_state() as JSON text, rendered by the returned function after
        the world lock is released (a big pool's objects are not serialised while requests wait)."""
        with self.world.lock:
            clusters = [(pool_id, c.snapshot()) for pool_id, c in self.clusters.items()]
        return lambda: json_object([("clusters", json_object((pool_id, render()) for pool_id, render in clusters))])

    def load_state(self, state: Optional[dict]) -> None:
        with self.world.lock:
            self.clusters = {}
            for pool_id, cluster_state in ((state or {}).get("clusters") or {}).items():
                cluster = self.ensure_cluster(pool_id, cluster_state.get("token"))
                cluster.load_state(cluster_state)

    # ---- HTTP -----------------------------------------------------------------------------------

    def handle(self, pool_id: str, request: Request) -> Response:
        prefix = f"/k8s/{pool_id}"
        path = request.path[len(prefix):] if request.path.startswith(prefix) else request.path
        path = "/" + path.strip("/") if path.strip("/") else "/"
        body = None
        try:
            with self.world.lock:
                cluster = self.clusters.get(pool_id)
                if cluster is None:
                    raise page_not_found()
                if not self._authorized(cluster, request):
                    raise unauthorized()
                cluster.advance()
                if request.method in MUTATING:
                    body = self._request_body(request)
                response = self._dispatch(cluster, path, request, body)
        except StatusError as error:
            response = Response.json(error.code, error.body(), error.headers)
        if request.method in MUTATING and hasattr(self.world, "audit"):
            self.world.audit("k8s", request, response.status, body if body is not None else self._raw_body(request))
        return response

    @staticmethod
    def _raw_body(request: Request):
        try:
            return request.json()
        except ValueError:
            return request.body.decode("utf-8", "replace")

    @staticmethod
    def _authorized(cluster: Cluster, request: Request) -> bool:
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(token.strip(), cluster.token)

    @staticmethod
    def _request_body(request: Request):
        try:
            return request.json()
        except ValueError as error:
            raise bad_request(f"the request body is not valid JSON: {error}")

    def _dispatch(self, cluster: Cluster, path: str, request: Request, body) -> Response:
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", {"Content-Type": "text/plain; charset=utf-8"})
        if path == "/version":
            return Response.json(200, discovery.KUBERNETES_VERSION)
        if path == "/api":
            return Response.json(200, discovery.core_versions(request.header("host") or "127.0.0.1"))
        if path == "/apis":
            return Response.json(200, discovery.group_list(self.registry))
        segments = [unquote(s) for s in path.strip("/").split("/")]
        if segments[0] == "api" and len(segments) >= 2:
            group, version, rest = "", segments[1], segments[2:]
        elif segments[0] == "apis" and len(segments) >= 2:
            if len(segments) == 2:
                group_doc = discovery.api_group(self.registry, segments[1])
                if group_doc is None:
                    raise page_not_found()
                return Response.json(200, group_doc)
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            raise page_not_found()       # includes /openapi/v2 and /openapi/v3: kubectl copes
        if not rest:
            document = discovery.resource_list(self.registry, group, version)
            if document is None:
                raise page_not_found()
            return Response.json(200, document)
        route = self._route(group, version, rest)
        return self._serve(cluster, route, request, body)

    def _route(self, group: str, version: str, rest: List[str]) -> _Route:
        namespaces = self.registry.find("", "v1", "namespaces")
        if group == "" and rest[0] == "namespaces" and (len(rest) <= 2 or rest[2] in ("status", "finalize")):
            return _Route(namespaces, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource = self.registry.find(group, version, rest[0])
        if resource is None or len(rest) > 3 or (namespace is not None and not resource.namespaced):
            raise page_not_found()
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if subresource is not None and subresource not in resource.subresources:
            raise page_not_found()
        if resource.namespaced and name is not None and namespace is None:
            raise page_not_found()
        return _Route(resource, namespace, name, subresource)

    # ---- verbs ----------------------------------------------------------------------------------

    def _serve(self, cluster: Cluster, route: _Route, request: Request, body) -> Response:
        method = request.method
        resource = route.resource
        if route.name is None:
            if method == "GET":
                if request.query_value("watch") in ("true", "1"):
                    return self._watch(cluster, route, request)
                return self._list(cluster, route, request)
            if method == "POST":
                return self._create(cluster, route, body)
            if method == "DELETE":
                return self._delete_collection(cluster, route, request, body)
            raise method_not_allowed()
        if route.subresource == "eviction":
            if method != "POST":
                raise method_not_allowed()
            return self._evict(cluster, route, body)
        if route.subresource == "finalize":
            raise method_not_allowed()
        if method == "GET":
            if not wants_table(request.header("accept")):
                text = cluster.store.object_json(resource, route.namespace, route.name)
                if text is not None:
                    return self._text_response(200, text)
            obj = cluster.store.get(resource, route.namespace, route.name)
            return self._object_response(200, obj, request)
        if method == "PUT":
            if not isinstance(body, dict):
                raise bad_request("the request body must be a JSON object")
            before = cluster.store.get(resource, route.namespace, route.name)
            updated = cluster.store.update(resource, route.namespace, route.name, body, route.subresource)
            return self._after_write(cluster, resource, before, updated)
        if method == "PATCH":
            before = cluster.store.get(resource, route.namespace, route.name)
            updated = cluster.store.patch(resource, route.namespace, route.name,
                                          request.header("content-type", ""), body, route.subresource)
            return self._after_write(cluster, resource, before, updated)
        if method == "DELETE":
            return self._delete(cluster, route, request, body)
        raise method_not_allowed()

    def _after_write(self, cluster: Cluster, resource: ResourceType, before: dict, updated: dict) -> Response:
        if resource.kind == "Node":
            cluster.node_changed(before, updated)
        cluster.advance()
        text = cluster.store.object_json(resource, updated["metadata"].get("namespace"), updated["metadata"]["name"])
        return self._text_response(200, text) if text is not None else Response.json(200, updated)

    @staticmethod
    def _text_response(code: int, text: str) -> Response:
        """An object the store already rendered (the same bytes Response.json would send)."""
        return Response(code, text.encode("utf-8"), {"Content-Type": "application/json"})

    def _object_response(self, code: int, obj: dict, request: Request) -> Response:
        if wants_table(request.header("accept")):
            table = table_for(obj["kind"], [obj], str(obj["metadata"].get("resourceVersion")),
                              request.query_value("includeObject"), self.now())
            return Response.json(code, table, {"Content-Type": TABLE_MEDIA})
        return Response.json(code, obj)

    def _selectors(self, route: _Route, request: Request):
        labels = parse_label_selector(request.query_value("labelSelector"))
        allowed = ("metadata.name", "metadata.namespace") + route.resource.field_labels
        fields = parse_field_selector(request.query_value("fieldSelector"), allowed)
        return labels, fields

    def _list(self, cluster: Cluster, route: _Route, request: Request) -> Response:
        labels, fields = self._selectors(route, request)
        resource = route.resource
        objects = cluster.store.select(resource, route.namespace, labels, fields)
        resource_version = str(cluster.store.resource_version)
        metadata = {"resourceVersion": resource_version}
        limit = int(request.query_value("limit") or 0)
        start = self._continue_offset(request.query_value("continue"))
        if start or limit:
            end = start + limit if limit else len(objects)
            if end < len(objects):
                metadata["continue"] = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode()
                metadata["remainingItemCount"] = len(objects) - end
            objects = objects[start:end]
        if wants_table(request.header("accept")):
            items = clone(objects)
            for item in items:
                item.pop("apiVersion", None)
                item.pop("kind", None)
                item.update(apiVersion=resource.api_version, kind=resource.kind)
            table = table_for(resource.kind, items, resource_version, request.query_value("includeObject"),
                              self.now())
            table["metadata"].update({k: v for k, v in metadata.items() if k != "resourceVersion"})
            return Response.json(200, table, {"Content-Type": TABLE_MEDIA})
        # What Response.json would send for {"kind", "apiVersion", "metadata", "items"}, with each
        # item's text rendered once per version by the store instead of on every list.
        head = json.dumps({"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": metadata})
        items = ", ".join(cluster.store.item_json(resource, obj) for obj in objects)
        return Response(200, (head[:-1] + ', "items": [' + items + "]}").encode("utf-8"),
                        {"Content-Type": "application/json"})

    @staticmethod
    def _continue_offset(token: Optional[str]) -> int:
        if not token:
            return 0
        try:
            return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
        except (ValueError, KeyError, TypeError):
            raise bad_request("continue key is not valid")

    def _create(self, cluster: Cluster, route: _Route, body) -> Response:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        resource = route.resource
        if body.get("kind") not in (None, resource.kind):
            raise bad_request(f'the kind of the body ({body.get("kind")}) does not match the URL ({resource.kind})')
        if resource.kind == "Pod":
            created = cluster.create_pod(route.namespace, body)
        else:
            body = clone(body)
            if "status" in resource.subresources and resource.kind != "Namespace":
                body.pop("status", None)       # status is the controllers' to write
            created = cluster.store.create(resource, route.namespace, body)
            if resource.kind == "Namespace":
                stored = cluster.store.find(resource, None, created["metadata"]["name"])
                stored.setdefault("status", {"phase": "Active"})
                stored.setdefault("spec", {"finalizers": ["kubernetes"]})
                stored["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = stored["metadata"]["name"]
                created = cluster.store.save(resource, stored)
        cluster.advance()
        text = cluster.store.object_json(resource, created["metadata"].get("namespace"), created["metadata"]["name"])
        return self._text_response(201, text) if text is not None else Response.json(201, created)

    @staticmethod
    def _delete_options(request: Request, body) -> dict:
        options = dict(body) if isinstance(body, dict) else {}
        grace = request.query_value("gracePeriodSeconds")
        if grace is not None:
            options["gracePeriodSeconds"] = int(grace)
        policy = request.query_value("propagationPolicy")
        if policy is not None:
            options["propagationPolicy"] = policy
        if options.get("propagationPolicy") not in (None, "Orphan", "Background", "Foreground"):
            raise bad_request(f'propagationPolicy: Unsupported value: "{options["propagationPolicy"]}"')
        return options

    def _delete(self, cluster: Cluster, route: _Route, request: Request, body) -> Response:
        resource = route.resource
        options = self._delete_options(request, body)
        current = cluster.store.get(resource, route.namespace, route.name)
        preconditions = options.get("preconditions") or {}
        if preconditions.get("uid") not in (None, current["metadata"]["uid"]):
            raise StatusError(409, "Conflict", f'Precondition failed: UID in precondition: {preconditions["uid"]}, '
                              f'UID in object meta: {current["metadata"]["uid"]}',
                              {"name": route.name, "kind": resource.plural})
        if preconditions.get("resourceVersion") not in (None, current["metadata"]["resourceVersion"]):
            raise StatusError(409, "Conflict", "Precondition failed: ResourceVersion in precondition: "
                              f'{preconditions["resourceVersion"]}, ResourceVersion in object meta: '
                              f'{current["metadata"]["resourceVersion"]}',
                              {"name": route.name, "kind": resource.plural})
        if resource.kind == "Pod":
            obj, _ = cluster.delete_pod(route.namespace, route.name, options.get("gracePeriodSeconds"))
        elif resource.kind == "Namespace":
            obj = cluster.delete_namespace(route.name)
        else:
            if resource.kind == "Node":
                cluster.node_state.pop(route.name, None)
            obj = cluster.store.remove(resource, route.namespace, route.name)
            default_policy = "Orphan" if resource.kind in ("Job", "CronJob") else "Background"
            cluster.delete_dependents(obj, options.get("propagationPolicy", default_policy) == "Orphan")
            if resource.kind == "Node":
                cluster.history("node_removed", node=route.name, reason="api")
        cluster.advance()
        return Response.json(200, obj)

    def _delete_collection(self, cluster: Cluster, route: _Route, request: Request, body) -> Response:
        labels, fields = self._selectors(route, request)
        items, resource_version = cluster.store.list(route.resource, route.namespace, labels, fields)
        deleted = []
        for item in items:
            item_route = _Route(route.resource, item["metadata"].get("namespace"), item["metadata"]["name"], None)
            response = self._delete(cluster, item_route, request, body)
            deleted.append(json.loads(response.body))
        return Response.json(200, {"kind": f"{route.resource.kind}List", "apiVersion": route.resource.api_version,
                                   "metadata": {"resourceVersion": str(cluster.store.resource_version)},
                                   "items": deleted})

    def _evict(self, cluster: Cluster, route: _Route, body) -> Response:
        if not isinstance(body, dict):
            raise bad_request("the request body must be an Eviction object")
        name = (body.get("metadata") or {}).get("name")
        if name and name != route.name:
            raise bad_request("name in URL does not match name in Eviction object")
        cluster.evict(route.namespace, route.name, body.get("deleteOptions"))
        cluster.advance()
        return Response.json(201, success_status(201))

    # ---- watch ----------------------------------------------------------------------------------

    def _watch(self, cluster: Cluster, route: _Route, request: Request) -> Response:
        labels, fields = self._selectors(route, request)
        timeout = float(request.query_value("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        requested = request.query_value("resourceVersion")
        initial: List[Tuple[str, dict]] = []
        if requested in (None, "", "0"):
            items, current = cluster.store.list(route.resource, route.namespace, labels, fields)
            initial = [("ADDED", item) for item in items]
            since = int(current)
        else:
            since = int(requested)
            _, ok = cluster.store.events_since(since, route.resource.key)
            if not ok:
                raise StatusError(410, "Expired",
                                  f"too old resource version: {since} ({cluster.store.resource_version})")
        return Response(200, headers={"Content-Type": "application/json"},
                        stream=self._watch_stream(cluster, route, labels, fields, initial, since, timeout))

    def _watch_stream(self, cluster: Cluster, route: _Route, labels, fields, initial, since: int, timeout: float):
        deadline = time.monotonic() + timeout
        for event_type, obj in initial:
            yield self._watch_line(event_type, obj)
        while time.monotonic() < deadline:
            events, ok = cluster.store.events_since(since, route.resource.key)
            if not ok:
                return
            for resource_version, event_type, _, text in events:
                since = resource_version
                if route.namespace is not None or labels or fields:
                    obj = json.loads(text)
                    if route.namespace is not None and obj["metadata"].get("namespace") != route.namespace:
                        continue
                    if not selectors_match(labels, fields, obj):
                        continue
                # The store rendered the object once when it was written; every watcher sends that.
                yield ('{"type": "%s", "object": %s}\n' % (event_type, text)).encode()
            with cluster.store.changed:
                if cluster.store.resource_version == since or not events:
                    cluster.store.changed.wait(WATCH_POLL_SECONDS)
            if cluster.needs_pass():          # most wake-ups follow a write its writer advanced after
                with self.world.lock:
                    cluster.advance()

    @staticmethod
    def _watch_line(event_type: str, obj: dict) -> bytes:
        return (json.dumps({"type": event_type, "object": obj}) + "\n").encode()
