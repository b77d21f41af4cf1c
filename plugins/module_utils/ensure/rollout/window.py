# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Maintenance windows: days, start, end and time zone, windows that cross midnight included.

Pure functions of an explicit "now" (an aware datetime), so the rollout engine and its tests inject
the time. ``days`` names the days on which a window OPENS: a Friday 22:00-06:00 window is open
until Saturday 06:00.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone(name):
    if not name or name.upper() in ("UTC", "Z"):
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:  # unknown zone or no tz database on this host
        raise ValidationError("window.timezone %r is not a known IANA time zone (for example Europe/Paris or "
                              "Asia/Shanghai); the host needs the tz database (tzdata)." % name,
                              option="window") from None


def _clock_time(text, field):
    parts = str(text or "").strip().split(":")
    try:
        numbers = [int(p) for p in parts]
        if len(numbers) not in (2, 3):
            raise ValueError
        return time(*numbers)
    except (TypeError, ValueError):
        raise ValidationError("window.%s must be a time of day HH:MM or HH:MM:SS, got %r." % (field, text),
                              option="window") from None


def parse_window(window):
    """A validated window {start: time, end: time, days: set of weekday numbers, zone: tzinfo}, or None."""
    if not window:
        return None
    if not isinstance(window, dict):
        raise ValidationError("window must be a dictionary with start, end, days and timezone.", option="window")
    unknown = set(window) - {"start", "end", "days", "timezone"}
    if unknown:
        raise ValidationError("window has unknown keys %s (allowed: start, end, days, timezone)."
                              % ", ".join(sorted(unknown)), option="window")
    days = window.get("days") or list(DAYS)
    if isinstance(days, str):
        days = [d.strip() for d in days.split(",") if d.strip()]
    numbers = set()
    for day in days:
        key = str(day).strip().lower()[:3]
        if key not in DAYS:
            raise ValidationError("window.days entry %r is not a weekday (mon, tue, ... sun)." % day, option="window")
        numbers.add(DAYS.index(key))
    return {"start": _clock_time(window.get("start", "00:00"), "start"),
            "end": _clock_time(window.get("end", "00:00"), "end"),
            "days": numbers, "zone": _zone(window.get("timezone")), "text": describe(window)}


def describe(window):
    days = window.get("days") or "every day"
    if isinstance(days, (list, tuple)):
        days = ",".join(str(d) for d in days)
    return "%s-%s %s (%s)" % (window.get("start", "00:00"), window.get("end", "00:00"), days,
                              window.get("timezone") or "UTC")


def window_state(window, now):
    """{"open": bool, "closes_at": aware datetime or None, "seconds_left": float or None}.

    ``window`` is parse_window()'s result (None = always open); ``now`` an aware datetime."""
    if window is None:
        return {"open": True, "closes_at": None, "seconds_left": None}
    local = now.astimezone(window["zone"])
    for opened_days_ago in (0, 1):
        day = (local - timedelta(days=opened_days_ago)).date()
        if day.weekday() not in window["days"]:
            continue
        opens = datetime.combine(day, window["start"], tzinfo=window["zone"])
        closes = datetime.combine(day, window["end"], tzinfo=window["zone"])
        if closes <= opens:  # crosses midnight (or start == end: a whole day)
            closes += timedelta(days=1)
        if opens <= local < closes:
            return {"open": True, "closes_at": closes, "seconds_left": (closes - local).total_seconds()}
    return {"open": False, "closes_at": None, "seconds_left": 0.0}
