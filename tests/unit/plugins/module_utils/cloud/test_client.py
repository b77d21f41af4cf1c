"""CloudClient: endpoints, IAM lookup, retries, error parsing, pagination, secrecy."""

import json

import pytest
import requests
from urllib3.exceptions import NewConnectionError

from ansible_collections.modelarts.lite.plugins.module_utils.cloud.client import (
    default_endpoint,
    parse_error_body,
)
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    ThrottledError,
    TransportError,
    ValidationError,
    WaitTimeoutError,
)

from ansible_collections.modelarts.lite.tests.unit.plugins.module_utils.cloud.fakes import (
    CANARY_SK,
    CANARY_TOKEN,
    PID,
    FakeClock,
    FakeResponse,
    err,
    make_client,
    ok,
)

# -- endpoints --------------------------------------------------------------------------------


def test_default_endpoints():
    assert default_endpoint("cn-north-4") == "https://modelarts.cn-north-4.myhuaweicloud.com"
    assert default_endpoint("ap-southeast-1") == "https://modelarts.ap-southeast-1.myhuaweicloud.cn"
    client = make_client([])
    assert client.iam.base == "https://iam.cn-north-4.myhuaweicloud.com"


def test_explicit_endpoint_with_prefix_is_used_and_host_signed():
    client = make_client([ok({"items": []})], endpoint="https://127.0.0.1:8443/base/")
    client.request("GET", "/v2/%s/pools" % PID)
    call = client._session.calls[0]
    assert call["url"] == "https://127.0.0.1:8443/base/v2/%s/pools" % PID
    assert call["headers"]["Host"] == "127.0.0.1:8443"
    assert call["headers"]["X-Project-Id"] == PID


def test_http_endpoint_refused_before_any_request():
    with pytest.raises(ValidationError) as info:
        make_client([], endpoint="http://127.0.0.1:8080")
    assert "allow_http" in str(info.value) and info.value.option == "endpoint"
    with pytest.raises(ValidationError):
        make_client([], iam_endpoint="http://127.0.0.1:8080")
    assert make_client([], endpoint="http://127.0.0.1:8080", allow_http=True).modelarts.base == "http://127.0.0.1:8080"


