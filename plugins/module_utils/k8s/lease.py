# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The pool lock of a driver rollout: a coordination.k8s.io/v1 Lease in the pool's cluster.

One Lease per pool (namespace kube-system) names the run holding it (holderIdentity = run id), when
it was taken and renewed, and for how long a silent holder keeps it (leaseDurationSeconds). Every
write carries the resourceVersion just read, so two runs racing for the lock cannot both win. An
expired Lease may be taken over; a live one only with ``force``. Expiry never allows more
disruption by itself: the next run recounts the unavailable nodes from the cluster.
"""

from __future__ import annotations

import json
import re
import time

from ansible_collections.modelarts.lite.plugins.module_utils import times
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import (
    KubeConflictError,
    KubeNotFoundError,
    kube_path,
)

NAMESPACE = "kube-system"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % NAMESPACE
NAME_PREFIX = "modelarts-lite-driver-rollout-"
ANNOTATION_PREFIX = "modelarts.lite/"
# An operator's request that the run holding the Lease stop (lite_rollout state=stopped): JSON
# {"run_id", "reason", "requested_at"}; only the run it names honours it.
STOP_ANNOTATION = ANNOTATION_PREFIX + "stop-requested"


class LockLostError(PreconditionError):
    """Somebody else holds the pool's Lease now: this run must stop launching."""


def lease_name(pool_id):
    name = re.sub(r"[^a-z0-9.-]+", "-", (NAME_PREFIX + str(pool_id)).lower()).strip("-.")
    return name[:253].rstrip("-.")


