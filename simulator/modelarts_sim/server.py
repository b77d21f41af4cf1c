"""HTTPS front door: one port for IAM, ModelArts, the pools' Kubernetes APIs and the admin API.

Each connection is served by its own thread (TLS handshake included), with HTTP/1.1 keep-alive.
"""
import importlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from . import catalog
from .admin import AdminApi
from .certs import ensure_certificates
from .cloud import Cloud
from .evs import Evs
from .httpcore import Request, Response
from .ims import Ims
from .modelarts_api import ModelArtsApi, error_response
from .neighbours import error_response as neighbour_error
from .signing import parse_query
from .world import World

MUTATING = ("POST", "PUT", "PATCH", "DELETE")


def modelarts_fault(api, rule, request_id):
    """A throttle, error or refuse fault as ModelArts (and its API gateway) answers it."""
    if rule["kind"] == "throttle":
        response = error_response(429, "APIG.0308", "The throttling threshold has been reached: policy user "
                                  "over ratelimit,limit:60,time:1 minute", request_id)
        response.headers["Retry-After"] = str(rule["retry_after"])
        return response
    if rule["kind"] == "refuse":
        return error_response(rule["status"], rule["error_code"], rule["error_msg"], request_id)
    return error_response(rule["status"], "ModelArts.5000", "System error. Please try again later.", request_id)


def neighbour_fault(service, rule, request_id):
    """A throttle or error fault as EVS or IMS answers it (refusals are ModelArts-only, faults.py)."""
    if rule["kind"] == "throttle":
        response = neighbour_error(429, "APIG.0308", "The throttling threshold has been reached.", request_id)
        response.headers["Retry-After"] = str(rule["retry_after"])
        return response
    return neighbour_error(rule["status"], "%s.0500" % service.upper(), "System error. Please try again later.",
                           request_id)


# Services with their own port (and endpoint in env.json), beside the main one.
NEIGHBOURS = ("evs", "ims")
KUBE_MODULE = "modelarts_sim.kube.app"


