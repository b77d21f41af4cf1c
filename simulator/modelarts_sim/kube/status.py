"""Kubernetes `Status` bodies and the error that carries one.

Every failure the simulated API server returns is a real `meta/v1 Status` so that kubectl and the
python client parse reason, code and details exactly as they do against a real cluster.
"""
from typing import Dict, List, Optional


class StatusError(Exception):
    """A Kubernetes API failure; `body()` is the JSON Status the server sends."""

    def __init__(self, code: int, reason: str, message: str, details: Optional[dict] = None,
                 headers: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict:
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            status["details"] = self.details
        return status


def success_status(code: int = 200, details: Optional[dict] = None) -> dict:
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
    if details is not None:
        status["details"] = details
    return status


def _details(name: Optional[str], group: str, plural: str) -> dict:
    details = {}
    if name is not None:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def _qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> StatusError:
    return StatusError(404, "NotFound", f'{_qualified(group, plural)} "{name}" not found',
                       _details(name, group, plural))


def already_exists(group: str, plural: str, name: str) -> StatusError:
    return StatusError(409, "AlreadyExists", f'{_qualified(group, plural)} "{name}" already exists',
                       _details(name, group, plural))


def conflict(group: str, plural: str, name: str) -> StatusError:
    return StatusError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {_qualified(group, plural)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(name, group, plural))


def invalid(group: str, kind: str, name: str, causes: List[dict]) -> StatusError:
    """422 Invalid; causes are {"reason","message","field"} dicts like the real server's."""
    summary = ", ".join(f'{c["field"]}: {c["message"]}' for c in causes)
    return StatusError(422, "Invalid", f'{kind} "{name}" is invalid: {summary}',
                       {"name": name, "group": group, "kind": kind, "causes": causes}
                       if group else {"name": name, "kind": kind, "causes": causes})


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource"
                       ) -> StatusError:
    return StatusError(405, "MethodNotAllowed", message, {})


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(415, "UnsupportedMediaType",
                       f'the body of the request was in an unknown format - accepted media types include: '
                       f'application/json-patch+json, application/merge-patch+json, '
                       f'application/apply-patch+yaml, application/strategic-merge-patch+json '
                       f'(got "{content_type}")', {})


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def page_not_found() -> StatusError:
    return StatusError(404, "NotFound", "the server could not find the requested resource", {})
