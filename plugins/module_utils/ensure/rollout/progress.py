# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""lite_rollout_info: follow the journal a running lite_rollout appends to.

Local files only, no API request. A cursor file next to the journal (``<journal>.cursor``) remembers
how far the previous call read, so a role's loop needs no variables passed between iterations; in
check mode the cursor is read but not moved (the call writes nothing). When the journal's last event
is read (or the rollout's process is gone), the rollout's async job result is returned as
ansible.builtin.async_status would return it, read from the job's results file.
"""

from __future__ import annotations

import json
import os
import signal
import time

# After the first new line, wait this long for the rest of a burst (several nodes in one cycle).
BURST_SECONDS = 0.3
TICK_SECONDS = 0.1
# After the journal's last event the rollout still releases its lock and writes its report.
RESULT_WAIT_SECONDS = 10.0
RESULT_TICK_SECONDS = 0.05


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


def job_result(async_dir, job_id):
    """The async job's final result, or None while it runs. The async wrapper first writes a
    placeholder with "started"; the module's own result replaces it (as async_status reads it)."""
    if not job_id:
        return None
    try:
        with open(os.path.join(async_dir, job_id), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "started" not in data else None


def wait_for_result(async_dir, job_id, timeout):
    deadline = time.monotonic() + timeout
    while True:
        result = job_result(async_dir, job_id)
        if result is not None or time.monotonic() >= deadline:
            return result
        time.sleep(RESULT_TICK_SECONDS)


def begin_pid(journal):
    try:
        with open(journal, encoding="utf-8") as handle:
            for line in handle:
                event = json.loads(line)
                if event.get("pid"):
                    return event["pid"]
    except (OSError, ValueError):
        return None
    return None


def line_of(event):
    stamp = (event.get("time") or "")[11:19]
    return "%s %s" % (stamp, event.get("msg") or event.get("event"))


def follow_journal(clients, params, check_mode):
    """New journal events (waiting up to ``params["wait"]`` s for them), whether the run finished,
    and its result once it has. ``clients`` is unused: this reads local files only."""
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
        ended = any(e.get("event") == "end" for e in events)
        now = time.monotonic()
        if not check_mode:
            beat(journal)
        if ended or now >= deadline or (first_seen and now - first_seen >= BURST_SECONDS):
            break
        time.sleep(TICK_SECONDS)
    status = next((e.get("status") for e in reversed(events) if e.get("event") == "end"), None)
    finished = status is not None
    async_dir, job_id = params["async_dir"], params.get("job_id")
    result = wait_for_result(async_dir, job_id, RESULT_WAIT_SECONDS) if finished else None
    if not finished:
        pid = begin_pid(journal)
        gone = pid is not None and not pid_alive(pid)
        result = job_result(async_dir, job_id)
        if gone or result is not None:
            finished, status = True, "died" if gone and result is None else "finished"
    lines = [line_of(e) for e in events]
    if not lines:
        lines = ["waiting..."]
    extra = {"result": result} if result is not None else {}
    return dict(changed=False, events=events, lines=lines, finished=finished, status=status, **extra)
