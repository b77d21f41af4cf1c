"""The progress journal: the engine appends JSON lines, lite_rollout_info reads only complete new ones."""
import json
import os

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import progress as info
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import report as R
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.report import Journal


def test_reader_returns_each_complete_line_once(tmp_path):
    path = str(tmp_path / "sub" / "run.jsonl")
    journal = Journal(path)
    journal({"event": "begin", "pid": os.getpid(), "msg": "one"})
    cursor = path + ".cursor"
    events, offset = info.read_new(path, cursor)
    assert [e["msg"] for e in events] == ["one"]
    with open(cursor, "w", encoding="utf-8") as handle:
        handle.write(str(offset))
    journal({"event": "node", "msg": "two"})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"event": "node", "msg": "half a li')     # a writer caught mid-line
    events, offset = info.read_new(path, cursor)
    assert [e["msg"] for e in events] == ["two"]
    with open(cursor, "w", encoding="utf-8") as handle:
        handle.write(str(offset))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('ne"}\n')
    assert [e["msg"] for e in info.read_new(path, cursor)[0]] == ["half a line"]
    journal.close()


def test_an_engine_gone_without_its_result_died_and_the_result_says_what_it_wrote_last(tmp_path):
    path = tmp_path / "run.jsonl"
    gone = 2 ** 22 + 12345
    assert info.pid_alive(os.getpid()) and not info.pid_alive(gone)
    path.write_text("".join(json.dumps(e) + "\n" for e in (
        {"event": "begin", "pid": gone, "run_id": "r-1", "msg": "x", "time": "2026-12-06T10:00:00.000Z"},
        {"event": "node", "node": "n-1", "msg": "n-1 cordoned, draining", "time": "2026-12-06T10:00:01.000Z"})))
    params = {"journal": str(path), "wait": 0.0}
    result = info.follow_journal(None, params, True)
    assert result["finished"] and result["status"] == "died" and result["begun"], result
    died = result["result"]
    assert died["run_id"] == "r-1" and died["changed"] is True and died["report"]["status"] == "died"
    assert "pid %d" % gone in died["msg"] and "n-1 cordoned, draining" in died["msg"], died["msg"]
    assert sorted(os.listdir(str(tmp_path))) == ["run.jsonl"], "check mode writes nothing"


def test_a_journal_not_begun_is_not_finished(tmp_path):
    result = info.follow_journal(None, {"journal": str(tmp_path / "none.jsonl"), "wait": 0.0}, True)
    assert result["begun"] is False and result["finished"] is False and "result" not in result


def test_the_result_is_the_engines_last_event_with_the_files_it_names(tmp_path):
    path = str(tmp_path / "run.jsonl")
    report = tmp_path / "r-2.json"
    report.write_text(json.dumps({"run_id": "r-2", "status": "refused", "message": "no such pool"}))
    (tmp_path / "r-2.txt").write_text("Rolling driver upgrade r-2: refused\nno such pool\n")
    journal = Journal(path)
    journal({"event": "begin", "pid": os.getpid(), "msg": "one"})
    journal({"event": "end", "status": "refused", "msg": "refused: no such pool"})
    journal(R.result_event(0.0, {"run_id": "r-2", "status": "refused", "changed": False, "msg": "no such pool",
                                 "report_file": str(report)}))
    journal.close()
    result = info.follow_journal(None, {"journal": path, "wait": 0.0}, False)
    assert result["finished"] and result["status"] == "refused"
    assert [line.split(" ", 1)[1] for line in result["lines"]] == ["one", "refused: no such pool"]
    final = result["result"]
    assert final["msg"] == "no such pool" and final["changed"] is False and final["report"]["message"] == "no such pool"
    assert final["summary"].splitlines() == ["Rolling driver upgrade r-2: refused", "no such pool"]


def test_follow_writes_the_cursor_only_outside_check_mode(tmp_path):
    path = str(tmp_path / "run.jsonl")
    journal = Journal(path)
    journal({"event": "begin", "pid": os.getpid(), "msg": "one"})
    journal({"event": "node", "msg": "two"})
    params = {"journal": path, "wait": 0.5}
    for _attempt in range(2):
        result = info.follow_journal(None, params, True)
        assert [e["msg"] for e in result["events"]] == ["one", "two"] and result["finished"] is False
    assert sorted(os.listdir(str(tmp_path))) == ["run.jsonl"]
    assert [e["msg"] for e in info.follow_journal(None, params, False)["events"]] == ["one", "two"]
    journal({"event": "end", "status": "succeeded", "msg": "three"})
    journal(R.result_event(0.0, {"run_id": "r", "status": "succeeded", "changed": True}))
    result = info.follow_journal(None, params, False)
    assert [e["msg"] for e in result["events"]] == ["three", "result: succeeded"]
    assert result["finished"] and result["status"] == "succeeded" and result["result"]["changed"] is True
    journal.close()


def test_a_failure_before_the_run_began_is_recorded_by_the_engine_and_a_recorded_one_is_left(tmp_path):
    from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import run as RUN
    from ansible_collections.modelarts.lite.plugins.module_utils.errors import NotFoundError

    params = {"journal": str(tmp_path / "r-3.jsonl"), "report_dir": str(tmp_path), "run_id": "r-3",
              "pool": "gone", "driver_version": "v2"}
    RUN.record_failure(params, True, NotFoundError("no pool named gone"), "no pool named gone")
    assert os.listdir(str(tmp_path)) == ["r-3.jsonl"], "check mode: the journal only, no report"
    RUN.record_failure(params, False, NotFoundError("no pool named gone"), "no pool named gone")
    result = info.follow_journal(None, {"journal": params["journal"], "wait": 0.0}, True)["result"]
    assert result["status"] == "refused" and result["msg"] == "no pool named gone" and result["changed"] is False
    assert result["report"]["status"] == "refused" and result["report"]["pool_id"] == "gone"
    assert result["summary"].splitlines() == ["Rolling driver upgrade r-3 of pool gone to v2: refused",
                                              "no pool named gone"], result["summary"]
    recorded = NotFoundError("seen")
    recorded.recorded = True
    before = (tmp_path / "r-3.jsonl").read_text()
    RUN.record_failure(params, False, recorded, "seen")
    RUN.record_failure(params, False, KeyError("bug"), "Unexpected KeyError")
    events = [json.loads(line) for line in (tmp_path / "r-3.jsonl").read_text()[len(before):].splitlines()]
    assert [(e["event"], e.get("status")) for e in events] == [("end", "error"), ("result", "error")], events
