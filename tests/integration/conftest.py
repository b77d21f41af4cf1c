"""Integration tests: a real simulator process, the collection as it ships, real ansible.

Each test module gets its own simulator (its own state dir, CA and port), started the way an
operator starts it. Playbooks and ad-hoc module runs get the simulator's env.sh variables, and
tests read the simulator's audit log to prove that a refused input changed nothing.
"""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from modelarts_sim.testing import start_simulator

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
TIME_SCALE = float(os.environ.get("MODELARTS_SIM_TIME_SCALE", "2000"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=TIME_SCALE, seed=7)
    yield handle
    handle.stop()


class Ansible:
    """Runs ansible the way a user does, against one simulator, and parses its JSON output."""

    def __init__(self, sim, workdir):
        self.sim = sim
        self.workdir = workdir
        self.env = dict(os.environ)
        self.env.update(sim.env_vars())
        self.env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / "build" / "install"))
        self.env.update(
            ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_RETRY_FILES_ENABLED="0",
        )

    def module(self, name, args, check=False, diff=False, extra_env=None):
        """Run one module on localhost; return its result dict (failed results included)."""
        playbook = self.workdir / "one_task.yml"
        playbook.write_text(json.dumps([{
            "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": "under test", name: args, "register": "result", "ignore_errors": True}],
        }]))
        output = self.playbook(playbook, check=check, diff=diff, extra_env=extra_env)
        return output["plays"][0]["tasks"][0]["hosts"]["localhost"]

    def playbook(self, path, check=False, diff=False, extra_vars=None, extra_env=None, expect_rc=(0,)):
        cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        env = dict(self.env, **(extra_env or {}))
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=self.workdir, check=False)
        if proc.returncode not in expect_rc:
            raise AssertionError("ansible-playbook exited %s\nstdout:\n%s\nstderr:\n%s"
                                 % (proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:]))
        return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def ansible(sim, tmp_path_factory):
    return Ansible(sim, tmp_path_factory.mktemp("ansible"))


@pytest.fixture
def audit(sim):
    """Counts mutating calls made during a test: `with audit.unchanged(): ...`."""
    return AuditProbe(sim)


class AuditProbe:
    def __init__(self, sim):
        self.sim = sim

    def mark(self):
        return len(self.sim.audit_entries())

    def since(self, mark):
        return self.sim.audit_entries()[mark:]
