"""The simulator's central state: clock, timers, persistence, audit, history, counters, hooks.

Everything the ModelArts side (cloud.py) and the Kubernetes side (kube/) share goes through one
World. The hooks the Kubernetes side may use are listed in docs/development.md "World hooks".
"""
import copy
import functools
import heapq
import json
import os
import pickle
import secrets
import string
import sys
import threading
import time
from datetime import datetime, timezone

from .faults import Faults, FaultRuleError, load_rules_file

STATE_FORMAT = 1
SAVE_DEBOUNCE_SECONDS = 0.25
# A big state (thousands of nodes and pods) takes a while to serialise under the lock: the
# background save then waits this many times its last duration, so saving stays a small share
# of the simulator's time. Shutdown always saves.
SAVE_DUTY_FACTOR = 20
TICK_SECONDS = 0.05
TICK_HOOK_SECONDS = 0.2
SECRET_KEY_PARTS = ("password", "passwd", "secret", "token", "authorization", "private_key", "privatekey")


@functools.lru_cache(maxsize=16384)
def iso(epoch: float) -> str:
    # Cached: a node list formats every node's creation time, and fromtimestamp is slow.
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def redact(value):
    """A copy of a JSON value with secret-looking keys masked."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in ("sk", "secret_key") or any(part in lowered for part in SECRET_KEY_PARTS):
                out[key] = "********"
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _random_text(length, alphabet=string.ascii_uppercase + string.digits):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _new_credentials():
    return {
        "project_id": secrets.token_hex(16),
        "domain_id": secrets.token_hex(16),
        "access_key": "SIM" + _random_text(17),
        "secret_key": _random_text(40, string.ascii_letters + string.digits),
        "temporary": {"access_key": "SIMTMP" + _random_text(14),
                      "secret_key": _random_text(40, string.ascii_letters + string.digits),
                      "security_token": _random_text(64, string.ascii_letters + string.digits)},
        "admin_token": secrets.token_urlsafe(24),
    }


class JsonLines:
    """An append-only JSON-lines file mirrored in memory (audit log, history).

    append() is called with world.lock held, so it only queues the line: file I/O releases the
    GIL, and a lock holder waiting to get it back makes every request wait. flush() writes the
    queue: the ticker does, and the server flushes the audit log before each answer goes out."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()      # one writer at a time keeps the lines in order
        self._pending = []
        self.entries = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    line = line.strip()
                    if line:
                        try:
                            self.entries.append(json.loads(line))
                        except ValueError:
                            continue  # a torn last line after a crash
        self._handle = open(path, "a", encoding="utf-8")

    def append(self, entry: dict) -> dict:
        with self._lock:
            entry = dict(entry, seq=len(self.entries) + 1)
            self.entries.append(entry)
            self._pending.append(json.dumps(entry, sort_keys=True) + "\n")
            return entry

    def flush(self):
        if not self._pending:       # the usual case for a read: no lock, no I/O
            return
        with self._write_lock:
            with self._lock:
                lines, self._pending = self._pending, []
            if lines and not self._handle.closed:
                self._handle.write("".join(lines))
                self._handle.flush()

    def since(self, seq: int):
        with self._lock:
            return list(self.entries[max(seq, 0):])

    def close(self):
        self.flush()
        with self._write_lock:
            self._handle.close()


