# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""lite_rollout's ensure function: pre-flight checks, the plan (check mode stops there), the lock,
the engine's run, the report. Every outcome, a refusal included, ends the journal with an "end"
event so a watcher never waits in vain.
"""

from __future__ import annotations

import os
import time

from ansible_collections.modelarts.lite.plugins.module_utils import times
from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import compat
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as M
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import progress
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import report as R
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import stop
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import window as windows
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.config import RolloutConfig
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.engine import Engine
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.speed import ClusterWatch
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    LiteError,
    PreconditionError,
    RolloutFailedError,
    ValidationError,
)
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes


def run_rollout(clients, params, check_mode):
    """The rollout of ``params`` on ``clients.pool`` (``state: stopped``: stop the one running there). A
    run that ends failed, blocked or stopped raises RolloutFailedError, which carries the whole result.
    Whatever the outcome, the journal's last event is its "result" (what lite_rollout_info hands back;
    the report files it names)."""
    if params.get("state") == "stopped":
        return stop.ensure_stopped(clients, params, check_mode)
    run_id = run_id_of(params)
    journal = R.Journal(params.get("journal"))
    journal(R.event(time.time(), "begin", "run %s: pre-flight checks of pool %s for driver %s"
                    % (run_id, params.get("pool"), params.get("driver_version")), pid=os.getpid(), run_id=run_id))
    try:
        result = _run(clients, params, check_mode, run_id, journal)
        if params.get("report_dir") and result.get("report"):
            result["report_file"] = R.write_report(params["report_dir"], result)
            result["timeline_file"] = R.write_timeline(params["report_dir"], run_id, params.get("journal"),
                                                       result["report"].get("max_unavailable"))
        journal(R.result_event(time.time(), result))
    except LiteError as error:
        _refused(journal, params, check_mode, run_id, "refused", str(error))
        error.recorded = True
        raise
    except Exception as error:
        error.run_id = run_id   # record_failure records it, with the wrapper's redacted message
        raise
    finally:
        journal.close()
    if result["status"] in (M.RUN_FAILED, M.BLOCKED, M.STOPPED):
        failed = RolloutFailedError(result.pop("msg"), result)
        failed.recorded = True
        raise failed
    return result


def run_id_of(params):
    """The run id: the one given, else a new one (report.new_run_id)."""
    return params.get("run_id") or R.new_run_id(time.time)


def record_failure(params, check_mode, error, message):
    """LiteModule's ``on_failure`` for lite_rollout: a failure before the run began (bad options, no
    such pool, no credentials, an unreachable cluster) is recorded as a refusal, as the run would
    have recorded it, so a watcher of the journal learns it at once; so is a bug (status ``error``).
    A refusal the run recorded itself is left alone."""
    if getattr(error, "recorded", False) or params.get("state") == "stopped" \
            or not (params.get("journal") or params.get("report_dir")):
        return
    try:
        journal = R.Journal(params.get("journal"))
    except OSError:
        return      # the failure itself names the path that cannot be used
    try:
        _refused(journal, params, check_mode, getattr(error, "run_id", None) or run_id_of(params),
                 "refused" if isinstance(error, LiteError) else "error", message)
    finally:
        journal.close()


def _refused(journal, params, check_mode, run_id, status, message):
    """A run that ended before any change: the journal's "end" and "result" events and, with
    ``report_dir`` (not in check mode), the report files saying so."""
    journal(R.event(time.time(), "end", "%s: %s" % (status, message), status=status))
    result = {"run_id": run_id, "status": status, "msg": message, "changed": False,
              "report": R.refusal_report(run_id, params.get("pool"), params.get("driver_version"), status, message)}
    if params.get("report_dir") and not check_mode:
        try:
            result["report_file"] = R.write_report(params["report_dir"], dict(result, summary=R.summary_text(
                result["report"])))
        except OSError as error:
            journal(R.event(time.time(), "warning", "no report file: %s" % error))
    journal(R.result_event(time.time(), result))


def select_nodes(kube, params, pool_id, records):
    """The ModelArts node records the rollout addresses (nodes, node_pools, node_selector; all when none)."""
    chosen = list(records)
    if params.get("nodes"):
        chosen = api.nodes_by_name_or_ip(records, params["nodes"], pool_id)
    if params.get("node_pools"):
        wanted = set(params["node_pools"])
        known = {api.node_pool_of_node(r) for r in records}
        unknown = wanted - known
        if unknown:
            raise ValidationError("pool %s has no node pool(s) %s (it has: %s)." % (
                pool_id, ", ".join(sorted(unknown)), ", ".join(sorted(k for k in known if k))), option="node_pools")
        chosen = [r for r in chosen if api.node_pool_of_node(r) in wanted]
    if params.get("node_selector"):
        names = {n["metadata"]["name"] for n in knodes.list_nodes(kube, params["node_selector"])}
        chosen = [r for r in chosen if api.private_ip(r) in names]
    return chosen


def _calls(clients):
    return {"modelarts": clients.cloud.calls.snapshot(), "kubernetes": clients.kube.calls.snapshot()}


def _run(clients, params, check_mode, run_id, journal):
    cloud, kube, pool, pool_id = clients.cloud, clients.kube, clients.pool, clients.pool_id
    config = RolloutConfig.from_params(params, run_id)
    phase = (pool.get("status") or {}).get("phase")
    if phase != "Running":
        raise PreconditionError("pool %s is %s, not Running; a rolling upgrade needs a healthy pool." % (pool_id, phase),
                                details={"phase": phase})
    calls_before = _calls(clients)

    records = api.list_nodes(cloud, pool_id)
    selected = select_nodes(kube, params, pool_id, records)
    # The flavors of the selected nodes that run an NPU driver (CPU nodes are skipped by the plan).
    npu_flavors = sorted({(r.get("spec") or {}).get("flavor") for r in selected if M.cloud_driver(r)} - {None})
    compatibility = {}
    if params.get("compatibility"):
        problems, compatibility = compat.check(params["compatibility"], config.target, npu_flavors,
                                               params.get("cann_version"), params.get("images"),
                                               params.get("allow_unknown_compatibility"))
        if problems:
            raise ValidationError("driver_version %s fails the compatibility check: %s. Nothing was changed."
                                  % (config.target, "; ".join(problems)), option="driver_version")
    # Offered in the region, and (where the catalogue says) for the chip of every NPU flavor selected.
    api.check_npu_driver(cloud, config.target, npu_flavors)
    kube_nodes = knodes.list_nodes(kube)
    pods = kube.list_items(kdrain.PODS)
    pdbs = kdrain.list_pdbs(kube)

    engine = Engine.build(cloud, kube, pool_id, config, journal=journal)
    # A stop comes from a cancelled job (the controller falls silent) or an operator's request on the Lease.
    engine.stop_requested = stop.first_of(progress.controller_watch(params.get("journal"), params.get("controller_timeout")),
                                          stop.lease_watch(engine.lock))
    engine.plan(records, kube_nodes, pods, pdbs, selected)
    plan = engine.plan_report()
    window = windows.window_state(config.window, times.utc(time.time()))
    plan.update(compatibility=compatibility, lock=engine.lock.inspect(), window=window)
    if window["closes_at"] is not None:
        window["closes_at"] = window["closes_at"].isoformat()
    work = [t for t in engine.tracks if t.phase == M.PENDING or t.phase in M.IN_FLIGHT]
    result = {"run_id": run_id, "pool_id": pool_id, "plan": plan, "changed": bool(work)}
    if check_mode:
        result["status"] = "planned"
        journal(R.event(time.time(), "end", "check mode: %d node(s) would be upgraded, canary %s, expected %ss"
                        % (len(work), ", ".join(plan["canary"]) or "none", int(plan["expected_duration_seconds"])),
                        status="planned"))
        return result
    if not config.window_override and config.window is not None and not window["open"]:
        raise PreconditionError("outside the maintenance window %s; nothing was changed. Rerun inside the window "
                                "or set window_override=true." % config.window["text"],
                                details={"window": config.window["text"]})
    journal(R.event(time.time(), "start", "run %s: %d node(s) to upgrade to %s in pool %s, max_unavailable %d, "
                    "canary %s" % (run_id, len(work), config.target, pool_id, engine.max_unavailable,
                                   ", ".join(plan["canary"]) or "none"), run_id=run_id))
    if not work:
        report = engine.finish()
        report["api_calls"] = R.api_calls(_calls(clients), calls_before)
        return _outcome(dict(result, changed=False), report, engine)
    names = engine.unavailable_nodes()
    if len(names) >= engine.max_unavailable and not any(t.phase in M.IN_FLIGHT for t in engine.tracks):
        raise PreconditionError(
            "pool %s is not healthy enough to start: %d node(s) are already cordoned, NotReady or failed (%s), and "
            "max_unavailable is %d. Bring them back (or raise max_unavailable), then rerun; nothing was changed."
            % (pool_id, len(names), ", ".join(names[:20]), engine.max_unavailable), details={"unavailable": names})
    engine.lock.acquire(force=config.force_unlock)
    watch = ClusterWatch()
    try:
        watch = ClusterWatch.start(kube, lambda path, error: engine.emit(
            "warning", "no watch on %s (%s): polling every %ss instead" % (path, error, config.poll_interval)))
        engine.reader.watch = watch
        report = engine.run()
    finally:
        watch.stop()
        engine.lock.release()
    calls = R.api_calls(_calls(clients), calls_before)
    report["api_calls"] = calls
    upgraded = sum(1 for t in engine.tracks if t.phase == M.DONE)
    modelarts_calls = sum((calls.get("modelarts") or {}).values())
    report["modelarts_calls_per_upgraded_node"] = round(modelarts_calls / float(upgraded), 2) if upgraded else None
    result["changed"] = bool(upgraded or any(t.phase == M.FAILED and t.started for t in engine.tracks))
    return _outcome(result, report, engine)


def _outcome(result, report, engine):
    """The result of a run that got to its end (``msg`` says why when it ended failed or blocked)."""
    result.update(status=report["status"], report=report, summary=R.summary_text(report))
    if report["status"] in (M.RUN_FAILED, M.BLOCKED, M.STOPPED):
        result["msg"] = "rolling driver upgrade %s: %s" % (
            report["status"], report["stop_reason"] or "%d node(s) failed" % engine.failed_count())
    return result
