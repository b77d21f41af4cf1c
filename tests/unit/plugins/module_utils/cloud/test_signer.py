"""The signer against the reference vectors (section 2.1) and against the vendor's own signer."""

import hashlib
import json
import random

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.cloud.signer import (
    Signer,
    canonical_query,
    canonical_uri,
)

AK = "HPUAEXAMPLEAK0000001"
SK = "exampleSecretKey0123456789abcdefEXAMPLE0"
PID = "0123456789abcdef0123456789abcdef"
HOST = "modelarts.cn-north-4.myhuaweicloud.com"
DATE = "20250102T030405Z"


def _signature(auth):
    return auth.rsplit("Signature=", 1)[1]


def test_vector_a_get_with_query():
    headers = {"Content-Type": "application/json", "X-Sdk-Date": DATE, "X-Project-Id": PID,
               "User-Agent": "ansible-test/1.0"}
    signed = Signer(AK, SK).sign("GET", HOST, "/v2/%s/pools/pool-abc/nodes" % PID,
                                 query={"limit": 2, "continue": "tok"}, headers=headers)
    assert signed.headers["Authorization"] == (
        "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, "
        "SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, "
        "Signature=83a528d61bffae14fb0ba15ce23e44978ba98eb1d2f73c3e27c49eaf0ff48db7")
    assert signed.uri == "/v2/%s/pools/pool-abc/nodes?continue=tok&limit=2" % PID
    assert signed.headers["Host"] == HOST


def test_vector_b_post_json_hashes_exact_body():
    body = json.dumps({"deleteNodeNames": ["node-1", "node-2"]})
    assert len(body) == 41 and hashlib.sha256(body.encode()).hexdigest() == (
        "d0c95111d1d980359944ba63f6da29192c540f5363b06e9f693c3d503b0034dd")
    headers = {"Content-Type": "application/json", "X-Sdk-Date": DATE, "X-Project-Id": PID,
               "User-Agent": "ansible-test/1.0"}
    signed = Signer(AK, SK).sign("POST", HOST, "/v2/%s/pools/pool-abc/nodes/batch-delete" % PID,
                                 headers=headers, body=body)
    assert _signature(signed.headers["Authorization"]) == (
        "5e4cd10faf51bb02f59e91a5d488486a1e5e00f8389196a688bfe2d71d6aeb55")
    assert signed.body == body.encode()
    assert "X-Sdk-Content-Sha256" not in signed.headers


def test_vector_c_merge_patch_with_security_token():
    body = json.dumps({"spec": {"resources": [{"flavor": "f1", "count": 3}]}})
    headers = {"Content-Type": "application/merge-patch+json", "X-Sdk-Date": DATE, "X-Project-Id": PID}
    signed = Signer(AK, SK, security_token="TOKEN-EXAMPLE").sign(
        "PATCH", HOST, "/v2/%s/pools/pool-abc" % PID, headers=headers, body=body)
    auth = signed.headers["Authorization"]
    assert "SignedHeaders=content-type;host;x-project-id;x-sdk-content-sha256;x-sdk-date;x-security-token," in auth
    assert _signature(auth) == "d3e200758e653d9825ab7b8004d84d003defa85d1c5d8f776120f4bed8ed9bb8"
    assert signed.headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert signed.headers["X-Security-Token"] == "TOKEN-EXAMPLE"


def test_vector_d_query_escaping():
    query = {"labelSelector": "os.modelarts/name=my pool,x", "workspaceId": "0"}
    assert canonical_query(query) == "labelSelector=os.modelarts%2Fname%3Dmy%20pool%2Cx&workspaceId=0"
    headers = {"Content-Type": "application/json", "X-Sdk-Date": DATE, "X-Project-Id": PID}
    signed = Signer(AK, SK).sign("GET", HOST, "/v2/%s/pools" % PID, query=query, headers=headers)
    assert _signature(signed.headers["Authorization"]) == (
        "5633cd0a0b4e533b900b929527a7cc45f017e931bf9b5b174742979e841791c0")
    assert signed.uri.endswith("?labelSelector=os.modelarts%2Fname%3Dmy%20pool%2Cx&workspaceId=0")


def test_canonical_uri_and_repeated_keys():
    assert canonical_uri("/v2/x/pools/p") == "/v2/x/pools/p/"
    assert canonical_uri("/v2/x/pools/p/") == "/v2/x/pools/p/"
    assert canonical_uri("/a%20b/c d/é") == "/a%20b/c%20d/%C3%A9/"
    assert canonical_query([("state", ["scheduled", "inquiring"]), ("limit", 10), ("flag", True)]) == (
        "flag=true&limit=10&state=inquiring&state=scheduled")
    assert canonical_query({"a": None}) == ""


