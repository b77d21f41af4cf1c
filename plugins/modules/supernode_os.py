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
  name:
    description:
      - Name or ID of the super node.
    type: str
    required: true
  image:
    description:
      - Image ID or name, one the service offers for the servers' flavor, or the ID of a private IMS image made
        from a server of the same type (see M(modelarts.lite.lite_server_image)).
    type: str
    required: true
  key_pair_name:
    description:
      - Key pair for logging in to the new system. Defaults to the key pair the servers use now. Super node servers
        log in with a key pair only.
    type: str
  user_data:
    description:
      - Script run at first boot, as plain text (the module base64-encodes it). At most 32 KiB.
    type: str
  allow_erase_system_disk:
    description:
      - Opt in to erasing the system disk of every server. Required on every run that switches.
    type: bool
    default: false
  stop_if_running:
    description:
      - Stop the super node first instead of refusing. The module always waits for the stop, even with
        O(wait=false), because the OS change needs stopped servers.
    type: bool
    default: false
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.neighbour_endpoints
  - modelarts.lite.wait
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
  sample:
    id: 0f2b5c1e-6a3d-4c1b-9e2f-7a8b9c0d1e2f
    name: sn-train
    status: ACTIVE
    servers:
      - name: sn-train-1
        status: RUNNING
        image_id: 6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a06
  contains:
    id:
      description: Super node ID.
      type: str
    name:
      description: Super node name.
      type: str
    status:
      description: Super node status.
      type: str
    servers:
      description: Its servers, as M(modelarts.lite.lite_server_info) describes them.
      type: list
      elements: dict
os_changes:
  description: Per server, what the change erases and installs, as M(modelarts.lite.lite_server_os) returns it
    in C(os_change). Empty when nothing changes.
  returned: always
  type: list
  elements: dict
in_progress:
  description: True when O(wait=false) returned before the servers ran the new image.
  returned: when changed
  type: bool
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
