#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_node_info
short_description: Show Lite Cluster nodes as ModelArts and Kubernetes see them
version_added: 0.1.0
description:
  - Lists the nodes of one ModelArts Lite Cluster pool, or the ones named or selected. For each
    node it reports readiness and schedulability (and who cordoned it), the driver version, NPU
    capacity and allocatable, the node pool, the pods it runs, and which of them a drain would evict.
  - Made for big pools. It sends one ModelArts node list and one Kubernetes node list, plus at
    most one pod list (field-selected for a single node, cluster-wide otherwise, and none with
    O(with_pods=false)).
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
  with_pods:
    description:
      - Also list each node's pods and the drain plan.
    type: bool
    default: true
  force:
    description:
      - Plan the drain as with M(modelarts.lite.lite_node) O(modelarts.lite.lite_node#module:force=true).
    type: bool
    default: false
  delete_emptydir_data:
    description:
      - Plan the drain as with M(modelarts.lite.lite_node) O(modelarts.lite.lite_node#module:delete_emptydir_data=true).
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
    with_pods: false
  register: info

- name: What would draining this node evict?
  modelarts.lite.lite_node_info:
    pool: train-a
    nodes: [os-node-created-abcde]
"""

RETURN = r"""
pool_id:
  description: Id of the pool.
  returned: always
  type: str
nodes:
  description: One entry per node, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: ModelArts node name.
      type: str
    kube_name:
      description: Kubernetes node name (the private IP).
      type: str
    phase:
      description: ModelArts node phase.
      type: str
    ready:
      description: Kubernetes Ready condition.
      type: bool
    schedulable:
      description: False when cordoned.
      type: bool
    cordoned_by:
      description: C(modelarts.lite) when this collection cordoned the node, C(other) when someone else did.
      type: str
    driver_version:
      description: NPU firmware and driver version.
      type: str
    npu_capacity:
      description: NPUs of the node.
      type: int
    npu_allocatable:
      description: NPUs allocatable.
      type: int
    node_pool:
      description: Node pool.
      type: str
    pods:
      description: Pods on the node that have not finished (C(namespace/name)).
      type: list
      elements: str
    drain_would_evict:
      description: Pods a drain would evict.
      type: list
      elements: str
    drain_would_refuse:
      description: Pods a drain would refuse to remove, with the reason.
      type: list
      elements: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.node import node_info

ARGUMENT_SPEC = dict(
    pool=dict(type="str", required=True),
    nodes=dict(type="list", elements="str", aliases=["name", "names"]),
    node_selector=dict(type="str"),
    with_pods=dict(type="bool", default=True),
    force=dict(type="bool", default=False),
    delete_emptydir_data=dict(type="bool", default=False),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_wait=False, with_kube=True,
                        mutually_exclusive=[("nodes", "node_selector")])
    module.run(node_info)


if __name__ == "__main__":
    main()