def test_signer_repr_has_no_secret():
    signer = Signer(AK, SK, security_token="TOKEN-EXAMPLE")
    assert SK not in repr(signer) and "TOKEN-EXAMPLE" not in repr(signer)


def test_missing_keys_are_refused():
    with pytest.raises(ValueError):
        Signer(AK, "")


# --- property test against huaweicloudsdkcore's signer ------------------------------------

# The vendor SDK is a listed test requirement (requirements-test.txt): no silent skip.
from huaweicloudsdkcore import sdk_request  # noqa: E402
from huaweicloudsdkcore.signer import signer as sdk_signer  # noqa: E402

ALPHABET = ("abcXYZ019-_.~ /?#[]@!$&'()*+,;=%:é中ü\u00a0\t"
            "\U0001F600")


def _text(rng, min_len=0, max_len=12):
    return "".join(rng.choice(ALPHABET) for _i in range(rng.randint(min_len, max_len)))


def _request(rng):
    from urllib.parse import quote
    segments = ["v%d" % rng.choice((1, 2)), PID] + [_text(rng, 1) for _i in range(rng.randint(1, 4))]
    # Path parameters are percent-encoded by the caller, as the SDK client does.
    path = "/" + "/".join(quote(s, safe="") for s in segments)
    if rng.random() < 0.2:
        path += "/"
    query = {}
    for _i in range(rng.randint(0, 4)):
        key = _text(rng, 1, 6)
        kind = rng.random()
        if kind < 0.25:
            query[key] = sorted({_text(rng) for _i in range(rng.randint(1, 3))})
        elif kind < 0.4:
            query[key] = rng.choice((True, False))
        elif kind < 0.55:
            query[key] = rng.randint(0, 10 ** 6)
        else:
            query[key] = _text(rng)
    content_type = rng.choice(("application/json", "application/json;charset=UTF-8",
                               "application/merge-patch+json", "text/plain"))
    headers = {"Content-Type": content_type, "X-Sdk-Date": "2025%02d%02dT%02d%02d%02dZ" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))}
    if rng.random() < 0.7:
        headers["X-Project-Id"] = PID
    if rng.random() < 0.5:
        headers["User-Agent"] = "ansible/%d  " % rng.randint(1, 9)
    if rng.random() < 0.4:
        headers["X_Custom_Underscore"] = _text(rng, 1).strip() or "v"
    if rng.random() < 0.3:
        headers["X-Extra"] = "  spaced value \u00e9 "
    size = rng.choice((0, 0, 1, 50, 4096, 70000))
    body = json.dumps({"data": _text(rng, size // 2, size)}) if size else ""
    host = rng.choice((HOST, "127.0.0.1:18443", "localhost"))
    token = rng.choice((None, "STS-" + "".join(rng.choice("ABCdef0123") for _i in range(40))))
    method = rng.choice(("GET", "POST", "PUT", "PATCH", "DELETE"))
    return method, host, path, query, headers, body, token


class _Credentials:
    def __init__(self, ak, sk):
        self.ak, self.sk = ak, sk


def _sdk_sign(method, host, path, query, headers, body, token):
    sdk_headers = dict(headers)
    if token:
        sdk_headers["X-Security-Token"] = token  # what BasicCredentials adds before signing
    request = sdk_request.SdkRequest(
        method=method, schema="https", host=host, resource_path=path,
        query_params=[(k, list(v) if isinstance(v, list) else v) for k, v in query.items()],
        header_params=sdk_headers, body=body)
    return sdk_signer.Signer(_Credentials(AK, SK)).sign(request)


@pytest.mark.parametrize("seed", range(6))
def test_matches_vendor_signer(seed):
    rng = random.Random(1000 + seed)
    for _i in range(60):
        method, host, path, query, headers, body, token = _request(rng)
        ours = Signer(AK, SK, security_token=token).sign(method, host, path, query, headers, body)
        theirs = _sdk_sign(method, host, path, query, headers, body, token)
        for name in ("Authorization", "X-Sdk-Date", "Host", "X-Sdk-Content-Sha256", "X-Security-Token"):
            assert ours.headers.get(name) == theirs.header_params.get(name), (name, path, query)
        assert ours.uri == theirs.uri
        assert ours.body == (theirs.body or b"")
