#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: supernode_os
short_description: Switch the operating system of every server of a Lite Server super node at once
version_added: 0.2.0
description:
  - Switches all servers of a super node to one image with the super node's own call
    (C(POST .../dev-servers/hyperinstance/{id}/changeos)), not one call per server.
  - B(High risk.) It erases the system disk of every server. Data volumes are kept. Nothing runs without
    O(allow_erase_system_disk=true), on every run that would erase. Check mode returns C(os_changes), which
    names each volume that would be erased.
  - Every server must be C(STOPPED). Running servers are refused, unless O(stop_if_running=true) stops the whole
    super node first. That ends everything running on it. A server in any other status fails the task before any
    call.
  - Idempotent. A super node whose servers all run the image is left alone (no request).
  - After the change every server is C(RUNNING) with the new image.
options:
  image:
    description:
      - Image ID or name, one the service offers for the servers' flavor, or the ID of a private IMS image made
        from a server of the same server type and architecture (see M(modelarts.lite.lite_server_image)). A private
        image made from another type (for example a BMS server) is refused before any server is stopped.
    type: str
    required: true
  key_pair_name:
    description:
      - Key pair for logging in to the new system. Defaults to the key pair the servers use now. Super node servers
        log in with a key pair only.
    type: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.neighbour_endpoints
  - modelarts.lite.wait
  - modelarts.lite.servers.supernode
  - modelarts.lite.servers.stop_first
  - modelarts.lite.servers.os_install
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns C(os_changes) with the volumes that would be erased and kept per server.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Preview what switching the super node would erase
  modelarts.lite.supernode_os:
    name: sn-train
    image: EulerOS-2.10-Arm-64bit-for-Snt9B23-HPS-with-CANN7.0
    allow_erase_system_disk: true
  check_mode: true
  register: preview

- name: Switch every server (stops the super node first; all system disks are erased)
  modelarts.lite.supernode_os:
    name: sn-train
    image: EulerOS-2.10-Arm-64bit-for-Snt9B23-HPS-with-CANN7.0
    allow_erase_system_disk: true
    stop_if_running: true
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
os_changes:
  description: Per server, what the change erases and installs, as M(modelarts.lite.lite_server_os) returns it
    in C(os_change). Empty when nothing changes.
  returned: always
  type: list
  elements: dict
  sample:
    - operation: switch
      server_id: 0f42b0a7-7478-4a3f-ab8d-feb5f25c631a
      server_name: sn-train-1
      from_image: {id: 6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a05, name: HCE2.0-Arm-64bit-for-Snt9B23-HPS-with-CANN8.0}
      to_image: {id: 3d798e31-30ae-403c-9b71-6d272c02143f, name: golden-cann8-2026-12}
      erased_volumes: [{type: ROOT, size: 200, evs_type: SSD, evs_id: ba32e63b-e94d-4d77-a5fb-d8b07a0bb3c9}]
      kept_volumes: []
      stops_server: false
in_progress:
  description: True when O(wait=false) returned before the servers ran the new image.
  returned: when changed, except in check mode
  type: bool
  sample: false
diff:
  description: Image ID per server name before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import neighbour_spec
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.supernode_state import ensure_supernode_os
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    image=dict(type="str", required=True),
    key_pair_name=dict(type="str", no_log=False),
    user_data=dict(type="str"),
    allow_erase_system_disk=dict(type="bool", default=False),
    stop_if_running=dict(type="bool", default=False),
    **neighbour_spec()
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_supernode_os)


if __name__ == "__main__":
    main()
