# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """lite_rollout's option groups, kept apart so the module's file stays short: the canary
    (modelarts.lite.rollout.canary), the maintenance window (.window), the compatibility check
    (.compatibility) and the job awareness (.jobs)."""

    CANARY = r"""
options:
  canary_nodes:
    description:
      - The first this many nodes form the canary. No other node starts until every canary node is
        done. A failed canary node stops the run. Nodes a previous run already finished count
        towards the canary.
      - Between 0 and 2000 nodes; a value outside is refused before any call.
    type: int
    default: 1
  canary_pause:
    description:
      - After the canary passes, end the run with status C(paused_after_canary) instead of
        continuing. A rerun with O(canary_approved=true) continues.
    type: bool
    default: false
  canary_approved:
    description:
      - Approval to continue past a paused canary.
    type: bool
    default: false
"""

    WINDOW = r"""
options:
  window:
    description:
      - Maintenance window. Outside it the run refuses to start unless O(window_override=true).
        When it closes, or comes within O(window_margin) seconds of closing, no new node starts.
        The nodes in flight finish, and the run ends with status C(paused_window_closed).
    type: dict
    suboptions:
      start:
        description: Opening time, C(HH:MM) or C(HH:MM:SS).
        type: str
        default: "00:00"
      end:
        description: Closing time. A window whose end is before its start crosses midnight.
        type: str
        default: "00:00"
      days:
        description: Days on which the window opens (C(mon) ... C(sun)). Every day by default.
        type: list
        elements: str
      timezone:
        description: IANA time zone of O(window.start) and O(window.end).
        type: str
        default: UTC
  window_override:
    description:
      - Ignore O(window) for this run.
    type: bool
    default: false
  window_margin:
    description:
      - Seconds before the window closes from which no new node starts. Set it to about one node's
        upgrade time.
      - Between 0 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 0
"""

    COMPATIBILITY = r"""
options:
  compatibility:
    description:
      - Compatibility data. It has C(hardware) (model, C(flavor_regex), C(image_suffix)),
        C(drivers) (driver, firmware, hardware list) and C(cann) (CANN version to driver
        patterns). The role passes its C(files/compatibility.yml) merged with the user's additions.
        No check is made when omitted.
    type: dict
  cann_version:
    description:
      - CANN version the workloads use, checked against the target driver.
    type: str
  images:
    description:
      - Container images the workloads use. The CANN version and the chip suffix in each name are
        checked.
    type: list
    elements: str
  allow_unknown_compatibility:
    description:
      - Let a driver or CANN version that is missing from O(compatibility) pass.
    type: bool
    default: false
"""

    JOBS = r"""
options:
  job_aware:
    description:
      - Group the nodes before ordering them, so that each multi-node training job is interrupted
        once per run. A group is the nodes running the pods of one multi-node job (pods sharing
        C(volcano.sh/job-name), else C(scheduling.k8s.io/group-name), else a label in
        O(job_labels), in one namespace) plus the servers of one super node (same
        C(os.modelarts.node/spod.id) and C(os.modelarts.node/batch.uid)), merged transitively.
      - A group's nodes are launched back to back, each freed slot going to its next node, so its
        jobs stay down from the first drain to the last node and restart once. Groups without a
        multi-node job go first, so a job that ends meanwhile is never interrupted.
      - With V(false), nodes go in hash order of their names, as before.
    type: bool
    default: true
  job_labels:
    description:
      - More pod label keys that name a job (checked after Volcano's two), for example the label
        your own launcher puts on every pod of a distributed job.
    type: list
    elements: str
  oversized_groups:
    description:
      - What to do with a group of more nodes than O(max_unavailable) that runs a multi-node job.
      - V(roll) launches it back to back like any group; its jobs are interrupted once but stay
        down for about ceil(size / max_unavailable) node upgrades (RV(plan.groups) states it).
      - V(skip) skips its nodes and reports them; rerun with a larger budget or after the job ends.
    type: str
    choices: [roll, skip]
    default: roll
  job_idle_wait:
    description:
      - Wait for idle, lifted to the job level (ModelArts' C(updateStrategy=idle) waits for one idle
        node). When a group that runs a multi-node job is at its turn, it waits up to this many
        seconds for its jobs to end, so a job that ends within the bound is not interrupted at all.
      - While a group waits, the other groups keep using the budget. After the bound the group is
        drained anyway (its jobs are interrupted once). RV(report.job_idle_waits) says which groups
        waited, how long, and why they went.
      - V(0) (default) never waits, since pretraining jobs run for days and a wait for them only spends
        the maintenance window. Busy groups go last either way. Set it when jobs are known to end
        soon. A waiting group leaves its slots to the others, so the waits overlap the rest of the
        run; what they add is at the end, when only waiting groups are left. Between 0 and 86400.
        Needs O(job_aware).
    type: int
    default: 0
"""
