# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""What a rollout tells: its run id, the journal (progress events as JSON lines), the plan, the
final report, the summary text and the report files. Only the engine makes these; the role shows
them.
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.modelarts.lite.plugins.module_utils import times
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.machine import ALREADY, DONE, FAILED, IN_FLIGHT
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain


def new_run_id(wall):
    """rollout-<UTC time>-<6 hex>: sorts by start time, unique enough for one pool's runs."""
    return "rollout-%s-%s" % (times.compact(wall()), hashlib.sha256(os.urandom(8)).hexdigest()[:6])


class Journal:
    """Progress events as JSON lines, flushed as they happen (lite_rollout_info tails the file)."""

    def __init__(self, path):
        self.path = path
        self.handle = None
        if path:
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, exist_ok=True)
            self.handle = open(path, "a", encoding="utf-8")

    def __call__(self, event):
        if self.handle is not None:
            self.handle.write(json.dumps(event, sort_keys=True) + "\n")
            self.handle.flush()

    def close(self):
        if self.handle is not None:
            self.handle.close()


def event(wall, kind, text, track=None, **fields):
    """One journal event: time, event, msg, and the node's name, Kubernetes name and phase."""
    record = {"time": times.iso_ms(wall), "event": kind, "msg": text}
    if track is not None:
        record.update(node=track.name, kube_name=track.kube_name, phase=track.phase)
    record.update(fields)
    return record


# ----------------------------------------------------------------------------------------------
# Counts
# ----------------------------------------------------------------------------------------------
def tally(tracks):
    counts = {}
    for track in tracks:
        key = "in_flight" if track.phase in IN_FLIGHT else track.phase
        counts[key] = counts.get(key, 0) + 1
    return counts


def tally_text(tracks):
    counts = tally(tracks)
    return "done %d, in flight %d, failed %d, pending %d, skipped %d" % (
        counts.get(DONE, 0) + counts.get(ALREADY, 0), counts.get("in_flight", 0), counts.get(FAILED, 0),
        counts.get("pending", 0), counts.get("skipped", 0))


def api_calls(clients_calls, since):
    """API calls made since ``since`` ({api: {METHOD: n}}), from the clients' own counters."""
    counts = {}
    for api_name, calls in clients_calls.items():
        before = since.get(api_name) or {}
        made = {method: n - before.get(method, 0) for method, n in calls.items() if n - before.get(method, 0)}
        if made:
            counts[api_name] = made
    return counts


# ----------------------------------------------------------------------------------------------
# Plan, node records, the report
# ----------------------------------------------------------------------------------------------
def node_report(track):
    entry = {"name": track.name, "kube_name": track.kube_name, "node_pool": track.node_pool,
             "canary": track.canary, "result": track.phase, "from_version": track.before,
             "to_version": track.after, "start": times.iso(track.started), "end": times.iso(track.ended),
             "duration": None if track.started is None or track.ended is None
             else round(track.ended - track.started, 1)}
    if track.reason:
        entry["reason"] = track.reason
    if track.resumed:
        entry["resumed"] = True
    if track.evicted:
        entry["evicted"] = list(track.evicted)
    return entry


def plan_report(tracks, policy, pdbs, node_seconds):
    pending = [t for t in tracks if t.phase == "pending" or t.phase in IN_FLIGHT]
    canaries = [t for t in tracks if t.canary]
    return {
        "order": [t.name for t in pending],
        "canary": [t.name for t in canaries],
        "max_unavailable": policy.max_unavailable,
        "max_unavailable_per_node_pool": policy.pool_limits,
        "expected_duration_seconds": policy.expected_duration(len(pending), len(canaries), node_seconds),
        "expected_node_seconds": node_seconds,
        "nodes": [node_report(t) for t in tracks],
        "blocking_pdbs": sorted({kdrain.pod_key(p) for p in pdbs
                                 if ((p.get("status") or {}).get("disruptionsAllowed", 1)) <= 0}),
    }


