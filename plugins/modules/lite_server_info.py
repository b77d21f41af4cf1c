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
  description: The servers found, each as M(modelarts.lite.lite_server) returns C(server).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Server ID.
      type: str
    name:
      description: Server name.
      type: str
    status:
      description: Status, for example C(RUNNING), C(STOPPED), C(ERROR).
      type: str
    image_id:
      description: ID of the OS image it runs.
      type: str
    volumes:
      description: Disks with type (C(ROOT), C(DATA)), size in GB, EVS type and ID.
      type: list
      elements: dict
    supernode_id:
      description: ID of the super node it belongs to, if any.
      type: str
    repair_events:
      description:
        - Open scheduled events (C(inquiring), C(scheduled), C(executing)) for this server, with C(id),
          C(type), C(state), C(description), C(redeployType) and C(notBefore).
      type: list
      elements: dict
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
