# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Stopping a running rollout without cancelling its job: lite_rollout ``state: stopped``.

The request is written on the pool's Lease (k8s/lease.py ``STOP_ANNOTATION``), naming the run that
holds it. The engine reads its Lease for such a request at most every ``CHECK_SECONDS`` (through
its ``stop_requested`` seam, next to the controller watch) and then stops as a cancelled job does:
no new node, the nodes in flight parked, the Lease released. ``ensure_stopped`` writes the request
and waits, bounded, until the Lease is free.
"""

from __future__ import annotations

import time

from ansible_collections.modelarts.lite.plugins.module_utils.errors import LiteError, WaitTimeoutError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import lease as klease

# Seconds between two reads of the Lease for a stop request: one GET, whatever the poll interval.
CHECK_SECONDS = 10.0


class StopRequested:
    """The engine's stop request when an operator asked for it: park the nodes in flight (the
    request is to stop now, not once they finish; a rerun resumes them)."""

    park = True

    def __init__(self, reason):
        self.reason = reason


def lease_watch(lock, clock=time.monotonic, every=CHECK_SECONDS):
    """For the engine (``stop_requested``): a StopRequested once the pool's Lease carries a stop
    request for this run (``lock.holder``), else None. A failed read is not a request (the Lease's
    renewal judges the Lease)."""
    last = []

    def stop_requested():
        now = clock()
        if last and now - last[0] < every:
            return None
        last[:] = [now]
        try:
            request = klease.stop_request(lock.read(), lock.holder)
        except LiteError:
            return None
        if request is None:
            return None
        return StopRequested("stop requested at %s: %s" % (request.get("requested_at"), request.get("reason")))
    return stop_requested


def first_of(*watches):
    """One ``stop_requested`` from several (None ones skipped): the first request any of them makes."""
    active = [w for w in watches if w is not None]

    def stop_requested():
        for watch in active:
            request = watch()
            if request:
                return request
        return None
    return stop_requested


def ensure_stopped(clients, params, check_mode, clock=time.time, sleep=time.sleep):
    """Ask the rollout holding ``clients.pool``'s Lease to stop and wait until it has let the Lease
    go (at most ``wait_timeout`` seconds). Nothing running: ``changed`` false, no call that writes."""
    reason = params.get("stop_reason") or "requested with lite_rollout state=stopped"
    changed, view = klease.request_stop(clients.kube, clients.pool_id, reason, clock(), check_mode)
    run_id = (view or {}).get("holder") if view and not view["expired"] else None
    result = {"changed": changed, "pool_id": clients.pool_id, "stopped_run": run_id, "lock": view}
    if run_id is None or check_mode:
        result["status"] = "not_running" if run_id is None else "stop_requested"
        return result
    started = clock()
    deadline = started + params["wait_timeout"]
    while True:
        lock = klease.lease_view(_read(clients.kube, clients.pool_id), clock())
        if lock["holder"] != run_id or lock["expired"]:
            result.update(status="stopped", lock=lock, waited_seconds=round(clock() - started, 1))
            return result
        if clock() >= deadline:
            raise WaitTimeoutError(
                "run %s was asked to stop but still holds the pool's Lease after %ss; it reads the request within "
                "%ss plus one poll interval, unless it is stuck in a call. The request stays on the Lease."
                % (run_id, params["wait_timeout"], int(CHECK_SECONDS)), last_state={"lock": lock},
                timeout=params["wait_timeout"])
        sleep(min(params["poll_interval"], max(0.0, deadline - clock())))


def _read(kube, pool_id):
    try:
        return kube.get(klease.LEASES + klease.kube_path(klease.lease_name(pool_id)))
    except klease.KubeNotFoundError:
        return None
