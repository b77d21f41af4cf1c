"""Lite Server list calls on the wire as the vendor SDK makes them (docs/api-contract.yml)."""

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import servers
from ansible_collections.modelarts.lite.tests.unit.plugins.module_utils.cloud.fakes import PID, make_client, ok

BASE = "https://modelarts.cn-north-4.myhuaweicloud.com/v1/%s" % PID


def urls(client):
    return [call["url"][len(BASE):] for call in client._session.calls]


def short_page(n):
    """A page shorter than any limit, with a total that says there is more: a paging client would
    either stop early here or ask again; an unpaged list must do neither."""
    return ok({"current": 1, "data": [{"id": "x%d" % i} for i in range(n)], "pages": 3, "size": n, "total": 3 * n})


@pytest.mark.parametrize("call, path", [
    (lambda c: servers.list_images(c, server_type="BMS", flavor="f.1"), "/dev-servers/images?flavor_name=f.1&server_type=BMS"),
    (lambda c: servers.supernode_servers(c, "hyper-1"), "/dev-servers/hyperinstance/hyper-1/servers"),
    (servers.list_jobs, "/dev-servers/jobs"),
])
def test_lists_the_sdk_does_not_page_are_one_request_without_limit_or_offset(call, path):
    client = make_client([short_page(2)])
    assert [item["id"] for item in call(client)] == ["x0", "x1"]
    assert urls(client) == [path]


def test_scheduled_event_states_are_repeated_keys_not_a_comma_list():
    client = make_client([ok({"events": [{"id": "e1", "state": "inquiring"}], "count": 1})])
    assert [e["id"] for e in servers.list_scheduled_events(client, states=["inquiring", "scheduled"])] == ["e1"]
    assert urls(client) == ["/scheduled-events?limit=100&offset=0&state=inquiring&state=scheduled"]
