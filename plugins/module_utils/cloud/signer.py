# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""SDK-HMAC-SHA256 request signing, canonicalised exactly as huaweicloudsdkcore 3.1.219 does.

See the API reference, section 2. The vendor's signer is the oracle of the unit tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import namedtuple
from datetime import datetime, timezone
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
HEADER_DATE = "X-Sdk-Date"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
HEADER_SECURITY_TOKEN = "X-Security-Token"

# What the caller sends: the URI (path + canonical query) and the full header map.
SignedRequest = namedtuple("SignedRequest", "method uri headers body")


def encode(text: str) -> str:
    """Percent-encode everything except unreserved characters and ``~`` (UTF-8)."""
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    encoded = "/".join(encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def query_pairs(query) -> list:
    """Flatten a dict or a list of (key, value) pairs into sorted (key, str value) pairs.

    List values become repeated keys; booleans are ``true``/``false``. Sorting is on the raw
    (unencoded) key then value, like the vendor's signer.
    """
    if not query:
        return []
    items = query.items() if isinstance(query, dict) else query
    pairs = []
    for key, value in items:
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for one in values:
            pairs.append((str(key), _query_value(one)))
    pairs.sort()
    return pairs


def _query_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_query(query) -> str:
    return "&".join("%s=%s" % (encode(key), encode(value)) for key, value in query_pairs(query))


def _header(headers: dict, name: str):
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


class Signer:
    """Signs requests with an access key / secret key pair (optionally an STS token)."""

    def __init__(self, access_key: str, secret_key: str, security_token: str | None = None):
        if not access_key or not secret_key:
            raise ValueError("both an access key and a secret key are needed to sign requests")
        self.access_key = access_key
        self._secret_key = secret_key.encode("utf-8")
        self._security_token = security_token

    def __repr__(self) -> str:
        return "Signer(access_key=%r)" % self.access_key

    def sign(self, method: str, host: str, path: str, query=None, headers=None, body=b"", sdk_date=None):
        """Return a SignedRequest; ``body`` (bytes or str) is exactly what must be sent.

        ``host`` is ``host[:port]`` as in the URL. ``sdk_date`` (datetime or X-Sdk-Date string)
        pins the signing time; by default it is the X-Sdk-Date header if present, else now.
        """
        method = method.upper()
        headers = dict(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        body = body or b""

        if self._security_token and _header(headers, HEADER_SECURITY_TOKEN) is None:
            headers[HEADER_SECURITY_TOKEN] = self._security_token
        content_type = _header(headers, "Content-Type")
        if content_type and not content_type.startswith(("application/json", "application/bson")):
            headers[HEADER_CONTENT_SHA256] = UNSIGNED_PAYLOAD
        date = self._signing_date(headers, sdk_date)
        if _header(headers, "Host") is None:
            headers["Host"] = host

        canonical_headers = {}
        for key in list(headers):
            value = str(headers[key]).strip()
            canonical_headers[key.lower()] = value
            # requests sends str header values as latin-1; this keeps UTF-8 bytes intact.
            headers[key] = value.encode("utf-8").decode("iso-8859-1")
        signed = sorted(key.lower() for key in headers if "_" not in key)

        payload_hash = EMPTY_BODY_SHA256
        if body:
            payload_hash = _header(headers, HEADER_CONTENT_SHA256) or hashlib.sha256(body).hexdigest()

        query_string = canonical_query(query)
        canonical_request = "\n".join([
            method,
            canonical_uri(path),
            query_string,
            "".join("%s:%s\n" % (name, canonical_headers[name]) for name in signed),
            ";".join(signed),
            payload_hash,
        ])
        string_to_sign = "\n".join([
            ALGORITHM, date, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ])
        signature = hmac.new(self._secret_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        headers["Authorization"] = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (
            ALGORITHM, self.access_key, ";".join(signed), signature,
        )
        uri = "%s?%s" % (path, query_string) if query_string else path
        return SignedRequest(method, uri, headers, body)

    @staticmethod
    def _signing_date(headers: dict, sdk_date) -> str:
        if sdk_date is None:
            given = _header(headers, HEADER_DATE)
            if given is not None:
                # Validates the format; the signature uses the same text.
                return datetime.strptime(given, DATE_FORMAT).strftime(DATE_FORMAT)
            sdk_date = datetime.now(timezone.utc)
        if isinstance(sdk_date, datetime):
            sdk_date = sdk_date.strftime(DATE_FORMAT)
        if _header(headers, HEADER_DATE) is None:
            headers[HEADER_DATE] = sdk_date
        return sdk_date
