"""Bounded waiting with a fake clock."""

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.errors import OperationFailedError, WaitTimeoutError
from ansible_collections.modelarts.lite.plugins.module_utils.waiting import Deadline, wait_until
from ansible_collections.modelarts.lite.tests.unit.plugins.module_utils.cloud.fakes import FakeClock


def test_deadline_counts_down_and_expires():
    clock = FakeClock()
    deadline = Deadline(30, clock=clock)
    assert deadline.remaining() == 30 and not deadline.expired()
    clock.now += 29.5
    assert deadline.remaining() == 0.5
    clock.now += 1
    assert deadline.remaining() == 0 and deadline.expired()
    with pytest.raises(ValueError):
        Deadline(None)


def test_returns_done_state_without_sleeping_more_than_needed():
    clock = FakeClock()
    states = iter(["Creating", "Creating", "Running"])
    assert wait_until(lambda: next(states), lambda s: s == "Running", timeout=100, interval=10,
                      sleep=clock.sleep, clock=clock) == "Running"
    assert clock.sleeps == [10, 10]


def test_never_sleeps_past_deadline_and_fetches_at_the_end():
    clock = FakeClock()
    fetched = []

    def fetch():
        fetched.append(clock.now)
        return {"phase": "Creating"}

    with pytest.raises(WaitTimeoutError) as info:
        wait_until(fetch, lambda s: False, timeout=25, interval=10, describe="pool p1 to run",
                   sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [10, 10, 5]
    assert fetched == [1000, 1010, 1020, 1025]
    assert info.value.last_state == {"phase": "Creating"} and info.value.timeout == 25
    assert "25 seconds" in str(info.value) and "pool p1 to run" in str(info.value)


def test_failed_state_raises_with_reason_and_state():
    clock = FakeClock()
    with pytest.raises(OperationFailedError) as info:
        wait_until(lambda: {"phase": "Failed"}, lambda s: False,
                   failed=lambda s: "job phase is Failed" if s["phase"] == "Failed" else None,
                   timeout=60, interval=5, sleep=clock.sleep, clock=clock)
    assert "job phase is Failed" in str(info.value) and info.value.last_state == {"phase": "Failed"}
    assert clock.sleeps == []


def test_zero_timeout_polls_once():
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError):
        wait_until(lambda: 1, lambda s: False, timeout=0, interval=5, sleep=clock.sleep, clock=clock)
    assert clock.sleeps == []


def test_timeout_and_interval_are_required():
    with pytest.raises(TypeError):
        wait_until(lambda: 1, lambda s: True)
    with pytest.raises(ValueError):
        wait_until(lambda: 1, lambda s: True, timeout=5, interval=0)
