#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: supernode_info
short_description: List and show ModelArts Lite Server super nodes
version_added: 0.1.0
description:
  - Returns every super node (hyperinstance) of the project, or the one named, with its servers, in the shape
    M(modelarts.lite.supernode_scale) returns C(supernode).
  - Never changes anything.
options:
  name:
    description:
      - Name or ID of one super node. Without it, every super node is returned.
      - A name that matches none returns an empty list, not an error.
    type: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.attributes
  - modelarts.lite.attributes.info_module
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Show one super node
  modelarts.lite.supernode_info:
    name: sn-train
  register: result

- name: How many servers it has
  ansible.builtin.debug:
    msg: "{{ result.supernodes[0].server_count }}"
"""

RETURN = r"""
supernodes:
  description: The super nodes found, each as M(modelarts.lite.supernode_scale) returns C(supernode).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Super node (hyperinstance) ID.
      type: str
      sample: 3cd88c12-98c5-475c-82bd-f7a2e09f285c
    name:
      description: Super node name.
      type: str
      sample: sn-train
    status:
      description: Super node status, for example C(ACTIVE), C(PROVISIONING), C(REIMAGING), C(ERROR).
      type: str
      sample: ACTIVE
    flavor:
      description: Flavor of its servers (a super node keeps one).
      type: str
      sample: modelarts.hps.npu.arm.16snt9b23.d
    server_count:
      description: Servers that are not being deleted.
      type: int
      sample: 3
    system_disk_sizes:
      description: Distinct system disk sizes (GB) of its servers.
      type: list
      elements: int
      sample: [200]
    hps_cluster_id:
      description: ID of its HPS cluster.
      type: str
      sample: 371baa28-ef17-4e9a-8474-6d054898c479
    created_at:
      description: Creation time, epoch milliseconds.
      type: int
      sample: 1796745337545
    servers:
      description: Its servers, each as M(modelarts.lite.lite_server) returns C(server).
      type: list
      elements: dict
      sample:
        - id: 0f42b0a7-7478-4a3f-ab8d-feb5f25c631a
          name: sn-train-1
          status: RUNNING
          category: HPS
          flavor: modelarts.hps.npu.arm.16snt9b23.d
          server_type: HPS
          image_id: 6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a05
          image_name: HCE2.0-Arm-64bit-for-Snt9B23-HPS-with-CANN8.0
          arch: ARM
          key_pair_name: kp-train
          private_ip: 192.168.100.4
          volumes: [{type: ROOT, size: 200, evs_type: SSD, evs_id: ba32e63b-e94d-4d77-a5fb-d8b07a0bb3c9}]
          supernode_id: 3cd88c12-98c5-475c-82bd-f7a2e09f285c
          supernode_name: sn-train
          charging_mode: POST_PAID
          created_at: 1796745337755
          updated_at: 1796745337755
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.supernode import supernode_info

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_wait=False)
    module.run(supernode_info)


if __name__ == "__main__":
    main()
