#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_standby
short_description: Hot standby of Lite Cluster nodes - declare standby nodes and fail over from a faulty one
version_added: 0.2.0
description:
  - The vendor's hot standby procedure, as Kubernetes node taints. Standby nodes carry the taint
    C(modelarts.lite/hot-standby=true:NoSchedule), so no new work lands on them. A failover removes that taint
    from one Ready standby node (the replacement) and fences the faulty node with
    C(modelarts.lite/faulty=true:NoSchedule). Both are C(NoSchedule), so pods already running are not evicted.
  - A failover never leaves fewer schedulable nodes than before. The standby is promoted first and the faulty
    node fenced after, and a failover without a Ready, uncordoned standby is refused before any change.
    Schedulable means Ready, not cordoned, and carrying neither taint.
  - Idempotent. Standby nodes that carry the taint are left alone. A faulty node already fenced with a
    replacement noted (annotation C(modelarts.lite/replaced-by)) is a failover that is done.
  - Declaring a repaired faulty node as standby lifts its fence, so it becomes the next spare.
  - Check mode gives the plan (C(actions), C(failover), the schedulable count after).
options:
  pool:
    description:
      - Display name or id of the pool.
    type: str
    required: true
  standby_nodes:
    description:
      - Nodes to keep as standby (ModelArts node names or private IPs). Nodes not listed are not changed.
    type: list
    elements: str
  failed_node:
    description:
      - The faulty node to fail over from (ModelArts node name or private IP).
    type: str
  replacement:
    description:
      - The standby node to promote. Default, the first Ready, uncordoned standby node by Kubernetes node name
        (its private IP).
    type: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.kube
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the plan (C(actions), C(failover)) and the roles and schedulable count it would leave.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Keep two nodes as hot standby
  modelarts.lite.lite_standby:
    pool: train-pool
    standby_nodes: [os-node-created-abcde, os-node-created-fghij]

- name: Plan the failover from a broken node
  modelarts.lite.lite_standby:
    pool: train-pool
    failed_node: os-node-created-klmno
  check_mode: true
  register: plan

- name: Fail over
  modelarts.lite.lite_standby:
    pool: train-pool
    failed_node: os-node-created-klmno
"""

RETURN = r"""
actions:
  description: The node patches made (or planned in check mode), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - {node: os-node-created-abcde, kube_name: 192.168.0.12, action: promote_standby}
    - {node: os-node-created-klmno, kube_name: 192.168.0.14, action: fence_faulty}
failover:
  description: The failover, when O(failed_node) is given. C(done_before) is true when an earlier run did it.
  returned: always
  type: dict
  sample:
    failed: os-node-created-klmno
    replacement: os-node-created-abcde
    schedulable_before: 3
    schedulable_after: 3
    done_before: false
roles:
  description: The role of every node of the pool afterwards (C(active), C(standby) or C(faulty)).
  returned: always
  type: dict
  sample: {os-node-created-abcde: active, os-node-created-fghij: standby, os-node-created-klmno: faulty}
schedulable_before:
  description: Schedulable nodes before the task.
  returned: always
  type: int
  sample: 3
schedulable_after:
  description: Schedulable nodes after the task (in check mode, as it would be).
  returned: always
  type: int
  sample: 3
diff:
  description: Roles before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.standby import ensure_standby
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule

ARGUMENT_SPEC = dict(
    pool=dict(type="str", required=True),
    standby_nodes=dict(type="list", elements="str"),
    failed_node=dict(type="str"),
    replacement=dict(type="str"),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_kube=True, with_wait=False)
    module.run(ensure_standby)


if __name__ == "__main__":
    main()
