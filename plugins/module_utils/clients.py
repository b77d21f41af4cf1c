# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""What an ensure function works with: the clients LiteModule built for it, and its warnings.

Pure Python (no Ansible), so ensure code and its tests build one directly:
``Clients(cloud=fake_cloud, kube=fake_kube, pool=pool_record)``.
"""

from __future__ import annotations

import threading


class CallCounter:
    """Requests a client sent, by HTTP method (retries not counted); safe to bump from several
    threads. The rollout's report and the bench read it."""

    def __init__(self):
        self._counts = {}
        self._lock = threading.Lock()

    def count(self, method):
        with self._lock:
            self._counts[method.upper()] = self._counts.get(method.upper(), 0) + 1

    def snapshot(self):
        with self._lock:
            return dict(self._counts)


class Clients:
    """The clients of one module run, resolved before the ensure function is called.

    ``cloud``: the CloudClient. ``kube``: the KubeClient of the pool's cluster (None for modules
    without Kubernetes options). ``pool``: the v2 Pool that ``kube`` belongs to (the module's
    ``pool`` option, resolved by display name or id), else None. ``warn(text)`` collects a warning
    the module shows whether the run succeeds or fails.
    """

    def __init__(self, cloud=None, kube=None, pool=None):
        self.cloud = cloud
        self.kube = kube
        self.pool = pool
        self.warnings = []

    @property
    def pool_id(self):
        return self.pool["metadata"]["name"] if self.pool else None

    def warn(self, message):
        self.warnings.append(message)

    def close(self):
        for client in (self.cloud, self.kube):
            if client is not None:
                client.close()
