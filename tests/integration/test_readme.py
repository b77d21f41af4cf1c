"""README.md's commands, run as written, from a fresh clone of this repository.

The code blocks tagged `<!-- readme-test: NAME -->` are extracted and run with bash, word for word,
with two substitutions a machine without GitHub needs: the git URL becomes this repository's own
clone (file://, at its HEAD commit), and `make demo`'s products (.venv, build/install) are linked
into the fresh clone from this work tree instead of being rebuilt (the Makefile built them for this
run). `make demo` and `make test` themselves are what CI runs.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
GIT_URL = "git+https://github.com/modelarts-lite/modelarts.lite.git,main"
TAGGED = re.compile(r"<!-- readme-test: (\S+) -->\n```bash\n(.*?)```", re.S)


def blocks():
    return dict(TAGGED.findall((REPO / "README.md").read_text()))


@pytest.fixture
def clone(tmp_path):
    target = tmp_path / "modelarts.lite"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)], check=True)
    return target


def run_block(script, cwd, timeout):
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    for name in ("ANSIBLE_COLLECTIONS_PATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, timeout=timeout,
                          capture_output=True, text=True, check=False)


def test_the_tagged_blocks_are_there():
    assert set(blocks()) == {"install", "simulator"}


def test_install_from_a_tarball_and_from_git(clone):
    script = blocks()["install"]
    assert GIT_URL in script
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    script = script.replace(GIT_URL, "git+file://%s,%s" % (REPO, head.stdout.strip()))
    done = run_block(script, clone, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    manifest = clone / "collections" / "ansible_collections" / "modelarts" / "lite" / "MANIFEST.json"
    assert manifest.exists()
    listed = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "modelarts.lite", "-p",
                             str(clone / "collections")], capture_output=True, text=True, check=True)
    assert "modelarts.lite" in listed.stdout


def test_rehearsing_on_the_simulator_after_make_demo(clone):
    (clone / "build").mkdir()
    os.symlink(REPO / ".venv", clone / ".venv")
    os.symlink(REPO / "build" / "install", clone / "build" / "install")
    try:
        done = run_block(blocks()["simulator"], clone, timeout=900)
    finally:  # a failed block leaves its simulator running
        subprocess.run([sys.executable, "-m", "modelarts_sim", "stop", "--state-dir", str(clone / "build" / "sim")],
                       capture_output=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "failed=0" in done.stdout and "unreachable=0" in done.stdout
    assert "stopped simulator" in done.stdout
    audit = (clone / "build" / "sim" / "audit.jsonl").read_text().splitlines()
    assert any('"POST"' in line and "/pools" in line for line in audit), "the demo created no pool"
