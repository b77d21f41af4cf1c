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
      - Between 0 and 600 seconds; a value outside is refused before any call.
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
finished:
  description: True when the rollout has ended (or its process is gone).
  returned: always
  type: bool
  sample: false
status:
  description: The final status from the journal's last event, C(died) when the process vanished, else null.
  returned: always
  type: str
  sample: succeeded_with_failures
result:
  description: The result of the rollout's async job (M(modelarts.lite.lite_rollout)'s return values; the sample
    leaves out C(plan) and C(report)).
  returned: when finished, O(job_id) is set and the job wrote its result within a few seconds
  type: dict
  sample:
    run_id: rollout-20261206t163012-4711
    pool_id: pool-6u7f-9208f6425467bd764598f5f997f9091e
    status: succeeded_with_failures
    changed: true
    summary: "Rolling driver upgrade rollout-20261206t163012-4711 of pool pool-6u7f-9208f6425467bd764598f5f997f9091e
      to 7.5.0.5.220-24.1.0.3: succeeded_with_failures\nNodes: done 4, failed 1\n..."
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.progress import follow_journal

ARGUMENT_SPEC = dict(
    journal=dict(type="path", required=True),
    wait=dict(type="float", default=5.0),
    job_id=dict(type="str"),
    async_dir=dict(type="path", default="~/.ansible_async"),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_cloud=False, with_wait=False)
    module.run(follow_journal)


if __name__ == "__main__":
    main()
