#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_pool_info
short_description: List and show ModelArts Lite Cluster resource pools
version_added: 0.1.0
description:
  - Returns every Lite Cluster resource pool of the project, or the one named, in the same shape
    M(modelarts.lite.lite_pool) returns.
  - Never changes anything.
options:
  name:
    description:
      - Display name of one pool. Without it, every pool is returned.
      - A name that matches no pool returns an empty list, not an error.
    type: str
  node_pool:
    description:
      - Only return this node pool of each pool. Naming a node pool a pool does not have is an error.
    type: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.attributes
  - modelarts.lite.attributes.info_module
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Show one pool
  modelarts.lite.lite_pool_info:
    name: train-a
  register: result

- name: How many nodes are available in node pool snt9b
  ansible.builtin.debug:
    msg: "{{ result.pools[0].node_pools[0].available }}"

- name: All pools of the project
  modelarts.lite.lite_pool_info:
  register: all_pools
"""

RETURN = r"""
pools:
  description: The pools found, each as M(modelarts.lite.lite_pool) returns C(pool).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Pool ID.
      type: str
      sample: pool-4eta-1fd46ce92b7c085186b597da20e5d1fd
    name:
      description: Display name.
      type: str
      sample: train-a
    description:
      description: Description.
      type: str
      sample: Training pool of the LLM team
    phase:
      description: C(status.phase).
      type: str
      sample: Running
    node_pools:
      description: Node pools with desired and observed node counts.
      type: list
      elements: dict
      sample:
        - {name: snt9b, flavor: modelarts.bm.npu.arm.8snt9b3.d, count: 4, available: 4, creating: 0, deleting: 0,
           abnormal: 0, labels: {team: llm}, taints: [], driver_version: 7.5.0.5.220-24.1.0.3}
    node_count:
      description: Sum of the node pools' desired counts.
      type: int
      sample: 4
    driver_version:
      description: Driver version of the node pools when they all agree.
      type: str
      sample: 7.5.0.5.220-24.1.0.3
    tags:
      description: Resource tags.
      type: dict
      sample: {team: llm}
    scope:
      description: Job types the pool accepts.
      type: list
      elements: str
      sample: [Train]
    vpc_id:
      description: VPC of the pool.
      type: str
      sample: 2f6a8b5e-4c1d-4e7a-9b3c-0d5e6f7a8b9c
    subnet_id:
      description: Subnet of the pool.
      type: str
      sample: 7c1e2d3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f
    driver_state:
      description: C(status.driver.npu.state), for example C(Running) or C(Upgrading).
      type: str
      sample: Running
    order_name:
      description: Name of the last order (create or scale) the service placed for this pool.
      type: str
      sample: order.train-a-thl6v
    created_at:
      description: Creation time (RFC 3339).
      type: str
      sample: "2026-12-07T06:23:45Z"
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.pool import pool_info

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    node_pool=dict(type="str"),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_wait=False)
    module.run(pool_info)


if __name__ == "__main__":
    main()
