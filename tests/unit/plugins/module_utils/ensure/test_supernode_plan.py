"""supernode_scale planning: which servers go, job guards, grow-only disks."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure import supernode as engine
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError


def server(index, status="RUNNING", size=200):
    return {"id": "s%d" % index, "name": "sn-%d" % index, "status": status, "create_at": index,
            "volumes": [{"type": "ROOT", "size": size}]}


def params(**overrides):
    base = dict(name="sn", count=None, remove_servers=None, system_disk_size=None)
    base.update(overrides)
    return base


def test_count_removes_idle_then_broken_then_newest():
    servers = [server(1), server(2, "ERROR"), server(3), server(4)]
    busy = {"s4": [{"id": "j", "name": "j", "servers": ["s4"]}]}
    assert [s["id"] for s in engine.plan_removals(servers, params(count=2), busy)] == ["s2", "s3"]
    assert engine.plan_removals(servers, params(count=4), {}) == []


def test_servers_being_deleted_do_not_count():
    servers = [server(1), server(2), server(3, "DELETING")]
    assert engine.plan_removals(servers, params(count=2), {}) == []
    assert engine.plan_removals(servers, params(remove_servers=["sn-3"]), {}) == []


@pytest.mark.parametrize("extra, message", [
    (dict(remove_servers=["sn-1", "sn-2"]), "without servers"),
    (dict(remove_servers=["sn-1"], count=2), "disagrees"),
])
def test_bad_removals(extra, message):
    with pytest.raises(ValidationError, match=message):
        engine.plan_removals([server(1), server(2)], params(**extra), {})


def test_removed_servers_count_as_done_and_strangers_are_refused():
    members = [server(1), server(2)]
    stranger = {"id": "x1", "name": "standalone", "status": "RUNNING"}
    wanted = params(remove_servers=["sn-1", "gone-1"])
    assert engine.already_removed(members, wanted, members + [stranger]) == ["gone-1"]
    assert [s["id"] for s in engine.plan_removals(members, wanted, {}, ["gone-1"])] == ["s1"]
    assert engine.plan_removals(members, params(remove_servers=["gone-1"]), {}, ["gone-1"]) == []
    with pytest.raises(ValidationError, match="is not in super node"):
        engine.already_removed(members, params(remove_servers=["standalone"]), members + [stranger])


@pytest.mark.parametrize("extra, message", [
    (dict(remove_servers=["a", "a"]), "twice"), (dict(), "give count"),
])
def test_bad_params(extra, message):
    with pytest.raises(ValidationError, match=message):
        engine.validate_params(params(**extra))


def test_disk_is_grow_only_and_growth_points_at_lite_server_disk():
    servers = [server(1, size=200), server(2, size=200)]
    engine.check_disk(servers, 200)
    engine.check_disk(servers, None)
    with pytest.raises(ValidationError, match="never shrink"):
        engine.check_disk(servers, 100)
    with pytest.raises(PreconditionError, match="lite_server_disk"):
        engine.check_disk(servers, 300)


def test_job_guard():
    targets = [server(1)]
    alone = {"id": "j1", "name": "alone", "servers": ["s1"]}
    wide = {"id": "j2", "name": "wide", "servers": ["s1", "s2"]}
    assert engine.job_plan(targets, {}, False, "sn") == []
    with pytest.raises(PreconditionError, match="stop_running_jobs=true"):
        engine.job_plan(targets, {"s1": [alone]}, False, "sn")
    assert engine.job_plan(targets, {"s1": [alone]}, True, "sn") == ["j1"]
    with pytest.raises(PreconditionError, match="also run on servers that stay"):
        engine.job_plan(targets, {"s1": [wide]}, True, "sn")


def test_settled_and_failed():
    assert engine.settled([server(1), server(2)], 2)
    assert not engine.settled([server(1), server(2, "CREATING")], 2)
    assert not engine.settled([server(1), server(2, "DELETING")], 1)
    assert "remove_servers" in engine.failed_reason([server(1, "CREATE_FAILED")])
