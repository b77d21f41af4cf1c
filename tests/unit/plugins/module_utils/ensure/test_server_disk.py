"""The pure parts of lite_server_disk: input checks and the per-server plan."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure import server_disk as engine
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError


def server(status="RUNNING"):
    return {"id": "s1", "name": "dev-01", "status": status}


def volume(size=200, status="in-use", **extra):
    return dict({"id": "v1", "size": size, "status": status, "metadata": {}}, **extra)


@pytest.mark.parametrize("name, supernode, size, option", [
    (None, None, 300, "name"), ("a", "b", 300, "name"), ("a", None, 0, "size"), ("a", None, 1025, "size"),
    ("a", None, None, "size")])
def test_validate_refuses(name, supernode, size, option):
    with pytest.raises(ValidationError) as caught:
        engine.validate(name, supernode, size)
    assert caught.value.to_result()["option"] == option


def test_same_size_is_a_no_op_in_any_status():
    entry = engine.disk_plan(server("ERROR"), volume(300), 300)
    assert entry["changed"] is False and entry["size"] == 300


def test_grow_plan_and_prepaid_flag():
    entry = engine.disk_plan(server("STOPPED"), volume(200, metadata={"orderID": "CS1"}), 300)
    assert (entry["previous_size"], entry["size"], entry["changed"], entry["prepaid"]) == (200, 300, True, True)


def test_shrink_is_refused():
    with pytest.raises(ValidationError, match="can only grow"):
        engine.disk_plan(server(), volume(500), 300)


@pytest.mark.parametrize("srv, vol, match", [
    (server("STOPPING"), volume(), "is STOPPING"),
    (server("ERROR"), volume(), "is ERROR"),
    (server(), volume(status="extending"), "is extending"),
    (server(), volume(multiattach=True), "shared disk"),
])
def test_evs_rules_are_checked_before_the_wire(srv, vol, match):
    with pytest.raises(PreconditionError, match=match):
        engine.disk_plan(srv, vol, 300)
