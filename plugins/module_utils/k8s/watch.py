# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Kubernetes watches for long runs (the rolling upgrade engine).

A poll notices a change half a poll interval late on average and lists every object each time.
A watch hears of the change at once and costs nothing while nothing changes. ``Watch`` is a small
informer: it lists a collection once, then follows a watch from that resourceVersion in a thread,
resumes after the server ends the stream, lists again after 410 Gone, and backs off on errors.

Two uses:
- ``cache=True`` keeps every object by name; ``snapshot()`` returns them while the watch is
  healthy, and None while it is not, so the caller lists for itself: a watch outage slows a run
  down to polling, it never feeds it stale state for long.
- ``cache=False`` only wakes the caller (``changed``) on relevant events; it starts from a one-item
  list's resourceVersion, so it never loads the whole collection.
"""

from __future__ import annotations

import random
import threading
import time

from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeApiError

# The server ends a watch after this; we resume from the last resourceVersion at once.
WATCH_SECONDS = 240
MAX_BACKOFF = 10.0


def _resource_version(obj):
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def newer(ours, theirs):
    """True when object ``ours`` is a later version than ``theirs`` (resourceVersions are etcd
    revisions, integers in practice; when they are not, the watch's copy wins)."""
    try:
        return int(_resource_version(ours)) > int(_resource_version(theirs))
    except (TypeError, ValueError):
        return False


class Watch:
    def __init__(self, kube, path, cache=True, relevant=None, changed=None, sleep=time.sleep):
        self.kube = kube
        self.path = path
        self.cache = cache
        self.relevant = relevant or (lambda event_type, old, new: True)
        self.changed = changed or threading.Event()
        self._sleep = sleep
        self._objects = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._healthy = False
        self._version = None
        self._thread = None
        self.errors = 0
        self.restarts = 0

    # -- the caller's side ------------------------------------------------------------------------

    def start(self):
        """List (the first sync happens here, so a broken API fails the caller's next list, not a
        thread), then follow the watch in the background."""
        self._sync()
        self._thread = threading.Thread(target=self._follow, name="watch%s" % self.path, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()

    def snapshot(self):
        """The cached objects, or None while the watch is not known to be current."""
        with self._lock:
            return list(self._objects.values()) if self._healthy and self.cache else None

    @property
    def healthy(self):
        return self._healthy

    # -- the thread's side ------------------------------------------------------------------------

    def _sync(self):
        if self.cache:
            page = self.kube.get(self.path)
            objects = {item["metadata"]["name"]: item for item in page.get("items") or []}
        else:
            page = self.kube.get(self.path, {"limit": 1})
            objects = {}
        with self._lock:
            self._objects = objects
            self._version = (page.get("metadata") or {}).get("resourceVersion")
            self._healthy = True
        self.changed.set()

    def _follow(self):
        backoff = 0.5
        while not self._stop.is_set():
            try:
                if self._version is None:
                    self._sync()
                self._stream()
                backoff = 0.5
            except Exception as error:  # pylint: disable=broad-except
                # Whatever broke (a bug included), the cache must not be served as current.
                if isinstance(error, KubeApiError) and error.http_status == 410:
                    self._version = None          # compacted past our version: list again
                    continue
                with self._lock:
                    self._healthy = False
                self.errors += 1
                self.changed.set()                # the caller switches to its own lists now
                self._sleep(backoff * (0.5 + random.random()))
                backoff = min(MAX_BACKOFF, backoff * 2)
                self._version = None              # events may be lost while we were away
            self.restarts += 1

    def _stream(self):
        query = {"resourceVersion": self._version, "allowWatchBookmarks": "true",
                 "timeoutSeconds": WATCH_SECONDS}
        for event in self.kube.watch_events(self.path, query, read_timeout=WATCH_SECONDS + 30):
            if self._stop.is_set():
                return
            event_type, obj = event.get("type"), event.get("object") or {}
            if event_type == "ERROR":
                status = obj.get("code")
                raise KubeApiError(status, obj.get("reason"), obj.get("message"), None, "GET", self.path)
            self._version = _resource_version(obj) or self._version
            if event_type == "BOOKMARK":
                continue
            name = (obj.get("metadata") or {}).get("name")
            with self._lock:
                old = self._objects.get(name)
                if self.cache:
                    if event_type == "DELETED":
                        self._objects.pop(name, None)
                    else:
                        self._objects[name] = obj
                self._healthy = True
            if self.relevant(event_type, old, obj):
                self.changed.set()
