"""The signed HTTP surface: IAM project lookup (/v3) and ModelArts (/v1, /v2).

handle() takes a Request and returns a Response; it verifies the AK/SK signature, then routes.
"""
import base64
import json
import re
import time
from urllib.parse import unquote

from . import catalog, signing
from .cloud_base import ApiError, bad_request
from .httpcore import Response
from .samples import ResponseSamples

SELECTOR_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*([^,]*?)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


class Detached:
    """A handler's answer built from fresh objects only (nothing shared with the records), so
    handle() serialises it after releasing world.lock: a big pool's node list is a lot of JSON."""

    def __init__(self, payload):
        self.payload = payload


def error_response(status, code, message, request_id=""):
    return Response.json(status, {"error_code": code, "error_msg": message, "request_id": request_id})


def _split_selector(text):
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


def parse_label_selector(text):
    """Kubernetes label selector -> list of predicates over a labels dict."""
    predicates = []
    for part in _split_selector(text or ""):
        match = SELECTOR_RE.match(part)
        if not match:
            raise bad_request("Bad request: invalid labelSelector term %r." % part.strip())
        negate, key, operator, value, set_operator, values = match.groups()
        if operator in ("=", "=="):
            predicates.append(lambda labels, k=key, v=value.strip(): labels.get(k) == v)
        elif operator == "!=":
            predicates.append(lambda labels, k=key, v=value.strip(): labels.get(k) != v)
        elif set_operator:
            options = {v.strip() for v in values.split(",")}
            if set_operator == "in":
                predicates.append(lambda labels, k=key, o=options: labels.get(k) in o)
            else:
                predicates.append(lambda labels, k=key, o=options: labels.get(k) not in o)
        elif negate:
            predicates.append(lambda labels, k=key: k not in labels)
        else:
            predicates.append(lambda labels, k=key: k in labels)
    return predicates


STATUS_FILTER = {"created": ("Running", "Abnormal", "Deleting", "ScalingFailed"),
                 "failed": ("CreationFailed", "Error"),
                 "creating": ("Creating", "Waiting")}


