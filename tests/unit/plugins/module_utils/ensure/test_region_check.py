"""lite_region_check's comparison of one answer with the contract (cloud/contract.py)."""

from ansible_collections.modelarts.lite.plugins.module_utils.ensure import region_check as rc


def node(name="n1", phase="Available", ip="10.0.0.1"):
    status = {"phase": phase, "privateIp": ip} if phase else {"privateIp": ip}
    return {"metadata": {"name": name}, "status": status}


def test_an_answer_as_the_contract_says_has_no_difference():
    assert rc.compare("list_nodes", {"items": [node("a"), node("b", "Creating")]}) == []
    assert rc.compare("list_nodes", {"items": []}) == []


def test_an_unknown_status_value_is_a_difference_naming_the_values_and_the_known_ones():
    [diff] = rc.compare("list_nodes", {"items": [node("a"), node("b", "Hibernating")]}, subject="pool-1")
    assert (diff["call"], diff["field"], diff["problem"], diff["values"]) == (
        "list_nodes", "items[].status.phase", "unknown value", ["Hibernating"])
    assert "pool-1" in diff["message"] and "Available" in diff["message"]


def test_a_missing_field_is_counted_per_answer():
    [diff] = rc.compare("list_nodes", {"items": [node("a"), node("b", phase=None)]})
    assert (diff["field"], diff["problem"], diff["count"], diff["of"]) == ("items[].status.phase", "missing", 1, 2)
    [diff] = rc.compare("show_pool", {"metadata": {"name": "p"}, "status": {}})
    assert diff["field"] == "status.phase" and diff["problem"] == "missing"


def test_map_values_are_checked_with_a_trailing_star():
    flavor = {"metadata": {"name": "f"}, "status": {"phase": {"az1": "normal", "az2": "gone"}}}
    [diff] = rc.compare("list_resource_flavors", {"items": [flavor]})
    assert diff["values"] == ["gone"] and diff["field"] == "items[].status.phase.*"


class FailingCloud:
    def __getattr__(self, name):
        raise AssertionError("no attribute access expected")


def test_a_refused_call_is_a_difference_not_a_crash(monkeypatch):
    from ansible_collections.modelarts.lite.plugins.module_utils.errors import ApiError

    def refuse(*_args, **_kwargs):
        raise ApiError(404, "APIG.0101", "The API does not exist", "req-1", "GET", "/v1/p/dev-servers")

    for name in ("list_pools", "list_resource_flavors", "show_plugin_template"):
        monkeypatch.setattr(rc.pools, name, refuse)
    for name in ("list_servers", "list_supernodes", "list_scheduled_events"):
        monkeypatch.setattr(rc.servers, name, refuse)
    result = rc.check_region(FailingCloud())
    assert result["changed"] is False and result["checked"] == {}
    assert {d["call"] for d in result["differences"]} == {
        "list_pools", "list_resource_flavors", "show_plugin_template", "list_servers", "list_supernodes",
        "list_scheduled_events"}
    assert all(d["problem"] == "call failed" for d in result["differences"])
