#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_node
short_description: Cordon, drain, relabel, upgrade, reboot, reset or remove Lite Cluster nodes
version_added: 0.1.0
description:
  - Acts on one node, a list of nodes, or the nodes matching a Kubernetes label selector in one
    ModelArts Lite Cluster pool, through the pool's Kubernetes API and the ModelArts API.
  - Idempotent. A second identical run reports C(changed=false) and sends no mutating request.
  - Everything is planned before the first change. Unknown nodes, pods a drain must not remove,
    driver versions the region does not offer, missing opt-ins and removing a pool's last node
    are refused without changing anything.
  - When this module cordons a node it records that on the node (annotations
    C(modelarts.lite/cordoned-by), C(modelarts.lite/cordon-reason), C(modelarts.lite/cordoned-at)).
    It only ever uncordons nodes that carry that record, so an operator's own cordon survives.
  - Draining follows C(kubectl drain). DaemonSet pods are ignored, mirror pods are skipped, pods
    with C(emptyDir) volumes need O(delete_emptydir_data), and pods without a controller need
    O(force). Pods are evicted through the Eviction API, so PodDisruptionBudgets are honoured.
    Evictions a budget refuses are retried until O(drain_timeout). Then the task fails and names
    the pod and the budget, and the node stays cordoned.
options:
  pool:
    description:
      - Display name or id of the pool.
    type: str
    required: true
  nodes:
    description:
      - ModelArts node names (for example C(os-node-created-abcde)) or their private IPs (the
        Kubernetes node names).
      - Exactly one of O(nodes) and O(node_selector) is required.
    type: list
    elements: str
    aliases: [name, names]
  node_selector:
    description:
      - Kubernetes label selector choosing the nodes, for example C(os.modelarts.node/nodepoolname=pool-a).
    type: str
  state:
    description:
      - V(schedulable) lifts this collection's own cordon. A cordon set by someone else stays,
        with a warning, unless O(release_foreign_cordon=true).
      - V(cordoned) marks the node unschedulable.
      - V(drained) cordons, then evicts the pods as C(kubectl drain) does.
      - V(absent) drains, then removes the node from the pool through the ModelArts API.
        Needs O(allow_delete=true), and is refused if the pool would be left with no node.
        A node already gone from the pool, or already being removed, counts as removed
        (C(changed=false), no call; with O(wait=true) the module waits until it is gone).
      - When omitted, schedulability is left alone. A driver upgrade or an O(action) then ends
        with the node uncordoned, if this module cordoned it.
    type: str
    choices: [schedulable, cordoned, drained, absent]
  labels:
    description:
      - Kubernetes labels to set. A null value removes the label. Keys that belong to Kubernetes,
        CCE or ModelArts are refused.
    type: dict
  purge_labels:
    description:
      - Remove user labels that are not in O(labels). System labels and the node pool's labels
        (set through M(modelarts.lite.lite_pool)) are kept.
    type: bool
    default: false
  taints:
    description:
      - Taints to set, matched by key and effect.
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
      effect:
        description: Taint effect.
        type: str
        required: true
        choices: [NoSchedule, PreferNoSchedule, NoExecute]
  purge_taints:
    description:
      - Remove taints not in O(taints). Control-plane taints and the node pool's taints are kept.
    type: bool
    default: false
  ha_redundant:
    description:
      - Switch HA redundancy of the node on (V(true)) or off (V(false)), with the ModelArts C(batch-update)
        actions C(openHaRedundant) and C(closeHaRedundant). The node is not drained or restarted.
      - Idempotent from the ModelArts node label C(os.modelarts.node/ha.redundant.enabled). A node already in the
        wanted state is left alone.
    type: bool
  ha_redundant_effect:
    description:
      - C(haRedundantEffect) sent when HA redundancy is switched on. The service's default is C(NoSchedule).
      - The service does not report the effect back, so a node that already has HA redundancy on is not changed
        to another effect. Switch it off and on again for that.
    type: str
    choices: [NoSchedule, NoExecute]
  driver_version:
    description:
      - NPU firmware and driver version for the node, for example C(7.5.0.5.220-24.1.0.3). It must
        be a version the region offers (plugin template C(npu-driver)).
      - A node already at this version is left alone. Otherwise the node is cordoned and drained,
        upgraded through the ModelArts API, and waited for until it is Ready with the new version
        and all NPUs allocatable. Then it is uncordoned. Needs O(allow_driver_upgrade=true).
    type: str
  allow_driver_upgrade:
    description:
      - Opt in to a driver upgrade, which drains and restarts the node.
    type: bool
    default: false
  action:
    description:
      - V(reboot) restarts the node. V(reset) reinstalls its operating system. Both run after a
        drain, and the node is uncordoned once it is Ready again with its NPUs.
      - Not idempotent. Each run repeats the action.
    type: str
    choices: [reboot, reset]
  allow_reboot:
    description:
      - Opt in to O(action=reboot).
    type: bool
    default: false
  allow_reset:
    description:
      - Opt in to O(action=reset). Local data on the node is lost.
    type: bool
    default: false
  allow_delete:
    description:
      - Opt in to O(state=absent). The node is released, along with everything on it.
    type: bool
    default: false
  release_foreign_cordon:
    description:
      - With O(state=schedulable), also uncordon nodes that someone else cordoned.
    type: bool
    default: false
  force:
    description:
      - Evict pods that no controller manages. Nothing recreates them.
    type: bool
    default: false
  delete_emptydir_data:
    description:
      - Evict pods that use C(emptyDir) volumes. Their data is lost.
    type: bool
    default: false
  grace_period:
    description:
      - Termination grace period, in seconds, for evicted pods. By default each pod uses its own.
      - Between 0 and 86400 seconds; a value outside is refused before any call.
    type: int
  drain_timeout:
    description:
      - Seconds a drain may take per node. This covers evictions that PodDisruptionBudgets refuse
        and pods that are still terminating. When it runs out, the task fails and the node stays
        cordoned.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 300
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.kube
  - modelarts.lite.wait
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the nodes as they would be, the evictions a drain would make (with the PDB that
      guards each pod and whether it blocks right now), and refuses exactly what a real run would refuse.
  diff_mode:
    support: full
