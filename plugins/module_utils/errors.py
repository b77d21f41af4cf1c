# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Typed errors of the collection.

Pure Python on purpose: cloud/, k8s/ and ensure/ raise these, and only
lite_module.LiteModule.run() turns them into fail_json. ``str(error)`` is a sentence an
operator can act on; ``to_result()`` gives snake_case extra keys for the failure result.
Nothing here ever carries a secret key, a security token or an Authorization header.
"""

from __future__ import annotations


class LiteError(Exception):
    """Every error the collection raises on purpose."""

    # Keys copied by to_result(); subclasses extend it.
    result_keys: tuple = ()

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return "%s(%r)" % (type(self).__name__, self.message)

    def to_result(self) -> dict:
        result = {"error_type": type(self).__name__}
        for key in self.result_keys:
            value = getattr(self, key, None)
            if value is not None:
                result[key] = value
        return result


class ValidationError(LiteError):
    """Bad input, raised before any mutating call."""

    result_keys = ("option",)

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option


class PreconditionError(LiteError):
    """Refused because the world is not in a safe state for the requested change."""

    result_keys = ("details",)

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details


class ApiError(LiteError):
    """The ModelArts (or IAM) API answered with an HTTP error."""

    # "http_status", not "status": a module's result uses "status" for its resource's state.
    result_keys = ("http_status", "error_code", "error_msg", "request_id", "method", "path")
    hint = "Check the request parameters; the API message above says what it refused."

    def __init__(self, status: int, error_code: str | None = None, error_msg: str | None = None,
                 request_id: str | None = None, method: str | None = None, path: str | None = None):
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.method = method
        self.path = path
        super().__init__(self._sentence())

    @property
    def http_status(self):
        return self.status

    def _sentence(self) -> str:
        what = "HTTP %s" % self.status
        if self.error_code:
            what += " %s" % self.error_code
        text = "%s %s failed with %s" % (self.method or "request", self.path or "", what)
        if self.error_msg:
            text += ": %s" % str(self.error_msg).rstrip(".")
        if self.request_id:
            text += " (request id %s)" % self.request_id
        return "%s. %s" % (text, self.hint)


class ThrottledError(ApiError):
    """HTTP 429 after the client's retries were exhausted."""

    hint = ("The API rate limit is still exceeded after retrying; run fewer tasks in parallel "
            "(forks, throttle) or retry later.")


class AuthError(ApiError):
    """HTTP 401/403: signature, credentials, clock or permission problem."""

    hint = ("Check access_key/secret_key (and security_token for temporary credentials), the region "
            "and project_id, the IAM permissions of the user, and that this host's clock is within "
            "15 minutes of real time.")


class NotFoundError(ApiError):
    """The addressed resource does not exist (404, or 400 ModelArts.6404 for v1 objects)."""

    hint = "The resource does not exist; check its name or id, the region and the project_id."


class OperationFailedError(LiteError):
    """An asynchronous operation reached a failed state while we waited for it."""

    result_keys = ("last_state",)

    def __init__(self, message: str, last_state=None):
        super().__init__(message)
        self.last_state = last_state


class TransportError(LiteError):
    """Connection, TLS or timeout failure after the client's retries.

    ``reason`` is our sentence (what went wrong, in the operator's words); ``option`` names the
    option to fix; ``detail`` keeps the library's own text, which never goes into the message."""

    result_keys = ("method", "path", "option", "failure", "detail")

    def __init__(self, method: str, path: str, reason: str, hint: str | None = None, option: str | None = None,
                 failure: str | None = None, detail: str | None = None):
        self.method = method
        self.path = path
        self.reason = reason
        self.option = option
        self.failure = failure
        self.detail = detail
        super().__init__(
            "%s %s could not be completed: %s. %s" % (
                method, path, reason.rstrip("."),
                hint or "Check the endpoint, network access to it, and validate_certs/ca_path.",
            )
        )


# What a connection failure was, by the names of the exceptions in its chain (requests, urllib3,
# ssl and socket spell them so; matching names keeps this module free of those imports).
_TLS_HOSTNAME = ("hostname mismatch", "doesn't match", "does not match", "IP address mismatch")
_TLS_UNTRUSTED = ("CERTIFICATE_VERIFY_FAILED", "unable to get local issuer", "self-signed certificate",
                  "self signed certificate", "certificate verify failed")
_TLS_CA_FILE = ("NO_CERTIFICATE_OR_CRL_FOUND", "PEM lib", "Could not find a suitable TLS CA certificate bundle",
                "no certificate or crl found")
_DNS = ("NameResolutionError", "gaierror", "Name or service not known", "nodename nor servname",
        "Temporary failure in name resolution", "getaddrinfo failed", "No address associated with hostname",
        "Failed to resolve")
_REFUSED = ("ConnectionRefusedError", "Connection refused", "actively refused")


def classify_transport_failure(exc) -> str:
    """One of proxy, dns, refused, tls_hostname, tls_untrusted, tls_ca_file, tls, connect_timeout,
    read_timeout, reset or other, from an exception and its causes."""
    names, texts = set(), []
    seen, stack = set(), [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        names.update(klass.__name__ for klass in type(current).__mro__)
        texts.append(str(current))
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__]
        linked.extend(getattr(current, "args", ()))
        stack.extend(item for item in linked if isinstance(item, BaseException))
    text = " ".join(texts)

    def said(words):
        return any(word in names or word in text for word in words)

    if "ProxyError" in names:
        return "proxy"
    if said(_TLS_CA_FILE):
        return "tls_ca_file"
    if said(_TLS_HOSTNAME) or "CertificateError" in names:
        return "tls_hostname"
    if said(_TLS_UNTRUSTED):
        return "tls_untrusted"
    if "SSLError" in names:
        return "tls"
    if said(_DNS):
        return "dns"
    if said(_REFUSED):
        return "refused"
    if "ConnectTimeout" in names or "ConnectTimeoutError" in names:
        return "connect_timeout"
    if said(("ReadTimeout", "ReadTimeoutError", "Timeout", "timed out")):
        return "read_timeout"
    if said(("ConnectionResetError", "RemoteDisconnected", "Connection aborted", "ProtocolError")):
        return "reset"
    return "other"


class WaitTimeoutError(LiteError):
    """A bounded wait ran out; carries the last state seen."""

    result_keys = ("last_state", "timeout")

    def __init__(self, message: str, last_state=None, timeout: float | None = None):
        super().__init__(message)
        self.last_state = last_state
        self.timeout = timeout


class DrainBlockedError(PreconditionError):
    """A drain ran out of time because PodDisruptionBudgets kept refusing evictions.

    Names the node, the first blocked pod and its PDB; ``details`` lists every blocked pod. The node
    stays cordoned (it is reported so), so no new work lands on it while an operator decides."""

    def __init__(self, message: str, node: str, pod: str, pdb: str | None, details: dict | None = None):
        super().__init__(message, details)
        self.node = node
        self.pod = pod
        self.pdb = pdb


class RolloutFailedError(LiteError):
    """A rolling upgrade ran and ended failed or blocked.

    It carries the run's whole result (run id, plan, report, summary, report file, ``changed``), so
    the failure shows what happened exactly as a finished run would; ``str(error)`` says why it stopped."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result

    def to_result(self) -> dict:
        result = {k: v for k, v in self.result.items() if k not in ("msg", "failed")}
        result["error_type"] = type(self).__name__
        return result
