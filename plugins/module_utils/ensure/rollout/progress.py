# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""lite_rollout_info: follow the journal a running lite_rollout appends to.

Local files only, no API request. A cursor file next to the journal (``<journal>.cursor``) remembers
how far the previous call read, so a role's loop needs no variables passed between iterations; in
check mode the cursor is read but not moved (the call writes nothing). The journal's last event,
"result", is the engine's own account of how the run ended (run.py writes it whatever the outcome,
a refusal included); it is returned with the report files it names. An engine whose process is gone
without that event died: the result then says so, with the last thing it wrote. Nothing here reads
Ansible's async job files.
"""

from __future__ import annotations

import json
import os
import signal
import time

# After the first new line, wait this long for the rest of a burst (several nodes in one cycle).
BURST_SECONDS = 0.3
TICK_SECONDS = 0.1
# After the journal's "end" event the rollout still releases its lock and writes its report.
RESULT_WAIT_SECONDS = 10.0


def heartbeat_path(journal):
    """The file each progress poll touches; the engine takes its silence as a cancelled job."""
    return journal + ".heartbeat"


def beat(journal):
    """Touch the heartbeat (best effort: a poll that cannot write it still reports progress), unless
    the controller is gone: then end the orphaned worker instead, and the heartbeat falls silent."""
    if controller_gone():
        end_orphaned_worker()
    try:
        with open(heartbeat_path(journal), "a", encoding="utf-8"):
            pass
        os.utime(heartbeat_path(journal), None)
    except OSError:
        pass


# The programs a local ansible worker's parent runs (a worker is a fork of one of them).
ANSIBLE_CONTROLLERS = (b"ansible-playbook", b"ansible", b"ansible-console")


def _proc(pid, name):
    with open("/proc/%d/%s" % (pid, name), "rb") as handle:
        return handle.read()


def _is_ansible(pid):
    """True when process ``pid`` runs ansible-playbook (directly, or as ``python .../ansible-playbook``).
    An init process that merely names ansible-runner in its arguments (AWX's execution environment) is not."""
    argv = _proc(pid, "cmdline").split(b"\0")[:2]
    return any(os.path.basename(arg) in ANSIBLE_CONTROLLERS for arg in argv)


def controller_gone():
    """True when this poll runs in an ansible worker whose ansible-playbook is gone (killed by a
    cancel: AWX and ansible-runner SIGKILL its process group in the end). Ansible runs each task in
    a worker process of its own session, outside that group: the worker survives the kill and would
    go on with the loop of polls, keeping the heartbeat alive. False whenever it cannot tell (no
    /proc, not run by a local ansible worker)."""
    try:
        worker = os.getsid(0)
        if not _is_ansible(worker):
            return False
        parent = int(_proc(worker, "stat").rsplit(b")", 1)[1].split()[1])
        return not _is_ansible(parent)
    except (OSError, ValueError, IndexError):
        return False


def end_orphaned_worker():
    """Do what ansible-playbook does for its workers when it is stopped: end the worker's process
    group (this poll included), so no process of a cancelled job stays behind."""
    os.killpg(os.getpgrp(), signal.SIGKILL)


class ControllerGone:
    """The engine's stop request when the controller is gone: nobody follows the run any more, so
    the nodes in flight are parked instead of waited for (Engine's ``stop_requested`` seam)."""

    park = True

    def __init__(self, reason):
        self.reason = reason


def controller_watch(journal, timeout, clock=time.time):
    """For the engine (``stop_requested``): a ControllerGone once no progress poll has touched the
    heartbeat for ``timeout`` seconds (counted from the watch's start at the earliest), else None.
    None instead of a watch when there is nothing to watch (no journal, or a timeout of 0)."""
    if not journal or not timeout:
        return None
    started = clock()

    def stop_requested():
        try:
            last = max(started, os.stat(heartbeat_path(journal)).st_mtime)
        except OSError:
            last = started
        silent = clock() - last
        if silent <= timeout:
            return None
        return ControllerGone("the controller stopped following the run: no progress poll for %ds (the job was "
                              "cancelled, or ansible-playbook was killed)" % silent)
    return stop_requested


def read_new(journal, cursor_path, offset=None):
    """New complete lines after ``offset`` (default: the cursor file's); the offset only moves past
    complete lines."""
    if offset is None:
        try:
            with open(cursor_path, encoding="utf-8") as handle:
                offset = int(handle.read().strip() or 0)
        except (OSError, ValueError):
            offset = 0
    try:
        with open(journal, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for raw in data[:end].splitlines():
        try:
            events.append(json.loads(raw.decode("utf-8")))
        except ValueError:
            events.append({"event": "unreadable", "msg": raw.decode("utf-8", "replace")})
    return events, offset + end


def pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def whole_journal(journal):
    """Every event of the journal, for the run's first and last word."""
    events, _offset = read_new(journal, None, 0)
    return events


def result_of(event):
    """The run's result from the journal's "result" event, with the report and summary from the
    files it names (the engine wrote them before that event)."""
    result = {k: v for k, v in event.items() if k not in ("time", "event", "msg", "message")}
    if event.get("message"):
        result["msg"] = event["message"]
    report_file = event.get("report_file")
    if report_file:
        try:
            with open(report_file, encoding="utf-8") as handle:
                result["report"] = json.load(handle)
            with open(os.path.splitext(report_file)[0] + ".txt", encoding="utf-8") as handle:
                result["summary"] = handle.read().rstrip("\n")
        except (OSError, ValueError):
            pass
    return result


def died_result(events):
    """What a watcher can tell of an engine that is gone without its result: what it wrote last."""
    begin = next((e for e in events if e.get("event") == "begin"), {})
    last = events[-1] if events else {}
    started = any(e.get("node") and e.get("event") != "plan" for e in events)
    message = ("the rollout engine (pid %s) is gone without writing its result; the last thing it wrote, at %s: "
               "%s. A rerun resumes from the state recorded on the nodes." % (
                   begin.get("pid"), last.get("time"), last.get("msg") or last.get("event")))
    report = {"run_id": begin.get("run_id"), "status": "died", "message": message, "last_event": last}
    return {"run_id": begin.get("run_id"), "status": "died", "changed": started, "msg": message, "report": report,
            "summary": "Rolling driver upgrade %s died: %s" % (begin.get("run_id"), message)}


def line_of(event):
    stamp = (event.get("time") or "")[11:19]
    return "%s %s" % (stamp, event.get("msg") or event.get("event"))


def follow_journal(clients, params, check_mode):
    """New journal events (waiting up to ``params["wait"]`` s for them), whether the run finished,
    and its result once it has: the journal's "result" event (the engine's own word), or, when the
    engine's process is gone without one, what it wrote last. ``clients`` is unused: this reads
    local files only."""
    journal = params["journal"]
    cursor_path = journal + ".cursor"
    if not check_mode:
        beat(journal)
    deadline = time.monotonic() + max(0.0, params["wait"])
    events, offset = [], None
    first_seen = None
    while True:
        new, offset = read_new(journal, cursor_path, offset)
        if new:
            events.extend(new)
            if not check_mode:
                with open(cursor_path, "w", encoding="utf-8") as handle:
                    handle.write(str(offset))
            first_seen = first_seen or time.monotonic()
        kinds = {e.get("event") for e in events}
        now = time.monotonic()
        if not check_mode:
            beat(journal)
        if "result" in kinds:
            break
        # After the "end" event the engine still releases its Lease and writes its report files.
        if "end" in kinds:
            deadline = max(deadline, first_seen + RESULT_WAIT_SECONDS)
        elif first_seen and now - first_seen >= BURST_SECONDS:
            break
        if now >= deadline:
            break
        time.sleep(TICK_SECONDS)
    final = next((e for e in reversed(events) if e.get("event") == "result"), None)
    result = result_of(final) if final else None
    if result is None:
        # The latest run's events (a journal named by a reused run id holds earlier runs before it).
        everything = whole_journal(journal)
        begins = [i for i, e in enumerate(everything) if e.get("event") == "begin"]
        latest = everything[begins[-1]:] if begins else everything
        pid = latest[0].get("pid") if begins else None
        if pid is not None and not pid_alive(pid) and not any(e.get("event") == "result" for e in latest):
            result = died_result(latest)
    lines = [line_of(e) for e in events if e.get("event") != "result"] or ["waiting..."]
    extra = {"result": result} if result is not None else {}
    return dict(changed=False, events=events, lines=lines, begun=os.path.exists(journal),
                finished=result is not None, status=result["status"] if result else None, **extra)