def test_verify_uses_ca_path_else_validate_certs(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    client = make_client([ok(), ok()], ca_path=str(ca))
    client.request("GET", "/x")
    assert client._session.calls[0]["verify"] == str(ca)
    client = make_client([ok()], validate_certs=False)
    client.request("GET", "/x")
    assert client._session.calls[0]["verify"] is False


# -- IAM project lookup -------------------------------------------------------------------------

def test_project_id_looked_up_once_through_iam():
    iam = ok({"projects": [{"id": "a" * 32, "name": "cn-north-4"}]})
    client = make_client([iam, ok({"items": []}), ok({"items": []})], project_id=None)
    client.request("GET", client.path("v2", "pools"))
    client.request("GET", client.path("v2", "pools"))
    first, second, third = client._session.calls
    assert first["url"] == "https://iam.cn-north-4.myhuaweicloud.com/v3/projects?name=cn-north-4"
    assert "X-Project-Id" not in first["headers"]
    assert "x-project-id" not in first["headers"]["Authorization"]
    assert second["url"].endswith("/v2/%s/pools" % ("a" * 32))
    assert second["headers"]["X-Project-Id"] == "a" * 32
    assert len(client._session.calls) == 3


@pytest.mark.parametrize("projects, expected", [([], "no project"), ([{"id": "a"}, {"id": "b"}], "2 projects")])
def test_project_lookup_needs_exactly_one(projects, expected):
    client = make_client([ok({"projects": projects})], project_id=None)
    with pytest.raises(ValidationError) as info:
        client.project_id
    assert expected in str(info.value) and "project_id" in str(info.value)


# -- retries ------------------------------------------------------------------------------------

def test_429_retried_on_post_honouring_retry_after():
    clock = FakeClock()
    client = make_client([err(429, {"error_code": "APIG.0308", "error_msg": "throttled"}, **{"Retry-After": "7"}),
                          ok({"job_id": "j1"})], clock=clock)
    assert client.request("POST", "/v2/p/pools/x/nodes/batch-reboot", body={"nodeNames": ["n"]}) == {"job_id": "j1"}
    assert clock.sleeps == [7.0]
    first, second = client._session.calls
    assert first["data"] == second["data"] == b'{"nodeNames": ["n"]}'
    # Each attempt is signed again (fresh date header is part of the signature).
    assert "Authorization" in second["headers"]


def test_requests_are_counted_by_method_once_each_retries_not_counted():
    clock = FakeClock()
    client = make_client([err(429, {"error_code": "APIG.0308"}, **{"Retry-After": "1"}), ok({"job_id": "j1"}), ok({}),
                          ok({})], clock=clock)
    client.request("POST", "/v2/p/pools/x/nodes/batch-reboot", body={"nodeNames": ["n"]})
    client.request("get", "/v2/p/pools/x")
    client.request("GET", "/v2/p/pools/y")
    assert client.calls.snapshot() == {"POST": 1, "GET": 2} and len(client._session.calls) == 4


def test_429_exhausted_raises_throttled_with_details():
    clock = FakeClock()
    script = [err(429, {"error_code": "APIG.0308", "error_msg": "over ratelimit"}) for _i in range(3)]
    client = make_client(script, clock=clock, max_retries=2)
    with pytest.raises(ThrottledError) as info:
        client.request("GET", "/v2/p/pools")
    assert len(client._session.calls) == 3
    result = info.value.to_result()
    assert result["http_status"] == 429 and result["error_code"] == "APIG.0308" and result["request_id"] == "req-429"
    assert result["method"] == "GET" and result["path"] == "/v2/p/pools"
    # Jittered exponential back-off: base 1s doubling, jitter fixed at 0.5 -> 3/4 of the ceiling.
    assert clock.sleeps == [0.75, 1.5]


def test_retry_after_beyond_budget_gives_up_without_sleeping():
    clock = FakeClock()
    client = make_client([err(429, {}, **{"Retry-After": "600"})], clock=clock, retry_budget=60)
    with pytest.raises(ThrottledError):
        client.request("GET", "/x")
    assert clock.sleeps == []


def test_budget_bounds_total_retry_time():
    clock = FakeClock()
    script = [err(503, {"error_code": "ModelArts.5000", "error_msg": "try later"}) for _i in range(20)]
    client = make_client(script, clock=clock, max_retries=50, retry_budget=30, backoff_cap=8)
    with pytest.raises(ApiError) as info:
        client.request("GET", "/x")
    assert info.value.status == 503 and info.value.error_code == "ModelArts.5000"
    assert sum(clock.sleeps) <= 30
    assert max(clock.sleeps) <= 8
    assert len(client._session.calls) == len(clock.sleeps) + 1


def test_5xx_on_get_is_retried():
    clock = FakeClock()
    client = make_client([err(502), err(500), ok({"ok": 1})], clock=clock)
    assert client.request("GET", "/x") == {"ok": 1}
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_5xx_on_post_and_patch_is_not_retried(method):
    clock = FakeClock()
    client = make_client([err(500, {"error_code": "ModelArts.5000", "error_msg": "boom"}), ok()], clock=clock)
    with pytest.raises(ApiError) as info:
        client.request(method, "/v2/p/pools", body={"a": 1})
    assert info.value.status == 500 and len(client._session.calls) == 1 and clock.sleeps == []


def test_reset_on_get_is_retried_but_not_on_post():
    reset = requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))
    client = make_client([reset, ok({"ok": 1})])
    assert client.request("DELETE", "/x") == {"ok": 1}

    client = make_client([requests.exceptions.ConnectionError(ConnectionResetError(104, "reset")), ok()])
    with pytest.raises(TransportError) as info:
        client.request("POST", "/v2/p/pools", body={})
    assert len(client._session.calls) == 1
    assert info.value.to_result() == {"error_type": "TransportError", "method": "POST", "path": "/v2/p/pools",
                                      "option": "endpoint", "failure": "reset",
                                      "detail": "ConnectionError: [Errno 104] reset"}
    assert "[Errno" not in str(info.value), "library text belongs in detail only"

    client = make_client([requests.exceptions.ReadTimeout("read timed out"), ok()])
    with pytest.raises(TransportError) as info:
        client.request("PATCH", "/x", body={})
    assert "api_timeout" in str(info.value) and len(client._session.calls) == 1


def test_post_retried_when_the_connection_was_never_made():
    refused = requests.exceptions.ConnectionError(NewConnectionError(None, "Connection refused"))
    client = make_client([refused, requests.exceptions.ConnectTimeout("connect timeout"), ok({"done": True})])
    assert client.request("POST", "/x", body={}) == {"done": True}
    assert len(client._session.calls) == 3


