"""The client over real sockets against a tiny loopback server that checks every signature with
the vendor SDK's own signer (rebuilt from what was actually received), like the API gateway."""

import http.server
import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer as VendorSigner

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools
from ansible_collections.modelarts.lite.plugins.module_utils.cloud.client import CloudClient
from ansible_collections.modelarts.lite.plugins.module_utils.errors import AuthError

AK = "HPUAEXAMPLEAK0000001"
SK = "loopback-secret-0123456789abcdefABCDEF01"
TOKEN = "loopback-sts-token"
PID = "fedcba9876543210fedcba9876543210"


class _Credentials:
    ak, sk = AK, SK


def vendor_signature_ok(method, raw_path, headers, body):
    """Recompute the Authorization header from the received request with the vendor signer."""
    auth = headers.get("Authorization", "")
    signed_names = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    by_lower = {k.lower(): v for k, v in headers.items()}
    parts = urlsplit(raw_path)
    grouped = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    query = [(k, v if len(v) > 1 else v[0]) for k, v in grouped.items()]
    request = SdkRequest(method=method, schema="http", host=by_lower["host"], resource_path=parts.path,
                         query_params=query, header_params={n: by_lower[n] for n in signed_names}, body=body)
    return VendorSigner(_Credentials()).sign(request).header_params["Authorization"] == auth


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log = []
    throttle_once = set()

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        valid = vendor_signature_ok(self.command, self.path, headers, body)
        self.log.append({"method": self.command, "path": self.path, "headers": headers, "body": body, "valid": valid})
        if not valid:
            return self._reply(401, {"error_code": "APIG.0301", "error_msg": "verify aksk signature fail"})
        if self.path in self.throttle_once:
            self.throttle_once.discard(self.path)
            return self._reply(429, {"error_code": "APIG.0308", "error_msg": "over ratelimit"}, {"Retry-After": "0"})
        if self.path.startswith("/v3/projects"):
            return self._reply(200, {"projects": [{"id": PID, "name": "cn-north-4"}]})
        return self._reply(200, {"echo": {"path": self.path, "content_type": headers.get("Content-Type")}})

    def _reply(self, status, payload, extra=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", "loop-%d" % len(self.log))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client(server):
    Handler.log.clear()
    return CloudClient(AK, SK, "cn-north-4", security_token=TOKEN, endpoint=server, iam_endpoint=server,
                       allow_http=True, api_timeout=5, sleep=lambda s: None)


def test_iam_lookup_then_signed_calls_verified_by_vendor_signer(client):
    query = {"labelSelector": "os.modelarts/name=a b,c", "state": ["x", "a"], "flag": True}
    client.request("GET", client.path("v2", "pools"), query=query)
    pools.patch_pool(client, "pool-ü 1", {"spec": {"resources": [{"flavor": "f", "count": 2}]}})
    pools.batch_delete_nodes(client, "pool-1", ["n1", "n2"])
    assert [entry["valid"] for entry in Handler.log] == [True, True, True, True]
    iam, listing, patch, delete = Handler.log
    assert iam["path"] == "/v3/projects?name=cn-north-4" and "X-Project-Id" not in iam["headers"]
    assert listing["path"] == "/v2/%s/pools?flag=true&labelSelector=os.modelarts%%2Fname%%3Da%%20b%%2Cc&state=a&state=x" % PID
    assert patch["path"] == "/v2/%s/pools/pool-%%C3%%BC%%201" % PID
    assert patch["headers"]["Content-Type"] == "application/merge-patch+json"
    assert patch["headers"]["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert delete["body"] == b'{"deleteNodeNames": ["n1", "n2"]}'
    assert all(entry["headers"]["X-Security-Token"] == TOKEN for entry in Handler.log)


def test_throttled_post_is_retried_over_the_wire(client):
    path = client.path("v2", "pools", "p", "nodes", "batch-reboot")
    Handler.throttle_once.add(path)
    assert client.request("POST", path, body={"nodeNames": ["n"]})["echo"]["path"] == path
    assert [e["path"] for e in Handler.log[-2:]] == [path, path]


def test_wrong_secret_is_an_auth_error_without_the_secret(server):
    bad = CloudClient(AK, "not-the-right-secret-key", "cn-north-4", project_id=PID, endpoint=server,
                      allow_http=True, api_timeout=5)
    with pytest.raises(AuthError) as info:
        bad.request("GET", bad.path("v2", "pools"))
    assert info.value.error_code == "APIG.0301" and info.value.request_id.startswith("loop-")
    assert "not-the-right-secret-key" not in str(info.value)