def _int_param(request, name, default, low, high):
    raw = request.query_value(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request("Bad request: %s must be an integer, got %r." % (name, raw)) from None
    if not low <= value <= high:
        raise bad_request("Bad request: %s must be between %d and %d." % (name, low, high))
    return value


class ModelArtsApi:
    def __init__(self, world, cloud):
        self.world = world
        self.cloud = cloud
        v1, v2 = "v1", "v2"
        self.routes = [
            ("GET", v2, "pools", self.list_pools),
            ("POST", v2, "pools", self.create_pool),
            ("GET", v2, "pools/*", self.show_pool),
            ("PATCH", v2, "pools/*", self.patch_pool),
            ("DELETE", v2, "pools/*", self.delete_pool),
            ("GET", v2, "pools/*/nodepools", self.list_node_pools),
            ("POST", v2, "pools/*/nodepools", self.create_node_pool),
            ("GET", v2, "pools/*/nodepools/*", self.show_node_pool),
            ("PATCH", v2, "pools/*/nodepools/*", self.patch_node_pool),
            ("DELETE", v2, "pools/*/nodepools/*", self.delete_node_pool),
            ("GET", v2, "pools/*/nodepools/*/nodes", self.list_node_pool_nodes),
            ("GET", v2, "pools/*/nodes", self.list_nodes),
            ("POST", v2, "pools/*/nodes/batch-delete", self.batch("batch_delete")),
            ("POST", v2, "pools/*/nodes/batch-reboot", self.batch("batch_reboot")),
            ("POST", v2, "pools/*/nodes/batch-reset", self.batch("batch_reset")),
            ("POST", v2, "pools/*/nodes/batch-update", self.batch("batch_update")),
            ("POST", v2, "pools/*/nodes/batch-lock", self.batch_lock(True)),
            ("POST", v2, "pools/*/nodes/batch-unlock", self.batch_lock(False)),
            ("GET", v2, "pools/*/nodes/*", self.show_node),
            ("GET", v2, "jobs", self.list_jobs),
            ("GET", v2, "jobs/*", self.show_job),
            ("GET", v2, "plugintemplates", self.list_plugin_templates),
            ("GET", v1, "pools/tags", self.list_all_tags),
            ("GET", v1, "pools/*/tags", self.show_tags),
            ("POST", v1, "pools/*/tags/create", self.create_tags),
            ("DELETE", v1, "pools/*/tags/delete", self.delete_tags),
            ("GET", v1, "orders", self.list_orders),
            ("GET", v1, "orders/*", self.show_order),
            ("GET", v1, "plugintemplates/*", self.show_plugin_template),
            ("GET", v1, "resourceflavors", self.list_flavors),
        ]
        self.routes += self.cloud.devservers.routes()
        self.routes = [(m, v, p.split("/"), h) for m, v, p, h in self.routes]
        self.samples = ResponseSamples.for_world(world)

    # ---- auth ---------------------------------------------------------------------------------
    def _lookup(self, access_key):
        creds = self.world.credentials
        if access_key == creds["access_key"]:
            return signing.Credential(creds["access_key"], creds["secret_key"])
        temporary = creds["temporary"]
        if access_key == temporary["access_key"]:
            return signing.Credential(temporary["access_key"], temporary["secret_key"], temporary["security_token"])
        return None

    def authenticate(self, request, clock_skew=0.0):
        """Raises ApiError 401 APIG.0301 unless the request carries a valid signature."""
        try:
            signing.verify(request.method, request.path, request.raw_query, request.headers, request.body,
                           self._lookup, now=time.time() + clock_skew)
        except signing.SignatureError as exc:
            raise ApiError(401, "APIG.0301", str(exc)) from None

    # ---- entry ----------------------------------------------------------------------------------
    def handle(self, request, clock_skew=0.0):
        try:
            self.authenticate(request, clock_skew)
            segments = [unquote(s) for s in request.path.strip("/").split("/")]
            if segments[:2] == ["v3", "projects"] and len(segments) == 2:
                return self.iam_projects(request)
            if len(segments) < 3 or segments[0] not in ("v1", "v2"):
                raise ApiError(404, "APIG.0101", "The API does not exist or has not been published in the "
                                                 "environment.")
            version, project_id, rest = segments[0], segments[1], segments[2:]
            if project_id != self.world.project_id:
                raise ApiError(401, "APIG.0301", "Incorrect IAM authentication information: project %s does not "
                                                 "belong to this account." % project_id)
            header_project = request.header("x-project-id")
            if header_project is not None and header_project != project_id:
                raise ApiError(401, "APIG.0301", "Incorrect IAM authentication information: X-Project-Id %s does "
                                                 "not match the project in the path." % header_project)
            handler, args, path_matched, route = self._route(request.method, version, rest)
            if handler is None:
                if path_matched:
                    raise ApiError(405, "APIG.0101", "Method %s is not allowed on %s." % (request.method,
                                                                                          request.path))
                raise ApiError(404, "APIG.0101", "The API does not exist or has not been published in the "
                                                 "environment.")
            with self.world.lock:
                self.world.run_due()
                status, payload = handler(request, *args)
                if request.method != "GET":
                    self.world.mark_dirty()
                if not isinstance(payload, Detached):
                    body = json.dumps(payload)  # serialise under the lock: records may change right after
            if isinstance(payload, Detached):
                body = json.dumps(payload.payload)
            if self.samples:
                self.samples.record(request, "%s/%s" % (version, route), status, body)
            return Response(status=status, body=body.encode("utf-8"), headers={"Content-Type": "application/json"})
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, getattr(request, "request_id", ""))

    def _route(self, method, version, rest):
        path_matched = False
        for route_method, route_version, pattern, handler in self.routes:
            if route_version != version or len(pattern) != len(rest):
                continue
            if all(p == "*" or p == s for p, s in zip(pattern, rest)):
                path_matched = True
                if route_method == method:
                    return handler, [s for p, s in zip(pattern, rest) if p == "*"], True, "/".join(pattern)
        return None, None, path_matched, None

    @staticmethod
    def body(request):
        try:
            return request.json()
        except (ValueError, UnicodeDecodeError):
            raise bad_request("Bad request: the body is not valid JSON.") from None

    # ---- IAM ------------------------------------------------------------------------------------
    def iam_projects(self, request):
        if request.method != "GET":
            raise ApiError(404, "APIG.0101", "The API does not exist or has not been published in the environment.")
        name = request.query_value("name")
        project = {"id": self.world.project_id, "name": catalog.REGION, "domain_id": self.world.credentials["domain_id"],
                   "enabled": True, "is_domain": False, "parent_id": self.world.credentials["domain_id"],
                   "description": "", "links": {"self": "%s/v3/projects/%s" % (self.world.base_url,
                                                                               self.world.project_id)}}
        projects = [project] if name in (None, catalog.REGION) else []
        payload = {"projects": projects, "links": {"self": "%s/v3/projects" % self.world.base_url,
                                                   "previous": None, "next": None}}
        return Response.json(200, payload, {"X-IAM-Trace-Id": getattr(request, "request_id", "")})

    # ---- pools ----------------------------------------------------------------------------------
    def list_pools(self, request):
        predicates = parse_label_selector(request.query_value("labelSelector"))
        status_filter = request.query_value("status")
        if status_filter and status_filter not in STATUS_FILTER:
            raise bad_request("Bad request: status must be one of created, failed, creating.")
        workspace = request.query_value("workspaceId")
        items = []
        for pool in self.cloud.state["pools"].values():
            if status_filter and pool["phase"] not in STATUS_FILTER[status_filter]:
                continue
            if workspace and pool["labels"].get("os.modelarts/workspace.id", "0") != workspace:
                continue
            if all(p(pool["labels"]) for p in predicates):
                items.append(self.cloud.pool_view(pool))
        return 200, {"apiVersion": "v2", "kind": "PoolList", "items": items}

    def create_pool(self, request):
        pool = self.cloud.create_pool(self.body(request))
        return 200, self.cloud.pool_view(pool, just_created=True)

    def show_pool(self, request, pool_id):
        return 200, self.cloud.pool_view(self.cloud.get_pool(pool_id))

    def patch_pool(self, request, pool_id):
        return 200, self.cloud.pool_view(self.cloud.patch_pool(pool_id, self.body(request)))

    def delete_pool(self, request, pool_id):
        return 200, self.cloud.pool_view(self.cloud.delete_pool(pool_id))

    # ---- node pools ---------------------------------------------------------------------------------
    def list_node_pools(self, request, pool_id):
        pool = self.cloud.get_pool(pool_id)
        items = [self.cloud.node_pool_view(pool, np) for np in pool["node_pools"].values()]
        return 200, {"apiVersion": "v2", "kind": "NodePoolList", "items": items}

    def create_node_pool(self, request, pool_id):
        node_pool = self.cloud.create_node_pool(pool_id, self.body(request))
        return 200, self.cloud.node_pool_view(self.cloud.get_pool(pool_id), node_pool, with_status=False)

    def show_node_pool(self, request, pool_id, name):
        pool = self.cloud.get_pool(pool_id)
        return 200, self.cloud.node_pool_view(pool, self.cloud.get_node_pool(pool, name))

    def patch_node_pool(self, request, pool_id, name):
        node_pool = self.cloud.patch_node_pool(pool_id, name, self.body(request))
        view = self.cloud.node_pool_view(self.cloud.get_pool(pool_id), node_pool, with_status=False)
        return 200, {"metadata": view["metadata"], "spec": view["spec"]}

    def delete_node_pool(self, request, pool_id, name):
        node_pool = self.cloud.delete_node_pool(pool_id, name)
        pool = self.cloud.get_pool(pool_id)
        return 200, self.cloud.node_pool_view(pool, node_pool)

    # ---- nodes --------------------------------------------------------------------------------------
    def _node_page(self, request, pool, node_pool=None):
        limit = _int_param(request, "limit", 0, 0, 500)
        nodes = self.cloud.sorted_nodes(pool, node_pool)
        token = request.query_value("continue")
        start = 0
        if token:
            try:
                created, name = json.loads(base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8"))
            except (ValueError, TypeError):
                raise bad_request("Bad request: invalid continue token.") from None
            start = next((i for i, n in enumerate(nodes) if (n["created"], n["name"]) > (created, name)), len(nodes))
        page = nodes[start:start + limit] if limit else nodes[start:]
        remaining = len(nodes) - start - len(page)
        metadata = {"continue": "", "remainingItemCount": remaining}
        if remaining > 0 and page:
            last = page[-1]
            metadata["continue"] = base64.urlsafe_b64encode(
                json.dumps([last["created"], last["name"]]).encode("utf-8")).decode("ascii")
        return 200, Detached({"apiVersion": "v2", "kind": "NodeList", "metadata": metadata,
                              "items": [self.cloud.node_view(pool, n) for n in page]})

    def list_nodes(self, request, pool_id):
        return self._node_page(request, self.cloud.get_pool(pool_id))

    def list_node_pool_nodes(self, request, pool_id, name):
        pool = self.cloud.get_pool(pool_id)
        self.cloud.get_node_pool(pool, name)
        return self._node_page(request, pool, name)

    def show_node(self, request, pool_id, node_name):
        pool = self.cloud.get_pool(pool_id)
        node = pool["nodes"].get(node_name)
        if node is None:
            raise ApiError(404, "ModelArts.50015001", "Node %s not found in pool %s." % (node_name, pool_id))
        return 200, self.cloud.node_view(pool, node)

    def batch(self, method_name):
        def handler(request, pool_id):
            return 200, getattr(self.cloud, method_name)(pool_id, self.body(request))
        return handler

    def batch_lock(self, lock):
        def handler(request, pool_id):
            return 200, self.cloud.batch_lock(pool_id, self.body(request), lock)
        return handler

    # ---- jobs, orders, tags, catalogues -----------------------------------------------------------
    def list_jobs(self, request):
        job_type = request.query_value("type")
        pool_name = request.query_value("name")
        limit = _int_param(request, "limit", 100, 1, 500)
        offset = _int_param(request, "offset", 0, 0, 1 << 30)
        jobs = [j for j in self.cloud.state["jobs"].values()
                if (not job_type or j["type"] == job_type) and (not pool_name or j["pool"] == pool_name)]
        jobs.sort(key=lambda j: j["startTimestamp"], reverse=True)
        return 200, {"count": len(jobs), "items": [self.cloud.job_view(j) for j in jobs[offset:offset + limit]]}

    def show_job(self, request, job_id):
        job = self.cloud.state["jobs"].get(job_id)
        if job is None:
            raise ApiError(404, "ModelArts.50015001", "Job %s not found." % job_id)
        return 200, self.cloud.job_view(job)

    def list_orders(self, request):
        involved = request.query_value("involvedName")
        phase = request.query_value("phase")
        limit = _int_param(request, "limit", 100, 1, 500)
        offset = _int_param(request, "offset", 0, 0, 500)
        since = _int_param(request, "since", 0, 0, 1 << 62)
        until = _int_param(request, "until", 0, 0, 1 << 62)
        orders = []
        for order in self.cloud.state["orders"].values():
            if involved and involved not in (order["resourceName"], order["resourceDisplayName"]):
                continue
            phases = (phase, "processing") if phase == "running" else (phase,)
            if phase and order["phase"] not in phases:
                continue
            if since and order["creationTimestamp"] < since or until and order["creationTimestamp"] > until:
                continue
            orders.append(order)
        orders.sort(key=lambda o: o["creationTimestamp"], reverse=True)
        return 200, {"count": len(orders), "items": [self.cloud.order_view(o) for o in orders[offset:offset + limit]]}

    def show_order(self, request, name):
        order = self.cloud.state["orders"].get(name)
        if order is None:
            raise ApiError(404, "ModelArts.50015001", "Order %s not found." % name)
        items = self.cloud.order_view(order, with_items=True)["items"]
        return 200, {"count": len(items), "items": items}

    def show_tags(self, request, pool_id):
        return 200, self.cloud.tags_view(self.cloud.get_pool(pool_id)["tags"])

    def create_tags(self, request, pool_id):
        self.cloud.create_tags(pool_id, self.body(request))
        return 200, {}

    def delete_tags(self, request, pool_id):
        self.cloud.delete_tags(pool_id, self.body(request))
        return 200, {}

    def list_all_tags(self, request):
        return 200, self.cloud.all_tags()

    def show_plugin_template(self, request, name):
        template = catalog.plugin_template(name, "2025-06-01T00:00:00Z")
        if template is None:
            raise ApiError(404, "ModelArts.50005101", "Plugintemplate %s not found." % name)
        return 200, template

    def list_plugin_templates(self, request):
        wanted = request.query_value("templateName")
        items = [catalog.plugin_template(n, "2025-06-01T00:00:00Z") for n in ("npu-driver", "gpu-driver")
                 if not wanted or wanted == n]
        return 200, {"apiVersion": "v2", "kind": "PluginTemplateList", "items": items}

    def list_flavors(self, request):
        predicates = parse_label_selector(request.query_value("labelSelector"))
        items = [i for i in catalog.resource_flavor_items() if all(p(i["metadata"]["labels"]) for p in predicates)]
        return 200, {"apiVersion": "v1", "kind": "ResourceFlavorList", "metadata": {"continue": ""}, "items": items}