notes:
  - O(wait_timeout) bounds the wait for a driver upgrade, reboot, reset or removal per node. With
    O(wait=false), the module returns once the operation has started. The node then stays
    cordoned by this module until a later run with O(state=schedulable).
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Drain a node before maintenance
  modelarts.lite.lite_node:
    pool: train-a
    nodes: [os-node-created-abcde]
    state: drained
    delete_emptydir_data: true

- name: Put it back into service (only our own cordon is lifted)
  modelarts.lite.lite_node:
    pool: train-a
    nodes: [os-node-created-abcde]
    state: schedulable

- name: Upgrade one node's NPU driver (cordon, drain, upgrade, wait, uncordon)
  modelarts.lite.lite_node:
    pool: train-a
    nodes: [192.168.0.12]
    driver_version: 7.5.0.5.220-24.1.0.3
    allow_driver_upgrade: true
    wait_timeout: 3600

- name: Label every node of a node pool
  modelarts.lite.lite_node:
    pool: train-a
    node_selector: os.modelarts.node/nodepoolname=snt9b
    labels:
      team: llm
"""

RETURN = r"""
nodes:
  description: The addressed nodes after the change (in check mode, as they would be).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: ModelArts node name.
      type: str
      sample: os-node-created-re7mi
    kube_name:
      description: Kubernetes node name (the private IP).
      type: str
      sample: 192.168.0.4
    phase:
      description: ModelArts node phase.
      type: str
      sample: Available
    driver_phase:
      description: ModelArts phase of the node's NPU driver, as in M(modelarts.lite.lite_node_info).
      type: str
      sample: Running
    ready:
      description: Kubernetes Ready condition.
      type: bool
      sample: true
    schedulable:
      description: False when the node is cordoned.
      type: bool
      sample: false
    cordoned_by:
      description: C(modelarts.lite) (or a run id) when this collection cordoned the node,
        C(other) when someone else did, null when schedulable.
      type: str
      sample: modelarts.lite
    cordon_reason:
      description: Why this collection cordoned the node (for example C(drained)), null otherwise.
      type: str
      sample: drained
    driver_version:
      description: NPU firmware and driver version.
      type: str
      sample: 7.1.0.9.220-23.0.6
    ha_redundant:
      description: Whether HA redundancy is on (ModelArts label C(os.modelarts.node/ha.redundant.enabled)).
      type: bool
      sample: false
    npu_capacity:
      description: NPUs of the node.
      type: int
      sample: 8
    npu_allocatable:
      description: NPUs the device plugin advertises as allocatable.
      type: int
      sample: 8
    node_pool:
      description: Node pool of the node.
      type: str
      sample: modelarts.bm.npu.arm.8snt9b3.d-default
    labels:
      description:
        - The labels users and node pools set, as in M(modelarts.lite.lite_node_info). Kubernetes, CCE,
          ModelArts and this collection's own keys are left out.
      type: dict
      sample: {team: llm}
    taints:
      description: User taints (control-plane taints left out).
      type: list
      elements: dict
      sample: [{key: maintenance, value: driver, effect: NoSchedule}]
