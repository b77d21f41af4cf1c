"""The verifier against the reference's test vectors (modelarts-lite-api.md §2.1) and rejection cases."""
import calendar
import time

import pytest

from modelarts_sim import signing

AK = "HPUAEXAMPLEAK0000001"
SK = "exampleSecretKey0123456789abcdefEXAMPLE0"
PID = "0123456789abcdef0123456789abcdef"
HOST = "modelarts.cn-north-4.myhuaweicloud.com"
DATE = "20250102T030405Z"
DATE_EPOCH = calendar.timegm(time.strptime(DATE, "%Y%m%dT%H%M%SZ"))


def lookup(access_key):
    return signing.Credential(AK, SK) if access_key == AK else None


def lookup_sts(access_key):
    return signing.Credential(AK, SK, "TOKEN-EXAMPLE") if access_key == AK else None


def authorization(signed, signature, access_key=AK):
    return "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (access_key, signed, signature)


VECTOR_A = dict(
    method="GET", raw_path="/v2/%s/pools/pool-abc/nodes" % PID, raw_query="continue=tok&limit=2", body=b"",
    headers={"content-type": "application/json", "x-sdk-date": DATE, "x-project-id": PID,
             "user-agent": "ansible-test/1.0", "host": HOST,
             "authorization": authorization("content-type;host;user-agent;x-project-id;x-sdk-date",
                                            "83a528d61bffae14fb0ba15ce23e44978ba98eb1d2f73c3e27c49eaf0ff48db7")})

VECTOR_B = dict(
    method="POST", raw_path="/v2/%s/pools/pool-abc/nodes/batch-delete" % PID, raw_query="",
    body=b'{"deleteNodeNames": ["node-1", "node-2"]}',
    headers={"content-type": "application/json", "x-sdk-date": DATE, "x-project-id": PID,
             "user-agent": "ansible-test/1.0", "host": HOST,
             "authorization": authorization("content-type;host;user-agent;x-project-id;x-sdk-date",
                                            "5e4cd10faf51bb02f59e91a5d488486a1e5e00f8389196a688bfe2d71d6aeb55")})

VECTOR_C = dict(
    method="PATCH", raw_path="/v2/%s/pools/pool-abc" % PID, raw_query="",
    body=b'{"spec": {"resources": [{"flavor": "f1", "count": 3}]}}',
    headers={"content-type": "application/merge-patch+json", "x-sdk-date": DATE, "x-project-id": PID,
             "x-security-token": "TOKEN-EXAMPLE", "x-sdk-content-sha256": "UNSIGNED-PAYLOAD", "host": HOST,
             "authorization": authorization(
                 "content-type;host;x-project-id;x-sdk-content-sha256;x-sdk-date;x-security-token",
                 "d3e200758e653d9825ab7b8004d84d003defa85d1c5d8f776120f4bed8ed9bb8")})

# The SDK sends the query already canonical; a client may send it in another order or encoding.
VECTOR_D = dict(
    method="GET", raw_path="/v2/%s/pools" % PID,
    raw_query="workspaceId=0&labelSelector=os.modelarts%2Fname%3Dmy%20pool%2Cx", body=b"",
    headers={"content-type": "application/json", "x-sdk-date": DATE, "x-project-id": PID, "host": HOST,
             "authorization": authorization("content-type;host;x-project-id;x-sdk-date",
                                            "5633cd0a0b4e533b900b929527a7cc45f017e931bf9b5b174742979e841791c0")})


def test_canonical_request_of_vector_a_matches_reference_text():
    canonical = signing.canonical_request(
        "GET", VECTOR_A["raw_path"], signing.parse_query(VECTOR_A["raw_query"]), VECTOR_A["headers"],
        ["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"], b"")
    assert canonical == (
        "GET\n/v2/%s/pools/pool-abc/nodes/\ncontinue=tok&limit=2\ncontent-type:application/json\n"
        "host:%s\nuser-agent:ansible-test/1.0\nx-project-id:%s\nx-sdk-date:%s\n\n"
        "content-type;host;user-agent;x-project-id;x-sdk-date\n%s" % (PID, HOST, PID, DATE, signing.EMPTY_HASH))


