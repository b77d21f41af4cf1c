#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_node_info
short_description: Show Lite Cluster nodes as ModelArts and Kubernetes see them
version_added: 0.1.0
description:
  - Lists the nodes of one ModelArts Lite Cluster pool, or the ones named or selected. For each
    node it reports readiness and schedulability (and who cordoned it), the driver version and the
    state of a rolling driver upgrade, NPU capacity and allocatable, the node pool, user labels and taints.
  - On request (O(with_pods=true)) it adds the pods each node runs and which of them a drain would
    evict, and (O(detail=true)) the ModelArts and Kubernetes objects themselves.
  - Made for big pools. It sends one ModelArts node list and one Kubernetes node list. With
    O(with_pods=true) it also lists the pods, one field-selected list per node (sent
    concurrently) when O(nodes) picks up to 16 nodes, one list of every pod of the cluster
    otherwise. The default record is small on purpose. Ansible scrubs, encodes and decodes every
    value of a result, and on 2,000 nodes that costs more than the lists when the full objects are returned.
options:
  pool:
    description:
      - Display name or id of the pool.
    type: str
    required: true
  nodes:
    description:
      - ModelArts node names or private IPs to show. All nodes by default.
    type: list
    elements: str
    aliases: [name, names]
  node_selector:
    description:
      - Kubernetes label selector choosing the nodes.
    type: str
  node_pool:
    description:
      - Only the nodes of these node pools (names).
      - Combines with O(node_selector) (both must match); cannot be combined with O(nodes).
    type: list
    elements: str
    aliases: [node_pools]
  with_pods:
    description:
      - Also list each node's pods and the drain plan (a list of each node's pods when O(nodes)
        picks up to 16 nodes, else one list of every pod of the cluster).
    type: bool
    default: false
  detail:
    description:
      - Also return each node's ModelArts node object and Kubernetes Node object as the APIs send
        them (every label, annotation and condition). About 5 KB per node.
    type: bool
    default: false
  force:
    description:
      - Plan the drain as with M(modelarts.lite.lite_node) O(modelarts.lite.lite_node#module:force=true).
      - Only used with O(with_pods=true).
    type: bool
    default: false
  delete_emptydir_data:
    description:
      - Plan the drain as with M(modelarts.lite.lite_node) O(modelarts.lite.lite_node#module:delete_emptydir_data=true).
      - Only used with O(with_pods=true).
    type: bool
    default: false
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.kube
  - modelarts.lite.attributes
  - modelarts.lite.attributes.info_module
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Which nodes are cordoned, and by whom?
  modelarts.lite.lite_node_info:
    pool: train-a
  register: info

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.kube_name }}) cordoned by {{ item.cordoned_by }}"
  loop: "{{ info.nodes | selectattr('cordoned_by') }}"
  loop_control:
    label: "{{ item.name }}"

- name: What would draining this node evict?
  modelarts.lite.lite_node_info:
    pool: train-a
    nodes: [os-node-created-abcde]
    with_pods: true

- name: Every label and condition of the nodes of one node pool
  modelarts.lite.lite_node_info:
    pool: train-a
    node_pool: [snt9b-pool]
    detail: true
"""

RETURN = r"""
pool_id:
  description: Id of the pool.
  returned: always
  type: str
  sample: pool-64u6-02d1d2b7d6e9d791bb8342176216c61c
