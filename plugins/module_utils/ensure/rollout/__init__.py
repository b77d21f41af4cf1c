# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The rolling NPU driver upgrade (lite_rollout, role rolling_driver_upgrade).

This docstring is THE description of the loop; docs/rolling-upgrade.md and docs/development.md
link here.

**Parts**

- ``run.py``: lite_rollout's ensure function: pre-flight checks (pool Running, nodes selected,
  compatibility, driver offered), the plan (check mode ends here), the window check, the pool
  Lease (k8s/lease.py), the engine's run, the report files, and RolloutFailedError for a run that
  ends failed or blocked.
- ``config.py``: RolloutConfig, the typed configuration with every default, built once.
- ``machine.py``: the node phases, the table of allowed transitions, ``transition()`` (the only
  way a phase changes; it writes the journal event) and ``classify()`` (where a node stands when
  a run starts, read from the cluster, so a rerun resumes).
- ``policy.py``: pure decisions over a snapshot: budgets, order, launch groups, the canary (one
  CanaryPolicy object) and the window gate.
- ``groups.py``: the job- and topology-aware grouping, a pure function of the nodes' labels and
  the pods (multi-node jobs, super nodes, merged transitively), the oversized-group policy, the
  queued taint that holds a started group's waiting nodes, and when a drain is an interruption.
- ``engine.py``: the loop. It reads and writes through three ports (``ports.py``): ClusterReader
  (Nodes, pods on draining nodes, ModelArts nodes), NodeWriter (state writes, drain passes) and
  Upgrader (batch-update calls).
- ``speed.py``: the watch and the concurrent requests, behind one seam (why: its docstring).
- ``report.py``: run id, journal events, plan, final report, summary, report files (the report,
  its text, and the timeline page ``timeline.py`` draws from the journal alone).
- ``smoke.py``, ``compat.py``, ``window.py``, ``progress.py`` (lite_rollout_info).

**Per-node state lives on the Node**: label ``modelarts.lite/driver-upgrade-state`` and annotation
``modelarts.lite/driver-upgrade`` (run id, target, phase, from-version, reason). Two writes per
node: one PATCH cordons and marks it ``cordoned``, one uncordons and marks it ``done`` (a third
only on failure, or ``smoke`` before a smoke check). Between them the ModelArts driver phase
(Pending/Updating) and version tell how far a node got, so a rerun (an AWX container is gone
after a kill) resumes from the cluster: nodes at the target are skipped, half-done ones finished,
failed ones stay failed unless ``retry_failed``.

**The loop.** A cycle runs every ``poll_interval`` seconds, and at once when the watch reports a
change that matters (a node's readiness, cordon, driver label, NPUs or state label; a pod deleted
while nodes drain), but never sooner than a tenth of the interval after the last. Each cycle, in
this order:

1. Renew the Lease when due (a lost Lease stops the run).
2. Read the cluster: the Nodes (the watch's cache, a real list every 60 s or while the watch is
   down) and, only while nodes drain, the pods on those nodes (both lists at once).
3. Drain pass for every ``cordoned`` node (evictions; PDB refusals retried next cycle, a drain
   past ``drain_timeout`` fails the node); the nodes drained now share ONE batch-update call and
   go ``upgrading``. A 400 answer to that call stops the whole run (the call itself is refused,
   every node would meet it): its nodes and the other drained ones are ``parked``, cordoned,
   and the error names the call, what was sent and docs/api-contract.md.
4. Advance upgrades: a node whose Node is Ready with every NPU and the target driver label, or
   whose ModelArts record shows the target driver Running, goes ``verifying``. ModelArts is read
   only when that can tell something new: to confirm verifying nodes (one GET each for up to
   three, else one list) or, about once per node duration, one list that looks for failed
   upgrades. Confirmed by both: the smoke command (when set) runs, else the node is uncordoned
   and ``done``.
5. Smoke checks that ended: exit 0 is ``done``, anything else ``failed``.
6. Timeouts: a node ``upgrading``/``verifying`` longer than ``node_timeout`` is ``failed``.
7. Fill slots: the policy decides from a snapshot. No node starts after a stop (a failed canary,
   more than ``max_failed_nodes`` failures, ``wait_timeout`` out, the window closed or closing
   within ``window_margin``, the pause after the canary without approval, or ``stop_requested()``
   returning True). Otherwise launch groups start in order, back to back, while slots are free
   under ``max_unavailable`` (every cordoned or NotReady node of the pool counts, whoever caused
   it, plus this run's in-flight and failed nodes) and ``max_unavailable_per_node_pool``; before
   the canary passed only canary nodes may start. With job awareness (default) a group is the
   nodes of one multi-node job or super node: when its first node starts, its waiting nodes get
   the queued taint (NoSchedule), so the interrupted job restarts once, after the group's last
   node; a run that stops early removes the taint from the nodes it never launched. With
   ``job_idle_wait`` > 0, a busy group at its turn (a slot free, none of its nodes started) waits
   while its jobs run (the pods on its nodes are listed), up to the bound from its first wait,
   and later groups take the free slots meanwhile; after the bound it is drained anyway (journal
   ``idle-wait`` events, report ``job_idle_waits``). A waiting group does not count toward
   ``blocked``. Started nodes are cordoned (one PATCH each, sent together), their pods listed
   after the cordon, a first drain pass made, and the ones with nothing to evict upgraded in this
   same cycle.

Steps chain inside a cycle, so a node seen finished in step 4 frees its slot for step 7 at once:
there is no wave barrier, and the wall time stays near ceil(N / max_unavailable) x T_node.

The run ends when no node is in flight and none may start (all handled, or a stop). A run that
cannot start any node for ``node_timeout`` seconds because other nodes keep the budget used up
ends ``blocked``. Outcomes: ``succeeded``, ``succeeded_with_failures`` (some nodes failed within
``max_failed_nodes``), ``failed``, ``blocked``, ``paused_after_canary``, ``paused_window_closed``,
``stopped``. Failed nodes stay cordoned with the reason on them.

**Stop seam**: ``Engine(stop_requested=...)`` is called once per cycle (default: never). Once it
returns something true no new node starts and the run ends ``stopped``; the nodes in flight finish,
unless the request has ``park`` set: then they are parked at once (left cordoned, annotated
``parked``, reported). ``lite_rollout`` plugs in ``progress.controller_watch``: a cancelled job (no
progress poll for ``controller_timeout``) is a parking stop request.
"""
