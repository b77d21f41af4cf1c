# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The ModelArts HTTP client: endpoints, IAM project lookup, signing, retries, paging.

requests only, no Ansible. Errors are the typed errors of module_utils/errors.py and never
carry the secret key, the security token or the Authorization header.
"""

from __future__ import annotations

import json
import os
import random
import time
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

from ansible_collections.modelarts.lite.plugins.module_utils.clients import CallCounter
from ansible_collections.modelarts.lite.plugins.module_utils.cloud.signer import Signer
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    ThrottledError,
    TransportError,
    ValidationError,
    classify_transport_failure,
)
from ansible_collections.modelarts.lite.plugins.module_utils.waiting import Deadline, wait_until

try:
    import requests
except ImportError as exc:  # reported by LiteModule through missing_required_lib
    requests = None
    REQUESTS_IMPORT_ERROR = exc
else:
    REQUESTS_IMPORT_ERROR = None

DEFAULT_USER_AGENT = "modelarts.lite-ansible-collection"
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
SUCCESS = (200, 201, 202, 204)
# Methods a server may safely receive twice: retried after 5xx and connection failures.
IDEMPOTENT = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))
RETRIED_5XX = frozenset((500, 502, 503, 504))
# 400 codes that mean "no such object" on the v1 API families.
NOT_FOUND_CODES = frozenset(("ModelArts.6404",))
ENDPOINT_OVERRIDES = {"ap-southeast-1": "https://modelarts.ap-southeast-1.myhuaweicloud.cn"}
MAX_ERROR_TEXT = 1000


def default_endpoint(region: str) -> str:
    return ENDPOINT_OVERRIDES.get(region, "https://modelarts.%s.myhuaweicloud.com" % region)


def default_iam_endpoint(region: str) -> str:
    return "https://iam.%s.myhuaweicloud.com" % region


def default_service_endpoint(service: str, region: str) -> str:
    """EVS and IMS: https://{service}.{region}.myhuaweicloud.com (the vendor SDK's region tables)."""
    return "https://%s.%s.myhuaweicloud.com" % (service, region)


