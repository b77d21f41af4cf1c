"""`bench/run.py --only jobs`: what a rolling driver upgrade costs the training jobs it meets.

One 256-node pool carries the workload mix an AI cluster runs: 8 jobs of 16 nodes (each spanning
two super nodes of 8 servers), 16 jobs of 4 nodes, and 64 single-node jobs, all gang-scheduled
(the simulator's Volcano-style jobs: any pod evicted restarts the whole job from its last
checkpoint, every 30 simulated minutes of work). The same pool, freshly seeded with the same
seed, is upgraded three times side by side:

* job-aware: the role as shipped (job_aware true);
* job-blind: the role with job_aware false (nodes in hash order);
* baseline:  the kubespray-style playbook (bench/baseline_upgrade.yml, serial waves).

For each: wall time against the cloud's limit, job interruptions (the most any multi-node job
suffered, and the total), and NPU-hours of lost work (simulated hours of NPU time since each
interrupted job's last checkpoint), read from the simulator (GET /_sim/gangs).
"""

POOL_NODES = 256
MAX_UNAVAILABLE = "8"
CHECKPOINT_SECONDS = 1800
NPUS = 8
TARGETS = {"job_interruptions_max": 1, "lost_npu_hours_ratio": 0.25, "ratio_job_aware_at_256": 1.10}
RUNS = (("job-aware", "role", {"job_aware": True}), ("job-blind", "role", {"job_aware": False}),
        ("baseline", "baseline", {}))


def workload_mix():
    """Super nodes and gang jobs by node index (the seed resolves indexes to the pool's nodes)."""
    super_nodes = [{"id": "spod-%02d" % s, "batch_uid": "batch-%d" % (s // 4), "nodes": list(range(8 * s, 8 * s + 8))}
                   for s in range(16)]
    jobs = []

    def add(name, nodes, index):
        # Each job is somewhere in its checkpoint interval when the upgrade starts (deterministic).
        jobs.append({"name": name, "namespace": "training", "nodes": nodes, "npus": NPUS,
                     "checkpoint_seconds": CHECKPOINT_SECONDS, "elapsed_seconds": (index * 617) % CHECKPOINT_SECONDS})
    for j in range(8):
        add("llm-%d" % j, list(range(16 * j, 16 * j + 16)), j)
    for j in range(16):
        add("ft-%02d" % j, list(range(128 + 4 * j, 128 + 4 * j + 4)), 8 + j)
    for j in range(64):
        add("solo-%02d" % j, [192 + j], 24 + j)
    return {"ready_nodes": True, "super_nodes": super_nodes, "gang_jobs": jobs}


def job_costs(report):
    """Interruptions and lost work from the simulator's gang report of one pool."""
    jobs = report["jobs"]
    multi = [j for j in jobs if len(j["nodes"]) > 1]
    return {"job_interruptions_max": max((j["restarts"] for j in multi), default=0),
            "job_interruptions_total": sum(j["restarts"] for j in multi),
            "single_node_interruptions": sum(j["restarts"] for j in jobs if len(j["nodes"]) == 1),
            "multi_node_jobs_interrupted": sum(1 for j in multi if j["restarts"]),
            "lost_npu_hours": round(sum(j["lost_npu_seconds"] for j in jobs) / 3600.0, 2),
            "lost_npu_hours_multi_node": round(sum(j["lost_npu_seconds"] for j in multi) / 3600.0, 2)}


def run_jobs(runner, start_simulator, log, drivers, time_scale, labels):
    """The runs named in `labels` (of RUNS); returns {"runs": [...], "targets": {...}} for results.json."""
    rows = []
    for label, method, variables in (run for run in RUNS if run[0] in labels):
        sim = start_simulator(runner.workdir / ("sim-jobs-%s" % label), time_scale=time_scale, seed=11, timeout=60)
        try:
            seeded = sim.seed([{"name": "bench-jobs", "nodes": POOL_NODES,
                                "flavor": "modelarts.bm.npu.arm.8snt9b3.d", "node_pool": "np-a",
                                "driver_version": drivers[0], "workloads": workload_mix()}])["pools"][0]
            log("jobs: %s, %d nodes, max_unavailable %s, time scale %g"
                % (label, POOL_NODES, MAX_UNAVAILABLE, time_scale))
            result = runner.upgrade_run(sim, seeded, method, MAX_UNAVAILABLE, drivers[1], list(seeded["nodes"]),
                                        role_options=variables)
            result.update(run=label, **job_costs(sim.gangs(seeded["id"])[seeded["id"]]))
            log("  wall %.1f s, limit %s s, ratio %s; interruptions max %d total %d; lost %.1f NPU-h%s"
                % (result["wall_seconds"], result["limit_packed_seconds"], result["ratio"],
                   result["job_interruptions_max"], result["job_interruptions_total"], result["lost_npu_hours"],
                   "" if result["ok"] else "  FAILED"))
            rows.append(result)
        finally:
            sim.stop()
    return {"runs": rows, "targets": verdicts(rows)}


def verdicts(rows):
    by = {r["run"]: r for r in rows}
    aware, blind = by.get("job-aware"), by.get("job-blind")
    out = {}
    if aware:
        out["job_interruptions_max"] = {"target": TARGETS["job_interruptions_max"],
                                        "measured_worst": aware["job_interruptions_max"],
                                        "met": aware["ok"] and aware["job_interruptions_max"]
                                        <= TARGETS["job_interruptions_max"]}
        if aware.get("ratio"):
            out["ratio_job_aware_at_256"] = {"target": TARGETS["ratio_job_aware_at_256"],
                                             "measured_worst": aware["ratio"], "time_scale": aware["time_scale"],
                                             "met": aware["ok"] and aware["ratio"]
                                             <= TARGETS["ratio_job_aware_at_256"]}
    if aware and blind and blind["lost_npu_hours"]:
        ratio = round(aware["lost_npu_hours"] / blind["lost_npu_hours"], 3)
        out["lost_npu_hours_ratio"] = {"target": TARGETS["lost_npu_hours_ratio"], "measured_worst": ratio,
                                       "met": aware["ok"] and blind["ok"] and ratio <= TARGETS["lost_npu_hours_ratio"]}
    return out


def print_jobs(section):
    print()
    print("Training jobs met by the upgrade (256 nodes: 8 x 16-node, 16 x 4-node, 64 single-node gang jobs)")
    header = ("run", "wall s", "limit s", "ratio", "intr max", "intr tot", "lost NPUh", "multi NPUh")
    print("%10s %8s %8s %6s %9s %9s %10s %10s" % header)
    for r in section["runs"]:
        print("%10s %8.1f %8s %6s %9d %9d %10.1f %10.1f%s" % (
            r["run"], r["wall_seconds"], r["limit_packed_seconds"], r["ratio"], r["job_interruptions_max"],
            r["job_interruptions_total"], r["lost_npu_hours"], r["lost_npu_hours_multi_node"],
            "" if r["ok"] else "  FAILED"))