def test_tls_failure_is_not_retried_and_explains_ca_path():
    client = make_client([requests.exceptions.SSLError("certificate verify failed"), ok()])
    with pytest.raises(TransportError) as info:
        client.request("GET", "/x")
    assert "ca_path" in str(info.value) and len(client._session.calls) == 1


def test_transport_retries_exhausted():
    clock = FakeClock()
    client = make_client([requests.exceptions.ConnectionError("down")] * 3, clock=clock, max_retries=2)
    with pytest.raises(TransportError) as info:
        client.request("GET", "/v2/p/pools")
    assert "GET /v2/p/pools" in str(info.value) and len(clock.sleeps) == 2


def test_per_request_timeout_is_connect_and_read():
    client = make_client([ok()], api_timeout=12)
    client.request("GET", "/x")
    assert client._session.calls[0]["timeout"] == (12, 12)


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, code, msg", [
    ({"error_code": "ModelArts.50015001", "error_msg": "Pool p not found."}, "ModelArts.50015001", "Pool p not found."),
    ({"errorCode": "E1", "errorMsg": "camel"}, "E1", "camel"),
    ({"code": "C1", "message": "plain"}, "C1", "plain"),
    ({"error": {"code": "N1", "message": "nested"}}, "N1", "nested"),
    ({"error_code": "X"}, None, '{"error_code": "X"}'),
])
def test_error_body_parsing_like_the_sdk(body, code, msg):
    assert parse_error_body(json.dumps(body)) == (code, msg)


def test_non_json_error_uses_text_and_status_as_code():
    client = make_client([FakeResponse(502, text="<html>bad gateway</html>", headers={"x-request-id": "r9"})])
    with pytest.raises(ApiError) as info:
        client.request("POST", "/x", body={})
    assert info.value.error_code == "502" and info.value.error_msg == "<html>bad gateway</html>"
    assert info.value.request_id == "r9"


@pytest.mark.parametrize("status, body, error_class", [
    (401, {"error_code": "APIG.0301", "error_msg": "verify aksk signature fail"}, AuthError),
    (403, {"error_code": "ModelArts.0203", "error_msg": "forbidden"}, AuthError),
    (404, {"error_code": "ModelArts.50015001", "error_msg": "pool not found"}, NotFoundError),
    (400, {"error_code": "ModelArts.6404", "error_msg": "server does not exist"}, NotFoundError),
    (409, {"error_code": "ModelArts.50015000", "error_msg": "Pool already exists."}, ApiError),
])
def test_error_classes(status, body, error_class):
    client = make_client([err(status, body)])
    with pytest.raises(ApiError) as info:
        client.request("GET", "/v2/p/pools/x")
    assert type(info.value) is error_class  # pylint: disable=unidiomatic-typecheck  # the exact class, not a subclass
    text = str(info.value)
    assert body["error_code"] in text and "req-%d" % status in text and "GET /v2/p/pools/x" in text


def test_unexpected_success_status_and_non_json_body():
    client = make_client([FakeResponse(202, {"a": 1})])
    with pytest.raises(ApiError):
        client.request("GET", "/x", expected=(200,))
    client = make_client([FakeResponse(200, text="not json")])
    with pytest.raises(ApiError) as info:
        client.request("GET", "/x")
    assert info.value.error_code == "InvalidResponse"
    client = make_client([FakeResponse(204, text="")])
    assert client.request("DELETE", "/x") == {}


def test_no_secret_in_any_error_or_repr():
    echo = {"error_code": "APIG.0301", "error_msg": "bad signature for %s / %s" % (CANARY_SK, CANARY_TOKEN)}
    script = [err(401, echo), requests.exceptions.SSLError("handshake with %s" % CANARY_SK)]
    client = make_client(script, security_token=CANARY_TOKEN)
    errors = []
    for _i in range(2):
        with pytest.raises(Exception) as info:
            client.request("GET", "/x")
        errors.append(info.value)
    for text in [str(e) for e in errors] + [repr(e) for e in errors] + [repr(client)] + \
            [json.dumps(e.to_result()) for e in errors]:
        assert CANARY_SK not in text and CANARY_TOKEN not in text and "Signature=" not in text
    # The token is sent (signed) on the wire, of course.
    assert client._session.calls[0]["headers"]["X-Security-Token"] == CANARY_TOKEN


