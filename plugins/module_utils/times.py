# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Every way the collection writes or reads a time: UTC, from epoch seconds.

- ``iso``: ``2026-11-27T21:59:00Z`` (reports, node annotations, cordon records)
- ``iso_ms``: ``2026-11-27T21:59:00.12Z`` (journal events: order within a second), ``...:00.123Z``
- ``iso_micro``: ``2026-11-27T21:59:00.123456Z`` (Kubernetes MicroTime, Lease fields)
- ``compact``: ``20261127t215900`` (run ids, file names)
- ``parse``: any of the above (or an ISO time with an offset) back to epoch seconds, None if unreadable
"""

from __future__ import annotations

import time
from datetime import datetime, timezone


def _utc(epoch):
    return datetime.fromtimestamp(time.time() if epoch is None else epoch, timezone.utc)


def iso(epoch):
    """Seconds precision; None stays None (a time that has not happened yet)."""
    return None if epoch is None else _utc(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_now():
    return _utc(None).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(epoch):
    return _utc(epoch).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def iso_micro(epoch):
    return _utc(epoch).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compact(epoch):
    return _utc(epoch).strftime("%Y%m%dt%H%M%S")


def utc(epoch):
    """The aware datetime of ``epoch`` (for calendar decisions such as the maintenance window)."""
    return _utc(epoch)


def parse(text):
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
