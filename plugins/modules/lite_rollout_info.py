#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_rollout_info
short_description: Follow the progress journal of a running lite_rollout
version_added: 0.1.0
description:
  - Waits up to O(wait) seconds for new events in the journal file that
    M(modelarts.lite.lite_rollout) appends to, and returns them. It returns as soon as there are
    new events, so a loop of this module prints each node's transition while the rollout runs.
  - Remembers how far it has read in a cursor file next to the journal (C(<journal>.cursor)),
    so a loop needs no variables passed between iterations.
  - Reports C(finished) once the journal's final event was read, or when the rollout process or
    its async job is gone. With O(job_id), it then also returns the rollout's own result (what
    M(ansible.builtin.async_status) would return), so no further task has to wait for it. The P(modelarts.lite.rolling_driver_upgrade#role) role uses this as
    C(loop_control.break_when).
  - Reads local files only; it sends no API request.
options:
  journal:
    description:
      - The journal file of the rollout (M(modelarts.lite.lite_rollout) O(modelarts.lite.lite_rollout#module:journal)).
    type: path
    required: true
  wait:
    description:
      - Seconds to wait for new events at most.
    type: float
    default: 5
  job_id:
    description:
      - The async job id of the rollout task. When that job has finished, the journal counts as finished
        even if its last event is missing.
    type: str
  async_dir:
    description:
      - Directory of Ansible's async job files.
    type: path
    default: ~/.ansible_async
extends_documentation_fragment:
  - modelarts.lite.attributes
  - modelarts.lite.attributes.info_module
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Show the rollout's progress as it happens
  modelarts.lite.lite_rollout_info:
    journal: /tmp/rollout.jsonl
    job_id: "{{ rollout_job.ansible_job_id }}"
  register: progress
  loop: "{{ range(0, 10000) | list }}"
  loop_control:
    label: "{{ progress.lines | default([]) | join('\n') }}"
    break_when:
      - progress.finished | default(false)
"""

RETURN = r"""
events:
  description: The new journal events (each with C(time), C(event), C(msg) and, for node events, C(node)).
  returned: always
  type: list
  elements: dict
lines:
  description: The new events as one line of text each, or the current tally when nothing happened.
  returned: always
  type: list
  elements: str
finished:
  description: True when the rollout has ended (or its process is gone).
  returned: always
  type: bool
status:
  description: The final status from the journal's last event, C(died) when the process vanished, else null.
  returned: always
  type: str
result:
  description: The result of the rollout's async job (M(modelarts.lite.lite_rollout)'s return values).
  returned: when finished, O(job_id) is set and the job wrote its result within a few seconds
  type: dict
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

# After the first new line, wait this long for the rest of a burst (several nodes in one cycle).
BURST_SECONDS = 0.3
TICK_SECONDS = 0.1
# After the journal's last event the rollout still releases its lock and writes its report.
RESULT_WAIT_SECONDS = 10.0
RESULT_TICK_SECONDS = 0.05


def read_new(journal, cursor_path):
    """New complete lines after the cursor; the cursor only moves past complete lines."""
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


def main():
    module = AnsibleModule(argument_spec=dict(
        journal=dict(type="path", required=True),
        wait=dict(type="float", default=5.0),
        job_id=dict(type="str"),
        async_dir=dict(type="path", default="~/.ansible_async"),
    ), supports_check_mode=True)
    journal = module.params["journal"]
    cursor_path = journal + ".cursor"
    deadline = time.monotonic() + max(0.0, module.params["wait"])
    events, offset = [], None
    first_seen = None
    while True:
        new, offset = read_new(journal, cursor_path)
        if new:
            events.extend(new)
            with open(cursor_path, "w", encoding="utf-8") as handle:
                handle.write(str(offset))
            first_seen = first_seen or time.monotonic()
        ended = any(e.get("event") == "end" for e in events)
        now = time.monotonic()
        if ended or now >= deadline or (first_seen and now - first_seen >= BURST_SECONDS):
            break
        time.sleep(TICK_SECONDS)
    status = next((e.get("status") for e in reversed(events) if e.get("event") == "end"), None)
    finished = status is not None
    async_dir, job_id = module.params["async_dir"], module.params.get("job_id")
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
    module.exit_json(changed=False, events=events, lines=lines, finished=finished, status=status, **extra)


if __name__ == "__main__":
    main()
