"""Server-side check of `SDK-HMAC-SHA256` signatures, as huaweicloudsdkcore computes them.

The canonical request is rebuilt from what was received (raw path, query pairs, the signed
headers, the raw body bytes), never from a re-serialisation.
"""
import calendar
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW_SECONDS = 15 * 60


class SignatureError(Exception):
    """Verification failed; the message is the APIG error text (never contains the secret)."""


@dataclass
class Credential:
    access_key: str
    secret_key: str
    security_token: Optional[str] = None


def _encode(text: str) -> str:
    return quote(text, safe="~")


def parse_query(raw_query: str) -> List[Tuple[str, str]]:
    """Decode a raw query string into pairs the way the signer sees them (no '+' to space)."""
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        key, _sep, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def canonical_uri(raw_path: str) -> str:
    path = "/".join(_encode(segment) for segment in unquote(raw_path).split("/"))
    return path if path.endswith("/") else path + "/"


def canonical_query(pairs: List[Tuple[str, str]]) -> str:
    return "&".join("%s=%s" % (_encode(k), _encode(v)) for k, v in sorted(pairs))


def canonical_request(method: str, raw_path: str, query_pairs, headers: dict, signed_headers: List[str],
                      body: bytes) -> str:
    """headers: lower-cased names -> values (as received)."""
    header_lines = "".join("%s:%s\n" % (name, headers[name].strip()) for name in signed_headers)
    if not body:
        payload_hash = EMPTY_HASH
    elif headers.get("x-sdk-content-sha256"):
        payload_hash = headers["x-sdk-content-sha256"]
    else:
        payload_hash = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), canonical_uri(raw_path), canonical_query(query_pairs), header_lines,
                      ";".join(signed_headers), payload_hash])


def string_to_sign(sdk_date: str, canonical: str) -> str:
    return "%s\n%s\n%s" % (ALGORITHM, sdk_date, hashlib.sha256(canonical.encode("utf-8")).hexdigest())


def sign(secret_key: str, sdk_date: str, canonical: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), string_to_sign(sdk_date, canonical).encode("utf-8"),
                    hashlib.sha256).hexdigest()


def parse_authorization(value: str):
    """-> (access_key, signed_headers list, signature). Raises SignatureError."""
    algorithm, _sep, rest = (value or "").strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError("Incorrect IAM authentication information: unsupported or missing signing algorithm")
    fields = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            fields[key] = val
    try:
        return fields["Access"], fields["SignedHeaders"].split(";"), fields["Signature"]
    except KeyError:
        raise SignatureError("Incorrect IAM authentication information: malformed Authorization header") from None


def verify(method: str, raw_path: str, raw_query: str, headers: dict, body: bytes,
           lookup: Callable[[str], Optional[Credential]], now: Optional[float] = None) -> Credential:
    """Check one request; return the caller's credential or raise SignatureError.

    headers: lower-cased names. now: epoch seconds of the server clock (skew faults shift it).
    """
    access_key, signed_headers, signature = parse_authorization(headers.get("authorization", ""))
    credential = lookup(access_key)
    if credential is None:
        raise SignatureError("Incorrect IAM authentication information: Get secretKey failed,ak:%s,err:ak not exist"
                             % access_key)
    if signed_headers != sorted(signed_headers) or "host" not in signed_headers \
            or "x-sdk-date" not in signed_headers:
        raise SignatureError("Incorrect IAM authentication information: verify aksk signature fail, ak:%s, "
                             "SignedHeaders must be sorted and include host and x-sdk-date" % access_key)
    missing = [name for name in signed_headers if name not in headers]
    if missing:
        raise SignatureError("Incorrect IAM authentication information: verify aksk signature fail, ak:%s, "
                             "signed header(s) not sent: %s" % (access_key, ",".join(missing)))
    sdk_date = headers["x-sdk-date"].strip()
    try:
        signed_at = calendar.timegm(time.strptime(sdk_date, DATE_FORMAT))
    except ValueError:
        raise SignatureError("Incorrect IAM authentication information: X-Sdk-Date %r is not YYYYMMDDTHHMMSSZ"
                             % sdk_date) from None
    current = time.time() if now is None else now
    if abs(current - signed_at) > MAX_SKEW_SECONDS:
        raise SignatureError("Incorrect IAM authentication information: the request time X-Sdk-Date %s differs "
                             "from the server time by more than 15 minutes" % sdk_date)
    expected = sign(credential.secret_key, sdk_date,
                    canonical_request(method, raw_path, parse_query(raw_query), headers, signed_headers, body))
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("Incorrect IAM authentication information: verify aksk signature fail, ak:%s"
                             % access_key)
    if credential.security_token is not None:
        sent_token = headers.get("x-security-token")
        if "x-security-token" not in signed_headers or sent_token is None \
                or not hmac.compare_digest(sent_token, credential.security_token):
            raise SignatureError("Incorrect IAM authentication information: invalid or missing security token "
                                 "for temporary ak:%s" % access_key)
    return credential
