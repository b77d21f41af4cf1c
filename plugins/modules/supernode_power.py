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
  name:
    description:
      - Name or ID of the super node.
    type: str
    required: true
  state:
    description:
      - V(running) starts the servers that are stopped. V(stopped) stops the servers that run.
    type: str
    choices: [running, stopped]
    required: true
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.wait
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
  sample:
    id: 0f2b5c1e-6a3d-4c1b-9e2f-7a8b9c0d1e2f
    name: sn-train
    status: ACTIVE
    servers:
      - id: 5f1c0c3e-8d7a-4b59-a4ce-2f0d3c1e9a77
        name: sn-train-1
        status: STOPPED
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
actions:
  description: The super node call made (or that would be made in check mode), C(start) or C(stop).
  returned: always
  type: list
  elements: str
  sample: [stop]
in_progress:
  description: True when O(wait=false) returned before every server reached the state.
  returned: when changed
  type: bool
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