class World:
    def __init__(self, state_dir: str, time_scale: float = 1.0, seed: int = 0):
        self.state_dir = os.path.abspath(state_dir)
        self.time_scale = float(time_scale)
        self.seed = int(seed)
        self.lock = threading.RLock()
        self.base_url = None                     # https://127.0.0.1:PORT, set once listening
        self.ca_path = os.path.join(self.state_dir, "ca.pem")
        self.kubeconfig_path = os.path.join(self.state_dir, "kubeconfig")
        self.busy_probe = None                   # optional fn(pool_id, node_name) -> bool, set by kube side
        self._subscribers = []
        self._savers = {}
        self._tick_hooks = []
        self._running_due = None
        self._timer_handlers = {}
        self._dirty = False
        self._last_save = 0.0
        self._save_seconds = 0.0
        self._save_lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None
        self.faults = Faults(self.seed)
        self._faults_mtime = None
        self.counters = {}
        self._counters_lock = threading.Lock()

        os.makedirs(self.state_dir, exist_ok=True)
        self.state_path = os.path.join(self.state_dir, "state.json")
        if os.path.exists(self.state_path):
            with open(self.state_path, encoding="utf-8") as handle:
                self.state = json.load(handle)
        else:
            self.state = {"format": STATE_FORMAT, "credentials": _new_credentials(), "clock": time.time(),
                          "serial": 0, "pools": {}, "orders": {}, "jobs": {}, "timers": [], "extensions": {}}
            self._dirty = True
        heapq.heapify(self.state["timers"])
        self._clock_base = float(self.state["clock"])  # sim time is paused while the simulator is stopped
        self._clock_mono = time.monotonic()
        self.audit_log = JsonLines(os.path.join(self.state_dir, "audit.jsonl"))
        self.history_log = JsonLines(os.path.join(self.state_dir, "history.jsonl"))
        self.reload_faults_file()

    # ---- identity -----------------------------------------------------------------------
    @property
    def credentials(self):
        return self.state["credentials"]

    @property
    def project_id(self):
        return self.credentials["project_id"]

    @property
    def pools(self):
        """pool id -> pool record (see cloud.py). Read under world.lock; never mutate from outside."""
        return self.state["pools"]

    # ---- clock and timers -----------------------------------------------------------------
    def now(self) -> float:
        """Simulated time in epoch seconds: runs `time_scale` times faster than the wall clock."""
        return self._clock_base + (time.monotonic() - self._clock_mono) * self.time_scale

    def advance_clock(self, seconds: float):
        with self.lock:
            self._clock_base += float(seconds)
            self.run_due()

    def next_serial(self) -> int:
        self.state["serial"] += 1
        return self.state["serial"]

    def register_timer(self, kind: str, handler):
        self._timer_handlers[kind] = handler

    def schedule(self, delay: float, kind: str, **args):
        """Run handler `kind`(**args) once sim time has moved `delay` seconds on. Persisted."""
        with self.lock:
            # Inside a timer handler, chain from the moment it was due, so a jump of the clock
            # runs a whole chain of steps with their realistic timestamps.
            base = self._running_due if self._running_due is not None else self.now()
            heapq.heappush(self.state["timers"], [base + delay, self.next_serial(), kind, args])
            self.mark_dirty()

    def run_due(self):
        with self.lock:
            timers = self.state["timers"]
            now = self.now()
            while timers and timers[0][0] <= now:
                due, _serial, kind, args = heapq.heappop(timers)
                handler = self._timer_handlers.get(kind)
                self.mark_dirty()
                if handler is None:
                    continue
                self._running_due = due
                try:
                    handler(due=due, **args)
                except Exception as exc:  # a broken transition must not stop the clock
                    print("modelarts-sim: timer %s failed: %r" % (kind, exc), file=sys.stderr)
                finally:
                    self._running_due = None

    # ---- hooks ------------------------------------------------------------------------------
    def subscribe(self, callback):
        """callback(event: dict) is called with world.lock held for every pool/node change."""
        self._subscribers.append(callback)

    def emit(self, event: dict):
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception as exc:
                print("modelarts-sim: subscriber failed on %s: %r" % (event.get("type"), exc), file=sys.stderr)

    def on_save(self, key: str, to_state, from_state, snapshot=None):
        """Persist an extension's state under state.json["extensions"][key].

        to_state() -> JSON value, called under world.lock at each save; from_state(value) is
        called right away when the loaded state.json already holds that key. With snapshot, a
        save calls snapshot() under world.lock instead: it returns a function that renders the
        same value as JSON text and is called after the lock is released (for a big state that
        can be frozen cheaply, so requests do not wait while it is serialised).
        """
        with self.lock:
            self._savers[key] = (to_state, snapshot)
            saved = self.state["extensions"].get(key)
            if saved is not None:
                from_state(saved)

    def on_tick(self, callback):
        """callback() runs on the background ticker about every TICK_HOOK_SECONDS (no lock held)."""
        self._tick_hooks.append(callback)

    def mark_dirty(self):
        self._dirty = True

    # ---- logs and counters --------------------------------------------------------------
    def audit(self, api: str, request, status, body=None) -> dict:
        """Record one mutating request; body defaults to the request's JSON body (redacted)."""
        if body is None and request.body:
            try:
                body = request.json()
            except ValueError:
                body = "<%d bytes, not JSON>" % len(request.body)
        query = {}
        for key, value in request.query:
            query.setdefault(key, []).append(value)
        return self.audit_log.append({
            "time": iso(time.time()), "api": api, "method": request.method, "path": request.path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in query.items()}, "status": status,
            "request_id": getattr(request, "request_id", ""), "agent": request.header("user-agent"),
            "body": redact(body)})

    def history(self, event: dict) -> dict:
        return self.history_log.append(dict(event, sim_time=iso(self.now()), wall_time=iso(time.time())))

    def count(self, api: str, method: str):
        with self._counters_lock:
            by_method = self.counters.setdefault(api, {})
            by_method[method] = by_method.get(method, 0) + 1

    def counters_snapshot(self):
        with self._counters_lock:
            return copy.deepcopy(self.counters)

    def reset_counters(self):
        with self._counters_lock:
            self.counters = {}

    # ---- faults file ------------------------------------------------------------------------
    def reload_faults_file(self):
        path = os.path.join(self.state_dir, "faults.json")
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._faults_mtime:
            return
        self._faults_mtime = mtime
        try:
            self.faults.replace(load_rules_file(path))
        except (ValueError, FaultRuleError) as exc:
            print("modelarts-sim: ignoring %s: %s" % (path, exc), file=sys.stderr)

    # ---- persistence ----------------------------------------------------------------------
    def save(self, force: bool = False):
        started = time.monotonic()
        with self._save_lock:
            with self.lock:
                if not (self._dirty or force):
                    return
                rendered = {}
                for key, (to_state, snapshot) in self._savers.items():
                    if snapshot is not None:
                        rendered[key] = snapshot()
                        self.state["extensions"][key] = None     # rendered below, without the lock
                    else:
                        self.state["extensions"][key] = to_state()
                self.state["clock"] = self.now()
                frozen = pickle.dumps(self.state, pickle.HIGHEST_PROTOCOL)     # the rest: small
                self._dirty = False
            text = self._render(pickle.loads(frozen), rendered)
            temporary = self.state_path + ".tmp"
            # state.json holds the credentials and admin token: owner-only
            with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
                           encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.state_path)
            self._last_save = time.monotonic()
            self._save_seconds = self._last_save - started

    @staticmethod
    def _render(state: dict, rendered: dict) -> str:
        """state as compact JSON text, with the extensions in `rendered` ({key: fn() -> JSON text})."""
        def member(key, value):
            if key == "extensions":
                value = "{" + ",".join(json.dumps(k) + ":" + (rendered[k]() if k in rendered else compact(v))
                                       for k, v in value.items()) + "}"
            else:
                value = compact(value)
            return json.dumps(key) + ":" + value

        def compact(value):
            return json.dumps(value, separators=(",", ":"))
        return "{" + ",".join(member(key, value) for key, value in state.items()) + "}"

    def start_ticker(self):
        self._ticker = threading.Thread(target=self._tick_loop, name="sim-ticker", daemon=True)
        self._ticker.start()

    def flush_logs(self, history: bool = True):
        """Write out queued audit (and history) lines; call it without world.lock held."""
        self.audit_log.flush()
        if history:
            self.history_log.flush()

    def _tick_loop(self):
        last_faults_check = last_hooks = 0.0
        while not self._stop.wait(TICK_SECONDS):
            self.flush_logs()
            self.run_due()
            current = time.monotonic()
            if current - last_hooks >= TICK_HOOK_SECONDS:
                last_hooks = current
                for callback in list(self._tick_hooks):
                    try:
                        callback()
                    except Exception as exc:
                        print("modelarts-sim: tick hook failed: %r" % (exc,), file=sys.stderr)
            if current - last_faults_check > 0.5:
                last_faults_check = current
                self.reload_faults_file()
            if self._dirty and current - self._last_save >= max(SAVE_DEBOUNCE_SECONDS,
                                                                SAVE_DUTY_FACTOR * self._save_seconds):
                try:
                    self.save()
                except OSError as exc:
                    print("modelarts-sim: saving state failed: %s" % exc, file=sys.stderr)

    def close(self):
        self._stop.set()
        if self._ticker:
            self._ticker.join(timeout=2)
        self.save(force=True)
        self.audit_log.close()
        self.history_log.close()

    # ---- read helpers for the Kubernetes side (delegates to cloud.py, set by the server) ----------
    cloud = None

    def pool_ids(self):
        with self.lock:
            return list(self.state["pools"])

    def nodes_info(self, pool_id):
        """[NodeInfo] of one pool (see docs/development.md "World hooks"); [] for an unknown pool."""
        with self.lock:
            return self.cloud.nodes_info(pool_id)
