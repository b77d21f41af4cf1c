"""make demo: provision -> rolling driver upgrade -> stress tests on a fresh simulator, and say what happened.

Starts the simulator in build/demo (HTTPS, its own CA), runs playbooks/demo.yml with the
simulator's credentials in the environment, stops the simulator, and prints a summary built from
the report the playbook wrote and from the simulator's own audit log.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

from modelarts_sim.testing import start_simulator

REPO = pathlib.Path(__file__).resolve().parents[1]
STATE_DIR = REPO / "build" / "demo" / "simulator"
REPORT = REPO / "build" / "demo" / "report.json"
TIME_SCALE = float(os.environ.get("DEMO_TIME_SCALE", "600"))


def main():
    shutil.rmtree(STATE_DIR.parent, ignore_errors=True)
    STATE_DIR.mkdir(parents=True)
    print("== Starting the ModelArts Lite simulator (time scale %gx: a cloud hour passes in %.0f s)"
          % (TIME_SCALE, 3600 / TIME_SCALE))
    sim = start_simulator(STATE_DIR, time_scale=TIME_SCALE, seed=1)
    try:
        print("   endpoint %s, state in %s" % (sim.env["endpoint"], STATE_DIR))
        env = dict(os.environ, **sim.env_vars())
        env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
        cmd = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
               "-c", "local", str(REPO / "playbooks" / "demo.yml"), "-e", "report_path=%s" % REPORT]
        print("== " + " ".join(cmd[:1] + cmd[5:6]))
        rc = subprocess.call(cmd, env=env, cwd=REPO)
        audit = sim.audit_entries()
    finally:
        sim.stop()
    print("== What happened")
    if REPORT.exists():
        report = json.loads(REPORT.read_text())
        for line in report.get("summary", []):
            print("   " + line)
    print("   %d mutating API calls reached the simulator (audit log: %s)"
          % (len(audit), STATE_DIR / "audit.jsonl"))
    # The ModelArts calls one by one; the Kubernetes writes (cordons, evictions, CronJobs...) counted.
    kube_writes = {}
    for entry in audit:
        if entry.get("api") == "k8s":
            kube_writes[entry["method"]] = kube_writes.get(entry["method"], 0) + 1
        else:
            sent = ""
            if entry["method"] == "POST" and entry["path"].endswith("/pools"):  # a pool in a VPC needs both
                spec = (entry.get("body") or {}).get("spec") or {}
                sent = " (spec.clusters %s, spec.userLogin %s)" % (
                    "sent" if spec.get("clusters") else "MISSING", "sent" if spec.get("userLogin") else "MISSING")
            print("     %s %s -> %s%s" % (entry["method"], entry["path"], entry["status"], sent))
    if kube_writes:
        print("     Kubernetes API writes: %s" % ", ".join("%s %d" % item for item in sorted(kube_writes.items())))
    if rc != 0:
        sys.exit("the demo playbook failed (exit %d)" % rc)


if __name__ == "__main__":
    main()
