"""Fault rules (docs/development.md "FaultRule"): which requests or operations go wrong, and how."""
import json
import random
import re
import threading

KINDS = ("throttle", "error", "refuse", "latency", "reset", "fail_operation", "clock_skew")
APIS = ("modelarts", "k8s", "evs", "ims", "any")
OPERATIONS = ("driver_upgrade", "create", "delete", "reboot", "reset", "scale",
              # Lite Server (dev-server) operations; `node` names the server or super node
              "start", "stop", "changeos", "reinstallos", "repair",
              # EVS disk expansion and IMS image creation; `node` names the server, super node or volume
              "extend", "create_image")
TERMINAL_KINDS = ("throttle", "error", "refuse", "reset")
# What a `refuse` rule may answer: the 4xx refusals ModelArts is known to send (modelarts-lite-api.md 3.2),
# error_code -> (HTTP status, the service's error_msg when the rule gives none).
REFUSALS = {
    "ModelArts.50004000": (400, "Bad request"),
    "ModelArts.6404": (400, "The resource does not exist."),
    "ModelArts.0102": (400, "The workspace does not exist."),
    "ModelArts.50015001": (404, "Pool not found."),
    "ModelArts.50005101": (404, "Plugintemplate not found."),
    "ModelArts.50015000": (409, "Pool already exists."),
}


class FaultRuleError(ValueError):
    pass


def validate_rule(raw) -> dict:
    """A normalised copy of one rule, or FaultRuleError naming what is wrong."""
    if not isinstance(raw, dict):
        raise FaultRuleError("each fault rule must be an object")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise FaultRuleError("fault kind must be one of %s, got %r" % (", ".join(KINDS), kind))
    rule = dict(raw)
    rule["api"] = raw.get("api") or "any"
    if rule["api"] not in APIS:
        raise FaultRuleError("fault api must be one of %s" % ", ".join(APIS))
    if raw.get("method") is not None:
        rule["method"] = str(raw["method"]).upper()
    if raw.get("path") is not None:
        try:
            rule["_path_re"] = re.compile(raw["path"])
        except re.error as exc:
            raise FaultRuleError("fault path is not a valid regular expression: %s" % exc) from None
    count = raw.get("count")
    if count is not None and (not isinstance(count, int) or count < 0):
        raise FaultRuleError("fault count must be a non-negative integer or null")
    probability = raw.get("probability", 1.0)
    if not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise FaultRuleError("fault probability must be between 0 and 1")
    rule["probability"] = float(probability)
    if kind == "error":
        rule["status"] = int(raw.get("status") or 500)
        if rule["status"] not in (500, 502, 503, 504):
            raise FaultRuleError("error faults use status 500, 502, 503 or 504")
    if kind == "refuse":
        _validate_refusal(rule)
    if kind == "throttle":
        rule["retry_after"] = raw.get("retry_after", 1)
    if kind in ("latency", "clock_skew") and not isinstance(raw.get("seconds"), (int, float)):
        raise FaultRuleError("%s faults need a numeric 'seconds'" % kind)
    if kind == "fail_operation":
        if raw.get("operation") not in OPERATIONS:
            raise FaultRuleError("fail_operation needs operation in %s" % ", ".join(OPERATIONS))
        if not raw.get("node"):
            raise FaultRuleError("fail_operation needs 'node': a node name, pool id or pool display name")
    rule["_remaining"] = count
    return rule


def _validate_refusal(rule):
    """A refusal is a ModelArts 4xx the service sends, in its own body shape (error_code, error_msg)."""
    if rule["api"] != "modelarts":
        raise FaultRuleError("refuse faults need api 'modelarts' (the refusals are ModelArts error codes)")
    rule["error_code"] = rule.get("error_code") or "ModelArts.50004000"
    if rule["error_code"] not in REFUSALS:
        raise FaultRuleError("refuse faults use error_code %s" % ", ".join(sorted(REFUSALS)))
    status, message = REFUSALS[rule["error_code"]]
    if rule.get("status") not in (None, status):
        raise FaultRuleError("%s is answered with HTTP %d" % (rule["error_code"], status))
    rule["status"] = status
    error_msg = rule.get("error_msg")
    if error_msg is not None and not isinstance(error_msg, str):
        raise FaultRuleError("refuse faults take error_msg as a string")
    rule["error_msg"] = error_msg or message


def public_view(rule: dict) -> dict:
    view = {k: v for k, v in rule.items() if not k.startswith("_")}
    view["remaining"] = rule["_remaining"]
    return view


class Faults:
    """The active rules. Counts are consumed as rules hit; thread-safe on its own lock."""

    def __init__(self, seed: int):
        self._lock = threading.Lock()
        self._rules = []
        self._random = random.Random(seed)

    def replace(self, raw_rules):
        rules = [validate_rule(r) for r in raw_rules]
        with self._lock:
            self._rules = rules

    def clear(self):
        with self._lock:
            self._rules = []

    def list(self):
        with self._lock:
            return [public_view(r) for r in self._rules]

    def _hits(self, rule) -> bool:
        if rule["_remaining"] == 0:
            return False
        if rule["probability"] < 1.0 and self._random.random() >= rule["probability"]:
            return False
        if rule["_remaining"] is not None:
            rule["_remaining"] -= 1
        return True

    def for_request(self, api: str, method: str, path: str):
        """Rules that apply to this request: any latency/clock_skew, then at most one terminal rule."""
        applied = []
        terminal_taken = False
        with self._lock:
            for rule in self._rules:
                if rule["kind"] == "fail_operation":
                    continue
                if rule["api"] != "any" and rule["api"] != api:
                    continue
                if rule.get("method") and rule["method"] != method:
                    continue
                if "_path_re" in rule and not rule["_path_re"].search(path):
                    continue
                if rule["kind"] in TERMINAL_KINDS and terminal_taken:
                    continue
                if self._hits(rule):
                    applied.append(dict(rule))
                    terminal_taken = terminal_taken or rule["kind"] in TERMINAL_KINDS
        return applied

    def fails(self, operation: str, names) -> bool:
        """True when a fail_operation rule targets this operation on one of `names` (consumes one hit)."""
        wanted = {n for n in names if n}
        with self._lock:
            for rule in self._rules:
                if rule["kind"] == "fail_operation" and rule["operation"] == operation \
                        and rule["node"] in wanted and self._hits(rule):
                    return True
        return False


def load_rules_file(path: str):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return data.get("rules", []) if isinstance(data, dict) else data
