#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_server_image_info
short_description: List the private IMS images made from Lite Servers
version_added: 0.2.0
description:
  - Lists private images from the Image Management Service (C(GET /v2/cloudimages?__imagetype=private)), for
    example those made by M(modelarts.lite.lite_server_image). Read-only.
options:
  name:
    description:
      - Only images with this name.
    type: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.neighbour_endpoints
  - modelarts.lite.attributes
  - modelarts.lite.attributes.info_module
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Find the golden image
  modelarts.lite.lite_server_image_info:
    name: golden-cann8-2026-12
  register: found
"""

RETURN = r"""
images:
  description: The private images, as M(modelarts.lite.lite_server_image) returns C(image).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 3b8f7d6c-2a1e-4f5d-9c8b-7a6e5d4c3b2a
      name: golden-cann8-2026-12
      status: active
      min_disk: 200
      visibility: private
      source: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
      description: CANN 8.0 and our training stack
      created_at: "2026-12-06T13:50:00Z"
"""

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import neighbour_spec
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server_image import server_image_info
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    **neighbour_spec()
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_wait=False)
    module.run(server_image_info)


if __name__ == "__main__":
    main()
