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
    - id: 3d798e31-30ae-403c-9b71-6d272c02143f
      name: golden-cann8-2026-12
      status: active
      min_disk: 300
      visibility: private
      source: f5c8ed59-4480-418d-ab80-d5d6a81afcdd
      description: CANN 8.0 and our training stack
      created_at: "2026-12-07T14:03:19Z"
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
