"""The shared front of the neighbouring services the simulator serves on their own ports (EVS, IMS).

Each is an AK/SK-signed JSON API like ModelArts, with the same credentials, the same signature
check and the same clock, but errors in the OpenStack-style shape those services answer with:
`{"error": {"code": "EVS.xxxx", "message": "..."}}` (the vendor SDK's error handler finds the
nested `code`/`message` pair). Routes are `(method, pattern, handler)`; a `{project_id}` segment
must be this account's project, `*` captures an id.
"""
import json
from urllib.parse import unquote

from .cloud_base import ApiError
from .httpcore import Response
from .samples import ResponseSamples


def error_response(status, code, message, request_id=""):
    response = Response.json(status, {"error": {"code": code, "message": message}})
    response.headers["X-Request-Id"] = request_id
    return response


class NeighbourApi:
    """Signature check, routing and serialisation for one neighbour service (subclasses add routes)."""

    name = ""            # api name in counters, faults and the audit log
    unknown_code = ""    # error code for an unknown path (the gateway's)

    def __init__(self, world, authenticate):
        self.world = world
        self._authenticate = authenticate
        self.routes = [(m, p.strip("/").split("/"), h) for m, p, h in self.route_table()]
        self.samples = ResponseSamples.for_world(world)

    def route_table(self):
        raise NotImplementedError

    def handle(self, request, clock_skew=0.0):
        try:
            self._authenticate(request, clock_skew)
            header_project = request.header("x-project-id")
            if header_project is not None and header_project != self.world.project_id:
                raise ApiError(401, "APIG.0301", "Incorrect IAM authentication information: X-Project-Id %s is not "
                                                 "a project of this account." % header_project)
            segments = [unquote(s) for s in request.path.strip("/").split("/")]
            handler, args, route = self._route(request.method, segments)
            with self.world.lock:
                self.world.run_due()
                status, payload = handler(request, *args)
                if request.method != "GET":
                    self.world.mark_dirty()
                body = b"" if payload is None else json.dumps(payload).encode("utf-8")
            if self.samples:
                self.samples.record(request, route, status, body.decode("utf-8"), api=self.name)
            return Response(status=status, body=body, headers={"Content-Type": "application/json"})
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, getattr(request, "request_id", ""))

    def _route(self, method, segments):
        path_matched = False
        for route_method, pattern, handler in self.routes:
            if len(pattern) != len(segments):
                continue
            args, matched = [], True
            for part, segment in zip(pattern, segments):
                if part == "{project_id}":
                    matched = segment == self.world.project_id
                elif part == "*":
                    args.append(segment)
                else:
                    matched = part == segment
                if not matched:
                    break
            if matched:
                path_matched = True
                if route_method == method:
                    return handler, args, "/".join(pattern)
        if path_matched:
            raise ApiError(405, "APIG.0101", "Method %s is not allowed here." % method)
        raise ApiError(404, "APIG.0101", "The API does not exist or has not been published in the environment.")

    @staticmethod
    def body(request, bad):
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise bad("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise bad("The request body must be a JSON object.")
        return body

    @staticmethod
    def int_query(request, name, default, bad):
        raw = request.query_value(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad("%s must be an integer." % name) from None
        if value < 0:
            raise bad("%s must not be negative." % name)
        return value
