# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The rollout's configuration: typed, built once from the module options, with its defaults.

Every default of the engine is written here and nowhere else in the engine; lite_rollout's
argument spec reads the same constants.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import window as windows
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L

DEFAULT_MAX_UNAVAILABLE = "1"
DEFAULT_DRAIN_TIMEOUT = 600
DEFAULT_NODE_TIMEOUT = 3600
DEFAULT_SMOKE_TIMEOUT = 600
DEFAULT_LEASE_DURATION = 300
DEFAULT_NODE_SECONDS = 900
DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_JOB_AWARE = True
OVERSIZED_GROUPS = ("roll", "skip")
DEFAULT_OVERSIZED_GROUPS = "roll"
# Wait for idle (seconds a busy group waits at its turn for its jobs to end) is off by default:
# pretraining jobs run for days, and a wait for them only spends the maintenance window; busy
# groups go last anyway, so a job that ends while the rest of the pool upgrades is spared even
# at 0. Set it when jobs are known to end soon (fine-tuning, evaluation). A waiting group leaves
# the budget to the others, so the waits overlap the rest of the run and each other.
DEFAULT_JOB_IDLE_WAIT = 0
# Every per-run duration option is bounded: a day at most.
MAX_SECONDS = 86400


@dataclass(frozen=True)
class RolloutConfig:
    """What one run does. ``window`` is a parsed window (window.parse_window) or None; ``owner``
    goes into the Lease so an operator sees who holds the pool."""

    target: str
    run_id: str
    max_unavailable: str = DEFAULT_MAX_UNAVAILABLE
    max_unavailable_per_node_pool: Optional[str] = None
    max_failed_nodes: int = 0
    canary_nodes: int = 0
    canary_pause: bool = False
    canary_approved: bool = False
    window: Optional[dict] = None
    window_override: bool = False
    window_margin: float = 0
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    grace_period: Optional[int] = None
    force: bool = False
    delete_emptydir_data: bool = False
    node_timeout: float = DEFAULT_NODE_TIMEOUT
    run_timeout: Optional[float] = None
    poll_interval: float = DEFAULT_POLL_INTERVAL
    retry_failed: bool = False
    smoke_command: Optional[list] = None
    smoke_timeout: float = DEFAULT_SMOKE_TIMEOUT
    lease_duration: float = DEFAULT_LEASE_DURATION
    force_unlock: bool = False
    expected_node_seconds: float = DEFAULT_NODE_SECONDS
    job_aware: bool = DEFAULT_JOB_AWARE
    job_labels: tuple = L.JOB_LABELS
    oversized_groups: str = DEFAULT_OVERSIZED_GROUPS
    job_idle_wait: float = DEFAULT_JOB_IDLE_WAIT
    owner: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params, run_id):
        """The configuration of lite_rollout's options (ValidationError on bad values, before any call)."""
        from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import policy

        window = windows.parse_window(params.get("window"))
        for option in ("drain_timeout", "node_timeout", "lease_duration", "smoke_timeout"):
            value = params.get(option)
            if value is not None and not 0 < value <= MAX_SECONDS:
                raise ValidationError("%s must be between 1 and %d seconds, got %s." % (option, MAX_SECONDS, value),
                                      option=option)
        if (params.get("max_failed_nodes") or 0) < 0 or (params.get("canary_nodes") or 0) < 0:
            raise ValidationError("max_failed_nodes and canary_nodes must not be negative.", option="max_failed_nodes")
        for option in ("max_unavailable", "max_unavailable_per_node_pool"):
            if params.get(option) not in (None, ""):
                policy.parse_budget(params[option], 100, option)
        if params.get("oversized_groups") not in (None,) + OVERSIZED_GROUPS:
            raise ValidationError("oversized_groups must be one of %s, got %r."
                                  % (", ".join(OVERSIZED_GROUPS), params["oversized_groups"]), option="oversized_groups")

        idle_wait = params.get("job_idle_wait")
        if idle_wait is not None and not 0 <= idle_wait <= MAX_SECONDS:
            raise ValidationError("job_idle_wait must be between 0 and %d seconds, got %s." % (MAX_SECONDS, idle_wait),
                                  option="job_idle_wait")

        def given(option, default):
            return params.get(option) or default
        return cls(
            target=params["driver_version"], run_id=run_id,
            max_unavailable=given("max_unavailable", DEFAULT_MAX_UNAVAILABLE),
            max_unavailable_per_node_pool=params.get("max_unavailable_per_node_pool") or None,
            max_failed_nodes=given("max_failed_nodes", 0), canary_nodes=given("canary_nodes", 0),
            canary_pause=bool(params.get("canary_pause")), canary_approved=bool(params.get("canary_approved")),
            window=window, window_override=bool(params.get("window_override")),
            window_margin=given("window_margin", 0),
            drain_timeout=given("drain_timeout", DEFAULT_DRAIN_TIMEOUT), grace_period=params.get("grace_period"),
            force=bool(params.get("force")), delete_emptydir_data=bool(params.get("delete_emptydir_data")),
            node_timeout=given("node_timeout", DEFAULT_NODE_TIMEOUT), run_timeout=params.get("wait_timeout"),
            poll_interval=given("poll_interval", DEFAULT_POLL_INTERVAL),
            retry_failed=bool(params.get("retry_failed")),
            smoke_command=params.get("smoke_command") or None,
            smoke_timeout=given("smoke_timeout", DEFAULT_SMOKE_TIMEOUT),
            lease_duration=given("lease_duration", DEFAULT_LEASE_DURATION),
            force_unlock=bool(params.get("force_unlock")),
            expected_node_seconds=given("expected_node_seconds", DEFAULT_NODE_SECONDS),
            job_aware=params.get("job_aware", DEFAULT_JOB_AWARE) is not False,
            job_labels=L.JOB_LABELS + tuple(params.get("job_labels") or ()),
            oversized_groups=given("oversized_groups", DEFAULT_OVERSIZED_GROUPS),
            job_idle_wait=given("job_idle_wait", DEFAULT_JOB_IDLE_WAIT),
            owner={"run-id": run_id, "user": os.environ.get("USER") or os.environ.get("AWX_USER") or "unknown",
                   "host": os.uname()[1] if hasattr(os, "uname") else "unknown", "target": params["driver_version"]},
        )