node:
  description: The node, when exactly one was named in O(nodes).
  returned: when O(nodes) names one node
  type: dict
  sample:
    name: os-node-created-re7mi
    kube_name: 192.168.0.4
    phase: Available
    driver_phase: Running
    ready: true
    schedulable: false
    cordoned_by: modelarts.lite
    cordon_reason: drained
    driver_version: 7.1.0.9.220-23.0.6
    ha_redundant: false
    npu_capacity: 8
    npu_allocatable: 8
    node_pool: modelarts.bm.npu.arm.8snt9b3.d-default
    labels:
      team: llm
    taints:
    - key: maintenance
      value: driver
      effect: NoSchedule
evictions:
  description:
    - Pods evicted (or, in check mode, that would be evicted). Each has the same keys in both
      modes, C(node), C(kube_name), C(pod), C(reason), C(pdb) (null when no PodDisruptionBudget
      guards the pod) and C(blocked_now) (the budget allowed no disruption when the drain was planned).
  returned: always
  type: list
  elements: dict
  sample:
    - node: os-node-created-re7mi
      kube_name: 192.168.0.4
      pod: default/web-e6f33d250d-n2bmn
      reason: managed by ReplicaSet web-e6f33d250d
      pdb: default/web-pdb
      blocked_now: false
in_progress:
  description: Nodes whose operation was started with O(wait=false); they stay cordoned.
  returned: when O(wait=false) started an operation
  type: list
  elements: str
  sample: [os-node-created-re7mi]
diff:
  description: The nodes before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.node import ensure_node

TAINT_SPEC = dict(
    key=dict(type="str", required=True, no_log=False),
    value=dict(type="str"),
    effect=dict(type="str", required=True, choices=["NoSchedule", "PreferNoSchedule", "NoExecute"]),
)

ARGUMENT_SPEC = dict(
    pool=dict(type="str", required=True),
    nodes=dict(type="list", elements="str", aliases=["name", "names"]),
    node_selector=dict(type="str"),
    state=dict(type="str", choices=["schedulable", "cordoned", "drained", "absent"]),
    labels=dict(type="dict"),
    purge_labels=dict(type="bool", default=False),
    taints=dict(type="list", elements="dict", options=TAINT_SPEC),
    purge_taints=dict(type="bool", default=False),
    ha_redundant=dict(type="bool"),
    ha_redundant_effect=dict(type="str", choices=["NoSchedule", "NoExecute"]),
    driver_version=dict(type="str"),
    allow_driver_upgrade=dict(type="bool", default=False),
    action=dict(type="str", choices=["reboot", "reset"]),
    allow_reboot=dict(type="bool", default=False),
    allow_reset=dict(type="bool", default=False),
    allow_delete=dict(type="bool", default=False),
    release_foreign_cordon=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    delete_emptydir_data=dict(type="bool", default=False),
    grace_period=dict(type="int"),
    drain_timeout=dict(type="int", default=300),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_kube=True,
                        mutually_exclusive=[("nodes", "node_selector")],
                        required_one_of=[("nodes", "node_selector")])
    module.run(ensure_node)


if __name__ == "__main__":
    main()
