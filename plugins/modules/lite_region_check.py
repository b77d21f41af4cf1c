#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_region_check
short_description: Check a region's ModelArts answers against the collection's API contract, read-only
version_added: 0.1.0
description:
  - First contact with a region. Lists pools, node pools, nodes, resource flavors, the NPU driver
    plugin template, Lite Servers, super nodes and their servers, and scheduled events, and compares
    every answer with the contract the collection was built on (docs/api-contract.md).
  - A difference is a field the collection relies on that an answer lacks, a status value the
    collection does not know (a wait would poll until its timeout on it), or a call the region refuses.
  - Makes GET requests only; never changes anything. Run it before the first maintenance window in a region.
options:
  pools:
    description:
      - Only read these pools (display names or ids) node by node. All pools by default.
    type: list
    elements: str
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.attributes
  - modelarts.lite.attributes.info_module
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Compare the region with the contract
  modelarts.lite.lite_region_check:
  register: region

- name: Print each difference
  ansible.builtin.debug:
    msg: "{{ region.report }}"
"""

RETURN = r"""
differences:
  description: One entry per difference found.
  returned: always
  type: list
  elements: dict
  contains:
    call:
      description: The contract entry (docs/api-contract.md) the answer breaks.
      type: str
      sample: list_nodes
    subject:
      description: The pool or super node the call was about, when there is one.
      type: str
      sample: pool-a1b2-0123456789abcdef0123456789abcdef
    field:
      description: The field, in the contract's notation.
      type: str
      sample: items[].status.phase
    problem:
      description: C(missing), C(unknown value) or C(call failed).
      type: str
      sample: unknown value
    message:
      description: The difference as a sentence.
      type: str
      sample: "list_nodes (pool-a1b2-...): items[].status.phase has values the collection does not know: Hibernating"
  sample: []
report:
  description: The messages of the differences, in order.
  returned: always
  type: list
  elements: str
  sample: []
checked:
  description: How many objects each call returned and was checked.
  returned: always
  type: dict
  sample: {"list_pools": 2, "list_nodes": 8, "list_servers": 3}
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.region_check import region_check

ARGUMENT_SPEC = dict(
    pools=dict(type="list", elements="str"),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_wait=False)
    module.run(region_check)


if __name__ == "__main__":
    main()
