"""The request/response shapes every part of the simulator speaks.

The HTTP server (server.py) turns a raw HTTP exchange into a Request, hands it to the
ModelArts app or a pool's Kubernetes app, and writes the Response back. Keeping the apps free
of socket code lets tests drive them directly.
"""
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass
class Request:
    method: str                       # upper case
    path: str                         # raw path as received, still percent-encoded, no query
    query: List[Tuple[str, str]]      # decoded (key, value) pairs in the order received
    headers: Dict[str, str]           # keys lower-cased
    body: bytes = b""
    raw_query: str = ""               # the query string exactly as received
    request_id: str = ""              # the X-Request-Id the server answers with

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.headers.get(name.lower(), default)

    def query_values(self, key: str) -> List[str]:
        return [v for k, v in self.query if k == key]

    def query_value(self, key: str, default: Optional[str] = None) -> Optional[str]:
        values = self.query_values(key)
        return values[0] if values else default

    def json(self):
        """The body parsed as JSON; None when empty. Raises ValueError on bad JSON."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    # For streaming answers (Kubernetes watch): an iterator of byte chunks sent with
    # chunked transfer encoding after the headers. body is ignored when it is set.
    stream: Optional[object] = None

    @classmethod
    def json(cls, status: int, payload, headers: Optional[Dict[str, str]] = None) -> "Response":
        all_headers = {"Content-Type": "application/json"}
        all_headers.update(headers or {})
        return cls(status=status, body=json.dumps(payload).encode("utf-8"), headers=all_headers)
