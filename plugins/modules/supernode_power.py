#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: supernode_power
short_description: Start or stop every server of a Lite Server super node at once
version_added: 0.2.0
description:
  - Starts or stops a whole super node with its own calls (C(PUT .../dev-servers/hyperinstance/{id}/start) or
    C(/stop)), not one call per server.
  - Follows the Lite Server allowed-operations table, like M(modelarts.lite.lite_server). A server that cannot
    follow (for example one in C(ERROR), which cannot be started) fails the task before any call, with what to do
    next.
  - Idempotent. A super node whose servers are all in the wanted state is left alone (no request).
  - Servers in a transitional status (for example C(STOPPING)) are waited out first when O(wait=true).
  - Stopping ends everything running on the servers.
options:
  state:
    description:
      - V(running) starts the servers that are stopped. V(stopped) stops the servers that run.
    type: str
    choices: [running, stopped]
    required: true
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.wait
  - modelarts.lite.servers.supernode
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the super node with the status every server would get.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Stop a whole super node for maintenance
  modelarts.lite.supernode_power:
    name: sn-train
    state: stopped

- name: Bring it back
  modelarts.lite.supernode_power:
    name: sn-train
    state: running
"""

RETURN = r"""
supernode:
  description: The super node and its servers after the change (in check mode, as they would be).
  returned: always
  type: dict
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
actions:
  description: The super node call made (or that would be made in check mode), C(start) or C(stop).
  returned: always
  type: list
  elements: str
  sample: [stop]
in_progress:
  description: True when O(wait=false) returned before every server reached the state.
  returned: when changed, except in check mode
  type: bool
  sample: false
diff:
  description: Status per server name before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.supernode_state import ensure_supernode_power
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["running", "stopped"], required=True),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_supernode_power)


if __name__ == "__main__":
    main()
