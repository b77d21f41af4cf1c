#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_server_disk
short_description: Grow the system disk of a Lite Server, or of every server of a super node
version_added: 0.2.0
description:
  - Grows the system disk (the C(ROOT) volume, an EVS disk) of one Lite Server, or of every server of a super
    node in one task, through the Elastic Volume Service (C(os-extend)). Grow only.
  - A disk already at O(size) is left alone (no request). A smaller O(size) than any disk in scope fails before
    any request. O(size) is at most 1024 GB, EVS's largest system disk.
  - EVS's own rules apply, and are checked before any request. The server must be C(RUNNING) or C(STOPPED) (EVS
    checks its machine is C(ACTIVE) or C(SHUTOFF)). The disk must be C(in-use) or C(available), and not shared.
    One server that breaks a rule fails the whole task, and nothing is grown.
  - Yearly/monthly disks answer an order instead of a job. The module sends C(bssParam.isAutoPay=true), so the
    order is paid from the account balance, and then waits until the disk has its new size.
  - Growing the partition and the file system inside the operating system is not part of this module.
options:
  name:
    description:
      - Name or ID of one Lite Server. Mutually exclusive with O(supernode).
    type: str
  supernode:
    description:
      - Name or ID of a super node. Every server of it gets the new size. Mutually exclusive with O(name).
    type: str
  size:
    description:
      - The system disk size wanted, in GB (1 to 1024). Never smaller than a disk's current size.
      - Between 1 and 1024 GB; a value outside is refused before any call.
    type: int
    required: true
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.neighbour_endpoints
  - modelarts.lite.wait
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns C(disks) with the size each disk would get; refuses exactly what a real run refuses.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Grow the system disk of one server to 300 GB
  modelarts.lite.lite_server_disk:
    name: dev-01
    size: 300

- name: Grow every server of a super node, preview first
  modelarts.lite.lite_server_disk:
    supernode: sn-train
    size: 500
  check_mode: true
  register: preview
"""

RETURN = r"""
disks:
  description: One entry per server in scope, in server name order.
  returned: always
  type: list
  elements: dict
  contains:
    server_id:
      description: Server ID.
      type: str
      sample: 845ef312-e3ed-43df-93cf-e36780850e37
    server_name:
      description: Server name.
      type: str
      sample: dev-01
    volume_id:
      description: EVS ID of its system disk.
      type: str
      sample: d04edb9e-2051-49fd-bc22-782cf5d70811
    previous_size:
      description: Size before, in GB.
      type: int
      sample: 200
    size:
      description: Size after (in check mode, as it would be), in GB.
      type: int
      sample: 300
    prepaid:
      description: Whether the disk is billed yearly/monthly (EVS C(metadata.orderID)).
      type: bool
      sample: false
    changed:
      description: Whether this disk grows.
      type: bool
      sample: true
    job_id:
      description: The EVS job of a pay-per-use expansion (null for a yearly/monthly disk).
      type: str
      returned: when the disk was grown (not in check mode)
      sample: 8fa98074925a4e68a59d76891d65415d
    order_id:
      description: The order of a yearly/monthly expansion (null for a pay-per-use disk).
      type: str
      returned: when the disk was grown (not in check mode)
      sample: CS3F0C9A7B61D24E8FA1C5
in_progress:
  description: True when O(wait=false) returned before the disks had grown.
  returned: when a disk was grown (not in check mode)
  type: bool
  sample: false
diff:
  description: Size per server name before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import neighbour_spec
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server_disk import ensure_server_disk
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    supernode=dict(type="str"),
    size=dict(type="int", required=True),
    **neighbour_spec()
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                        mutually_exclusive=[("name", "supernode")], required_one_of=[("name", "supernode")])
    module.run(ensure_server_disk)


if __name__ == "__main__":
    main()
