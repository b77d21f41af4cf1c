"""The rollout's HTML timeline, as the engine writes it after a real run of the role on the
simulator, rendered by headless Chromium: one row per node, phases in order, the failed node marked, the slots chart
against max_unavailable. The screenshot stays in tests/output/timeline/ for people to look at."""
import json
import pathlib
import shutil
from html.parser import HTMLParser

import pytest
from browser import colour_count, dump_dom, png_pixels, screenshot

REPO = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = REPO / "tests" / "output" / "timeline"
OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
NODES = 6


class Dom(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.items = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.items.append((tag, dict(attrs)))

    def all(self, tag, css_class):
        return [a for t, a in self.items if t == tag and css_class in (a.get("class") or "").split()]


@pytest.fixture(scope="module")
def run(sim, ansible, tmp_path_factory):
    """Six nodes, max_unavailable 2, one node whose driver upgrade fails (max_failed_nodes 1)."""
    pool = sim.seed([{"name": "timeline", "nodes": NODES, "driver_version": OLD, "workloads": {
        "ready_nodes": True,
        "gang_jobs": [{"name": "llm", "namespace": "training", "nodes": [0, 1], "checkpoint_seconds": 600}],
        "deployments": [{"name": "web", "replicas": 3, "pdb": {"minAvailable": 2}}]}}])["pools"][0]
    victim = pool["nodes"][3]
    report_dir = tmp_path_factory.mktemp("reports")
    playbook = ansible.workdir / "timeline.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                     "roles": [{"role": "modelarts.lite.rolling_driver_upgrade"}]}]))
    sim.set_faults([{"kind": "fail_operation", "operation": "driver_upgrade", "node": victim}])
    try:
        ansible.playbook(playbook, extra_vars={
            "rolling_driver_upgrade_pool": "timeline", "rolling_driver_upgrade_driver_version": NEW,
            "rolling_driver_upgrade_max_unavailable": "2", "rolling_driver_upgrade_max_failed_nodes": 1,
            "rolling_driver_upgrade_canary_nodes": 0, "rolling_driver_upgrade_progress_interval": 1,
            "rolling_driver_upgrade_report_dir": str(report_dir), "rolling_driver_upgrade_run_id": "timeline-1"})
    finally:
        sim.clear_faults()
    report = json.loads((report_dir / "timeline-1.json").read_text())
    # The engine draws the page next to the report; keep a copy with the screenshot.
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = OUTPUT / "timeline-1.html"
    shutil.copyfile(report_dir / "timeline-1.html", page)
    return {"pool": pool, "victim": victim, "report": report, "page": page}


def test_the_page_shows_one_row_per_node_in_phase_order_and_the_failure(run):
    dom = Dom(dump_dom(run["page"]))
    rows = dom.all("g", "row")
    assert sorted(r["data-node"] for r in rows) == sorted(run["pool"]["nodes"])
    assert [r["data-node"] for r in rows if r["data-result"] == "failed"] == [run["victim"]]
    assert {r["data-result"] for r in rows if r["data-node"] != run["victim"]} == {"done"}
    assert [f["data-node"] for f in dom.all("g", "failure")] == [run["victim"]]
    # Phases, row by row in document order: cordoned, then upgrading, then verifying or smoke.
    rank = {"cordoned": 0, "upgrading": 1, "verifying": 2, "smoke": 3}
    phases = {}
    current = None
    for tag, attrs in dom.items:
        if tag == "g" and "row" in (attrs.get("class") or "").split():
            current = attrs["data-node"]
        elif tag == "rect" and attrs.get("data-phase") and current:
            phases.setdefault(current, []).append((float(attrs["data-start"]), attrs["data-phase"]))
    assert set(phases) == set(run["pool"]["nodes"])
    for node, items in phases.items():
        assert items == sorted(items), node
        assert [rank[p] for _s, p in items] == sorted(rank[p] for _s, p in items), node
        assert items[0][1] == "cordoned" and "upgrading" in [p for _s, p in items], node
    # The 2-node gang job: interrupted once, marked on the node whose drain did it.
    marks = dom.all("path", "interruption")
    assert [m["data-job"] for m in marks] == ["training/llm"]
    assert marks[0]["data-node"] in run["pool"]["nodes"][:2]
    slots = [a for t, a in dom.items if t == "svg" and a.get("id") == "slots"][0]
    assert slots["data-max-unavailable"] == "2" and 1 <= int(slots["data-peak"]) <= 2
    assert run["report"]["counts"].get("failed") == 1


def test_the_screenshot_shows_bars_and_the_failure_mark(run):
    png = screenshot(run["page"], OUTPUT / "timeline-1.png")
    width, height, rows = png_pixels(png)
    assert (width, height) == (1300, 900)
    upgrading = colour_count(rows, "#3d7ecb")
    failure = colour_count(rows, "#d62f2f")
    assert upgrading > 2000, "no upgrading bars drawn (%d px)" % upgrading
    assert failure > 20, "the failed node's cross is not drawn (%d px)" % failure
    blank = colour_count(rows, (255, 255, 255), tolerance=0)
    assert blank < width * height * 0.97, "the page rendered almost blank"
