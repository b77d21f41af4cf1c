"""Fixtures for the Kubernetes side: a fake world, KubeApi, and a real HTTPS server that kubectl
and the python kubernetes client talk to."""
import datetime
import ipaddress
import itertools
import os
import re
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from modelarts_sim.httpcore import Request, Response
from modelarts_sim.kube.app import KubeApi
from modelarts_sim.kube.cluster import Timings

KUBECTL = "/usr/bin/kubectl"
TIME_SCALE = 20.0       # simulated seconds per wall second in these tests


class FakeWorld:
    """The world hooks KubeApi uses, with a clock running TIME_SCALE times faster than the wall."""

    def __init__(self, time_scale: float = TIME_SCALE):
        self.lock = threading.RLock()
        self.time_scale = time_scale
        self._base = time.time()
        self._start = time.monotonic()
        self._offset = 0.0
        self.audits = []
        self.histories = []
        self.subscribers = []
        self.savers = {}

    def now(self) -> float:
        return self._base + self._offset + (time.monotonic() - self._start) * self.time_scale

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def set_time_scale(self, time_scale: float) -> None:
        """Change the clock's rate from now on without a jump (0 stops it)."""
        now = time.monotonic()
        self._offset += (now - self._start) * self.time_scale
        self._start = now
        self.time_scale = time_scale

    def audit(self, api, request, status, body=None):
        self.audits.append({"api": api, "method": request.method, "path": request.path, "status": status,
                            "body": body})

    def history(self, event):
        self.histories.append(dict(event))

    def subscribe(self, callback):
        self.subscribers.append(callback)

    def on_save(self, key, to_state, from_state, snapshot=None):
        self.savers[key] = (to_state, from_state)

    def events(self, name):
        return [h for h in self.histories if h.get("event") == name]


def npu_node(ip: str, name: str = None, node_pool: str = "np-train", driver: str = "7.5.0.5.220-24.1.0.3"):
    """A ModelArts v2 node record (API reference §6.1) for an 8-NPU Snt9b node."""
    return {
        "apiVersion": "v2", "kind": "Node",
        "metadata": {"name": name or f"os-node-created-{ip.split('.')[-1]:0>5}",
                     "labels": {"os.modelarts.node/nodepool": node_pool, "os.modelarts.node/nodepoolname": node_pool,
                                "os.modelarts.node/cluster": "cce-lite-1", "os.modelarts/resource.id": "maos-r-1",
                                "os.modelarts.node/underlying.instance.id": "0b7e2d9c-1111-4a4a-9c9c-2b2b2b2b2b2b"}},
        "spec": {"flavor": "modelarts.bm.npu.arm.8snt9b3.d", "os": {"name": "HCE 2.0"}},
        "status": {"phase": "Available", "az": "cn-north-4a", "privateIp": ip,
                   "driver": {"phase": "Running", "version": driver}},
    }


@pytest.fixture
def world():
    return FakeWorld()


@pytest.fixture
def api(world):
    return KubeApi(world)


def make_request(method, path, token=None, body=b"", query=None, headers=None):
    import json as _json
    all_headers = {}
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    if isinstance(body, (dict, list)):
        body = _json.dumps(body).encode()
        all_headers["content-type"] = "application/json"
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    return Request(method=method, path=path, query=list((query or {}).items()), headers=all_headers, body=body)


# ---- a real HTTPS server ----------------------------------------------------------------------------

def _write_tls(directory):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server-key.pem")}
    with open(paths["ca.pem"], "wb") as handle:
        handle.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server-key.pem"], "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths


def _handler_for(api: KubeApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):     # keep test output quiet
            pass

        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(method=self.command, path=parts.path,
                              query=parse_qsl(parts.query, keep_blank_values=True),
                              headers={k.lower(): v for k, v in self.headers.items()},
                              body=self.rfile.read(length) if length else b"", raw_query=parts.query)
            match = re.match(r"^/k8s/([^/]+)", parts.path)
            response = api.handle(match.group(1), request) if match else Response(404, b"not found")
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if response.stream is not None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in response.stream:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                return
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


class KubeServer:
    def __init__(self, directory):
        self.directory = directory
        self.world = FakeWorld()
        self.api = KubeApi(self.world, Timings())
        tls = _write_tls(directory)
        self.ca_path = tls["ca.pem"]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.api))
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls["server.pem"], tls["server-key.pem"])
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.base_url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.kubeconfig = os.path.join(directory, "kubeconfig")
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self.httpd.serve_forever, daemon=True),
                         threading.Thread(target=self._tick, daemon=True)]
        self._pool_numbers = itertools.count(1)
        for thread in self._threads:
            thread.start()

    def _tick(self):
        while not self._stop.wait(0.05):
            self.api.tick()

    def new_pool(self, node_count=3, seed=None, never_ready=()):
        """A fresh cluster with Ready NPU nodes (and seeded workloads); rewrites the kubeconfig."""
        pool_id = f"pool-kube{next(self._pool_numbers)}"
        self.api.ensure_cluster(pool_id)
        for index in range(node_count):
            self.api.node_created(pool_id, npu_node(f"192.168.0.{10 + index}"))
        spec = dict(seed or {}, ready_nodes=True)
        spec.setdefault("never_ready_nodes", list(never_ready))
        self.api.seed_workloads(pool_id, spec)
        self.api.write_kubeconfig(self.kubeconfig, self.base_url, self.ca_path)
        return pool_id

    def kubectl(self, pool_id, *args, timeout=60, check=True):
        env = {"HOME": self.directory, "PATH": "/usr/bin:/bin", "KUBECONFIG": self.kubeconfig}
        result = subprocess.run([KUBECTL, "--context", pool_id, "--cache-dir", os.path.join(self.directory, "cache"),
                                 *args], capture_output=True, text=True, timeout=timeout, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    def close(self):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def kube_server(tmp_path_factory):
    server = KubeServer(str(tmp_path_factory.mktemp("kube")))
    yield server
    server.close()
