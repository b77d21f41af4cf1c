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
      description: Super node ID.
      type: str
    name:
      description: Name.
      type: str
    status:
      description: Status, for example C(ACTIVE).
      type: str
    flavor:
      description: Flavor of its servers.
      type: str
    server_count:
      description: Servers that are not being deleted.
      type: int
    servers:
      description: Its servers.
      type: list
      elements: dict
    system_disk_sizes:
      description: Distinct system disk sizes (GB) of its servers.
      type: list
      elements: int
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
