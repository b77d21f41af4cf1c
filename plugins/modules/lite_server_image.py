#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_server_image
short_description: Make or delete a private OS image of a Lite Server through IMS
version_added: 0.2.0
description:
  - Makes a private image of a Lite Server's system disk with the Image Management Service
    (C(POST /v2/cloudimages/action) with the server's C(cloud_server.id)), waits for the IMS job, and returns the
    image ID. M(modelarts.lite.lite_server_os) and M(modelarts.lite.supernode_os) can then install it.
  - Idempotent by name. A private image with O(name) is the image; nothing is made when it exists. Two private
    images with that name are refused as ambiguous. An image still being made is waited for.
  - The server must be C(STOPPED). A running server is refused, unless O(stop_if_running=true) stops it first. That
    ends everything running on it. With O(wait=true) the module starts it again once the image is ready.
  - O(state=absent) deletes the private image with O(name) (C(DELETE /v2/images/{id})).
  - ModelArts itself has no call for this. Its C(/images) registers container images only.
options:
  name:
    description:
      - Image name, 1 to 128 letters, digits, spaces, C(-), C(_) or C(.), starting with a letter or digit.
    type: str
    required: true
  server:
    description:
      - Name or ID of the Lite Server to make the image from. Required with O(state=present).
    type: str
  description:
    description:
      - Image description (at most 1024 characters). Used when the image is made.
    type: str
  state:
    description:
      - V(present) makes the image when no private image has O(name). V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.neighbour_endpoints
  - modelarts.lite.wait
  - modelarts.lite.servers.stop_first
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the image as it would be (without an ID) and whether the server would be stopped.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Capture a configured server as a golden image (stops and restarts it)
  modelarts.lite.lite_server_image:
    name: golden-cann8-2026-12
    server: dev-01
    description: CANN 8.0 and our training stack
    stop_if_running: true
    wait_timeout: 3600
  register: golden

- name: Install it on another server
  modelarts.lite.lite_server_os:
    name: dev-02
    image: "{{ golden.image.id }}"
    allow_erase_system_disk: true
    stop_if_running: true

- name: Delete an old image
  modelarts.lite.lite_server_image:
    name: golden-cann7-2026-06
    state: absent
"""

RETURN = r"""
image:
  description: The private image (in check mode, as it would be, without an ID). Empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: IMS image ID, for O(modelarts.lite.lite_server_os#module:image). Null in check mode, before it is made.
      type: str
      sample: 3d798e31-30ae-403c-9b71-6d272c02143f
    name:
      description: Image name.
      type: str
      sample: golden-cann8-2026-12
    status:
      description: IMS status (C(saving) while it is made, then C(active)).
      type: str
      sample: active
    min_disk:
      description: Smallest system disk it boots from, in GB (the source server's system disk size).
      type: int
      sample: 300
    visibility:
      description: C(private).
      type: str
      sample: private
    source:
      description: The C(cloud_server.id) of the server it was made from (the ECS or BMS behind the Lite Server).
      type: str
      sample: f5c8ed59-4480-418d-ab80-d5d6a81afcdd
    description:
      description: Image description.
      type: str
      sample: CANN 8.0 and our training stack
    created_at:
      description: Creation time, ISO 8601 UTC as IMS reports it. Null in check mode.
      type: str
      sample: "2026-12-07T14:03:19Z"
stopped_server:
  description: Whether the server was (or in check mode would be) stopped first.
  returned: when an image is made
  type: bool
  sample: false
job_id:
  description: The IMS job that made the image.
  returned: when an image is made (not in check mode)
  type: str
  sample: e9bf30a046734e8dba5e02db8e723402
in_progress:
  description: True when O(wait=false) returned before the image was ready.
  returned: when an image is made (not in check mode)
  type: bool
  sample: false
diff:
  description: The image name before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import neighbour_spec
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server_image import ensure_server_image
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    server=dict(type="str"),
    description=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    stop_if_running=dict(type="bool", default=False),
    **neighbour_spec()
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_server_image)


if __name__ == "__main__":
    main()
