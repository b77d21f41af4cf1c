#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_pool
short_description: Create, scale, upgrade and delete ModelArts Lite Cluster resource pools
version_added: 0.1.0
description:
  - Makes a ModelArts Lite Cluster resource pool (C(/v2/{project_id}/pools)) match the declared
    node pools, driver version, description and tags.
  - Idempotent. A second identical run reports C(changed=false) and sends no mutating request.
  - Input is checked before anything is changed. That covers names, counts, flavors (against the region's
    flavor catalogue, including sold-out flavors) and the driver version (against the offered
    versions).
  - High-risk changes need an explicit opt-in and are shown by check mode before they run. They are
    deleting the pool (O(allow_delete)), scaling a node pool down or removing it
    (O(allow_scale_down)), and a pool-wide driver upgrade (O(allow_driver_upgrade)). For a
    job-safe upgrade one node at a time, use the P(modelarts.lite.rolling_driver_upgrade#role) role instead.
options:
  name:
    description:
      - Display name of the pool (label C(os.modelarts/name)).
      - 4 to 32 characters, lowercase letters, digits and hyphens, starting with a letter and
        ending with a letter or digit.
    type: str
    required: true
  state:
    description:
      - V(present) creates the pool or changes it to match.
      - V(absent) deletes the pool and all of its nodes. Requires O(allow_delete=true).
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Free text shown in the console. Not changed when omitted.
    type: str
  scope:
    description:
      - Job types the pool accepts. Only used when the pool is created.
    type: list
    elements: str
    choices: [Train, Infer, Notebook]
    default: [Train]
  vpc_id:
    description:
      - VPC of the pool's nodes. Required to create a pool.
    type: str
  subnet_id:
    description:
      - Subnet of the pool's nodes. Required to create a pool.
    type: str
  security_group_ids:
    description:
      - Security groups of the node pools' nodes.
    type: list
    elements: str
  clusters:
    description:
      - IDs of the CCE clusters the pool is bound to (sent as C(spec.clusters[].providerId)).
      - Required to create a pool. The service refuses a pool in a VPC without them (the vendor's
        Terraform provider declares C(vpc_id) RequiredWith C(clusters)). See docs/api-contract.md.
    type: list
    elements: str
    aliases: [cluster_id]
  user_login:
    description:
      - How to log in to the pool's nodes (sent as C(spec.userLogin)). Required to create a pool in a
        VPC, like O(clusters). Exactly one of O(user_login.key_pair_name) and O(user_login.password).
      - Only used when the pool is created.
    type: dict
    suboptions:
      key_pair_name:
        description:
          - Name of the key pair for logging in to the nodes.
        type: str
      password:
        description:
          - Password of the nodes' login user. Never shown in output or logs.
        type: str
  node_pools:
    description:
      - The pool's node pools. Required to create a pool (at least one).
      - Node pools that exist but are not listed are left alone unless O(purge_node_pools=true).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Node pool name. 2 to 50 characters, lowercase letters, digits and hyphens, starting
            with a letter, not ending with C(-) or C(-default).
        type: str
        required: true
      flavor:
        description:
          - Resource flavor of the nodes, for example C(modelarts.bm.npu.arm.8snt9b3.d).
          - A node pool's flavor cannot be changed after it is created.
        type: str
        required: true
      count:
        description:
          - Number of nodes. Lowering it needs O(allow_scale_down=true).
          - Between 0 and 2000 nodes (the largest CCE cluster a pool runs on), checked before any call;
            at least 1 for a node pool that is present, and at most 2000 over all node pools of the pool.
        type: int
        required: true
      labels:
        description:
          - Kubernetes labels applied to the nodes of this node pool. Replaces the node pool's
            user labels when given.
        type: dict
      taints:
        description:
          - Kubernetes taints applied to the nodes of this node pool. Replaces the node pool's
            taints when given.
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
      state:
        description:
          - V(absent) removes this node pool and its nodes (needs O(allow_scale_down=true)).
            A node pool that is already gone counts as removed, so a rerun converges; the module warns,
            so that a misspelt name does not pass unnoticed.
        type: str
        choices: [present, absent]
        default: present
  purge_node_pools:
    description:
      - Remove node pools that exist but are not listed in O(node_pools). Needs O(allow_scale_down=true).
    type: bool
    default: false
  driver_version:
    description:
      - NPU firmware and driver version of every node pool, for example C(7.5.0.5.220-24.1.0.3).
      - Must be one of the versions the region offers.
      - Changing it on an existing pool upgrades every node and needs O(allow_driver_upgrade=true).
    type: str
  driver_update_strategy:
    description:
      - How the service upgrades a pool-wide driver change. V(idle) waits until a node runs no
        job; V(force) upgrades at once and kills running jobs.
    type: str
    choices: [idle, force]
    default: idle
  tags:
    description:
      - Resource tags as a dictionary. Not changed when omitted.
    type: dict
  purge_tags:
    description:
      - Remove tags that are not in O(tags). Only used when O(tags) is given.
    type: bool
    default: true
  allow_scale_down:
    description:
      - Opt in to removing nodes (lowering a count, removing a node pool). Pods on removed nodes
        are killed; drain them first (M(modelarts.lite.lite_node)).
    type: bool
    default: false
  allow_driver_upgrade:
    description:
      - Opt in to a pool-wide driver upgrade. Every node restarts.
    type: bool
    default: false
  allow_delete:
    description:
      - Opt in to deleting the pool with O(state=absent). All nodes and their data are lost.
    type: bool
    default: false
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.wait
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the pool as it would be after the change, and refuses exactly what a real run would refuse.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Create a pool with one node pool of 8-NPU Snt9b servers
  modelarts.lite.lite_pool:
    name: train-a
    vpc_id: "{{ vpc_id }}"
    subnet_id: "{{ subnet_id }}"
    clusters: ["{{ cce_cluster_id }}"]
    user_login:
      key_pair_name: sre-keypair
    node_pools:
      - name: snt9b
        flavor: modelarts.bm.npu.arm.8snt9b3.d
        count: 4
        labels:
          team: llm
    driver_version: 7.5.0.5.220-24.1.0.3
    tags:
      cost-center: research

- name: Scale the node pool out to 6 nodes
  modelarts.lite.lite_pool:
    name: train-a
    node_pools:
      - name: snt9b
        flavor: modelarts.bm.npu.arm.8snt9b3.d
        count: 6

- name: Scale in (high risk, explicit)
  modelarts.lite.lite_pool:
    name: train-a
    node_pools:
      - name: snt9b
        flavor: modelarts.bm.npu.arm.8snt9b3.d
        count: 2
    allow_scale_down: true

- name: Delete the pool
  modelarts.lite.lite_pool:
    name: train-a
    state: absent
    allow_delete: true
"""

RETURN = r"""
pool:
  description:
    - The pool after the change (in check mode, as it would be). Empty after a deletion.
  returned: always
  type: dict
  contains:
    id:
      description: Pool ID (C(metadata.name)), used in every other API path.
      type: str
      sample: train-a-0123456789abcdef0123456789abcdef
    name:
      description: Display name.
      type: str
      sample: train-a
    description:
      description: Description.
      type: str
      sample: Training pool of the LLM team
    phase:
      description: C(status.phase), for example C(Creating), C(Running), C(Abnormal), C(Deleting).
      type: str
      sample: Running
    scope:
      description: Job types the pool accepts.
      type: list
      elements: str
      sample: [Train, Infer]
    vpc_id:
      description: VPC of the pool.
      type: str
      sample: 2f6a8b5e-4c1d-4e7a-9b3c-0d5e6f7a8b9c
    subnet_id:
      description: Subnet of the pool.
      type: str
      sample: 7c1e2d3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f
    driver_version:
      description: Driver version the node pools are set to (when they all agree).
      type: str
      sample: 7.5.0.5.220-24.1.0.3
    driver_state:
      description: C(status.driver.npu.state), for example C(Running) or C(Upgrading).
      type: str
      sample: Running
    node_pools:
      description: Node pools with their desired and observed node counts.
      type: list
      elements: dict
      sample:
        - name: snt9b
          flavor: modelarts.bm.npu.arm.8snt9b3.d
          count: 4
          available: 4
          creating: 0
          deleting: 0
          abnormal: 0
          labels: {team: llm}
          taints: []
          driver_version: 7.5.0.5.220-24.1.0.3
    node_count:
      description: Sum of the node pools' desired counts.
      type: int
      sample: 4
    tags:
      description: Resource tags.
      type: dict
      sample: {team: llm, cost-center: "4711"}
    created_at:
      description: Creation time (RFC 3339).
      type: str
      sample: "2026-11-23T08:15:42Z"
    order_name:
      description: Name of the last order (create or scale) the service placed for this pool.
      type: str
      sample: order.train-a-thl6v
diff:
  description: The pool before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.pool import ensure_pool

TAINT_SPEC = dict(
    key=dict(type="str", required=True, no_log=False),
    value=dict(type="str"),
    effect=dict(type="str", required=True, choices=["NoSchedule", "PreferNoSchedule", "NoExecute"]),
)

NODE_POOL_SPEC = dict(
    name=dict(type="str", required=True),
    flavor=dict(type="str", required=True),
    count=dict(type="int", required=True),
    labels=dict(type="dict"),
    taints=dict(type="list", elements="dict", options=TAINT_SPEC),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    description=dict(type="str"),
    scope=dict(type="list", elements="str", choices=["Train", "Infer", "Notebook"], default=["Train"]),
    vpc_id=dict(type="str"),
    subnet_id=dict(type="str"),
    security_group_ids=dict(type="list", elements="str"),
    clusters=dict(type="list", elements="str", aliases=["cluster_id"]),
    user_login=dict(type="dict", options=dict(
        key_pair_name=dict(type="str", no_log=False),
        password=dict(type="str", no_log=True),
    ), mutually_exclusive=[("key_pair_name", "password")], required_one_of=[("key_pair_name", "password")]),
    node_pools=dict(type="list", elements="dict", options=NODE_POOL_SPEC),
    purge_node_pools=dict(type="bool", default=False),
    driver_version=dict(type="str"),
    driver_update_strategy=dict(type="str", choices=["idle", "force"], default="idle"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
    allow_scale_down=dict(type="bool", default=False),
    allow_driver_upgrade=dict(type="bool", default=False),
    allow_delete=dict(type="bool", default=False),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_pool)


if __name__ == "__main__":
    main()
