# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""A picture of a rolling upgrade: one self-contained HTML page (inline SVG and CSS, no script,
no network) rendered from the run's journal alone, so it can be drawn for any run, live or
finished, from the ``<run id>.jsonl`` file, without the engine.

* a Gantt chart with one row per node: each phase (cordoned and draining, upgrading, verifying,
  smoke check) as a coloured bar from the journal event that entered it; a node that ends
  ``done`` gets a tick, one that ends ``failed`` a red cross and a hatched bar to the end of the
  run (it stays cordoned and keeps its slot); job interruptions (journal events ``interruption``
  with ``job`` and ``node``) are marked with a triangle on the node whose drain interrupted them;
* the slots in use over time (nodes in flight plus failed ones, as the budget counts them)
  against ``max_unavailable``.

Every element carries ``data-`` attributes (node, phase, start, end) so tests can read what the
page shows from the DOM a browser rendered.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape

PHASES = ("cordoned", "upgrading", "verifying", "smoke")
ENDS = ("done", "failed")
COLOURS = {"cordoned": "#f2a541", "upgrading": "#3d7ecb", "verifying": "#8e6bbf", "smoke": "#3aa6a0",
           "failed": "#d62f2f", "done": "#2e9d4a", "slots": "#3d7ecb", "limit": "#d62f2f", "job": "#111"}
LABEL_WIDTH = 230
CHART_WIDTH = 960
ROW = 18
AXIS = 26
SLOTS_HEIGHT = 140
_MAX_UNAVAILABLE = re.compile(r"max_unavailable (\d+)")


def parse_time(text):
    """Seconds since the epoch from the journal's ISO time (``...Z`` or with an offset)."""
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def timeline_model(events, max_unavailable=None):
    """What the page shows, from journal events (dicts, in file order): {"start", "end",
    "nodes": [{"node", "kube_name", "segments": [{"phase", "start", "end"}], "result", "at",
    "reason"}], "interruptions": [{"job", "node", "at"}], "slots": [(time, in use)],
    "max_unavailable", "run_id", "status", "title"}."""
    timed = [e for e in events if e.get("time")]
    if not timed:
        raise ValueError("the journal has no timed events")
    # The axis starts when the run starts (pre-flight checks before it are not drawn).
    starts = [parse_time(e["time"]) for e in timed if e.get("event") == "start"]
    start = starts[0] if starts else min(parse_time(e["time"]) for e in timed)
    end = max(parse_time(e["time"]) for e in timed)
    nodes, interruptions, run = {}, [], {"run_id": None, "status": None, "title": ""}
    for event in timed:
        at = parse_time(event["time"])
        kind = event.get("event")
        if kind in ("begin", "start"):
            run["run_id"] = event.get("run_id") or run["run_id"]
            if kind == "start":
                run["title"] = event.get("msg") or ""
                found = _MAX_UNAVAILABLE.search(run["title"])
                if found and max_unavailable is None:
                    max_unavailable = int(found.group(1))
            if event.get("max_unavailable") is not None:
                max_unavailable = int(event["max_unavailable"])
        elif kind == "end":
            run["status"] = event.get("status")
        elif kind == "interruption" and event.get("node"):
            interruptions.append({"job": event.get("job") or "?", "node": event["node"], "at": at})
        elif kind == "node" and event.get("node") and event.get("phase"):
            row = nodes.setdefault(event["node"], {"node": event["node"], "kube_name": event.get("kube_name"),
                                                   "segments": [], "result": None, "at": None, "reason": None})
            if row["segments"] and row["segments"][-1]["end"] is None:
                row["segments"][-1]["end"] = at
            phase = event["phase"]
            if phase in PHASES:
                row["segments"].append({"phase": phase, "start": at, "end": None})
                row["result"] = None
            elif phase in ENDS:
                row["result"], row["at"] = phase, at
                row["reason"] = event.get("msg") if phase == "failed" else None
    rows = sorted(nodes.values(), key=lambda r: (r["segments"][0]["start"] if r["segments"] else r["at"] or end,
                                                 r["node"]))
    for row in rows:
        if row["segments"] and row["segments"][-1]["end"] is None:
            row["segments"][-1]["end"] = row["at"] or end          # still in flight at the journal's end
    return {"start": start, "end": max(end, start + 1.0), "nodes": rows, "interruptions": interruptions,
            "slots": slots_in_use(rows, end), "max_unavailable": max_unavailable, **run}