def test_body_bytes_signed_are_bytes_sent():
    client = make_client([ok()])
    client.request("PATCH", "/v2/p/pools/x", body={"spec": {"resources": [{"count": 3}]}},
                   content_type="application/merge-patch+json")
    call = client._session.calls[0]
    assert call["data"] == b'{"spec": {"resources": [{"count": 3}]}}'
    assert call["headers"]["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert call["headers"]["Content-Type"] == "application/merge-patch+json"


# -- pagination ---------------------------------------------------------------------------------

def test_paginate_continue_follows_tokens():
    pages = [ok({"items": [1, 2], "metadata": {"continue": "t1"}}),
             ok({"items": [3, 4], "metadata": {"continue": "t2"}}),
             ok({"items": [5], "metadata": {"continue": ""}})]
    client = make_client(pages)
    assert client.paginate_continue("/v2/p/pools/x/nodes", limit=2) == [1, 2, 3, 4, 5]
    urls = [c["url"] for c in client._session.calls]
    assert urls[0].endswith("nodes?limit=2") and urls[1].endswith("nodes?continue=t1&limit=2")


def test_paginate_continue_when_server_ignores_limit():
    client = make_client([ok({"items": list(range(7)), "metadata": {}})])
    assert client.paginate_continue("/x", limit=2) == list(range(7))
    assert len(client._session.calls) == 1


def test_paginate_continue_detects_token_loop():
    client = make_client([ok({"items": [1], "metadata": {"continue": "same"}})] * 2)
    with pytest.raises(ApiError):
        client.paginate_continue("/x", limit=1)


def test_paginate_offset_pages_until_total():
    pages = [ok({"current": 0, "data": ["a", "b"], "pages": 3, "size": 2, "total": 5}),
             ok({"current": 1, "data": ["c", "d"], "pages": 3, "size": 2, "total": 5}),
             ok({"current": 2, "data": ["e"], "pages": 3, "size": 1, "total": 5})]
    client = make_client(pages)
    assert client.paginate_offset("/v1/p/dev-servers", limit=2) == ["a", "b", "c", "d", "e"]
    urls = [c["url"] for c in client._session.calls]
    assert urls[1].endswith("?limit=2&offset=2") and urls[2].endswith("?limit=2&offset=4")


def test_paginate_offset_stops_on_exact_total():
    pages = [ok({"data": ["a", "b"], "total": 4}), ok({"data": ["c", "d"], "total": 4})]
    client = make_client(pages)
    assert client.paginate_offset("/x", limit=2) == ["a", "b", "c", "d"]
    assert len(client._session.calls) == 2


def test_paginate_offset_when_server_ignores_limit_or_offset():
    client = make_client([ok({"data": list(range(5)), "total": 5})])
    assert client.paginate_offset("/x", limit=2) == list(range(5))
    page = ok({"count": 2, "items": ["a", "b"]})
    client = make_client([page, ok({"count": 2, "items": ["a", "b"]})])
    assert client.paginate_offset("/x", limit=2, items_key="items", total_key=None) == ["a", "b"]


# -- operation polling ----------------------------------------------------------------------------

def test_wait_for_uses_poll_interval_and_deadline():
    clock = FakeClock()
    client = make_client([], clock=clock, poll_interval=10)
    states = iter(["Pending", "Running", "Running", "Running"])
    with pytest.raises(WaitTimeoutError) as info:
        client.wait_for(lambda: next(states), lambda s: s == "Success", timeout=25, describe="job j1")
    assert clock.sleeps == [10, 10, 5] and info.value.last_state == "Running"
    assert "job j1" in str(info.value)


def test_retry_after_as_http_date_and_501_not_retried():
    from email.utils import formatdate
    import time as real_time

    clock = FakeClock()
    when = formatdate(real_time.time() + 3, usegmt=True)
    client = make_client([err(503, {}, **{"Retry-After": when}), ok({"ok": 1})], clock=clock)
    assert client.request("GET", "/x") == {"ok": 1}
    assert 1 <= clock.sleeps[0] <= 3

    client = make_client([err(501, {"error_code": "E", "error_msg": "not implemented"}), ok()])
    with pytest.raises(ApiError):
        client.request("GET", "/x")
    assert len(client._session.calls) == 1