def lease_view(lease, now):
    """What an operator needs to know about a Lease: holder, renewal, expiry."""
    spec = (lease or {}).get("spec") or {}
    renewed = times.parse(spec.get("renewTime")) or times.parse(spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    expires = renewed + duration if renewed is not None else None
    annotations = ((lease or {}).get("metadata") or {}).get("annotations") or {}
    return {"name": ((lease or {}).get("metadata") or {}).get("name"),
            "holder": spec.get("holderIdentity") or None,
            "renew_time": spec.get("renewTime"),
            "lease_duration_seconds": duration,
            "expires_in": None if expires is None else round(expires - now, 1),
            "expired": expires is None or expires <= now,
            "owner": {k[len(ANNOTATION_PREFIX):]: v for k, v in annotations.items()
                      if k.startswith(ANNOTATION_PREFIX) and k != STOP_ANNOTATION},
            "stop_requested": stop_request(lease, spec.get("holderIdentity"))}


def stop_request(lease, holder):
    """The stop request written on ``lease`` for run ``holder``, or None (none, or for another run)."""
    annotations = ((lease or {}).get("metadata") or {}).get("annotations") or {}
    try:
        request = json.loads(annotations.get(STOP_ANNOTATION) or "null")
    except ValueError:
        return None
    if not holder or not isinstance(request, dict) or request.get("run_id") != holder:
        return None
    return request


def _without_stop_request(lease):
    """A copy of ``lease`` without a stop request (a run that takes or gives up the Lease clears it)."""
    copy = dict(lease)
    copy["metadata"] = dict(lease.get("metadata") or {})
    annotations = dict(copy["metadata"].get("annotations") or {})
    annotations.pop(STOP_ANNOTATION, None)
    copy["metadata"]["annotations"] = annotations
    return copy


def request_stop(kube, pool_id, reason, now, check_mode=False):
    """Write a stop request for the run holding the pool's live Lease. Returns (changed, lock view
    before the write); changed is False when no run holds it (free or expired) or the request is
    already there. The write carries the resourceVersion just read (a renewal in between: read again)."""
    path = LEASES + kube_path(lease_name(pool_id))
    for _attempt in range(3):
        try:
            lease = kube.get(path)
        except KubeNotFoundError:
            return False, None
        view = lease_view(lease, now)
        if view["holder"] is None or view["expired"] or view["stop_requested"]:
            return False, view
        if check_mode:
            return True, view
        asked = dict(lease)
        asked["metadata"] = dict(lease.get("metadata") or {})
        asked["metadata"]["annotations"] = dict(asked["metadata"].get("annotations") or {}, **{
            STOP_ANNOTATION: json.dumps({"run_id": view["holder"], "reason": reason,
                                         "requested_at": times.iso_micro(now)}, sort_keys=True)})
        try:
            kube.request("PUT", path, body=asked)
            return True, view
        except KubeConflictError:
            continue
    raise PreconditionError("the pool's Lease %s/%s kept changing while the stop request was written; nothing was "
                            "written. Try again." % (NAMESPACE, lease_name(pool_id)))


class PoolLock:
    """Acquire, renew and release the Lease of one pool for one run."""

    def __init__(self, kube, pool_id, holder, duration, owner=None, clock=time.time):
        self.kube = kube
        self.name = lease_name(pool_id)
        self.path = LEASES + kube_path(self.name)
        self.holder = holder
        self.duration = int(duration)
        self.owner = owner or {}
        self.clock = clock
        self.lease = None
        self.renewed_at = None

    def read(self):
        try:
            return self.kube.get(self.path)
        except KubeNotFoundError:
            return None

    def inspect(self):
        lease = self.read()
        return None if lease is None else lease_view(lease, self.clock())

    def _spec(self, acquired):
        now = self.clock()
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.duration,
                "acquireTime": acquired or times.iso_micro(now), "renewTime": times.iso_micro(now)}

    def acquire(self, force=False):
        """Take the Lease (create it, take it over when free or expired, or forced). Raises
        PreconditionError naming the live holder otherwise."""
        lease = self.read()
        if lease is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": NAMESPACE,
                                 "annotations": {ANNOTATION_PREFIX + k: str(v) for k, v in self.owner.items()}},
                    "spec": self._spec(None)}
            try:
                self.lease = self.kube.request("POST", LEASES, body=body)
                self.renewed_at = self.clock()
                return self.lease
            except KubeConflictError:   # another run created it first: judge it like any existing lease
                lease = self.read() or {}
        view = lease_view(lease, self.clock())
        if view["holder"] not in (None, self.holder) and not view["expired"] and not force:
            raise PreconditionError(
                "pool is locked by run %s (Lease %s/%s, renewed %s, expires in %ss). Another rolling upgrade is "
                "in progress; wait for it, or set force_unlock=true if that run is known to be dead."
                % (view["holder"], NAMESPACE, self.name, view["renew_time"], view["expires_in"]),
                details={"lock": view})
        taken = _without_stop_request(lease)
        taken["metadata"]["annotations"] = dict(taken["metadata"].get("annotations") or {},
                                                **{ANNOTATION_PREFIX + k: str(v) for k, v in self.owner.items()})
        keep_acquired = (lease.get("spec") or {}).get("acquireTime") if view["holder"] == self.holder else None
        taken["spec"] = self._spec(keep_acquired)
        try:
            self.lease = self.kube.request("PUT", self.path, body=taken)
        except KubeConflictError:
            raise PreconditionError("another run took the pool's Lease %s/%s at the same moment; not starting."
                                    % (NAMESPACE, self.name), details={"lock": view}) from None
        self.renewed_at = self.clock()
        return self.lease

    def due(self):
        """True when a third of the lease duration has passed since the last renewal."""
        return self.renewed_at is None or self.clock() - self.renewed_at >= self.duration / 3.0

    def renew(self):
        """Renew our Lease; LockLostError when another run holds it now."""
        for _attempt in range(3):
            current = self.lease or self.read()
            if current is None or ((current.get("spec") or {}).get("holderIdentity") != self.holder):
                current = self.read()
            holder = ((current or {}).get("spec") or {}).get("holderIdentity")
            if current is None or holder != self.holder:
                raise LockLostError("the pool's Lease %s/%s is now held by %s, not by this run; stopped launching "
                                    "nodes." % (NAMESPACE, self.name, holder or "nobody"),
                                    details={"lock": lease_view(current, self.clock()) if current else None})
            renewed = dict(current)
            renewed["spec"] = dict(current.get("spec") or {}, renewTime=times.iso_micro(self.clock()),
                                   leaseDurationSeconds=self.duration)
            try:
                self.lease = self.kube.request("PUT", self.path, body=renewed)
                self.renewed_at = self.clock()
                return self.lease
            except KubeConflictError:
                self.lease = None
        raise LockLostError("the pool's Lease %s/%s kept changing under this run; stopped launching nodes."
                            % (NAMESPACE, self.name))

    def release(self):
        """Give the Lease up if we hold it (the object stays, with no holder). True when released."""
        current = self.read()
        if current is None or (current.get("spec") or {}).get("holderIdentity") != self.holder:
            return False
        released = _without_stop_request(current)
        spec = dict(current.get("spec") or {}, leaseDurationSeconds=1, renewTime=times.iso_micro(self.clock()))
        spec.pop("holderIdentity", None)
        released["spec"] = spec
        try:
            self.kube.request("PUT", self.path, body=released)
        except KubeConflictError:
            return False
        self.lease = None
        return True
