# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Bounded waiting: a monotonic deadline and a polling loop that never waits forever."""

from __future__ import annotations

import time

from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    OperationFailedError,
    WaitTimeoutError,
)


class Deadline:
    """A point in monotonic time ``timeout`` seconds from creation."""

    def __init__(self, timeout: float, clock=time.monotonic):
        if timeout is None or timeout < 0:
            raise ValueError("a deadline needs a finite, non-negative timeout")
        self.timeout = timeout
        self._clock = clock
        self._end = clock() + timeout

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0


def wait_until(fetch, done, failed=None, timeout=None, interval=None, describe=None,
               sleep=time.sleep, clock=time.monotonic):
    """Poll ``fetch()`` until ``done(state)``; return that state.

    ``failed(state)`` returning something truthy raises OperationFailedError (a string
    return value becomes the reason). Running out of ``timeout`` seconds raises
    WaitTimeoutError with the last state. Sleeps are cut short at the deadline, and one
    last fetch happens at the deadline itself.
    """
    if timeout is None or interval is None:
        raise TypeError("wait_until needs both timeout and interval")
    if interval <= 0:
        raise ValueError("interval must be positive")
    what = describe or "the operation to finish"
    deadline = Deadline(timeout, clock=clock)
    while True:
        state = fetch()
        if done(state):
            return state
        reason = failed(state) if failed is not None else None
        if reason:
            detail = reason if isinstance(reason, str) else "it reached a failed state"
            raise OperationFailedError(
                "Gave up waiting for %s: %s. Inspect last_state, fix the cause, then re-run." % (what, detail),
                last_state=state,
            )
        remaining = deadline.remaining()
        if remaining <= 0:
            raise WaitTimeoutError(
                "Timed out after %s seconds waiting for %s. The operation may still be running: "
                "inspect last_state, then re-run with a larger wait_timeout or check the console."
                % (_seconds(timeout), what),
                last_state=state,
                timeout=timeout,
            )
        sleep(min(interval, remaining))


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else "%.1f" % value