def slots_in_use(rows, end):
    """[(time, slots in use)] steps: a node holds a slot from its first phase until done, and
    until the end when it failed (a failed node stays cordoned)."""
    changes = []
    for row in rows:
        if not row["segments"]:
            continue
        changes.append((row["segments"][0]["start"], 1))
        if row["result"] == "done":
            changes.append((row["at"], -1))
    changes.sort(key=lambda c: (c[0], c[1]))
    steps, used = [], 0
    for at, delta in changes:
        used += delta
        if steps and steps[-1][0] == at:
            steps[-1] = (at, used)
        else:
            steps.append((at, used))
    if steps:
        steps.append((end, steps[-1][1]))
    return steps


def _clock(seconds):
    seconds = int(round(seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60) if seconds >= 3600 \
        else "%d:%02d" % (seconds // 60, seconds % 60)


def _tick_step(span):
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if span / step <= 12:
            return step
    return 28800


def _axis(x_of, span, top, height):
    step = _tick_step(span)
    parts = []
    tick = 0
    while tick <= span:
        x = x_of(tick)
        parts.append('<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (x, top, x, top + height))
        parts.append('<text class="tick" x="%.1f" y="%d">%s</text>' % (x, top - 6, _clock(tick)))
        tick += step
    return "".join(parts)


def _gantt(model):
    span = model["end"] - model["start"]
    height = AXIS + ROW * len(model["nodes"]) + 8

    def x_of(offset):
        return LABEL_WIDTH + CHART_WIDTH * offset / span

    out = ['<svg id="gantt" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
           'aria-label="timeline per node">' % (LABEL_WIDTH + CHART_WIDTH + 20, height),
           _axis(x_of, span, AXIS, ROW * len(model["nodes"]))]
    for index, row in enumerate(model["nodes"]):
        y = AXIS + index * ROW
        name = row["node"] + (" (%s)" % row["kube_name"] if row.get("kube_name") else "")
        out.append('<g class="row" data-node="%s" data-result="%s">' % (escape(row["node"]), row["result"] or ""))
        out.append('<text class="label" x="%d" y="%d">%s</text>' % (LABEL_WIDTH - 8, y + ROW - 5, escape(name)))
        for segment in row["segments"]:
            x1, x2 = x_of(segment["start"] - model["start"]), x_of(segment["end"] - model["start"])
            out.append('<rect class="phase %s" data-phase="%s" data-start="%.3f" data-end="%.3f" x="%.1f" y="%d" '
                       'width="%.1f" height="%d"><title>%s %s: %s for %s</title></rect>' % (
                           segment["phase"], segment["phase"], segment["start"], segment["end"], x1, y + 3,
                           max(1.5, x2 - x1), ROW - 6, escape(row["node"]), segment["phase"],
                           _clock(segment["start"] - model["start"]), _clock(segment["end"] - segment["start"])))
        if row["result"] == "failed":
            x = x_of(row["at"] - model["start"])
            out.append('<rect class="failed-tail" x="%.1f" y="%d" width="%.1f" height="%d"/>' % (
                x, y + 3, max(0.0, LABEL_WIDTH + CHART_WIDTH - x), ROW - 6))
            out.append('<g class="failure" data-node="%s" data-at="%.3f"><title>%s</title>'
                       '<path d="M%.1f %dl8 8m0 -8l-8 8" /></g>' % (
                           escape(row["node"]), row["at"], escape(row["reason"] or "failed"), x - 4, y + 5))
        elif row["result"] == "done":
            x = x_of(row["at"] - model["start"])
            out.append('<path class="done" d="M%.1f %dl3 4l6 -8"/>' % (x + 2, y + 10))
        out.append("</g>")
    rows = {row["node"]: index for index, row in enumerate(model["nodes"])}
    for item in model["interruptions"]:
        if item["node"] not in rows:
            continue
        x, y = x_of(item["at"] - model["start"]), AXIS + rows[item["node"]] * ROW
        out.append('<path class="interruption" data-job="%s" data-node="%s" d="M%.1f %dl5 -9h-10z">'
                   '<title>job %s interrupted</title></path><text class="job" x="%.1f" y="%d">%s</text>' % (
                       escape(item["job"]), escape(item["node"]), x, y + ROW - 3, escape(item["job"]),
                       x - 7, y + ROW - 5, escape(item["job"].split("/")[-1])))
    out.append("</svg>")
    return "".join(out)


def _slots(model):
    span = model["end"] - model["start"]
    limit = model["max_unavailable"]
    peak = max([used for _at, used in model["slots"]] + [0])
    top_value = max(limit or 0, peak, 1) + 1          # headroom: the limit line stays off the border

    def x_of(offset):
        return LABEL_WIDTH + CHART_WIDTH * offset / span

    def y_of(value):
        return AXIS + SLOTS_HEIGHT - SLOTS_HEIGHT * value / float(top_value)

    out = ['<svg id="slots" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
           'aria-label="slots in use" data-max-unavailable="%s" data-peak="%d">' % (
               LABEL_WIDTH + CHART_WIDTH + 20, AXIS + SLOTS_HEIGHT + 10, limit if limit is not None else "", peak),
           _axis(x_of, span, AXIS, SLOTS_HEIGHT),
           '<text class="label" x="%d" y="%d">slots in use</text>' % (LABEL_WIDTH - 40, AXIS + SLOTS_HEIGHT // 2)]
    for value in sorted({0, peak, top_value}):
        out.append('<text class="label" x="%d" y="%.1f">%d</text>' % (LABEL_WIDTH - 6, y_of(value) + 4, value))
    points, used = ["%.1f,%.1f" % (x_of(0), y_of(0))], 0
    for at, value in model["slots"]:
        x = x_of(at - model["start"])
        points.append("%.1f,%.1f %.1f,%.1f" % (x, y_of(used), x, y_of(value)))
        used = value
    out.append('<polyline class="in-use" points="%s"/>' % " ".join(points))
    if limit is not None:
        out.append('<line class="limit" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>'
                   '<text class="limit-label" x="%d" y="%.1f">max_unavailable %d</text>' % (
                       LABEL_WIDTH, LABEL_WIDTH + CHART_WIDTH, y_of(limit), y_of(limit),
                       LABEL_WIDTH + CHART_WIDTH - 4, y_of(limit) + 14, limit))
    out.append("</svg>")
    return "".join(out)


STYLE = """
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:18px;margin:0 0 4px} p.meta{margin:0 0 12px;color:#555}
.legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;width:12px;height:10px;
margin-right:4px;vertical-align:-1px}
svg text{font-size:11px;fill:#333} text.label{text-anchor:end} text.tick{text-anchor:middle;fill:#777}
text.limit-label{text-anchor:end;fill:%(limit)s}
line.grid{stroke:#eee} rect.phase{stroke:none}
%(phase_rules)s
rect.failed-tail{fill:%(failed)s;opacity:.25}
g.failure path{stroke:%(failed)s;stroke-width:2.5;fill:none}
path.done{stroke:%(done)s;stroke-width:2;fill:none}
path.interruption{fill:%(job)s} text.job{font-size:9px;text-anchor:end;fill:%(job)s}
polyline.in-use{fill:none;stroke:%(slots)s;stroke-width:2} line.limit{stroke:%(limit)s;stroke-dasharray:6 4}
"""


def render_timeline(events, max_unavailable=None):
    """The page (str) for a run's journal events; max_unavailable when the journal lacks it."""
    model = timeline_model(events, max_unavailable)
    colours = dict(COLOURS, phase_rules="".join("rect.phase.%s{fill:%s}" % (p, COLOURS[p]) for p in PHASES))
    failed = sum(1 for r in model["nodes"] if r["result"] == "failed")
    done = sum(1 for r in model["nodes"] if r["result"] == "done")
    legend = "".join('<span><i style="background:%s"></i>%s</span>' % (COLOURS[p], p) for p in PHASES) + \
        '<span><i style="background:%s"></i>failed (stays cordoned)</span>' % COLOURS["failed"] + \
        '<span>&#9660; job interrupted</span>'
    meta = "run %s &middot; status %s &middot; %d node(s): %d done, %d failed &middot; %s elapsed &middot; " \
           "max_unavailable %s &middot; %d job interruption(s)" % (
               escape(str(model["run_id"] or "?")), escape(str(model["status"] or "running")), len(model["nodes"]),
               done, failed, _clock(model["end"] - model["start"]),
               model["max_unavailable"] if model["max_unavailable"] is not None else "?", len(model["interruptions"]))
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            '<title>Rolling upgrade %s</title><style>%s</style></head><body>'
            '<h1>Rolling driver upgrade %s</h1><p class="meta" id="meta">%s</p><p>%s</p>'
            '<p class="legend">%s</p>%s<h2 style="font-size:14px">Slots in use</h2>%s</body></html>\n') % (
        escape(str(model["run_id"] or "")), STYLE % colours, escape(str(model["run_id"] or "")), meta,
        escape(model["title"]), legend, _gantt(model), _slots(model))