def load_kube_api(world):
    """KubeApi(world) from modelarts_sim.kube.app when that module exists, else None."""
    try:
        module = importlib.import_module(KUBE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in ("modelarts_sim.kube", KUBE_MODULE):
            return None
        raise
    return module.KubeApi(world)


def classify(path):
    """-> api name for counters/faults/audit: iam, modelarts, k8s, admin or None."""
    if path.startswith("/_sim/") or path == "/_sim":
        return "admin"
    if path.startswith("/k8s/"):
        return "k8s"
    if path.startswith("/v3/"):
        return "iam"
    if path.startswith("/v1/") or path.startswith("/v2/"):
        return "modelarts"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "modelarts-sim/0.1"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after this many seconds

    def log_message(self, format, *args):  # request logs would drown test output
        return

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self):
        sim = self.server.sim
        raw_path, _sep, raw_query = self.path.partition("?")
        request = Request(method=self.command.upper(), path=raw_path, query=[],
                          headers={k.lower(): v for k, v in self.headers.items()}, body=self._read_body(),
                          raw_query=raw_query, request_id=uuid.uuid4().hex)
        request.query = parse_query(raw_query)
        response = sim.respond(request, self.server.service)
        if response is None:  # a reset fault: drop the connection without an answer
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(request, response)

    def _write(self, request, response):
        self.send_response(response.status)
        headers = dict(response.headers)
        headers.setdefault("X-Request-Id", request.request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        if response.stream is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for chunk in response.stream:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                self.close_connection = True
            finally:
                close = getattr(response.stream, "close", None)
                if close:
                    close()
            return
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class _TlsServer(ThreadingHTTPServer):
    service = None  # None: the main port (IAM, ModelArts, Kubernetes, admin); else a NEIGHBOURS name
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def finish_request(self, request, client_address):
        # The handshake happens here, in the connection's own thread, so a slow client
        # cannot stall accept() for everyone else.
        try:
            # Headers and body leave in separate writes; with Nagle's algorithm on, the client's
            # delayed ACK would hold every answer back ~40 ms (real API servers set this too).
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request.settimeout(30)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        tls.settimeout(None)
        super().finish_request(tls, client_address)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class Simulator:
    def __init__(self, state_dir, port=0, time_scale=1.0, seed=0):
        self.world = World(state_dir, time_scale=time_scale, seed=seed)
        self.cloud = Cloud(self.world)
        self.world.cloud = self.cloud
        self.modelarts = ModelArtsApi(self.world, self.cloud)
        self.stopped = threading.Event()
        self.ca_path, cert_path, key_path = ensure_certificates(self.world.state_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        self.httpd = _TlsServer(("127.0.0.1", port), _Handler)
        self.httpd.ssl_context = context
        self.httpd.sim = self
        self.port = self.httpd.server_address[1]
        self.world.base_url = "https://127.0.0.1:%d" % self.port
        self.evs = Evs(self.world, self.cloud, self.modelarts.authenticate)
        self.ims = Ims(self.world, self.cloud, self.modelarts.authenticate)
        self.cloud.ims = self.ims
        self.neighbours = {}
        for service in NEIGHBOURS:
            httpd = _TlsServer(("127.0.0.1", 0), _Handler)
            httpd.ssl_context = context
            httpd.sim = self
            httpd.service = service
            self.neighbours[service] = httpd
        self.kube = load_kube_api(self.world)
        self.admin = AdminApi(self.world, self.cloud, self.stopped.set, self.kube)
        if self.kube is not None:
            self.world.subscribe(self._follow_pools)
            if hasattr(self.kube, "tick"):
                self.world.on_tick(self.kube.tick)
        self._thread = None

    def _follow_pools(self, event):
        """Keep one Kubernetes cluster (and kubeconfig context) per pool."""
        if event["type"] == "pool_added":
            self.kube.ensure_cluster(event["pool_id"])
            self._write_kubeconfig()
        elif event["type"] == "pool_removed":
            self.kube.remove_cluster(event["pool_id"])
            self._write_kubeconfig()

    def _write_kubeconfig(self):
        if self.kube is not None:
            self.kube.write_kubeconfig(self.world.kubeconfig_path, self.world.base_url, self.ca_path)

    # ---- request pipeline -------------------------------------------------------------------------
    def respond(self, request, service=None):
        try:
            if service is not None:
                return self._respond_neighbour(service, request)
            return self._respond(request)
        finally:
            # Its audit line is in audit.jsonl before the answer goes (the ticker writes history).
            self.world.flush_logs(history=False)

    def _respond(self, request):
        api = classify(request.path)
        if api is None:
            return error_response(404, "APIG.0101", "The API does not exist or has not been published in the "
                                                    "environment.", request.request_id)
        if api == "admin":
            return self.admin.handle(request)
        self.world.count(api, request.method)
        response, clock_skew, reset = self._faults("k8s" if api == "k8s" else "modelarts", request, modelarts_fault)
        if reset:
            self._audit(api, request, None, handled_by_kube=False)
            return None
        if response is None:
            if api == "k8s":
                response = self._kube(request)
                self.world.run_due()
                return response
            response = self.modelarts.handle(request, clock_skew=clock_skew)
        self._audit(api, request, response.status, handled_by_kube=False)
        return response

    def _faults(self, api, request, answer):
        """The fault rules matching a request, in order: latency sleeps, clock skew adds up, reset
        drops the connection, and throttle, error and refuse answer in the service's own error
        shape (`answer`). Returns (the fault's response or None, clock skew, reset)."""
        clock_skew, response = 0.0, None
        for rule in self.world.faults.for_request(api, request.method, request.path):
            self.world.count("faults", rule["kind"])
            if rule["kind"] == "latency":
                time.sleep(rule["seconds"])
            elif rule["kind"] == "clock_skew":
                clock_skew += rule["seconds"]
            elif rule["kind"] == "reset":
                return None, clock_skew, True
            else:
                response = answer(api, rule, request.request_id)
        return response, clock_skew, False

    def _respond_neighbour(self, service, request):
        """EVS or IMS on its own port: counters, faults and audit under the service's own api name."""
        self.world.count(service, request.method)
        response, clock_skew, reset = self._faults(service, request, neighbour_fault)
        if reset:
            if request.method in MUTATING:
                self.world.audit(service, request, None)
            return None
        if response is None:
            response = getattr(self, service).handle(request, clock_skew=clock_skew)
        if request.method in MUTATING:
            self.world.audit(service, request, response.status)
        return response

    def _kube(self, request):
        parts = request.path.split("/", 3)  # ['', 'k8s', pool_id, rest]
        pool_id = unquote(parts[2]) if len(parts) > 2 else ""
        if self.kube is None:
            return Response.json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                                       "reason": "NotFound", "message": "the Kubernetes API is not available"})
        return self.kube.handle(pool_id, request)

    def _audit(self, api, request, status, handled_by_kube):
        if request.method not in MUTATING or handled_by_kube:
            return
        self.world.audit("k8s" if api == "k8s" else "modelarts", request, status)

    # ---- life cycle -------------------------------------------------------------------------------
    def env(self):
        creds = self.world.credentials
        return {"endpoint": self.world.base_url, "iam_endpoint": self.world.base_url, "region": catalog.REGION,
                "project_id": creds["project_id"], "access_key": creds["access_key"],
                "secret_key": creds["secret_key"], "ca_path": self.ca_path,
                "admin_url": self.world.base_url + "/_sim", "admin_token": creds["admin_token"],
                "kubeconfig": self.world.kubeconfig_path, "time_scale": self.world.time_scale, "pid": os.getpid(),
                "port": self.port, "state_dir": self.world.state_dir,
                "temporary_access_key": creds["temporary"]["access_key"],
                "temporary_secret_key": creds["temporary"]["secret_key"],
                "security_token": creds["temporary"]["security_token"],
                "evs_endpoint": self.neighbour_url("evs"), "ims_endpoint": self.neighbour_url("ims")}

    def neighbour_url(self, service):
        return "https://127.0.0.1:%d" % self.neighbours[service].server_address[1]

    def _write_env(self):
        env = self.env()
        state_dir = self.world.state_dir
        exports = {"HUAWEICLOUD_SDK_AK": env["access_key"], "HUAWEICLOUD_SDK_SK": env["secret_key"],
                   "HUAWEICLOUD_SDK_PROJECT_ID": env["project_id"], "HUAWEICLOUD_SDK_REGION": env["region"],
                   "MODELARTS_LITE_ENDPOINT": env["endpoint"], "HUAWEICLOUD_SDK_IAM_ENDPOINT": env["iam_endpoint"],
                   "MODELARTS_LITE_CA_PATH": env["ca_path"], "MODELARTS_LITE_POLL_INTERVAL": "0.2",
                   "MODELARTS_SIM_ADMIN_URL": env["admin_url"], "MODELARTS_SIM_ADMIN_TOKEN": env["admin_token"],
                   "KUBECONFIG": env["kubeconfig"], "MODELARTS_LITE_EVS_ENDPOINT": env["evs_endpoint"],
                   "MODELARTS_LITE_IMS_ENDPOINT": env["ims_endpoint"]}
        for name, text in (("env.json", json.dumps(env, indent=2) + "\n"),
                           ("env.sh", "".join("export %s='%s'\n" % item for item in exports.items())),
                           ("sim.pid", "%d\n" % os.getpid())):
            path = os.path.join(state_dir, name)
            fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(path + ".tmp", path)
        with open(os.path.join(state_dir, "ready"), "w", encoding="utf-8") as handle:
            handle.write(self.world.base_url + "\n")

    def start(self):
        ready = os.path.join(self.world.state_dir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.world.run_due()
        if self.kube is not None:
            with self.world.lock:
                for pool_id in self.world.pool_ids():
                    self.kube.ensure_cluster(pool_id)
            self._write_kubeconfig()
        self.world.start_ticker()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="sim-http", daemon=True)
        self._thread.start()
        for service, httpd in self.neighbours.items():
            threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="sim-" + service,
                             daemon=True).start()
        self._write_env()

    def stop(self):
        ready = os.path.join(self.world.state_dir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        for httpd in [self.httpd] + list(self.neighbours.values()):
            httpd.shutdown()
            httpd.server_close()
        close = getattr(self.kube, "close", None)
        if close:
            close()
        self.world.close()
