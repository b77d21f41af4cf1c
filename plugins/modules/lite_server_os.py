#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_server_os
short_description: Switch or reset the operating system of a ModelArts Lite Server
version_added: 0.1.0
description:
  - Switches a Lite Server to another OS image (C(changeos)), or reinstalls the image it runs (C(reinstallos)).
  - B(High risk.) Both erase the system disk (the C(ROOT) volume). Data volumes are kept. Nothing runs without
    O(allow_erase_system_disk=true). Check mode returns C(os_change), which names the volume that would be
    erased, the volumes kept, and the image the server would run.
  - The server must be C(STOPPED). A running server is refused, unless O(stop_if_running=true) stops it first.
    That ends everything running on it.
  - Idempotent for O(operation=switch). A server that already runs the image is left alone (C(changed=false),
    no request).
  - O(operation=reset) is an action that runs every time it is asked for. It stays safe to re-run because it
    needs the opt-in on every run, and check mode reports that it would run. Guard it with C(when) in playbooks
    that run repeatedly.
  - O(operation=create_image) is refused. ModelArts has no API that captures a server's disk as an image. Use
    M(modelarts.lite.lite_server_image) (the Image Management Service, IMS), then O(operation=switch) to that image.
  - After a switch or reset the server is C(RUNNING).
options:
  name:
    description:
      - Name or ID of the server.
    type: str
    required: true
  operation:
    description:
      - V(switch) installs O(image). V(reset) reinstalls the image the server runs.
      - V(create_image) always fails with directions to M(modelarts.lite.lite_server_image) (no ModelArts API exists
        for it).
    type: str
    choices: [switch, reset, create_image]
    default: switch
  image:
    description:
      - Image ID or name, one of the images the service offers for the server's flavor
        (C(GET /v1/{project_id}/dev-servers/images)). Required for O(operation=switch).
      - Or the ID or name of a private IMS image (for example one made by M(modelarts.lite.lite_server_image)).
        The dev-server image list does not show private images, so the module checks through IMS that it exists
        and is C(active), and that it was made from a server of the same server type and architecture (the
        service refuses another, and that refusal would come after O(stop_if_running) stopped the server).
      - With O(operation=reset) it may only name the current image.
    type: str
  key_pair_name:
    description:
      - Key pair for logging in to the new system. Defaults to the server's current key pair.
    type: str
  admin_password:
    description:
      - Root password for the new system, instead of a key pair. Not for super node servers.
    type: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.neighbour_endpoints
  - modelarts.lite.wait
  - modelarts.lite.servers.stop_first
  - modelarts.lite.servers.os_install
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns C(os_change) with the volumes that would be erased and kept and the target image.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Preview what switching the image would erase
  modelarts.lite.lite_server_os:
    name: dev-01
    image: HCE2.0-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0
    allow_erase_system_disk: true
  check_mode: true
  register: preview

- name: Switch (stops the server first; the system disk is erased)
  modelarts.lite.lite_server_os:
    name: dev-01
    image: HCE2.0-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0
    allow_erase_system_disk: true
    stop_if_running: true

- name: Reinstall the current image, only when asked for
  modelarts.lite.lite_server_os:
    name: dev-01
    operation: reset
    allow_erase_system_disk: true
  when: reset_dev_01 | default(false) | bool
"""

RETURN = r"""
server:
  description:
    - The server after the change (in check mode, as it would be), as M(modelarts.lite.lite_server) returns it
      (see there for each key). C(image_id) and C(image_name) name the image it runs now.
  returned: always
  type: dict
  sample:
    id: 032e0acf-cb4e-4c04-a558-7190dfe0dde6
    name: dev-02
    status: RUNNING
    category: SERVER
    flavor: modelarts.bm.npu.arm.8snt9b3.d
    server_type: BMS
    image_id: 3d798e31-30ae-403c-9b71-6d272c02143f
    image_name: golden-cann8-2026-12
    arch: ARM
    key_pair_name: kp-train
    private_ip: 192.168.100.3
    volumes:
      - {type: ROOT, size: 200, evs_type: SSD, evs_id: a1b63699-a7c9-48c9-81d8-d90ebeaf6b52}
      - {type: DATA, size: 500, evs_type: SSD, evs_id: d387a3f2-176b-4acb-bceb-94119b134419}
    supernode_id: null
    supernode_name: null
    charging_mode: POST_PAID
    created_at: 1796576736500
    updated_at: 1796711966927
os_change:
  description: What the OS change erases and installs. Empty when nothing changes.
  returned: always
  type: dict
  contains:
    operation:
      description: C(switch) or C(reset).
      type: str
      sample: switch
    server_id:
      description: Server ID.
      type: str
      sample: 032e0acf-cb4e-4c04-a558-7190dfe0dde6
    server_name:
      description: Server name.
      type: str
      sample: dev-02
    from_image:
      description: C(id) and C(name) of the image before.
      type: dict
      sample: {id: 6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a01, name: EulerOS-2.10-Arm-rc3-64bit-for-Snt9B-BareMetal-with-CANN7.0}
    to_image:
      description: C(id) and C(name) of the image after.
      type: dict
      sample: {id: 3d798e31-30ae-403c-9b71-6d272c02143f, name: golden-cann8-2026-12}
    erased_volumes:
      description: The system disk that is erased (C(type), C(size) in GB, C(evs_type) and C(evs_id)).
      type: list
      elements: dict
      sample: [{type: ROOT, size: 200, evs_type: SSD, evs_id: a1b63699-a7c9-48c9-81d8-d90ebeaf6b52}]
    kept_volumes:
      description: Data volumes that are kept, in the same shape.
      type: list
      elements: dict
      sample: [{type: DATA, size: 500, evs_type: SSD, evs_id: d387a3f2-176b-4acb-bceb-94119b134419}]
    stops_server:
      description: Whether the server is stopped first, because it is C(RUNNING) (which needs O(stop_if_running=true)).
      type: bool
      sample: false
diff:
  description: Server ID, name and image before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import neighbour_spec
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server_os import ensure_server_os

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    operation=dict(type="str", choices=["switch", "reset", "create_image"], default="switch"),
    image=dict(type="str"),
    key_pair_name=dict(type="str", no_log=False),
    admin_password=dict(type="str", no_log=True),
    user_data=dict(type="str"),
    allow_erase_system_disk=dict(type="bool", default=False),
    stop_if_running=dict(type="bool", default=False),
    **neighbour_spec()
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                        mutually_exclusive=[("key_pair_name", "admin_password")])
    module.run(ensure_server_os)


if __name__ == "__main__":
    main()
