"""What ships says the same thing in every place: supported ansible-core versions and sanity ignores."""
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SUPPORTED = ["2.16", "2.17", "2.18", "2.19", "2.20", "2.21"]


def test_every_supported_version_has_the_same_sanity_ignores():
    """ansible-test reads tests/sanity/ignore-<core>.txt of the version it belongs to; a missing file
    fails sanity on that version. The files are identical: add an ignore to all of them (ansible-lint
    refuses some ignores, e.g. pylint's; those are inline disables with their reason instead)."""
    files = {v: REPO / "tests" / "sanity" / ("ignore-%s.txt" % v) for v in SUPPORTED}
    missing = [v for v, f in files.items() if not f.exists()]
    assert not missing, "no sanity ignore file for ansible-core %s" % missing
    differing = [v for v in SUPPORTED if files[v].read_text() != files["2.19"].read_text()]
    assert not differing, "ignore files differ from ignore-2.19.txt: %s" % differing
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