def run_report(run_id, pool_id, target, status, stop_reason, started_wall, ended_wall, tracks, policy):
    """The final report of a run (the journal's last event says the same in one line)."""
    upgraded = [t for t in tracks if t.phase == DONE]
    durations = sorted(t.ended - t.started for t in upgraded if t.started and t.ended)
    report = {
        "run_id": run_id, "pool_id": pool_id, "target": target, "status": status,
        "stop_reason": stop_reason, "started": times.iso(started_wall), "ended": times.iso(ended_wall),
        "elapsed_seconds": round(ended_wall - started_wall, 1), "max_unavailable": policy.max_unavailable,
        "counts": tally(tracks), "nodes": [node_report(t) for t in tracks],
    }
    if durations:
        mean = sum(durations) / len(durations)
        report["node_seconds"] = {"min": round(durations[0], 1), "mean": round(mean, 1),
                                  "max": round(durations[-1], 1)}
        canaries = sum(1 for t in upgraded if t.canary)
        report["physical_limit_seconds"] = round(policy.expected_duration(len(upgraded), canaries, mean), 1)
    return report


def refusal_report(run_id, pool, target, status, message):
    """The report of a run that ended before any change (``refused``, or ``error`` for a bug)."""
    return {"run_id": run_id, "pool_id": pool, "target": target, "status": status, "stop_reason": None,
            "message": message, "counts": {}, "nodes": []}


# The result fields the journal's last event carries; the report and the summary are in the files it names.
RESULT_FIELDS = ("run_id", "status", "changed", "report_file", "timeline_file")


def result_event(wall, result):
    """The journal's last event: the run's outcome, what lite_rollout_info hands back when it ends
    (the result's ``msg`` as ``message``: ``msg`` is every event's one line)."""
    fields = {k: result.get(k) for k in RESULT_FIELDS if result.get(k) is not None}
    if result.get("msg"):
        fields["message"] = result["msg"]
    return event(wall, "result", "result: %s" % result.get("status"), **fields)


def summary_text(report):
    lines = ["Rolling driver upgrade %s of pool %s to %s: %s" % (report.get("run_id"), report.get("pool_id"),
                                                                 report.get("target"), report.get("status"))]
    if report.get("message") and not report.get("nodes"):
        lines.append(report["message"])
    if report.get("stop_reason"):
        lines.append("Stopped launching: %s" % report["stop_reason"])
    counts = report.get("counts") or {}
    if counts:
        lines.append("Nodes: " + ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items())))
    if report.get("elapsed_seconds") is not None:
        lines.append("Elapsed %ss (max_unavailable %s%s)" % (
            report["elapsed_seconds"], report.get("max_unavailable"),
            ", physical limit %ss" % report["physical_limit_seconds"] if report.get("physical_limit_seconds") else ""))
    for node in report.get("nodes") or []:
        line = "  %-24s %-16s %-9s %s -> %s" % (node["name"], node.get("kube_name") or "", node["result"],
                                                node.get("from_version"), node.get("to_version") or "-")
        if node.get("start"):
            line += "  %s .. %s" % (node["start"], node.get("end") or "")
        if node.get("reason") and node["result"] != ALREADY:
            line += "  (%s)" % node["reason"]
        lines.append(line)
    return "\n".join(lines)


def write_report(directory, result):
    """<run_id>.json (the report with the run's status and message) and <run_id>.txt (the summary),
    each replaced in one rename so a reader never sees half a file. Returns the JSON file's path."""
    report = dict(result.get("report") or {}, run_id=result["run_id"], status=result.get("status"),
                  message=result.get("msg") or "")
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, result["run_id"])
    for path, text in ((base + ".json", json.dumps(report, indent=4, sort_keys=True) + "\n"),
                       (base + ".txt", (result.get("summary") or "") + "\n")):
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path + ".tmp", 0o644)
        os.replace(path + ".tmp", path)
    return base + ".json"


def write_timeline(directory, run_id, journal_path, max_unavailable):
    """<run_id>.html, the run's picture (timeline.py) drawn from its journal; None without one."""
    from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import timeline
    if not journal_path or not os.path.exists(journal_path):
        return None
    with open(journal_path, encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle if line.strip().endswith("}")]
    events = [e for e in events if e.get("run_id") in (None, run_id)]
    path = os.path.join(directory, run_id + ".html")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(timeline.render_timeline(events, max_unavailable))
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)
    return path
