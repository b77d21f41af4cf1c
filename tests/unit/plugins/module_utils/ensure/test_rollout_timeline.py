"""The HTML timeline, rendered from the journal the engine writes (fake pool, virtual clock)."""
from html.parser import HTMLParser

import pytest
# fake_api is a pytest fixture: importing it is what lets the tests below ask for it.
from test_rollout import Clock, FakePool, engine, fake_api  # noqa: F401 pylint: disable=unused-import

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as R
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import timeline as T


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self, text):
        super().__init__()
        self.items = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.items.append((tag, dict(attrs)))

    def find(self, tag, css_class=None):
        return [a for t, a in self.items if t == tag and (css_class is None or css_class in (a.get("class") or "").split())]


@pytest.fixture
def journal(fake_api):
    """A real run's journal: 6 nodes, max_unavailable 2, one node failing (max_failed_nodes 1)."""
    clock = Clock()
    pool = fake_api(FakePool(clock, 6, durations={"node-%d" % i: 30 + 10 * i for i in range(6)}))
    events = []
    rollout = engine(pool, clock, max_unavailable="2", max_failed_nodes=1)
    rollout.journal = events.append
    rollout.plan(list(pool.records.values()), list(pool.nodes.values()), [], [], list(pool.records.values()))
    pool.failing = {rollout.tracks[2].name}
    rollout.emit("start", "run run-1: 6 node(s) to upgrade to X in pool pool-1, max_unavailable 2, canary none")
    report = rollout.run()
    return events, report, rollout.tracks[2].name


def test_one_row_per_node_phases_in_order_and_the_failure_marked(journal):
    events, report, failed = journal
    page = T.render_timeline(events)
    dom = Elements(page)
    rows = dom.find("g", "row")
    assert sorted(r["data-node"] for r in rows) == sorted(n["name"] for n in report["nodes"])
    assert [r["data-node"] for r in rows if r["data-result"] == "failed"] == [failed]
    model = T.timeline_model(events)
    for row in model["nodes"]:
        phases = [s["phase"] for s in row["segments"]]
        assert phases[:2] == ["cordoned", "upgrading"], phases
        starts = [s["start"] for s in row["segments"]]
        assert starts == sorted(starts) and all(s["end"] >= s["start"] for s in row["segments"])
    assert len(dom.find("g", "failure")) == 1 and dom.find("g", "failure")[0]["data-node"] == failed
    assert "FAILED" in page                       # the reason is the failure mark's tooltip
    assert report["status"] == R.SUCCEEDED or report["counts"].get("failed") == 1


def test_slots_in_use_never_above_the_budget_and_failed_nodes_keep_theirs(journal):
    events, _report, _failed = journal
    model = T.timeline_model(events)
    assert model["max_unavailable"] == 2
    peak = max(used for _at, used in model["slots"])
    assert peak == 2
    assert model["slots"][-1][1] == 1             # the failed node still holds its slot at the end
    slots = Elements(T.render_timeline(events)).find("svg")[1]
    assert slots["id"] == "slots" and slots["data-max-unavailable"] == "2" and slots["data-peak"] == "2"


def test_interruptions_are_marked_on_their_node():
    events = [
        {"time": "2026-12-06T10:00:00.000Z", "event": "start", "run_id": "r", "msg": "... max_unavailable 4 ..."},
        {"time": "2026-12-06T10:00:01.000Z", "event": "node", "node": "a", "phase": "cordoned"},
        {"time": "2026-12-06T10:00:02.000Z", "event": "interruption", "node": "a", "job": "training/llm"},
        {"time": "2026-12-06T10:00:05.000Z", "event": "node", "node": "a", "phase": "upgrading"},
        {"time": "2026-12-06T10:03:00.000Z", "event": "node", "node": "a", "phase": "done"},
        {"time": "2026-12-06T10:03:01.000Z", "event": "end", "status": "succeeded"},
    ]
    dom = Elements(T.render_timeline(events))
    marks = dom.find("path", "interruption")
    assert [(m["data-node"], m["data-job"]) for m in marks] == [("a", "training/llm")]
    assert "1 job interruption(s)" in T.render_timeline(events)


def test_self_contained_no_script_no_network():
    events = [{"time": "2026-12-06T10:00:00Z", "event": "node", "node": "n<1>", "phase": "cordoned"}]
    page = T.render_timeline(events)
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "n&lt;1&gt;" in page and "n<1>" not in page
    with pytest.raises(ValueError, match="no timed events"):
        T.render_timeline([{"event": "begin"}])
