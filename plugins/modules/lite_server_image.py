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
  stop_if_running:
    description:
      - Stop a C(RUNNING) server first instead of refusing. The module always waits for the stop, even with
        O(wait=false), because IMS needs a stopped server.
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
  sample:
    id: 3b8f7d6c-2a1e-4f5d-9c8b-7a6e5d4c3b2a
    name: golden-cann8-2026-12
    status: active
    min_disk: 200
    visibility: private
    source: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
    description: CANN 8.0 and our training stack
    created_at: "2026-12-06T13:50:00Z"
  contains:
    id:
      description: IMS image ID, for O(modelarts.lite.lite_server_os#module:image).
      type: str
    name:
      description: Image name.
      type: str
    status:
      description: IMS status (C(saving) while it is made, then C(active)).
      type: str
    min_disk:
      description: Smallest system disk it boots from, in GB.
      type: int
    visibility:
      description: C(private).
      type: str
    source:
      description: The C(cloud_server.id) it was made from.
      type: str
    description:
      description: Image description.
      type: str
    created_at:
      description: Creation time.
      type: str
stopped_server:
  description: Whether the server was (or in check mode would be) stopped first.
  returned: when an image is made
  type: bool
job_id:
  description: The IMS job that made the image.
  returned: when an image is made
  type: str
in_progress:
  description: True when O(wait=false) returned before the image was ready.
  returned: when an image is made
  type: bool
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
