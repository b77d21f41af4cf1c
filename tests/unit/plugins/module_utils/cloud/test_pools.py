"""Lite Cluster wrappers: paths, methods, bodies, content types; and the normalisers."""

import json

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools
from ansible_collections.modelarts.lite.plugins.module_utils.errors import NotFoundError, ValidationError
from ansible_collections.modelarts.lite.tests.unit.plugins.module_utils.cloud.fakes import (
    PID,
    FakeResponse,
    make_client,
)

V2 = "/v2/%s" % PID
V1 = "/v1/%s" % PID
BASE = "https://modelarts.cn-north-4.myhuaweicloud.com"


def ok(body=None):
    return FakeResponse(200, body if body is not None else {})


def sent(client, index=0):
    call = client._session.calls[index]
    return call["method"], call["url"][len(BASE):], json.loads(call["data"]) if call["data"] else None, \
        call["headers"]["Content-Type"]


@pytest.mark.parametrize("call, method, path, body, content_type", [
    (lambda c: pools.show_pool(c, "pool-1"), "GET", V2 + "/pools/pool-1", None, "application/json"),
    (lambda c: pools.create_pool(c, {"kind": "Pool"}), "POST", V2 + "/pools", {"kind": "Pool"}, "application/json"),
    (lambda c: pools.patch_pool(c, "pool-1", {"spec": {}}), "PATCH", V2 + "/pools/pool-1", {"spec": {}},
     "application/merge-patch+json"),
    (lambda c: pools.delete_pool(c, "pool-1"), "DELETE", V2 + "/pools/pool-1", None, "application/json"),
    (lambda c: pools.add_pool_tags(c, "pool-1", {"b": 2, "a": "1"}), "POST", V1 + "/pools/pool-1/tags/create",
     {"tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}, "application/json"),
    (lambda c: pools.remove_pool_tags(c, "pool-1", ["a"]), "DELETE", V1 + "/pools/pool-1/tags/delete",
     {"tags": [{"key": "a"}]}, "application/json"),
    (lambda c: pools.show_node(c, "pool-1", "node 1"), "GET", V2 + "/pools/pool-1/nodes/node%201", None,
     "application/json"),
    (lambda c: pools.batch_delete_nodes(c, "pool-1", ("n1", "n2")), "POST", V2 + "/pools/pool-1/nodes/batch-delete",
     {"deleteNodeNames": ["n1", "n2"]}, "application/json"),
    (lambda c: pools.batch_reboot_nodes(c, "pool-1", ["n1"]), "POST", V2 + "/pools/pool-1/nodes/batch-reboot",
     {"nodeNames": ["n1"]}, "application/json"),
    (lambda c: pools.batch_reset_nodes(c, "pool-1", ["n1"], {"strategy": "RollingByNumber", "maxUnavailable": 1},
                                       {"imageId": "img"}),
     "POST", V2 + "/pools/pool-1/nodes/batch-reset",
     {"nodeNames": ["n1"], "rollingConfig": {"strategy": "RollingByNumber", "maxUnavailable": 1},
      "nodeConfig": {"imageId": "img"}}, "application/json"),
    (lambda c: pools.batch_update_nodes(c, "pool-1", ["n1"], driver={"version": "v2", "updateStrategy": "idle"}),
     "POST", V2 + "/pools/pool-1/nodes/batch-update",
     {"nodeNames": ["n1"], "driver": {"version": "v2", "updateStrategy": "idle"}}, "application/json"),
    (lambda c: pools.show_pool_job(c, "job-1"), "GET", V2 + "/jobs/job-1", None, "application/json"),
    (pools.show_plugin_template, "GET", V1 + "/plugintemplates/npu-driver", None, "application/json"),
])
def test_wire_calls(call, method, path, body, content_type):
    client = make_client([ok()])
    call(client)
    assert sent(client) == (method, path, body, content_type)


def test_lists_and_queries():
    client = make_client([ok({"items": [{"metadata": {"name": "p1"}}]})])
    assert pools.list_pools(client, label_selector="os.modelarts/name=a") == [{"metadata": {"name": "p1"}}]
    assert sent(client)[1] == V2 + "/pools?labelSelector=os.modelarts%2Fname%3Da"

    client = make_client([ok({"items": [{"n": 1}], "metadata": {"continue": "c"}}), ok({"items": [{"n": 2}]})])
    assert pools.list_nodes(client, "pool-1") == [{"n": 1}, {"n": 2}]
    assert sent(client, 1)[1] == V2 + "/pools/pool-1/nodes?continue=c"


def test_find_pool_by_display_name_or_id():
    items = {"items": [{"metadata": {"name": "train-a-0123", "labels": {"os.modelarts/name": "train-a"}}},
                       {"metadata": {"name": "other-0123", "labels": {"os.modelarts/name": "other"}}}]}
    client = make_client([ok(items), ok(items), ok(items)])
    assert pools.find_pool(client, "train-a")["metadata"]["name"] == "train-a-0123"
    assert pools.find_pool(client, "other-0123")["metadata"]["name"] == "other-0123"
    assert pools.find_pool(client, "nope") is None

    dup = {"items": items["items"] + [{"metadata": {"name": "x-1", "labels": {"os.modelarts/name": "train-a"}}}]}
    with pytest.raises(ValidationError):
        pools.find_pool(make_client([ok(dup)]), "train-a")


def test_get_node_returns_none_only_when_missing():
    missing = FakeResponse(404, {"error_code": "ModelArts.50015001", "error_msg": "not found"})
    assert pools.get_node(make_client([missing]), "p", "n") is None
    with pytest.raises(NotFoundError):
        pools.show_pool(make_client([missing]), "p")


def test_nodes_by_name_or_ip_and_the_default_node_pool_name():
    records = [{"metadata": {"name": "n-a"}, "status": {"privateIp": "10.0.0.1"}},
               {"metadata": {"name": "n-b"}, "status": {"privateIp": "10.0.0.2"}}]
    assert [r["metadata"]["name"] for r in pools.nodes_by_name_or_ip(records, ["10.0.0.2", "n-a", "n-b"], "p")] \
        == ["n-b", "n-a"]
    with pytest.raises(ValidationError, match="pool p has no node 'x', '10.9.9.9'") as error:
        pools.nodes_by_name_or_ip(records, ["x", "n-a", "10.9.9.9"], "p")
    assert error.value.option == "nodes"
    assert pools.node_pool_of_entry({"flavor": "f"}) == pools.default_node_pool_name("f") == "f-default"
    assert pools.node_pool_of_entry({"flavor": "f", "nodePool": "np"}) == "np"


def test_pool_tags_normalised():
    client = make_client([ok({"tags": [{"key": "a", "value": "1"}, {"key": "b", "values": ["2", "3"]}, {"key": "c"}]})])
    assert pools.pool_tags(client, "p") == {"a": "1", "b": "2", "c": ""}


@pytest.mark.parametrize("template, versions", [
    ({"spec": {"versions": {"7.7.0": {}, "7.5.0": {}}}}, ["7.5.0", "7.7.0"]),
    ({"versions": {"78-21.0.2": {"detail": "x"}}}, ["78-21.0.2"]),
    ({"spec": {"versions": ["b", {"version": "a"}]}}, ["a", "b"]),
    ({"spec": {}}, []),
])
def test_plugin_template_versions(template, versions):
    assert pools.npu_driver_versions(make_client([ok(template)])) == versions


def test_list_flavors_marks_sold_out():
    body = {"items": [
        {"metadata": {"name": "f1"}, "spec": {"type": "Dedicate"}, "status": {"phase": {"az1": "soldout", "az2": "soldout"}}},
        {"metadata": {"name": "f2"}, "status": {"phase": {"az1": "soldout", "az2": "normal"}}},
    ]}
    flavors = pools.list_flavors(make_client([ok(body)]))
    assert flavors["f1"]["sold_out"] is True and flavors["f2"]["sold_out"] is False
    assert flavors["f2"]["azs"] == {"az1": "soldout", "az2": "normal"}


def test_node_counts_accept_lists_and_objects():
    as_lists = {"resources": {
        "available": [{"flavor": "f1", "count": 2, "nodePool": "np-a"}, {"flavor": "f2", "count": 1}],
        "creating": [{"flavor": "f1", "count": 1, "nodePool": "np-a"}],
    }}
    as_objects = {"resources": {"available": {"flavor": "f1", "count": 3, "nodePool": "np-a"},
                                "abnormal": {"flavor": "f1", "count": 1, "nodePool": "np-a"}}}
    assert pools.node_counts_by_node_pool(as_lists) == {
        "np-a": {"creating": 1, "available": 2, "abnormal": 0, "deleting": 0},
        "f2-default": {"creating": 0, "available": 1, "abnormal": 0, "deleting": 0},
    }
    assert pools.node_counts_by_node_pool(as_objects) == {
        "np-a": {"creating": 0, "available": 3, "abnormal": 1, "deleting": 0}}
    assert pools.node_counts_by_node_pool({"resources": {}}) == {}
    assert pools.node_counts_by_node_pool(None) == {}


def test_spec_resources_and_labels():
    assert pools.spec_resources({"spec": {"resources": {"flavor": "f"}}}) == [{"flavor": "f"}]
    assert pools.spec_resources({"spec": {"resources": [{"flavor": "f"}]}}) == [{"flavor": "f"}]
    node = {"metadata": {"labels": {"os.modelarts.node/nodepoolname": "np-a"}}}
    assert pools.node_pool_of_node(node) == "np-a"
