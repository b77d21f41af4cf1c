# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""The engine's three ports to the world. The loop talks to the cluster only through these.

- ClusterReader: read the cluster (Kubernetes Nodes, the pods on draining nodes, ModelArts nodes).
- NodeWriter: write node state (the state label and annotation with the cordon or uncordon, in
  one guarded PATCH per node) and make drain passes (evictions).
- Upgrader: start upgrades (one ModelArts batch-update for the nodes drained in a cycle).
"""

from __future__ import annotations

import json

from ansible_collections.modelarts.lite.plugins.module_utils import times
from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools as api
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import speed
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import groups
from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.machine import (
    DONE,
    FAILED,
    OWNER_PREFIX,
    cordoned_by_rollout,
)
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain as kdrain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes as knodes
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeConflictError

# Nodes confirmed with one GET each; more at once are confirmed with one list of the pool's nodes.
MAX_NODE_SHOWS = 3


class ClusterReader:
    """Read the cluster. Nodes come from the watch's cache while it is healthy (a real list every
    RESYNC_SECONDS all the same), else from a list; pods are listed only for draining nodes."""

    def __init__(self, cloud, kube, pool_id, clock, watch=None):
        self.cloud = cloud
        self.kube = kube
        self.pool_id = pool_id
        self.clock = clock
        self.watch = watch or speed.ClusterWatch()
        self.listed_nodes_at = float("-inf")
        self.cloud_listed_at = None

    def nodes_and_pods(self, draining, own):
        """(Nodes, pods by node of the ``draining`` kube names or None). ``own``: the Nodes as our
        last writes returned them, which win over an older copy from the watch. The pods are
        always listed: a pod scheduled just before a cordon must not be missed."""
        cached = self.watch.nodes()
        if cached is not None and self.clock() - self.listed_nodes_at >= speed.RESYNC_SECONDS:
            cached = None             # now and then a real list: a watch that went quiet cannot fool us long
        if cached is not None:
            return speed.fresher(cached, own), self.pods(draining) if draining else None
        self.listed_nodes_at = self.clock()
        if not draining:
            return knodes.list_nodes(self.kube), None
        nodes, pods = speed.run_all([lambda: knodes.list_nodes(self.kube), lambda: self.pods(draining)])
        return nodes, pods

    def pods(self, kube_names):
        return kdrain.pods_by_node(self.kube, kube_names)

    def cloud_nodes(self, names=None):
        """(ModelArts records by name, whether that is the whole pool): the nodes named, one GET each
        (concurrently) while they are few, else one list of the pool's nodes. On a large pool that
        is far less than a list per node to confirm. ``cloud_listed_at`` is when the last list went out."""
        if names is None or len(names) > MAX_NODE_SHOWS:
            self.cloud_listed_at = self.clock()
            return {r["metadata"]["name"]: r for r in api.list_nodes(self.cloud, self.pool_id)}, True
        records = speed.run_all([lambda name=name: api.get_node(self.cloud, self.pool_id, name) for name in names])
        return dict(zip(names, records)), False


class NodeWriter:
    """Write node state: one guarded PATCH per node carries the state label and annotation, plus
    the cordon (with ownership) or the uncordon (of a rollout's own cordon only)."""

    def __init__(self, kube, run_id, target, wall):
        self.kube = kube
        self.run_id = run_id
        self.target = target
        self.owner = OWNER_PREFIX + run_id
        self.wall = wall

    def state_value(self, track, phase, reason=None):
        return json.dumps({"run": self.run_id, "target": self.target, "phase": phase, "from": track.before,
                           "reason": reason, "updated": times.iso(self.wall())}, sort_keys=True)

    def write(self, node, track, phase, cordon=False, uncordon=False, reason=None, hold=None):
        """The PATCH; ``node`` is the Node as last seen (None: read it). Returns the updated Node.
        ``hold`` True/False adds/removes the queued taint (groups.py); an uncordon, ``done`` or
        ``failed`` removes it too. Safe in a worker thread: it reads no shared state."""
        name = track.kube_name
        node = node or knodes.get_node(self.kube, name)
        for _attempt in range(3):
            patch = None
            if cordon:
                patch = knodes.cordon_patch(node, self.owner, "driver upgrade to %s" % self.target)
            elif uncordon and cordoned_by_rollout(node):
                patch = knodes.uncordon_patch(node)
            patch = patch or {"metadata": {"resourceVersion": (node.get("metadata") or {}).get("resourceVersion")}}
            metadata = patch.setdefault("metadata", {})
            metadata.setdefault("annotations", {})[L.DRIVER_UPGRADE] = self.state_value(track, phase, reason)
            metadata["labels"] = {L.DRIVER_UPGRADE_STATE: phase}
            taints = groups.queued_taints(node, hold if hold is not None
                                          else False if uncordon or phase in (DONE, FAILED) else None)
            if taints is not None:
                patch.setdefault("spec", {})["taints"] = taints or None
            try:
                return knodes.patch_node(self.kube, name, patch)
            except KubeConflictError:
                node = knodes.get_node(self.kube, name)
        raise PreconditionError("node %s kept changing while the rollout wrote its state; stopped." % name)

    def write_all(self, kube_nodes, writes):
        """Several writes at once (``[(track, phase, write kwargs)]``); returns the updated Nodes by
        kube name. Each PATCH is a round trip: sent in turn, 32 launches in one cycle would delay
        every node in flight."""
        nodes = speed.run_all([lambda t=track, p=phase, k=kwargs: self.write(kube_nodes.get(t.kube_name), t, p, **k)
                               for track, phase, kwargs in writes])
        return {track.kube_name: node for (track, _phase, _kwargs), node in zip(writes, nodes)}

    def drain_pass(self, drain, pods):
        """One eviction pass of a NodeDrain; True once the node is drained."""
        return drain.step(self.kube, pods)


class Upgrader:
    """Start upgrades: one ModelArts batch-update call for the nodes given."""

    def __init__(self, cloud, pool_id):
        self.cloud = cloud
        self.pool_id = pool_id

    @staticmethod
    def body(names, target):
        """What the call sends (the simulator's reading of an undocumented wire form, see
        docs/api-contract.md)."""
        return {"nodeNames": list(names), "driver": {"version": target, "updateStrategy": "idle"}}

    def start(self, names, target):
        body = self.body(names, target)
        return api.batch_update_nodes(self.cloud, self.pool_id, body["nodeNames"], driver=body["driver"])