class _Service:
    """Where one API lives: scheme://netloc plus an optional path prefix."""

    def __init__(self, url: str, option: str, allow_http: bool):
        parts = urlsplit(url.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValidationError(
                "%s must be an absolute http(s) URL such as https://modelarts.cn-north-4.myhuaweicloud.com, "
                "got %r." % (option, url), option=option)
        if parts.scheme == "http" and not allow_http:
            raise ValidationError(
                "%s %s uses plain http, which would send signed requests unencrypted. Use https, or set "
                "allow_http=true for a local test endpoint." % (option, url), option=option)
        if parts.query or parts.fragment:
            raise ValidationError("%s must not carry a query or fragment, got %r." % (option, url), option=option)
        self.base = "%s://%s" % (parts.scheme, parts.netloc)
        self.option = option
        self.host = parts.hostname
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")


class CloudClient:
    """Signed, retrying access to the ModelArts (and IAM) APIs of one region and project."""

    def __init__(self, access_key, secret_key, region, project_id=None, security_token=None,
                 endpoint=None, iam_endpoint=None, evs_endpoint=None, ims_endpoint=None,
                 validate_certs=True, ca_path=None, allow_http=False,
                 api_timeout=60, poll_interval=10, max_retries=4, retry_budget=120.0,
                 backoff_base=1.0, backoff_cap=20.0, user_agent=DEFAULT_USER_AGENT, session=None,
                 clock=time.monotonic, sleep=time.sleep, jitter=random.random):
        if not region:
            raise ValidationError("region is required, for example cn-north-4.", option="region")
        if not access_key or not secret_key:
            raise ValidationError("access_key and secret_key are both required.", option="access_key")
        if api_timeout <= 0 or poll_interval <= 0:
            raise ValidationError("api_timeout and poll_interval must be positive numbers of seconds.",
                                  option="api_timeout" if api_timeout <= 0 else "poll_interval")
        self.region = region
        self.modelarts = _Service(endpoint or default_endpoint(region), "endpoint", allow_http)
        self.iam = _Service(iam_endpoint or default_iam_endpoint(region), "iam_endpoint", allow_http)
        # The neighbouring services the Lite Server operations use (cloud/evs.py, cloud/ims.py).
        self.services = {name: _Service(url or default_service_endpoint(name, region), name + "_endpoint", allow_http)
                         for name, url in (("evs", evs_endpoint), ("ims", ims_endpoint))}
        self._signer = Signer(access_key, secret_key, security_token)
        # The access key too: a gateway refusal echoes it ("ak:<value> ... ak not exist"), and when
        # an operator swapped the pair, that value is the secret key.
        self._secrets = tuple(s for s in (secret_key, security_token, access_key) if s)
        self._project_id = project_id or None
        if ca_path and validate_certs:
            check_ca_path(ca_path)
        self.ca_path = ca_path
        self.verify = ca_path or bool(validate_certs)
        self.api_timeout = api_timeout
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.user_agent = user_agent
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self.calls = CallCounter()

    def __repr__(self):
        return "CloudClient(region=%r, endpoint=%r, access_key=%r)" % (
            self.region, self.modelarts.base + self.modelarts.prefix, self._signer.access_key)

    # -- project -----------------------------------------------------------------------------

    @property
    def project_id(self) -> str:
        if self._project_id is None:
            self._project_id = self._lookup_project_id()
        return self._project_id

    def _lookup_project_id(self) -> str:
        body = self._call(self.iam, "GET", "/v3/projects", {"name": self.region}, None, JSON, SUCCESS,
                          project_header=False)
        projects = body.get("projects") if isinstance(body, dict) else None
        ids = [p["id"] for p in projects or [] if isinstance(p, dict) and p.get("id")]
        if not ids:
            raise ValidationError(
                "IAM knows no project named %r for this access key. Check the region, or set project_id."
                % self.region, option="project_id")
        if len(ids) > 1:
            raise ValidationError(
                "IAM returned %d projects named %r; set project_id to the one to manage." % (len(ids), self.region),
                option="project_id")
        return ids[0]

    def path(self, version: str, *segments) -> str:
        """``/{version}/{project_id}/seg/...`` with every segment percent-encoded."""
        parts = [version, self.project_id] + [str(s) for s in segments]
        return "/" + "/".join(quote(p, safe="") for p in parts)

    # -- requests ----------------------------------------------------------------------------

    def request(self, method, path, query=None, body=None, content_type=JSON, expected=SUCCESS):
        """Send one signed ModelArts request; return the decoded JSON body ({} when empty). Counted
        in ``calls`` ({METHOD: n}, retries not counted): reports and the bench read it."""
        self.calls.count(method)
        return self._call(self.modelarts, method.upper(), path, query, body, content_type, expected,
                          project_header=True)

    def service_request(self, service, method, path, query=None, body=None, expected=SUCCESS):
        """Send one signed request to a neighbouring service ("evs" or "ims") with the same signer,
        retries and error mapping as ModelArts; return the decoded JSON body ({} when empty)."""
        return self._call(self.services[service], method.upper(), path, query, body, JSON, expected,
                          project_header=True)

    def _call(self, service, method, path, query, body, content_type, expected, project_header):
        if requests is None and self._session is None:
            raise TransportError(method, path, "the Python library requests is not installed",
                                 hint="Install requests on the host that runs the module.")
        full_path = service.prefix + path
        payload = self._serialise(body)
        session = self._get_session()
        deadline = Deadline(self.retry_budget, clock=self._clock)
        attempt = 0
        while True:
            headers = {"User-Agent": self.user_agent, "Content-Type": content_type}
            if project_header:
                headers["X-Project-Id"] = self.project_id
            # Signed per attempt: X-Sdk-Date must be fresh after a long Retry-After.
            signed = self._signer.sign(method, service.netloc, full_path, query, headers, payload)
            try:
                response = session.request(
                    method, service.base + signed.uri, headers=signed.headers, data=signed.body or None,
                    timeout=(self.api_timeout, self.api_timeout), verify=self.verify, allow_redirects=False)
            except Exception as exc:  # requests' exceptions; anything else is re-raised below
                if requests is not None and not isinstance(exc, requests.exceptions.RequestException):
                    raise
                if self._transport_retryable(method, exc):
                    delay = self._backoff(attempt)
                    if self._may_retry(attempt, delay, deadline):
                        self._sleep(delay)
                        attempt += 1
                        continue
                raise self._transport_error(service, method, full_path, exc) from None
            status = response.status_code
            if status < 400 and status in expected:
                return self._decode(method, full_path, response)
            if status == 429 or (status in RETRIED_5XX and method in IDEMPOTENT):
                delay = self._retry_after(response)
                if delay is None:
                    delay = self._backoff(attempt)
                if self._may_retry(attempt, delay, deadline):
                    response.close()
                    self._sleep(delay)
                    attempt += 1
                    continue
            raise self._api_error(method, full_path, response)

    @staticmethod
    def _serialise(body) -> bytes:
        if body is None:
            return b""
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode("utf-8")
        # Same bytes as the vendor SDK: default separators; these exact bytes are signed and sent.
        return json.dumps(body).encode("utf-8")

    def _get_session(self):
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def close(self):
        if self._session is not None:
            self._session.close()

    # -- retry policy ------------------------------------------------------------------------

    def _may_retry(self, attempt, delay, deadline) -> bool:
        return attempt < self.max_retries and delay <= deadline.remaining()

    def _backoff(self, attempt) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** attempt))
        # Equal jitter: spreads clients out without ever collapsing to no wait at all.
        return ceiling / 2 + self._jitter() * ceiling / 2

    @staticmethod
    def _retry_after(response):
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())

    @staticmethod
    def _transport_retryable(method, exc) -> bool:
        if requests is not None and isinstance(exc, requests.exceptions.SSLError):
            return False  # a certificate problem does not fix itself
        if method in IDEMPOTENT:
            return True
        # A POST/PATCH is retried only when it provably never reached the server.
        return _never_sent(exc)

    # -- responses and errors ----------------------------------------------------------------

    def _decode(self, method, path, response):
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "InvalidResponse",
                           "the response is not JSON: %s" % self._redact(response.text[:200]),
                           _request_id(response), method, path) from None

    def _api_error(self, method, path, response):
        status = response.status_code
        code, message = parse_error_body(response.text)
        if status < 400:
            message = "unexpected HTTP status %s" % status
        error_class = ApiError
        if status == 429:
            error_class = ThrottledError
        elif status in (401, 403):
            error_class = AuthError
        elif status == 404 or (status == 400 and code in NOT_FOUND_CODES):
            error_class = NotFoundError
        return error_class(status, code or str(status), self._redact(message[:MAX_ERROR_TEXT]) or None,
                           _request_id(response), method, path)

    def _transport_error(self, service, method, path, exc):
        """A TransportError that says, in the operator's words, what failed and which option to fix;
        the library's text goes only into ``detail``."""
        failure = classify_transport_failure(exc)
        reason, hint, option = self._transport_words(service, failure)
        detail = self._redact("%s: %s" % (type(exc).__name__, exc))[:MAX_ERROR_TEXT]
        return TransportError(method, path, reason, hint=hint, option=option, failure=failure, detail=detail)

    def _transport_words(self, service, failure):
        """(reason, hint, option) for a classify_transport_failure() kind."""
        where, option = service.netloc, service.option
        trust = "the CA bundle in ca_path (%s)" % self.ca_path if self.ca_path else "this host's trusted CAs"
        ca_hint = ("Set ca_path to the PEM bundle of the CA that signed the certificate of %s (for the simulator, "
                   "its ca.pem)." % where)
        words = {
            "proxy": ("the HTTP(S) proxy could not carry the request to %s" % where,
                      "Fix the proxy environment variables (HTTPS_PROXY, HTTP_PROXY), or add %s to NO_PROXY."
                      % service.host, None),
            "dns": ("the host name %s in %s cannot be resolved (DNS)" % (service.host, option),
                    "Check %s for a typo and the region, and this host's DNS settings." % option, option),
            "refused": ("%s refused the connection: nothing listens there" % where,
                        "Check the host and port in %s, and that the service runs and is reachable from this host."
                        % option, option),
            "tls_untrusted": ("the TLS certificate of %s is not signed by a CA in %s" % (where, trust), ca_hint,
                              "ca_path"),
            "tls_hostname": ("the TLS certificate of %s is not issued for the host name %s" % (where, service.host),
                             "Use in %s the host name the certificate names." % option, option),
            "tls_ca_file": ("ca_path %s is not a usable PEM CA bundle" % self.ca_path, ca_hint, "ca_path"),
            "tls": ("the TLS handshake with %s failed" % where, ca_hint, "ca_path"),
            "connect_timeout": ("%s did not accept a connection within api_timeout (%s s)" % (where, self.api_timeout),
                                "Check %s, firewalls and proxies on the way, or raise api_timeout." % option, option),
            "read_timeout": ("%s did not answer within api_timeout (%s s)" % (where, self.api_timeout),
                             "Raise api_timeout, or retry when the API is less loaded.", "api_timeout"),
            "reset": ("the connection to %s was closed before an answer came" % where,
                      "Check proxies and load balancers between this host and %s, then retry." % option, option),
        }
        return words.get(failure, ("could not reach %s" % where,
                                   "Check %s, network access to it, and validate_certs/ca_path." % option, option))

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            if len(secret) >= 4:
                text = text.replace(secret, "********")
        return text

    # -- pagination --------------------------------------------------------------------------

    def paginate_continue(self, path, query=None, limit=None, items_key="items", max_pages=10000):
        """All items of a v2 list (``limit`` + ``continue`` token from ``metadata.continue``).

        Works when the server ignores ``limit`` and returns everything in one page.
        """
        items, seen_tokens, token = [], set(), None
        for _page in range(max_pages):
            page_query = dict(query or {})
            if limit:
                page_query["limit"] = limit
            if token:
                page_query["continue"] = token
            page = self.request("GET", path, query=page_query)
            items.extend(page.get(items_key) or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            if token in seen_tokens:
                raise ApiError(200, "PaginationLoop", "the server repeated continue token", None, "GET", path)
            seen_tokens.add(token)
        raise ApiError(200, "PaginationLimit", "more than %d pages" % max_pages, None, "GET", path)

    def paginate_offset(self, path, query=None, limit=100, items_key="data", total_key="total",
                        max_pages=10000, service=None):
        """All items of a v1 list (``limit`` + ``offset``; envelope ``{current,data,pages,size,total}``),
        or of a neighbouring ``service``'s list with the same paging (EVS: ``volumes`` and ``count``).

        Stops at ``total`` (when the envelope has it), at a short page, or when the server
        ignored paging and sent everything (a page longer than ``limit`` or a repeated page).
        """
        items, previous, offset = [], None, 0
        for _page in range(max_pages):
            page_query = dict(query or {}, limit=limit, offset=offset)
            page = (self.service_request(service, "GET", path, query=page_query) if service
                    else self.request("GET", path, query=page_query))
            batch = page.get(items_key) or []
            if batch and batch == previous:
                return items
            items.extend(batch)
            total = page.get(total_key) if total_key else None
            if len(batch) < limit or len(batch) > limit:
                return items
            if isinstance(total, int) and len(items) >= total:
                return items
            previous, offset = batch, offset + len(batch)
        raise ApiError(200, "PaginationLimit", "more than %d pages" % max_pages, None, "GET", path)

    # -- operations --------------------------------------------------------------------------

    def wait_for(self, fetch, done, failed=None, timeout=None, describe=None):
        """Poll an asynchronous operation every ``poll_interval`` seconds, bounded by ``timeout``."""
        return wait_until(fetch, done, failed, timeout=timeout, interval=self.poll_interval,
                          describe=describe, sleep=self._sleep, clock=self._clock)


def check_ca_path(ca_path):
    """Refuse, before any request, a ca_path that does not exist, cannot be read or is not PEM."""
    if os.path.isdir(ca_path):
        return  # a c_rehash'ed directory of CA files, which requests accepts as it is
    if not os.path.exists(ca_path):
        raise ValidationError("ca_path %s does not exist. Point ca_path (or MODELARTS_LITE_CA_PATH) at the PEM "
                              "bundle of the CA that signed the endpoint's certificate." % ca_path, option="ca_path")
    try:
        with open(ca_path, "rb") as handle:
            head = handle.read(1024 * 1024)
    except OSError as exc:
        raise ValidationError("ca_path %s cannot be read (%s). Make it readable by the user that runs the module."
                              % (ca_path, exc.strerror or type(exc).__name__), option="ca_path") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ValidationError(
            "ca_path %s is not a PEM CA bundle (it has no -----BEGIN CERTIFICATE----- block). Give the CA in PEM; "
            "a DER file converts with: openssl x509 -inform der -in FILE -out ca.pem" % ca_path, option="ca_path")


def parse_error_body(text):
    """(error_code, error_msg) the way the vendor SDK's DefaultExceptionHandler reads them."""
    try:
        data = json.loads(text)
    except ValueError:
        return None, text or ""
    if not isinstance(data, dict):
        return None, text or ""
    found = _find_error_pair(data)
    if found is None:
        return None, text or ""
    code, message = found
    return (str(code) if code not in (None, "") else None), (str(message) if message is not None else text)


def _find_error_pair(data):
    for code_key, msg_key in (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message")):
        if code_key in data and msg_key in data:
            return data[code_key], data[msg_key]
    for value in data.values():
        if isinstance(value, dict):
            found = _find_error_pair(value)
            if found is not None:
                return found
    return None


def _request_id(response):
    return response.headers.get("X-Request-Id") or response.headers.get("x-request-id") or None


def _never_sent(exc) -> bool:
    """True when a connection failure happened before any byte of the request left."""
    if requests is not None and isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or type(current).__name__ == "NewConnectionError":
            return True
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return False
