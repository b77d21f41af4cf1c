#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_server
short_description: Start, stop, restart, rename, sync and repair a ModelArts Lite Server
version_added: 0.1.0
description:
  - Brings a ModelArts Lite Server (C(/v1/{project_id}/dev-servers)) to the wanted power state, renames it,
    refreshes its status (sync) and authorizes a repair the service has asked for.
  - Follows the service's allowed-operations table. A C(RUNNING) server can be stopped or restarted. A C(STOPPED)
    server can be started. A C(ERROR) server can be restarted or repaired. While an operation runs (C(STARTING),
    C(STOPPING), C(REBOOTING), C(CHANGINGOS), ...) nothing else is allowed, so the module waits it out first
    (O(wait=true)) or refuses.
  - An error status is reported with what to do next, and nothing is sent that the service would refuse.
  - Idempotent. A second identical run reports C(changed=false) and sends no mutating request, except for
    O(state=restarted) and O(sync=true), which are actions and run every time.
  - Hot standby of Lite Server resources has no public API, so this module cannot manage it. Use the console.
  - The server is not created or deleted here. To change its operating system use M(modelarts.lite.lite_server_os).
options:
  name:
    description:
      - Name or ID of the server.
      - When O(new_name) is set and no server has this name, the server named O(new_name) is used, so a
        rename can be re-run.
      - A name that several servers share is an error; use the ID then.
    type: str
    required: true
  state:
    description:
      - V(running) starts a stopped server. V(stopped) stops a running one. Stopping ends every process on it.
      - V(restarted) reboots the server (or starts it when stopped). It runs every time.
      - Omit it to leave the power state alone.
    type: str
    choices: [running, stopped, restarted]
  new_name:
    description:
      - Rename the server to this. 1 to 64 letters, digits, C(-), C(_) or C(.).
    type: str
  sync:
    description:
      - Ask the service to refresh the status of the project's servers from the machines first
        (C(PUT /dev-servers/sync)). Use it when the console shows a stale status after maintenance.
      - Runs every time it is set (not in check mode). The task reports a change only when the status moved.
    type: bool
    default: false
  authorize_repair:
    description:
      - Authorize the repairs the service asks for on this server (scheduled events in state C(inquiring),
        C(POST /v1/{project_id}/scheduled-events/{id}/accept)).
      - With O(wait=true) the module waits until the repair has completed, then applies O(state).
      - Nothing changes when there is no repair waiting for authorization.
    type: bool
    default: false
  repair_type:
    description:
      - V(SOFT) redeploys in place. The service cannot do it while the server is unavailable (C(ERROR)).
      - V(HARD) moves the server to new hardware and wipes its local and cloud disks. It needs O(allow_hard_repair=true).
    type: str
    choices: [SOFT, HARD]
    default: SOFT
  repair_not_before:
    description:
      - Earliest time the repair may start, in UTC, for example C(2025-09-15T07:02:30Z).
    type: str
  allow_hard_repair:
    description:
      - Opt in to a V(HARD) repair, which wipes the server's disks.
    type: bool
    default: false
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.wait
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the server as it would be and the actions a real run would take. It does not sync.
  diff_mode:
    support: full
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Make sure the server runs
  modelarts.lite.lite_server:
    name: dev-01
    state: running

- name: Stop it before maintenance (ends everything running on it)
  modelarts.lite.lite_server:
    name: dev-01
    state: stopped

- name: Rename it (safe to re-run)
  modelarts.lite.lite_server:
    name: dev-01
    new_name: train-dev-01

- name: Console shows a stale status after maintenance; refresh it, then restart
  modelarts.lite.lite_server:
    name: train-dev-01
    sync: true
    state: restarted

- name: Authorize the repair the service asked for, and bring the server back
  modelarts.lite.lite_server:
    name: train-dev-01
    authorize_repair: true
    repair_type: SOFT
    state: running
"""

RETURN = r"""
server:
  description: The server after the change (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    id:
      description: Server ID.
      type: str
      sample: 845ef312-e3ed-43df-93cf-e36780850e37
    name:
      description: Server name.
      type: str
      sample: dev-01
    status:
      description: Status, for example C(RUNNING), C(STOPPED), C(ERROR), C(START_FAILED).
      type: str
      sample: RUNNING
    category:
      description: C(SERVER), or C(HPS) for a super node server.
      type: str
      sample: SERVER
    flavor:
      description: Server flavor.
      type: str
      sample: modelarts.bm.npu.arm.8snt9b3.d
    server_type:
      description: C(BMS), C(ECS) or C(HPS).
      type: str
      sample: BMS
    image_id:
      description: ID of the OS image it runs.
      type: str
      sample: 6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a01
    image_name:
      description: Name of that image.
      type: str
      sample: EulerOS-2.10-Arm-rc3-64bit-for-Snt9B-BareMetal-with-CANN7.0
    arch:
      description: C(ARM) or C(X86).
      type: str
      sample: ARM
    key_pair_name:
      description: Key pair for logging in (null for a server that logs in with a password).
      type: str
      sample: kp-train
    private_ip:
      description: Private IP address.
      type: str
      sample: 192.168.100.2
    volumes:
      description: Disks, each with C(type) (C(ROOT) is the system disk, C(DATA) a data volume), C(size) in GB,
        C(evs_type) and C(evs_id).
      type: list
      elements: dict
      sample:
        - {type: ROOT, size: 200, evs_type: SSD, evs_id: d04edb9e-2051-49fd-bc22-782cf5d70811}
        - {type: DATA, size: 500, evs_type: SSD, evs_id: bd7edeca-2db2-4774-9fb1-ffed4fb7d912}
    supernode_id:
      description: ID of the super node it belongs to; null for a server outside a super node.
      type: str
      sample: 3cd88c12-98c5-475c-82bd-f7a2e09f285c
    supernode_name:
      description: Name of that super node; null for a server outside a super node.
      type: str
      sample: sn-train
    charging_mode:
      description: Billing mode, C(POST_PAID) (pay-per-use) or C(PRE_PAID) (yearly/monthly).
      type: str
      sample: POST_PAID
    created_at:
      description: Creation time, epoch milliseconds.
      type: int
      sample: 1796576736293
    updated_at:
      description: Last update, epoch milliseconds.
      type: int
      sample: 1796614829055
actions:
  description: What the module did (or would do in check mode), in order, for example C(sync), C(rename), C(stop).
  returned: always
  type: list
  elements: str
  sample: [rename, start]
repair_events:
  description: IDs of the scheduled events authorized (or to authorize in check mode).
  returned: always
  type: list
  elements: str
  sample: [032e0acf-cb4e-4c04-a558-7190dfe0dde6]
diff:
  description: ID, name, status and image before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.server import ensure_server

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["running", "stopped", "restarted"]),
    new_name=dict(type="str"),
    sync=dict(type="bool", default=False),
    authorize_repair=dict(type="bool", default=False),
    repair_type=dict(type="str", choices=["SOFT", "HARD"], default="SOFT"),
    repair_not_before=dict(type="str"),
    allow_hard_repair=dict(type="bool", default=False),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_server)


if __name__ == "__main__":
    main()
