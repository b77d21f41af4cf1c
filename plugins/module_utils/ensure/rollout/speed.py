# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The rollout's speed machinery, in one place: the Kubernetes watch and the concurrent requests.

The production need: pools of 1,000+ nodes, upgraded max_unavailable at a time in a maintenance
window. There a poll cycle that lists every Node costs megabytes and a second or more, and
notices a finished node half a poll interval late on average; every such delay holds a slot idle
and adds up over the run's ceil(N / max_unavailable) waves. An informer-style watch (list once,
then follow changes) keeps the Nodes current at no cost while nothing changes and wakes the loop
the moment a node turns Ready; the cycle's few round trips (state writes of the nodes that
changed, GETs of the nodes to confirm, the Node list next to the pod list) go out together, so a
cycle costs one round trip, not one per node. The kubernetes library's deferred import (module
start time, k8s/client.py) serves the same purpose for the short module runs.

Nothing here decides anything: the engine works the same, only slower, without a watch (it polls)
and with one worker (requests in turn).

What each buys, measured 2026-12-06 (bench/run.py --sizes 64 --max-unavailable 8 --methods role
--skip overhead info target jobs, time scale 400: T_node 1.2-3.9 s, mean 2.2 s; one mechanism
switched off per run, the three runs back to back on the same loaded 2-core machine; the engine's
CPU read from its own process):

    run            span ratio  idle s/node  k8s calls/node (GETs)  ModelArts/node  engine CPU s
    as shipped        1.050       0.16          4.44 (114)             1.95           1.81
    no watch          1.124       0.33          5.86 (207)             1.72           1.85
    one worker        1.169       0.44          4.39 (111)             1.86           1.76

At that T_node both matter (the 256-node bench target of a ratio <= 1.05 needs them). At a real
T_node of about 14 minutes, neither buys wall time worth naming (0.2-0.3 s of idle slot per node is
0.03 %); they stay for what they buy there. The watch: the Nodes are listed every 60 s instead of
every cycle (here 207 against 114 GETs for 64 nodes; a Node list of 1,000+ nodes is megabytes the
API server sends and the engine parses each time). The workers: a cycle in which max_unavailable
~100 nodes start (10 % of 1,000) sends ~100 cordons and pod lists in a few round trips, not ~100 in
turn (seconds at real API latency), so the cycle stays short for the Lease renewal and a stop
request. The deferred kubernetes import saves 0.12-0.2 s of CPU at each start of a module with
Kubernetes options (measured: 0.17-0.20 s against 0.30-0.43 s for the plain import); that is module
start time for every such task, nothing for a rollout.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.modelarts.lite.plugins.module_utils.errors import LiteError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import watch as kwatch

# Node writes (or ModelArts GETs) sent at once when several nodes change in one cycle.
MAX_PARALLEL_REQUESTS = 16
# Watch events that arrive together share a cycle: at least this share of the poll interval
# passes between two cycles, however many events come.
MIN_CYCLE_SHARE = 0.1
# Seconds between real node lists while the node watch's cache is in use.
RESYNC_SECONDS = 60.0


def run_all(calls, max_workers=MAX_PARALLEL_REQUESTS):
    """Call every zero-argument callable, concurrently when there are several; returns their
    results in order. Every call runs to its end; then the first error is raised."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]
    return [f.result() for f in futures]


def node_view(node):
    """What the engine decides on: readiness, cordon, driver label, NPUs, our state label. Heartbeat
    and other status updates leave it unchanged, so they do not wake the loop."""
    return (knodes.is_ready(node), knodes.is_cordoned(node), knodes.driver_version(node), knodes.npu_counts(node),
            knodes.labels_of(node).get(L.DRIVER_UPGRADE_STATE))


def node_event_matters(event_type, old, new):
    return event_type != "MODIFIED" or old is None or node_view(old) != node_view(new)


def pod_event_matters(event_type, _old, _new):
    return event_type == "DELETED"      # a drain waits for its evicted pods to be gone


class ClusterWatch:
    """A Node watch whose cache replaces the per-cycle node list, and a pod watch that only wakes
    the loop (an evicted pod gone). ``changes`` is set by either when something that matters
    happened. Without a healthy node watch the engine lists nodes itself."""

    def __init__(self, node_watch=None, changes=None, watches=()):
        self.node_watch = node_watch
        self.changes = changes
        self.watches = list(watches)

    @classmethod
    def start(cls, kube, warn):
        """Both watches; one that cannot start leaves the run to poll: slower, never wrong."""
        changes = threading.Event()
        watches = []
        for path, cache, relevant in ((knodes.NODES, True, node_event_matters),
                                      (kdrain.PODS, False, pod_event_matters)):
            try:
                watches.append(kwatch.Watch(kube, path, cache=cache, relevant=relevant, changed=changes).start())
            except LiteError as error:
                warn(path, error)
        node_watch = next((w for w in watches if w.path == knodes.NODES), None)
        return cls(node_watch, changes, watches)

    def stop(self):
        for watch in self.watches:
            watch.stop()

    def nodes(self):
        """The cached Nodes, or None while the node watch is not healthy (or there is none)."""
        return self.node_watch.snapshot() if self.node_watch is not None else None

    def cycle_started(self):
        if self.changes is not None:
            self.changes.clear()      # an event from now on asks for another cycle

    def pause(self, interval, cycle_start, clock, sleep):
        """Until the poll interval is up, or (with watches) until a change that matters arrives,
        but never less than MIN_CYCLE_SHARE of the interval after the last cycle began."""
        remaining = interval - (clock() - cycle_start)
        if self.changes is None:
            sleep(max(0.0, remaining))
            return
        if remaining > 0:
            self.changes.wait(remaining)
        sleep(max(0.0, interval * MIN_CYCLE_SHARE - (clock() - cycle_start)))


def fresher(cached, own):
    """The watch's nodes, except where our own last write answered with a later version that the
    watch has not delivered yet (a stale copy would only cost a 409 and a re-read)."""
    return [own[n["metadata"]["name"]] if kwatch.newer(own.get(n["metadata"]["name"]), n) else n for n in cached]
