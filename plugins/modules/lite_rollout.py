#!/usr/bin/python
# Copyright: modelarts.lite contributors
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: lite_rollout
short_description: Roll an NPU driver upgrade through a Lite Cluster pool, a sliding window of nodes at a time
version_added: 0.1.0
description:
  - Upgrades the NPU driver of the nodes of one ModelArts Lite Cluster pool (or of the nodes,
    node pools or label selector given) to O(driver_version). Each node is cordoned, drained
    (PodDisruptionBudgets honoured), upgraded through the ModelArts batch-update API, waited for
    until it is Ready with the new driver label and all NPUs allocatable, optionally smoke-checked,
    and uncordoned.
  - A sliding window, not waves. At most O(max_unavailable) nodes of the pool are cordoned or
    NotReady at any time (whoever caused it), and the next node starts as soon as one finishes.
    Nodes drained in the same poll cycle share one batch-update call.
  - One poll loop serves every node in flight. A cycle is one Kubernetes node list, a pod list
    only while nodes drain, and a ModelArts node list only when a node looks finished or a check
    for failed upgrades is due. The ModelArts calls per upgraded node stay small.
  - Pre-flight checks change nothing when they refuse. They are the pool being Running, the
    target being offered, the compatibility data (O(compatibility)) and the maintenance window
    (O(window)). Nodes that cannot be upgraded safely, because they are NotReady, cordoned by
    somebody else, Abnormal in ModelArts or run pods a drain must not remove, are skipped and
    reported.
  - The state of every node is written on the Node. The label
    C(modelarts.lite/driver-upgrade-state) and the annotation C(modelarts.lite/driver-upgrade)
    hold the run id, target, phase and reason. They are written with the cordon and with the
    uncordon (and on failure); in between, the ModelArts driver phase and version tell how far the
    upgrade got. A rerun therefore resumes from the cluster. It skips
    nodes already at the target, finishes nodes a killed run left half done, and leaves failed nodes
    cordoned unless O(retry_failed=true).
  - One run per pool. The lock is the Lease C(kube-system/modelarts-lite-driver-rollout-<pool id>).
    Its holder is the run id and it is renewed during the run. A second run is refused while the
    Lease is live. An expired Lease is taken over; a live one only with O(force_unlock=true).
  - Progress events are appended to O(journal) (JSON lines) as they happen. Its last event, whatever
    the outcome (a refusal of the options, the pool or the cluster included), is C(result) - the run's
    status, C(changed), message and the report files. The
    P(modelarts.lite.rolling_driver_upgrade#role) role runs this module asynchronously and shows
    them with M(modelarts.lite.lite_rollout_info), which returns that result.
  - With O(state=stopped) the module stops the rollout running on O(pool) instead, from any
    controller, without cancelling its job. It writes a stop request for the run holding the Lease
    onto the Lease (annotation C(modelarts.lite/stop-requested)). The run reads its Lease for one
    every 10 seconds, then starts no new node, parks the nodes in flight (left cordoned, annotated
    C(parked), reported), releases the Lease and ends C(stopped). The task waits until the Lease is
    free, at most O(wait_timeout) seconds. With no run holding a live Lease it changes nothing.
options:
  pool:
    description:
      - Display name or id of the pool.
    type: str
    required: true
  driver_version:
    description:
      - Target NPU firmware and driver, as ModelArts names it, C(<firmware>-<driver>), for example
        C(7.5.0.5.220-24.1.0.3). It must be offered by the region and, where the region's driver
        catalogue names the chips a version is for, be for the chip of every selected node's flavor;
        otherwise the task fails before any change.
      - Required with O(state=present).
    type: str
  state:
    description:
      - V(present) runs the rollout to O(driver_version).
      - V(stopped) stops the rollout running on O(pool) (see the description); every option but
        O(pool), O(stop_reason), O(wait_timeout) and the connection options is ignored.
    type: str
    choices: [present, stopped]
    default: present
  stop_reason:
    description:
      - With O(state=stopped), why; it becomes the stopped run's stop reason in its report.
    type: str
  nodes:
    description:
      - ModelArts node names or private IPs to upgrade. All NPU nodes of the pool by default.
    type: list
    elements: str
  node_pools:
    description:
      - Only nodes of these node pools.
    type: list
    elements: str
  node_selector:
    description:
      - Only nodes matching this Kubernetes label selector.
    type: str
  max_unavailable:
    description:
      - How many nodes of the pool may be cordoned or NotReady at once, counting nodes made
        unavailable by anyone, and this run's failed nodes. A count (V(2)) or a percentage of the
        pool's nodes (V(25%)). Percentages round down, with a minimum of 1.
    type: str
    default: "1"
  max_unavailable_per_node_pool:
    description:
      - The same limit inside each node pool, as a count or a percentage of that node pool's nodes.
    type: str
  max_failed_nodes:
    description:
      - Failure budget. A failed node stays cordoned, carries the reason in its annotation, and
        keeps its slot. When more than this many nodes have failed, no new node starts, the nodes
        in flight finish, and the run fails.
      - Between 0 and 2000 nodes; a value outside is refused before any call.
    type: int
    default: 0
  retry_failed:
    description:
      - Retry nodes that an earlier run left failed. By default they stay failed and count towards
        O(max_failed_nodes).
    type: bool
    default: false
  drain_timeout:
    description:
      - Seconds a node's drain may take (PDB refusals are retried meanwhile). When it runs out, the
        node fails and the report names the blocking pod and budget.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 600
  grace_period:
    description:
      - Termination grace period for evicted pods. By default each pod uses its own.
      - Between 0 and 86400 seconds; a value outside is refused before any call.
    type: int
  force:
    description:
      - Evict pods that no controller manages.
    type: bool
    default: false
  delete_emptydir_data:
    description:
      - Evict pods with C(emptyDir) volumes (their data is lost).
    type: bool
    default: false
  node_timeout:
    description:
      - Seconds a node may take from the upgrade request until it is Ready with the new driver.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 3600
  smoke_command:
    description:
      - Optional command (argument list, no shell) run on the controller after a node is back and
        before it is uncordoned. Exit code 0 passes. It gets C(MODELARTS_LITE_POOL_ID),
        C(MODELARTS_LITE_NODE), C(MODELARTS_LITE_KUBE_NODE) and C(MODELARTS_LITE_DRIVER_VERSION).
    type: list
    elements: str
  smoke_timeout:
    description:
      - Seconds the smoke command may run.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 600
  run_id:
    description:
      - Identifies this run in node annotations, the Lease and the report. Generated when omitted.
    type: str
  journal:
    description:
      - File to append progress events to (JSON lines).
    type: path
  report_dir:
    description:
      - Directory to write the report to when the run ends, as C(<run_id>.json) (RV(report) with the
        run's status and message) and C(<run_id>.txt) (RV(summary)). Created when missing.
      - A run refused before any change writes them too, with status C(refused) and the reason as its
        message (C(error) for an unexpected failure). Nothing is written in check mode.
    type: path
  lease_duration:
    description:
      - Seconds the pool's Lease stays valid without renewal. The run renews it every third of this.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 300
  force_unlock:
    description:
      - Take the pool's Lease even if another run holds it and it has not expired. Use this only
        when that run is known to be dead.
    type: bool
    default: false
  expected_node_seconds:
    description:
      - Expected time per node, used by check mode to estimate the duration.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 900
  controller_timeout:
    description:
      - Seconds without a M(modelarts.lite.lite_rollout_info) poll of the O(journal) (each poll touches
        C(<journal>.heartbeat)) after which the run takes its controller as gone (the job was cancelled)
        and stops. No new node starts, the nodes in flight are parked (left cordoned, annotated
        C(parked), reported), the Lease is released and the module exits with status C(stopped).
      - C(0) (the default) does not watch, so a run started without a poller runs to its end.
      - Between 0 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 0
  wait_timeout:
    description:
      - Seconds the whole run may take. When they run out, no new node starts and the run fails
        once the nodes in flight have finished.
      - With O(state=stopped), seconds to wait for the running run to let its Lease go.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 86400
extends_documentation_fragment:
  - modelarts.lite.auth
  - modelarts.lite.kube
  - modelarts.lite.rollout.canary
  - modelarts.lite.rollout.window
  - modelarts.lite.rollout.compatibility
  - modelarts.lite.rollout.jobs
  - modelarts.lite.attributes
attributes:
  check_mode:
    support: full
    details: Returns the plan. That is the order of the nodes, the canary, the skipped nodes and
      why, the budget arithmetic, the expected duration, the window state, the lock holder and the
      PodDisruptionBudgets that block right now. No lock is taken and nothing is changed.
  diff_mode:
    support: none
notes:
  - The pool's Kubernetes API is reached through O(kubeconfig); the context defaults to the pool id.
  - Run it asynchronously (C(async)/C(poll=0)) for long rollouts and follow O(journal), as the
    P(modelarts.lite.rolling_driver_upgrade#role) role does.
author:
  - modelarts.lite maintainers (@modelarts-lite)
"""

EXAMPLES = r"""
- name: Plan the rollout (check mode)
  modelarts.lite.lite_rollout:
    pool: train-a
    driver_version: 7.5.0.5.220-24.1.0.3
    max_unavailable: "25%"
  check_mode: true
  register: plan

- name: Upgrade two nodes at a time, canary of one, inside a night window
  modelarts.lite.lite_rollout:
    pool: train-a
    driver_version: 7.5.0.5.220-24.1.0.3
    max_unavailable: "2"
    max_failed_nodes: 1
    canary_nodes: 1
    window:
      start: "22:00"
      end: "06:00"
      days: [mon, tue, wed, thu, fri]
      timezone: Asia/Shanghai
    window_margin: 900
    journal: /tmp/rollout.jsonl
  async: 86400
  poll: 0
  register: rollout_job

- name: Stop the rollout running on the pool (from any controller); a rerun resumes it
  modelarts.lite.lite_rollout:
    pool: train-a
    state: stopped
    stop_reason: maintenance window cut short
    wait_timeout: 300
"""

RETURN = r"""
run_id:
  description: Id of this run (Lease holder, node annotations).
  returned: with O(state=present), unless the task is refused before the run starts (see RV(status))
  type: str
  sample: rollout-20261206t163012-4711
pool_id:
  description: Id of the pool.
  returned: unless the task is refused before the run starts (see RV(status))
  type: str
  sample: pool-6u7f-9208f6425467bd764598f5f997f9091e
status:
  description:
    - C(planned) (check mode), C(succeeded), C(succeeded_with_failures) (every node handled, some failed
      within O(max_failed_nodes) and left cordoned), C(failed), C(paused_after_canary),
      C(paused_window_closed), C(blocked) or C(stopped) (O(controller_timeout) ran out, so the job was
      cancelled, or a stop was requested with O(state=stopped); the nodes in flight were parked). A
      C(failed), C(blocked) or C(stopped) run fails the task; its result keeps every key listed here. When ModelArts refuses the batch-update call itself
      (HTTP 400) the run stops at once as C(failed); the nodes it had drained are C(parked) in the report
      (still cordoned; a rerun resumes them).
    - With O(state=stopped), C(stopped) (the run let its Lease go), C(stop_requested) (check mode) or
      C(not_running) (no run held a live Lease; nothing was changed).
    - A task refused before the run starts (bad input, a pool that is not Running, a driver that fails the
      compatibility check, outside the window, too many nodes already unavailable, the lock held by another
      run) changes nothing and returns only C(msg), C(error_type) and C(option) or C(details); none of the keys
      listed here. The journal's C(begin) line names its run id, its C(end) line says C(refused).
  returned: unless the task is refused before the run starts
  type: str
  sample: succeeded_with_failures
stopped_run:
  description: With O(state=stopped), the id of the run asked to stop, or null when none was running.
  returned: when O(state=stopped)
  type: str
  sample: rollout-20261123t184932-160147
lock:
  description:
    - With O(state=stopped), the pool's Lease (C(holder), C(expired), C(stop_requested), ...) as last read,
      or null when the pool has none.
  returned: when O(state=stopped)
  type: dict
  sample: {"name": "modelarts-lite-driver-rollout-pool-a1b2", "holder": null, "expired": true, "stop_requested": null}
waited_seconds:
  description: With O(state=stopped), how long the task waited for the run to stop.
  returned: when a running run was stopped
  type: float
  sample: 12.4
plan:
  description: What the run does, or would do in check mode.
  returned: with O(state=present), unless the task is refused before the run starts (see RV(status))
  type: dict
  contains:
    order:
      description: Nodes to upgrade, in order (resumed nodes first).
      type: list
      elements: str
      sample: [os-node-created-9orip, os-node-created-2aglf, os-node-created-hj9s6, os-node-created-64u6r, os-node-created-2aoym]
    canary:
      description: Canary nodes.
      type: list
      elements: str
      sample: [os-node-created-9orip]
    max_unavailable:
      description: The resolved budget (a count).
      type: int
      sample: 2
    max_unavailable_per_node_pool:
      description: The resolved budget per node pool (node pool name to count); empty without
        O(max_unavailable_per_node_pool).
      type: dict
      sample: {modelarts.bm.npu.arm.8snt9b3.d-default: 2}
    expected_duration_seconds:
      description: Canary waves plus ceil(rest / max_unavailable), times O(expected_node_seconds).
      type: float
      sample: 2700
    expected_node_seconds:
      description: The O(expected_node_seconds) the estimate used.
      type: float
      sample: 900
    nodes:
      description: Every selected node with its classification (pending, skipped and why, already, failed).
      type: list
      elements: dict
      sample:
        - name: os-node-created-9orip
          kube_name: 192.168.0.5
          node_pool: modelarts.bm.npu.arm.8snt9b3.d-default
          canary: true
          result: pending
          from_version: 7.1.0.9.220-23.0.6
          to_version: null
          start: null
          end: null
          duration: null
        - name: os-node-created-re7mi
          kube_name: 192.168.0.4
          node_pool: modelarts.bm.npu.arm.8snt9b3.d-default
          canary: false
          result: skipped
          reason: "cordoned with modelarts.lite.lite_node (reason: maintenance), not by a rollout; it is left alone until lite_node uncordons it"
          from_version: 7.1.0.9.220-23.0.6
          to_version: null
          start: null
          end: null
          duration: null
    lock:
      description: The pool's Lease (holder, expiry) or null.
      type: dict
      sample:
        name: modelarts-lite-driver-rollout-pool-6u7f-9208f6425467bd764598f5f997f9091e
        holder: rolling-driver-upgrade/rollout-20261206t112233-1024
        renew_time: '2026-12-06T16:44:51.512345Z'
        lease_duration_seconds: 300
        expires_in: 212.4
        expired: false
        owner:
          run-id: rollout-20261206t112233-1024
          user: awx
          host: awx-task-7c9d5
          target: 7.5.0.5.220-24.1.0.3
    window:
      description: Whether the window is open and when it closes.
      type: dict
      sample: {open: true, closes_at: "2026-12-07T06:00:00+08:00", seconds_left: 47520.0}
    compatibility:
      description:
        - What the compatibility check found (C(firmware), C(driver), the C(hardware) models of the selected
          nodes and the C(cann) versions checked); empty without O(compatibility).
      type: dict
      sample: {firmware: 7.5.0.5.220, driver: 24.1.0.3, hardware: [Snt9b], cann: ["8.0.0"]}
    blocking_pdbs:
      description: PodDisruptionBudgets that allow no disruption right now.
      type: list
      elements: str
      sample: [default/web-pdb]
    job_aware:
      description: Whether nodes were grouped by job and super node (O(job_aware)).
      type: bool
      sample: true
    groups:
      description:
        - The launch groups of more than one node, in order, each with its C(nodes), its multi-node
          C(jobs) (C(job), C(nodes) it runs on, C(selected) of them in this run), its C(super_nodes),
          and C(down_rounds), how many rounds of max_unavailable node upgrades its jobs stay down.
      type: list
      elements: dict
      sample:
        - nodes:
          - os-node-created-64u6r
          - os-node-created-2aoym
          jobs:
          - job: training/llm
            nodes: 2
            selected: 2
          super_nodes: []
          down_rounds: 1
report:
  description: The outcome, per node and overall.
  returned: when the run started
  type: dict
  contains:
    status:
      description: Same as RV(status).
      type: str
      sample: succeeded_with_failures
    run_id:
      description: Same as RV(run_id).
      type: str
      sample: rollout-20261206t163012-4711
    pool_id:
      description: Same as RV(pool_id).
      type: str
      sample: pool-6u7f-9208f6425467bd764598f5f997f9091e
    target:
      description: The driver version the run upgrades to (O(driver_version)).
      type: str
      sample: 7.5.0.5.220-24.1.0.3
    started:
      description: When the run started, UTC.
      type: str
      sample: "2026-12-06T16:45:24Z"
    ended:
      description: When the run ended, UTC.
      type: str
      sample: "2026-12-06T16:45:27Z"
    max_unavailable:
      description: The budget the run used (a count).
      type: int
      sample: 2
    job_aware:
      description: Whether nodes were grouped by job and super node (O(job_aware)).
      type: bool
      sample: true
    stop_reason:
      description: Why no more nodes were started, or null.
      type: str
      sample: "the maintenance window 22:00-06:00 mon,tue,wed,thu,fri (Asia/Shanghai) is closed or closes within 900s"
    counts:
      description: Nodes per result (done, already, failed, parked, skipped, pending, in_flight).
      type: dict
      sample: {done: 4, failed: 1}
    nodes:
      description: Per node the name, Kubernetes name, node pool, canary flag, result,
        from_version, to_version, start, end, duration, and when they apply C(evicted) (pods), C(reason) and
        C(resumed) (the node was taken over from an earlier run).
      type: list
      elements: dict
      sample:
        - name: os-node-created-64u6r
          kube_name: 192.168.0.2
          node_pool: modelarts.bm.npu.arm.8snt9b3.d-default
          canary: false
          result: done
          from_version: 7.1.0.9.220-23.0.6
          to_version: 7.5.0.5.220-24.1.0.3
          start: '2026-12-06T16:45:25Z'
          end: '2026-12-06T16:59:41Z'
          duration: 856.2
          evicted: [default/web-e6f33d250d-22w9s, training/llm-worker-0]
    elapsed_seconds:
      description: Wall time of the run.
      type: float
      sample: 2043.6
    node_seconds:
      description: C(min), C(mean) and C(max) seconds of the upgraded nodes, each from its start to its end.
      type: dict
      returned: when a node was upgraded
      sample: {min: 798.4, mean: 861.0, max: 934.7}
    physical_limit_seconds:
      description: ceil(upgraded / max_unavailable) x the mean node duration, the best any run could do.
      type: float
      returned: when a node was upgraded
      sample: 1722.0
    api_calls:
      description: Requests sent, by API and method.
      type: dict
      sample: {kubernetes: {GET: 17, PATCH: 11, POST: 5, PUT: 1}, modelarts: {GET: 8, POST: 4}}
    modelarts_calls_per_upgraded_node:
      description: ModelArts requests of the run divided by the nodes upgraded.
      type: float
      sample: 3.0
    job_interruptions:
      description:
        - Per job (C(namespace/name)), how many times this run interrupted it - a drain evicted a
          running pod of it while no node it was evicted from earlier in the run was still out.
      type: dict
      sample: {"training/llm-a": 1}
    job_idle_waits:
      description:
        - The groups that waited for their jobs to end (O(job_idle_wait)), in the order they
          started waiting - C(nodes), C(jobs), C(waited_seconds) and C(outcome) - C(idle) (the jobs
          ended, the group went without interrupting them), C(bound) (drained anyway after the
          bound) or C(stopped) (the run stopped while it waited).
      type: list
      elements: dict
      sample: [{"nodes": ["node-3", "node-5"], "jobs": ["training/eval"], "waited_seconds": 140, "outcome": "idle"}]
summary:
  description: The report as text for people.
  returned: when the run started
  type: str
  sample: "Rolling driver upgrade rollout-20261206t163012-4711 of pool pool-6u7f-9208f6425467bd764598f5f997f9091e
    to 7.5.0.5.220-24.1.0.3: succeeded_with_failures\nNodes: done 4, failed 1\n..."
report_file:
  description: The JSON report written to O(report_dir) (the text summary is next to it, ending in C(.txt)).
  returned: when O(report_dir) is set and the run started
  type: str
  sample: /tmp/modelarts-lite-rollouts/rollout-20261123t184932-160147.json
timeline_file:
  description:
    - A picture of the run written next to the report, C(<run_id>.html), drawn from O(journal) alone
      (self-contained, no network) - a timeline per node with its phases, failures and job
      interruptions, and the slots in use against O(max_unavailable).
  returned: when O(report_dir) and O(journal) are set and the run started
  type: str
  sample: /tmp/modelarts-lite-rollouts/rollout-20261123t184932-160147.html
"""

from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import config as defaults
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.run import record_failure, run_rollout

WINDOW_SPEC = dict(start=dict(type="str", default="00:00"), end=dict(type="str", default="00:00"),
                   days=dict(type="list", elements="str"), timezone=dict(type="str", default="UTC"))

ARGUMENT_SPEC = dict(
    pool=dict(type="str", required=True),
    driver_version=dict(type="str"),
    state=dict(type="str", choices=["present", "stopped"], default="present"),
    stop_reason=dict(type="str"),
    nodes=dict(type="list", elements="str"),
    node_pools=dict(type="list", elements="str"),
    node_selector=dict(type="str"),
    max_unavailable=dict(type="str", default=defaults.DEFAULT_MAX_UNAVAILABLE),
    max_unavailable_per_node_pool=dict(type="str"),
    max_failed_nodes=dict(type="int", default=0),
    retry_failed=dict(type="bool", default=False),
    canary_nodes=dict(type="int", default=1),
    canary_pause=dict(type="bool", default=False),
    canary_approved=dict(type="bool", default=False),
    window=dict(type="dict", options=WINDOW_SPEC),
    window_override=dict(type="bool", default=False),
    window_margin=dict(type="int", default=0),
    drain_timeout=dict(type="int", default=defaults.DEFAULT_DRAIN_TIMEOUT),
    grace_period=dict(type="int"),
    force=dict(type="bool", default=False),
    delete_emptydir_data=dict(type="bool", default=False),
    node_timeout=dict(type="int", default=defaults.DEFAULT_NODE_TIMEOUT),
    smoke_command=dict(type="list", elements="str"),
    smoke_timeout=dict(type="int", default=defaults.DEFAULT_SMOKE_TIMEOUT),
    compatibility=dict(type="dict"),
    cann_version=dict(type="str"),
    images=dict(type="list", elements="str"),
    allow_unknown_compatibility=dict(type="bool", default=False),
    run_id=dict(type="str"),
    journal=dict(type="path"),
    report_dir=dict(type="path"),
    lease_duration=dict(type="int", default=defaults.DEFAULT_LEASE_DURATION),
    force_unlock=dict(type="bool", default=False),
    expected_node_seconds=dict(type="int", default=defaults.DEFAULT_NODE_SECONDS),
    job_aware=dict(type="bool", default=True),
    job_labels=dict(type="list", elements="str"),
    oversized_groups=dict(type="str", choices=list(defaults.OVERSIZED_GROUPS), default=defaults.DEFAULT_OVERSIZED_GROUPS),
    controller_timeout=dict(type="int", default=0),
    job_idle_wait=dict(type="int", default=defaults.DEFAULT_JOB_IDLE_WAIT),
    wait_timeout=dict(type="int", default=86400),
)


def main():
    module = LiteModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, with_kube=True, with_wait=False,
                        mutually_exclusive=[("nodes", "node_selector")],
                        required_if=[("state", "present", ["driver_version"])])
    module.run(run_rollout, on_failure=record_failure)


if __name__ == "__main__":
    main()
