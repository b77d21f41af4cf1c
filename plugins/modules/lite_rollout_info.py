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
    so a loop needs no variables passed between iterations. In check mode it reads the cursor but
    does not move it, and writes nothing.
  - Reports C(finished) once the journal's last event, C(result), was read. That event is the
    rollout's own account of how it ended, written whatever the outcome (a refusal included); it is
    returned as RV(result), with the report and summary from the files it names, so no further task
    has to wait for the rollout. The P(modelarts.lite.rolling_driver_upgrade#role) role uses this as
    C(loop_control.break_when).
  - When the rollout's process is gone without that event (killed, out of memory), the rollout
    died. RV(status) is then C(died) and RV(result) says so, with the last thing the rollout wrote.
  - It reads no Ansible async job file; M(ansible.builtin.async_status) remains the way to learn why a
    rollout module failed before it could write its journal (RV(begun) stays false).
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
      - Between 0 and 600 seconds; a value outside is refused before any call.
    type: float
    default: 5
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
  register: progress
  loop: "{{ range(0, 10000) | list }}"
  loop_control:
    label: "{{ progress.lines | default([]) | join('\n') }}"
    break_when:
      - progress.finished | default(false)
"""

RETURN = r"""
events:
  description:
    - The new journal events, each with C(time), C(event) (C(begin), C(start), C(node), C(warning), C(end), ...)
      and C(msg); node events add C(node), C(kube_name) and C(phase), the C(end) event adds C(status).
  returned: always
  type: list
  elements: dict
  sample:
    - time: '2026-12-06T16:45:25.112Z'
      event: node
      node: os-node-created-2aglf
      kube_name: 192.168.0.6
      phase: upgrading
      msg: os-node-created-2aglf (192.168.0.6) drained (0 pod(s) evicted), driver upgrade to 7.5.0.5.220-24.1.0.3 started
lines:
  description: The new events as one line of text each, or the current tally when nothing happened.
  returned: always
  type: list
  elements: str
  sample: ["16:45:25 os-node-created-2aglf (192.168.0.6) drained (0 pod(s) evicted), driver upgrade to 7.5.0.5.220-24.1.0.3 started"]
begun:
  description: True once the journal exists (the rollout wrote its first event).
  returned: always
  type: bool
  sample: true
finished:
  description: True when the rollout has ended (or its process is gone).
  returned: always
  type: bool
  sample: false
status:
  description: The rollout's final status (RV(result.status)), C(died) when its process vanished, else null.
  returned: always
  type: str
  sample: succeeded_with_failures
result:
  description:
    - The rollout's result from its journal's last event, with the report files it names.
    - For a rollout that died, C(status=died) and a C(msg) with the last thing it wrote; nothing more is known.
  returned: when finished
  type: dict
  sample:
    run_id: rollout-20261206t163012-4711
    status: succeeded_with_failures
    changed: true
    report_file: /tmp/modelarts-lite-rollouts/rollout-20261206t163012-4711.json
    timeline_file: /tmp/modelarts-lite-rollouts/rollout-20261206t163012-4711.html
    summary: "Rolling driver upgrade rollout-20261206t163012-4711 of pool pool-6u7f-9208f6425467bd764598f5f997f9091e
      to 7.5.0.5.220-24.1.0.3: succeeded_with_failures\nNodes: done 4, failed 1\n..."
  contains:
    run_id:
      description: The run id.
      type: str
      sample: rollout-20261206t163012-4711
    status:
      description: The outcome (M(modelarts.lite.lite_rollout)'s RV(modelarts.lite.lite_rollout#module:status)), C(refused), C(error) or C(died).
      type: str
      sample: succeeded_with_failures
    changed:
      description: Whether the rollout changed nodes.
      type: bool
      sample: true
    msg:
      description: Why the run ended failed, blocked, stopped, refused or died.
      type: str
      returned: when it did
      sample: "pool pool-6u7f is Creating, not Running; a rolling upgrade needs a healthy pool."
    report:
      description: The report (M(modelarts.lite.lite_rollout)'s RV(modelarts.lite.lite_rollout#module:report)).
      type: dict
      sample: {"run_id": "rollout-20261206t163012-4711", "status": "succeeded_with_failures", "counts": {"done": 4, "failed": 1}}
    summary:
      description: The report as text for people.
      type: str
      sample: "Rolling driver upgrade rollout-20261206t163012-4711 of pool pool-6u7f to 7.5.0.5.220-24.1.0.3: succeeded\n..."
    report_file:
      description: The JSON report file the rollout wrote.
      type: str
      returned: when the rollout was given a report directory
      sample: /tmp/modelarts-lite-rollouts/rollout-20261206t163012-4711.json
    timeline_file:
      description: The HTML timeline the rollout drew.
      type: str
      returned: when the run started with a report directory and a journal
      sample: /tmp/modelarts-lite-rollouts/rollout-20261206t163012-4711.html
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.progress import follow_journal

ARGUMENT_SPEC = dict(
    journal=dict(type="path", required=True),
    wait=dict(type="float", default=5.0),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_cloud=False, with_wait=False)
    module.run(follow_journal)


if __name__ == "__main__":
    main()
