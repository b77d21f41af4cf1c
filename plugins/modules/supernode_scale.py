#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: supernode_scale
short_description: Scale a ModelArts Lite Server super node up or down
version_added: 0.1.0
description:
  - Brings a Lite Server super node (hyperinstance) to a number of servers, or removes named servers from it.
  - Scale-up adds servers of the super node's own flavor (a super node keeps one specification) with the image,
    key pair and system disk size of its current servers. Each server is one C(live-scale-up) call. A sold-out
    flavor (C(scale-evaluations)) is refused before any call.
  - Scale-down (C(live-scale-down)) removes servers and their disks, so it needs O(allow_scale_down=true).
    With O(count), the module picks idle servers first, then broken ones, then the newest. A super node
    keeps at least one server.
  - Scale-down is refused while jobs run on the servers to remove. O(stop_running_jobs=true) deletes those jobs
    first, but never a job that also runs on a server that stays.
  - O(system_disk_size) can only grow. A smaller size is refused before any call. This module does not grow the
    disks of existing servers (ModelArts has no API for it), so a larger size than the servers have is refused and
    points at M(modelarts.lite.lite_server_disk), which grows them through EVS. A size the servers already have
    passes.
  - Idempotent. A super node that already has the wanted servers is left alone.
options:
  count:
    description:
      - Wanted number of servers, at least 1. Servers being deleted do not count.
      - Between 1 and 48 servers; a value outside is refused before any call.
    type: int
  remove_servers:
    description:
      - Names or IDs of servers to remove. Servers already being deleted are skipped.
      - A server that no longer exists in the project counts as removed (a rerun is
        C(changed=false), with a warning); one that exists outside this super node is refused.
      - With O(count), both must agree.
    type: list
    elements: str
  flavor:
    description:
      - Expected flavor of the super node's servers. A different flavor is refused, because a super node keeps one
        specification. Omit it to use the super node's own.
    type: str
  image:
    description:
      - Image ID or name for new servers, or a private IMS image. Defaults to the image of the current servers.
    type: str
  key_pair_name:
    description:
      - Key pair for new servers. Defaults to the key pair of the current servers.
    type: str
  system_disk_size:
    description:
      - Expected system disk size in GB (100 to 1024). Grow only. See the description for what happens when it differs.
      - Between 100 and 1024 GB; a value outside is refused before any call.
    type: int
  allow_scale_down:
    description:
      - Opt in to removing servers. Their disks and everything running on them are lost.
    type: bool
    default: false
  stop_running_jobs:
    description:
      - Delete the dev-server jobs running on the servers to remove, instead of refusing.
      - A job that also runs on a server that stays is never deleted. The task is refused instead.
    type: bool
    default: false
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.neighbour_endpoints
  - modelarts.lite.wait
  - modelarts.lite.servers.supernode
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the super node as it would be, and C(plan) lists the servers to add and remove and the jobs to stop.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Grow the super node to 4 servers
  modelarts.lite.supernode_scale:
    name: sn-train
    count: 4

- name: Remove one broken server (high risk, explicit)
  modelarts.lite.supernode_scale:
    name: sn-train
    remove_servers: [sn-train-3]
    allow_scale_down: true

- name: Shrink to 2 servers even if a job runs on a server to remove
  modelarts.lite.supernode_scale:
    name: sn-train
    count: 2
    allow_scale_down: true
    stop_running_jobs: true
"""

RETURN = r"""
supernode:
  description: The super node after the change (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    id:
      description: Super node (hyperinstance) ID.
      type: str
      sample: 3cd88c12-98c5-475c-82bd-f7a2e09f285c
    name:
      description: Super node name.
      type: str
      sample: sn-train
    status:
      description: Super node status, for example C(ACTIVE), C(PROVISIONING), C(REIMAGING), C(ERROR).
      type: str
      sample: ACTIVE
    flavor:
      description: Flavor of its servers (a super node keeps one).
      type: str
      sample: modelarts.hps.npu.arm.16snt9b23.d
    server_count:
      description: Servers that are not being deleted.
      type: int
      sample: 3
    system_disk_sizes:
      description: Distinct system disk sizes (GB) of its servers.
      type: list
      elements: int
      sample: [200]
    hps_cluster_id:
      description: ID of its HPS cluster.
      type: str
      sample: 371baa28-ef17-4e9a-8474-6d054898c479
    created_at:
      description: Creation time, epoch milliseconds.
      type: int
      sample: 1796745337545
    servers:
      description: Its servers, each as M(modelarts.lite.lite_server) returns C(server).
      type: list
      elements: dict
      sample:
        - id: 0f42b0a7-7478-4a3f-ab8d-feb5f25c631a
          name: sn-train-1
          status: RUNNING
          category: HPS
          flavor: modelarts.hps.npu.arm.16snt9b23.d
          server_type: HPS
          image_id: 6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a05
          image_name: HCE2.0-Arm-64bit-for-Snt9B23-HPS-with-CANN8.0
          arch: ARM
          key_pair_name: kp-train
          private_ip: 192.168.100.4
          volumes: [{type: ROOT, size: 200, evs_type: SSD, evs_id: ba32e63b-e94d-4d77-a5fb-d8b07a0bb3c9}]
          supernode_id: 3cd88c12-98c5-475c-82bd-f7a2e09f285c
          supernode_name: sn-train
          charging_mode: POST_PAID
          created_at: 1796745337755
          updated_at: 1796745337755
plan:
  description: What the run changes (or would change in check mode).
  returned: always
  type: dict
  contains:
    add:
      description: How many servers are added.
      type: int
      sample: 1
    remove:
      description: The servers removed, each with C(id) and C(name).
      type: list
      elements: dict
      sample: [{id: 0f42b0a7-7478-4a3f-ab8d-feb5f25c631a, name: sn-train-3}]
    stop_jobs:
      description: IDs of the dev-server jobs deleted first (O(stop_running_jobs=true)).
      type: list
      elements: str
      sample: [b6f0c1e2-4d3a-4f8e-9a7b-2c1d0e9f8a76]
diff:
  description: Server count, flavor and system disk sizes before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import neighbour_spec
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.supernode import ensure_supernode

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    count=dict(type="int"),
    remove_servers=dict(type="list", elements="str"),
    flavor=dict(type="str"),
    image=dict(type="str"),
    key_pair_name=dict(type="str", no_log=False),
    system_disk_size=dict(type="int"),
    allow_scale_down=dict(type="bool", default=False),
    stop_running_jobs=dict(type="bool", default=False),
    **neighbour_spec()
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_supernode)


if __name__ == "__main__":
    main()