nodes:
  description:
    - One entry per node, sorted by name. Every entry has the same keys; a node that has not joined
      Kubernetes yet is not ready, not schedulable, with null NPU counts and no labels or taints.
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
      description:
        - ModelArts phase of the node's NPU driver (C(Running); C(Pending) then C(Updating) during an
          upgrade; C(Abnormal) after a failed one).
      type: str
      sample: Running
    ready:
      description: Kubernetes Ready condition.
      type: bool
      sample: true
    schedulable:
      description: False when cordoned.
      type: bool
      sample: false
    cordoned_by:
      description:
        - Who cordoned the node when it is cordoned, else null.
        - The owner this collection recorded (C(modelarts.lite), or C(rolling-driver-upgrade/<run id>)),
          or C(other) when someone else cordoned it.
      type: str
      sample: modelarts.lite
    cordon_reason:
      description: Why this collection cordoned the node (null otherwise).
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
      description: NPUs of the node (null before it joins Kubernetes).
      type: int
      sample: 8
    npu_allocatable:
      description: NPUs allocatable.
      type: int
      sample: 8
    node_pool:
      description: Node pool.
      type: str
      sample: modelarts.bm.npu.arm.8snt9b3.d-default
    labels:
      description:
        - The labels users and node pools set. Kubernetes, CCE, ModelArts and this collection's own
          keys are left out (O(detail=true) returns them all in RV(nodes[].kube_node)).
      type: dict
      sample: {team: llm}
    taints:
      description: Taints without the ones the control plane sets (cordon, not-ready, ...).
      type: list
      elements: dict
      sample: [{key: maintenance, value: driver, effect: NoSchedule}]
    driver_upgrade:
      description:
        - The rolling driver upgrade's record on the node (keys C(run), C(target), C(phase), C(from),
          C(reason), C(updated)), or null when no upgrade has touched it.
      type: dict
      sample:
        run: rollout-20261206t163012-4711
        target: 7.5.0.5.220-24.1.0.3
        phase: done
        from: 7.1.0.9.220-23.0.6
        reason: null
        updated: '2026-12-06T16:45:25Z'
    pods:
      description: Pods on the node that have not finished (C(namespace/name)).
      type: list
      elements: str
      returned: with O(with_pods=true)
      sample: [default/web-e6f33d250d-n2bmn, kube-system/huawei-npu-device-plugin-smp48]
    drain_would_evict:
      description: Pods a drain would evict.
      type: list
      elements: str
      returned: with O(with_pods=true)
      sample: [default/web-e6f33d250d-n2bmn]
    drain_would_refuse:
      description: Pods a drain would refuse to remove, with the reason.
      type: list
      elements: dict
      returned: with O(with_pods=true)
      sample: [{pod: default/cache-0, reason: "uses emptyDir local storage, whose data is lost (set delete_emptydir_data=true)"}]
    modelarts_node:
      description: The ModelArts node object.
      type: dict
      returned: with O(detail=true)
      sample:
        apiVersion: v2
        kind: Node
        metadata:
          name: os-node-created-re7mi
          labels:
            os.modelarts.node/nodepool: modelarts.bm.npu.arm.8snt9b3.d-default
        spec:
          flavor: modelarts.bm.npu.arm.8snt9b3.d
        status:
          phase: Available
          privateIp: 192.168.0.4
          driver:
            phase: Running
            version: 7.1.0.9.220-23.0.6
    kube_node:
      description: The Kubernetes Node object (null when the node has not joined).
      type: dict
      returned: with O(detail=true)
      sample:
        metadata:
          name: 192.168.0.4
          labels:
            os.modelarts.node/npu.firmware.driver.version: 7.1.0.9.220-23.0.6
        spec:
          providerID: 2cf4d4e2-1bfc-4c1a-8194-c6e472a3e9d5
        status:
          allocatable:
            huawei.com/ascend-1980: '8'
          conditions:
          - type: Ready
            status: 'True'
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.node import node_info

ARGUMENT_SPEC = dict(
    pool=dict(type="str", required=True),
    nodes=dict(type="list", elements="str", aliases=["name", "names"]),
    node_selector=dict(type="str"),
    node_pool=dict(type="list", elements="str", aliases=["node_pools"]),
    with_pods=dict(type="bool", default=False),
    detail=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    delete_emptydir_data=dict(type="bool", default=False),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_wait=False, with_kube=True,
                        mutually_exclusive=[("nodes", "node_selector"), ("nodes", "node_pool")])
    module.run(node_info)


if __name__ == "__main__":
    main()