def test_canonical_query_escaping_of_vector_d():
    pairs = signing.parse_query(VECTOR_D["raw_query"])
    assert signing.canonical_query(pairs) == "labelSelector=os.modelarts%2Fname%3Dmy%20pool%2Cx&workspaceId=0"


@pytest.mark.parametrize("vector, credentials", [(VECTOR_A, lookup), (VECTOR_B, lookup), (VECTOR_C, lookup_sts),
                                                 (VECTOR_D, lookup)], ids="ABCD")
def test_reference_vectors_verify(vector, credentials):
    credential = signing.verify(vector["method"], vector["raw_path"], vector["raw_query"], vector["headers"],
                                vector["body"], credentials, now=DATE_EPOCH + 60)
    assert credential.access_key == AK


def _verify(vector, **changes):
    request = dict(vector)
    request["headers"] = dict(vector["headers"], **changes.pop("headers", {}))
    request.update(changes)
    now = request.pop("now", DATE_EPOCH)
    return signing.verify(request["method"], request["raw_path"], request["raw_query"], request["headers"],
                          request["body"], lookup, now=now)


@pytest.mark.parametrize("changes, message", [
    ({"body": b'{"deleteNodeNames": ["node-1", "node-3"]}'}, "verify aksk signature fail"),
    ({"body": b'{"deleteNodeNames":["node-1","node-2"]}'}, "verify aksk signature fail"),
    ({"raw_path": "/v2/%s/pools/pool-abd/nodes/batch-delete" % PID}, "verify aksk signature fail"),
    ({"raw_query": "force=true"}, "verify aksk signature fail"),
    ({"method": "PUT"}, "verify aksk signature fail"),
    ({"headers": {"user-agent": "other/2.0"}}, "verify aksk signature fail"),
    ({"headers": {"authorization": authorization("content-type;host;user-agent;x-project-id;x-sdk-date",
                                                 "0" * 64, access_key="UNKNOWNAK")}}, "ak not exist"),
    ({"now": DATE_EPOCH + 16 * 60}, "15 minutes"),
    ({"now": DATE_EPOCH - 16 * 60}, "15 minutes"),
    ({"headers": {"authorization": "SDK-HMAC-SM3 Access=x, SignedHeaders=host, Signature=y"}}, "algorithm"),
    ({"headers": {"authorization": ""}}, "algorithm"),
])
def test_tampered_requests_are_rejected(changes, message):
    with pytest.raises(signing.SignatureError, match=message):
        _verify(VECTOR_B, **changes)


def test_window_edges_are_accepted():
    _verify(VECTOR_B, now=DATE_EPOCH + 14 * 60)
    _verify(VECTOR_B, now=DATE_EPOCH - 14 * 60)


def test_signed_header_missing_from_request_is_rejected():
    headers = dict(VECTOR_A["headers"])
    del headers["user-agent"]
    with pytest.raises(signing.SignatureError, match="not sent: user-agent"):
        signing.verify("GET", VECTOR_A["raw_path"], VECTOR_A["raw_query"], headers, b"", lookup, now=DATE_EPOCH)


def test_temporary_credentials_need_the_right_token():
    with pytest.raises(signing.SignatureError, match="security token"):
        signing.verify(VECTOR_C["method"], VECTOR_C["raw_path"], "", VECTOR_C["headers"], VECTOR_C["body"],
                       lambda ak: signing.Credential(AK, SK, "OTHER-TOKEN"), now=DATE_EPOCH)


def test_error_messages_never_contain_the_secret():
    with pytest.raises(signing.SignatureError) as caught:
        _verify(VECTOR_B, body=b"{}")
    assert SK not in str(caught.value)
