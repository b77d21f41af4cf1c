"""`make molecule`: start a fresh simulator, export its environment, run every scenario's
`molecule test` (converge, idempotence, verify, cleanup) against it, stop it."""
import os
import pathlib
import subprocess
import sys
import tempfile

from modelarts_sim.testing import start_simulator

import lite_server_fleet

HERE = pathlib.Path(__file__).resolve().parent
BIN = pathlib.Path(sys.executable).parent


def main():
    scenarios = sys.argv[1:] or sorted(p.name for p in HERE.iterdir() if (p / "molecule.yml").exists())
    # Run from extensions/, molecule does not find config.yml by itself: named here.
    molecule = [str(BIN / "molecule"), "--base-config", str(HERE / "config.yml")]
    with tempfile.TemporaryDirectory(prefix="molecule-sim-") as state_dir:
        fleet = None
        sim = start_simulator(state_dir, time_scale=float(os.environ.get("MODELARTS_SIM_TIME_SCALE", "2000")), seed=3)
        try:
            # Lite Server scenarios reach simulated servers through real sshd (lite_server_fleet.py).
            fleet, fleet_env = lite_server_fleet.start(sim, state_dir)
            env = dict(os.environ, **sim.env_vars(), **fleet_env, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                       PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
            failed = []
            for scenario in scenarios:
                print("== molecule test -s %s" % scenario, flush=True)
                # Molecule keeps "prepared" state between runs under ~/.ansible/tmp; a fresh simulator
                # has none of the prepared pools, so each scenario starts from a clean slate.
                subprocess.run(molecule + ["reset", "-s", scenario], cwd=HERE.parent, env=env,
                               check=False, capture_output=True)
                if subprocess.run(molecule + ["test", "-s", scenario], cwd=HERE.parent, env=env,
                                  check=False).returncode:
                    failed.append(scenario)
        finally:
            if fleet is not None:
                fleet.stop()
            sim.stop()
    if failed:
        sys.exit("molecule scenarios failed: %s" % ", ".join(failed))


if __name__ == "__main__":
    main()
