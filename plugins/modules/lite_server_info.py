#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_server_info
short_description: List and show ModelArts Lite Servers
version_added: 0.1.0
description:
  - Returns every Lite Server of the project, or the one named, in the shape M(modelarts.lite.lite_server)
    returns C(server). Each server also lists the repair events the service has opened for it.
  - Never changes anything.
options:
  name:
    description:
      - Name or ID of one server. Without it, every server is returned.
      - A name that matches no server returns an empty list, not an error.
    type: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.attributes
  - modelarts.lite.attributes.info_module
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Show one server
  modelarts.lite.lite_server_info:
    name: dev-01
  register: result

- name: Servers waiting for a repair authorization
  ansible.builtin.debug:
    msg: "{{ result.servers | selectattr('repair_events') | map(attribute='name') | list }}"
"""

RETURN = r"""
servers:
  description: The servers found, each as M(modelarts.lite.lite_server) returns C(server), with its open repair events.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Server ID.
      type: str
      sample: 845ef312-e3ed-43df-93cf-e36780850e37
    name:
      description: Server name.
      type: str
      sample: dev-01
    status:
      description: Status, for example C(RUNNING), C(STOPPED), C(ERROR), C(START_FAILED).
      type: str
      sample: RUNNING
    category:
      description: C(SERVER), or C(HPS) for a super node server.
      type: str
      sample: SERVER
    flavor:
      description: Server flavor.
      type: str
      sample: modelarts.bm.npu.arm.8snt9b3.d
    server_type:
      description: C(BMS), C(ECS) or C(HPS).
      type: str
      sample: BMS
    image_id:
      description: ID of the OS image it runs.
      type: str
      sample: 6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a01
    image_name:
      description: Name of that image.
      type: str
      sample: EulerOS-2.10-Arm-rc3-64bit-for-Snt9B-BareMetal-with-CANN7.0
    arch:
      description: C(ARM) or C(X86).
      type: str
      sample: ARM
    key_pair_name:
      description: Key pair for logging in (null for a server that logs in with a password).
      type: str
      sample: kp-train
    private_ip:
      description: Private IP address.
      type: str
      sample: 192.168.100.2
    volumes:
      description: Disks, each with C(type) (C(ROOT) is the system disk, C(DATA) a data volume), C(size) in GB,
        C(evs_type) and C(evs_id).
      type: list
      elements: dict
      sample:
        - {type: ROOT, size: 200, evs_type: SSD, evs_id: d04edb9e-2051-49fd-bc22-782cf5d70811}
        - {type: DATA, size: 500, evs_type: SSD, evs_id: bd7edeca-2db2-4774-9fb1-ffed4fb7d912}
    supernode_id:
      description: ID of the super node it belongs to; null for a server outside a super node.
      type: str
      sample: 3cd88c12-98c5-475c-82bd-f7a2e09f285c
    supernode_name:
      description: Name of that super node; null for a server outside a super node.
      type: str
      sample: sn-train
    charging_mode:
      description: Billing mode, C(POST_PAID) (pay-per-use) or C(PRE_PAID) (yearly/monthly).
      type: str
      sample: POST_PAID
    created_at:
      description: Creation time, epoch milliseconds.
      type: int
      sample: 1796576736293
    updated_at:
      description: Last update, epoch milliseconds.
      type: int
      sample: 1796614829055
    repair_events:
      description:
        - Open scheduled events (C(inquiring), C(scheduled), C(executing)) for this server, with C(id),
          C(type), C(state), C(description), C(redeployType) (the repairs the service offers) and C(notBefore)
          (empty until a start time is set).
      type: list
      elements: dict
      sample:
        - id: 032e0acf-cb4e-4c04-a558-7190dfe0dde6
          type: node_redeploy
          state: inquiring
          description: Hardware fault detected; authorize the repair.
          redeployType: [HARD, SOFT]
          notBefore: ""
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server import server_info

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_wait=False)
    module.run(server_info)


if __name__ == "__main__":
    main()
