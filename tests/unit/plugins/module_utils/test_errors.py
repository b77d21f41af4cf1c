"""Errors: actionable sentences and snake_case results."""

import json

from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    ApiError,
    AuthError,
    LiteError,
    NotFoundError,
    OperationFailedError,
    PreconditionError,
    ThrottledError,
    TransportError,
    ValidationError,
    WaitTimeoutError,
)


def test_hierarchy():
    for cls in (ValidationError, ApiError, TransportError, WaitTimeoutError, PreconditionError, OperationFailedError):
        assert issubclass(cls, LiteError)
    for cls in (ThrottledError, AuthError, NotFoundError):
        assert issubclass(cls, ApiError)


def test_api_error_sentence_and_result():
    err = NotFoundError(404, "ModelArts.50015001", "Pool p1 not found.", "req-1", "GET", "/v2/pid/pools/p1")
    assert str(err) == ("GET /v2/pid/pools/p1 failed with HTTP 404 ModelArts.50015001: Pool p1 not found "
                        "(request id req-1). The resource does not exist; check its name or id, the region "
                        "and the project_id.")
    assert err.to_result() == {"error_type": "NotFoundError", "http_status": 404, "error_code": "ModelArts.50015001",
                               "error_msg": "Pool p1 not found.", "request_id": "req-1", "method": "GET",
                               "path": "/v2/pid/pools/p1"}
    assert "NotFoundError(" in repr(err)


def test_auth_error_tells_what_to_check():
    text = str(AuthError(401, "APIG.0301", "verify aksk signature fail", None, "GET", "/x"))
    assert "secret_key" in text and "clock" in text and "request id" not in text


def test_wait_timeout_and_failure_carry_last_state():
    err = WaitTimeoutError("timed out", last_state={"phase": "Creating"}, timeout=60)
    assert err.to_result() == {"error_type": "WaitTimeoutError", "last_state": {"phase": "Creating"}, "timeout": 60}
    assert OperationFailedError("failed", last_state="Failed").to_result()["last_state"] == "Failed"


def test_results_are_json_and_drop_empty_keys():
    result = ValidationError("bad", option="region").to_result()
    assert json.loads(json.dumps(result)) == {"error_type": "ValidationError", "option": "region"}
    assert PreconditionError("unsafe").to_result() == {"error_type": "PreconditionError"}
    assert TransportError("GET", "/x", "ConnectionError: refused").to_result()["path"] == "/x"
    assert "validate_certs" in str(TransportError("GET", "/x", "boom"))
