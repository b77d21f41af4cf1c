"""What ships says the same thing in every place: supported ansible-core versions and sanity ignores."""
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SUPPORTED = ["2.16", "2.17", "2.18", "2.19", "2.20", "2.21"]


# Ignores only one ansible-core's sanity tests need (an older one reports them as unnecessary):
# file and check, per version. Each also carries its reason in that version's ignore file.
VERSION_SPECIFIC_IGNORES = {
    "2.21": {"plugins/module_utils/ensure/rollout/smoke.py pylint:ansible-bad-function"},
}


def ignore_entries(path):
    return [line.split(" #")[0].strip() for line in path.read_text().splitlines() if line.strip()]


def test_every_supported_version_has_the_same_sanity_ignores():
    """ansible-test reads tests/sanity/ignore-<core>.txt of the version it belongs to; a missing file
    fails sanity on that version. The files are identical (add an ignore to all of them) except for
    the version-specific ignores listed above, which must be in their version's file and no other."""
    files = {v: REPO / "tests" / "sanity" / ("ignore-%s.txt" % v) for v in SUPPORTED}
    missing = [v for v, f in files.items() if not f.exists()]
    assert not missing, "no sanity ignore file for ansible-core %s" % missing
    specific = set().union(*VERSION_SPECIFIC_IGNORES.values())
    shared = {v: [line for line in f.read_text().splitlines() if line.split(" #")[0].strip() not in specific]
              for v, f in files.items()}
    differing = [v for v in SUPPORTED if shared[v] != shared["2.19"]]
    assert not differing, "ignore files differ from ignore-2.19.txt (beyond the version-specific ignores): %s" % differing
    for v in SUPPORTED:
        own = set(ignore_entries(files[v])) & specific
        assert own == VERSION_SPECIFIC_IGNORES.get(v, set()), "ignore-%s.txt: version-specific ignores %s" % (v, own)
    found = sorted(p.name for p in (REPO / "tests" / "sanity").glob("ignore-*.txt"))
    assert found == sorted(f.name for f in files.values()), "ignore file of an unsupported version: %s" % found


def test_requires_ansible_is_the_oldest_supported_version():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] == ">=%s.0" % SUPPORTED[0]
    for meta in (REPO / "roles").glob("*/meta/main.yml"):
        assert yaml.safe_load(meta.read_text())["galaxy_info"]["min_ansible_version"] == SUPPORTED[0], meta


def test_compat_pass_runs_the_oldest_version_and_the_lowest_kubernetes_core():
    pins = (REPO / "tests" / "compat" / ("requirements-%s.txt" % SUPPORTED[0])).read_text()
    assert re.search(r"^ansible-core>=%s,<" % re.escape(SUPPORTED[0]), pins, re.M)
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert galaxy["dependencies"]["kubernetes.core"].startswith(">=2.4.0"), \
        "ansible 9 (core 2.16, the compat pass) ships kubernetes.core 2.4"
