"""Start a simulator in a subprocess and talk to it from tests.

    from modelarts_sim.testing import start_simulator
    sim = start_simulator(tmp_path / "sim", time_scale=1000, seed=1)
    try:
        sim.seed(pools=[{"name": "demo", "nodes": 4}])
        status, body, headers = sim.request("GET", "/v2/{project_id}/pools")
    finally:
        sim.stop()
"""
import http.client
import json
import os
import signal
import ssl
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from . import signing
from .samples import ENV as SAMPLE_ENV


CONTRACT_DIR_ENV = "MODELARTS_CONTRACT_DIR"


class SimulatorError(RuntimeError):
    pass


class SimHandle:
    def __init__(self, state_dir, process, log_path):
        self.state_dir = str(state_dir)
        self.process = process
        self.log_path = log_path
        with open(os.path.join(self.state_dir, "env.json"), encoding="utf-8") as handle:
            self.env = json.load(handle)
        self.base_url = self.env["endpoint"]
        self.port = int(self.base_url.rsplit(":", 1)[1])
        self.ssl_context = ssl.create_default_context(cafile=self.env["ca_path"])

    # ---- environment ------------------------------------------------------------------------------
    def env_vars(self) -> dict:
        """The variables of DIR/env.sh, ready to merge into a subprocess environment."""
        variables = {}
        with open(os.path.join(self.state_dir, "env.sh"), encoding="utf-8") as handle:
            for line in handle:
                name, _sep, value = line.strip()[len("export "):].partition("=")
                variables[name] = value.strip("'")
        return variables

    # ---- raw HTTP ---------------------------------------------------------------------------------
    def raw(self, method, path, body=None, headers=None, timeout=10, port=None):
        """-> (status, parsed JSON or text, headers dict with lower-cased names)."""
        connection = http.client.HTTPSConnection("127.0.0.1", port or self.port, context=self.ssl_context, timeout=timeout)
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode("utf-8")
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            text = response.read().decode("utf-8")
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
            return response.status, payload, {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()

    def admin(self, method, path, body=None):
        status, payload, _headers = self.raw(method, "/_sim/" + path.lstrip("/"), body,
                                             {"Authorization": "Bearer " + self.env["admin_token"],
                                              "Content-Type": "application/json"})
        if status >= 400:
            raise SimulatorError("admin %s %s -> %s %s" % (method, path, status, payload))
        return payload

    def request(self, method, path, body=None, query=None, headers=None, content_type="application/json",
                access_key=None, secret_key=None, security_token=None, sdk_date=None, raw_body=None,
                service=None):
        """A signed ModelArts/IAM call, or EVS/IMS with service="evs"/"ims" (their own ports).
        `{project_id}` in path is filled in. -> (status, body, headers)."""
        port = int(self.env[service + "_endpoint"].rsplit(":", 1)[1]) if service else self.port
        path = path.replace("{project_id}", self.env["project_id"])
        pairs = sorted((query or {}).items()) if isinstance(query, dict) else list(query or [])
        raw_query = "&".join("%s=%s" % (quote(str(k), safe="~"), quote(str(v), safe="~")) for k, v in pairs)
        data = raw_body if raw_body is not None else (b"" if body is None else json.dumps(body).encode("utf-8"))
        all_headers = {"content-type": content_type, "host": "127.0.0.1:%d" % port,
                       "x-sdk-date": sdk_date or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")}
        if path.startswith("/v1/") or path.startswith("/v2/") or service:
            all_headers["x-project-id"] = self.env["project_id"]
        if content_type and not content_type.startswith("application/json"):
            all_headers["x-sdk-content-sha256"] = "UNSIGNED-PAYLOAD"
        if security_token:
            all_headers["x-security-token"] = security_token
        all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        signed = sorted(all_headers)
        canonical = signing.canonical_request(method, path, signing.parse_query(raw_query), all_headers, signed, data)
        signature = signing.sign(secret_key or self.env["secret_key"], all_headers["x-sdk-date"], canonical)
        all_headers["authorization"] = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
            access_key or self.env["access_key"], ";".join(signed), signature)
        return self.raw(method, path + ("?" + raw_query if raw_query else ""), data or None, all_headers, port=port)

    # ---- admin helpers ------------------------------------------------------------------------------
    def audit_entries(self, since=0):
        return self.admin("GET", "audit?" + urlencode({"since": since}))["entries"]

    def history(self, since=0):
        return self.admin("GET", "history?" + urlencode({"since": since}))["entries"]

    def counters(self):
        return self.admin("GET", "counters")

    def reset_counters(self):
        return self.admin("POST", "counters/reset")

    def set_faults(self, rules):
        return self.admin("PUT", "faults", {"rules": rules})["rules"]

    def clear_faults(self):
        return self.admin("DELETE", "faults")

    def faults(self):
        return self.admin("GET", "faults")["rules"]

    def seed(self, pools):
        """Create Running pools at once: [{"name", "nodes", "flavor", "node_pool", "driver_version", ...}]."""
        return self.admin("POST", "seed", {"pools": pools})

    def gangs(self, pool_id=None):
        """Gang jobs per pool id: restarts, lost NPU-seconds, interruptions (see kube/gang.py)."""
        return self.admin("GET", "gangs" + ("?pool=" + pool_id if pool_id else ""))["pools"]

    def node_readiness(self, pool_id, node, fault):
        """fault: "never_ready", "stuck_after_operation" or "none" (see admin.py)."""
        return self.admin("POST", "nodes/readiness", {"pool": pool_id, "node": node, "fault": fault})

    def advance(self, seconds):
        """Move the simulated clock forward (all due transitions run)."""
        return self.admin("POST", "clock/advance", {"seconds": seconds})

    def sim_time(self):
        return self.admin("GET", "clock")["sim_time"]

    # ---- life cycle ---------------------------------------------------------------------------------
    def alive(self):
        return self.process.poll() is None

    def stop(self, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._hand_over_exchanges()
        return self.process.returncode

    def _hand_over_exchanges(self):
        """With MODELARTS_CONTRACT_DIR set, copy this run's audit log and response samples there
        (one file each per simulator) for the contract test (tests/contract)."""
        target = os.environ.get(CONTRACT_DIR_ENV)
        if not target:
            return
        os.makedirs(target, exist_ok=True)
        tag = "%d-%s" % (os.getpid(), os.path.basename(self.state_dir.rstrip("/")) + "-" + str(self.port))
        for name in ("audit.jsonl", "responses.jsonl"):
            source = os.path.join(self.state_dir, name)
            if os.path.exists(source):
                shutil.copyfile(source, os.path.join(target, "%s.%s" % (tag, name)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_simulator(state_dir, time_scale=1000.0, seed=0, port=0, timeout=20.0, extra_env=None) -> SimHandle:
    """Run `python -m modelarts_sim serve` and wait until DIR/ready exists."""
    state_dir = str(state_dir)
    os.makedirs(state_dir, exist_ok=True)
    ready = os.path.join(state_dir, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    log_path = os.path.join(state_dir, "sim.log")
    env = dict(os.environ, **(extra_env or {}))
    if env.get(CONTRACT_DIR_ENV):
        env.setdefault(SAMPLE_ENV, "3")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "modelarts_sim", "serve", "--state-dir", state_dir, "--port", str(port),
             "--time-scale", str(time_scale), "--seed", str(seed)],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout
    while not os.path.exists(ready):
        if process.poll() is not None:
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                raise SimulatorError("simulator exited with %s:\n%s" % (process.returncode, handle.read()[-3000:]))
        if time.monotonic() > deadline:
            process.kill()
            raise SimulatorError("simulator did not become ready within %s s" % timeout)
        time.sleep(0.02)
    return SimHandle(state_dir, process, log_path)
