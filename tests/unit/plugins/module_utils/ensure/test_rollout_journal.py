"""The progress journal: the engine appends JSON lines, lite_rollout_info reads only complete new ones."""
import json
import os

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import progress as info
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


def test_finished_when_the_engine_is_gone(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"event": "begin", "pid": 2 ** 22 + 12345, "msg": "x"}) + "\n")
    assert info.begin_pid(str(path)) == 2 ** 22 + 12345
    assert info.pid_alive(os.getpid()) and not info.pid_alive(2 ** 22 + 12345)


def test_job_result_is_the_module_result_not_the_async_placeholder(tmp_path):
    # What ansible's async_wrapper writes: a placeholder first, then the module's own result.
    job = tmp_path / "42.1"
    job.write_text(json.dumps({"started": True, "finished": False, "ansible_job_id": "42.1"}))
    assert info.job_result(str(tmp_path), "42.1") is None
    assert info.wait_for_result(str(tmp_path), "42.1", 0.1) is None
    job.write_text(json.dumps({"changed": True, "status": "succeeded", "report_file": "/r/run.json"}))
    assert info.job_result(str(tmp_path), "42.1")["status"] == "succeeded"
    assert info.wait_for_result(str(tmp_path), "42.1", 0.1)["report_file"] == "/r/run.json"
    assert info.job_result(str(tmp_path), "nope") is None and info.job_result(str(tmp_path), None) is None


def test_follow_writes_the_cursor_only_outside_check_mode(tmp_path):
    path = str(tmp_path / "run.jsonl")
    journal = Journal(path)
    journal({"event": "begin", "pid": os.getpid(), "msg": "one"})
    journal({"event": "node", "msg": "two"})
    params = {"journal": path, "wait": 0.5, "job_id": None, "async_dir": str(tmp_path)}
    for _attempt in range(2):
        result = info.follow_journal(None, params, True)
        assert [e["msg"] for e in result["events"]] == ["one", "two"] and result["finished"] is False
    assert sorted(os.listdir(str(tmp_path))) == ["run.jsonl"]
    assert [e["msg"] for e in info.follow_journal(None, params, False)["events"]] == ["one", "two"]
    journal({"event": "end", "status": "succeeded", "msg": "three"})
    result = info.follow_journal(None, params, False)
    assert [e["msg"] for e in result["events"]] == ["three"] and result["finished"] and result["status"] == "succeeded"
    journal.close()
