"""A scripted stand-in for requests.Session, a fake clock, and a client wired to both."""

import json

from requests.structures import CaseInsensitiveDict

from ansible_collections.modelarts.lite.plugins.module_utils.cloud.client import CloudClient


class FakeResponse:
    def __init__(self, status=200, body=None, headers=None, text=None):
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers or {})
        if text is None:
            text = "" if body is None else json.dumps(body)
        self.text = text
        self.content = text.encode("utf-8")
        self.closed = False

    def json(self):
        return json.loads(self.text)

    def close(self):
        self.closed = True


class FakeSession:
    """Answers requests from a script; each entry is a FakeResponse or an exception to raise."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = []

    def request(self, method, url, headers=None, data=None, timeout=None, verify=None, allow_redirects=None):
        self.calls.append({"method": method, "url": url, "headers": dict(headers or {}), "data": data,
                           "timeout": timeout, "verify": verify})
        if not self.script:
            raise AssertionError("unexpected request %s %s" % (method, url))
        answer = self.script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


AK = "HPUAEXAMPLEAK0000001"
CANARY_SK = "CANARY-secret-9f8e7d6c5b4a"
CANARY_TOKEN = "CANARY-token-0a1b2c3d4e5f"
PID = "0123456789abcdef0123456789abcdef"


def make_client(script, clock=None, **kwargs):
    clock = clock or FakeClock()
    options = dict(access_key=AK, secret_key=CANARY_SK, region="cn-north-4", project_id=PID,
                   session=FakeSession(script), clock=clock, sleep=clock.sleep, jitter=lambda: 0.5)
    options.update(kwargs)
    return CloudClient(**options)


def ok(body=None, **headers):
    return FakeResponse(200, body if body is not None else {}, headers)


def err(status, body=None, **headers):
    return FakeResponse(status, body, {"X-Request-Id": "req-%d" % status, **headers})
