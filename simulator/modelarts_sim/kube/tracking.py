"""Change tracking of the simulated cluster (a mixin of Cluster): store listeners keep each
controller's pod tally, each budget's members and each loop's work list in step with every write,
so a control-loop pass costs what changed, not the size of the pool."""
import heapq
from typing import Dict, List, Optional, Set, Tuple

from .podfacts import NO_PODS, Budget, DaemonView, PodFacts, Tally, controller_uid, pod_facts


class ChangeTracking:
    def _rebuild_tracking(self) -> None:
        """Derive the tallies, budgets and timers from the store and node_state afresh, and put
        every object on its loop's work list: the next pass is a full one."""
        self._pod_facts: Dict[Tuple[str, str], PodFacts] = {}
        self._tallies: Dict[Tuple[str, str], Tally] = {}      # (namespace, controller uid) -> tally
        self._budgets: Dict[str, Dict[str, Budget]] = {}      # namespace -> PDB name -> budget
        self._daemon_views: Dict[str, DaemonView] = {}        # DaemonSet uid -> view
        self._controllers: Set[str] = set()                     # uids of ReplicaSets and DaemonSets
        self._own_status_write = False                          # see _save_status
        # Each loop's work list, taken when the loop starts, so what an earlier loop of the same
        # pass writes is seen by the later ones, as in a full pass.
        self._dirty_deployments: Set[str] = set()    # Deployment uids, or uids of their ReplicaSets
        self._dirty_replica_sets: Set[str] = set()
        self._dirty_daemon_sets: Set[str] = set()
        self._dirty_budgets: Set[str] = set()        # namespaces
        self._ready_timers: List[Tuple[float, str]] = []        # (ready_at, node): lazily validated
        self._pods_looked_at: Tuple[int, int] = (-1, -1)        # _pod_inputs() when _advance_pods last ran
        self._loads: Dict[str, int] = {}                        # see _set_load
        self._load_order: List[Tuple[int, str]] = []
        for key, pod in list(self.store.objects.get(self.kind("Pod").key, {}).items()):
            self._pod_written(key, pod, False)
        for kind, listener in (("Deployment", self._deployment_written), ("ReplicaSet", self._replica_set_written),
                               ("DaemonSet", self._daemon_set_written),
                               ("PodDisruptionBudget", self._budget_written)):
            for key, obj in list(self.store.objects.get(self.kind(kind).key, {}).items()):
                listener(key, obj, False)
        for node in self.nodes():
            self._node_written(("", node["metadata"]["name"]), node, False)
        for name, state in self.node_state.items():
            self._set_ready_at(name, state.get("ready_at"))
        self._next_due = float("-inf")

    def _pod_written(self, key: Tuple[str, str], pod: dict, removed: bool) -> None:
        old = self._pod_facts.pop(key, None)
        new = None if removed else pod_facts(pod)
        old_node, new_node = old.node if old else None, new.node if new else None
        if old_node != new_node:
            if old_node in self._loads:
                self._set_load(old_node, self._loads[old_node] - 1)
            if new_node in self._loads:
                self._set_load(new_node, self._loads[new_node] + 1)
        for facts, sign in ((old, -1), (new, 1)):
            if facts is None:
                continue
            if facts.owner is not None:
                if facts.active:
                    tally = self._tallies.get((key[0], facts.owner))
                    if tally is None:
                        tally = self._tallies[(key[0], facts.owner)] = Tally()
                    tally.add(facts, sign)
                    if not tally.active:
                        del self._tallies[(key[0], facts.owner)]
                self._dirty_deployments.add(facts.owner)
                self._dirty_replica_sets.add(facts.owner)
                self._dirty_daemon_sets.add(facts.owner)
            for view in self._daemon_views.values():
                view.check.add(facts.node)       # NPUs in use there changed, or its node is gone
        if new is not None:
            self._pod_facts[key] = new
        budgets = self._budgets.get(key[0])
        if budgets:
            for budget in budgets.values():
                budget.put(key, None if removed else pod, new)
            self._dirty_budgets.add(key[0])

    def _node_written(self, key: Tuple[str, str], node: dict, removed: bool) -> None:
        name = key[1]
        if removed:
            self._set_load(name, None)
        elif name not in self._loads:
            self._set_load(name, self.store.index_size(self.kind("Pod"), "node", name))
        for view in self._daemon_views.values():
            view.check.add(name)

    # A controller's write of its own object's status changes nothing its loop reads (the loop
    # computed it), so it does not put the object back on the loop's work list.

    def _deployment_written(self, key: Tuple[str, str], deployment: dict, removed: bool) -> None:
        if not self._own_status_write:
            self._dirty_deployments.add(deployment["metadata"]["uid"])
        self._dirty_budgets.add(key[0])           # a PDB's expected pods follow spec.replicas

    def _replica_set_written(self, key: Tuple[str, str], replica_set: dict, removed: bool) -> None:
        uid = replica_set["metadata"]["uid"]
        if removed:
            self._controllers.discard(uid)
        else:
            self._controllers.add(uid)
        if not self._own_status_write:
            self._dirty_replica_sets.add(uid)
            self._dirty_deployments.add(uid)
            parent = controller_uid(replica_set)
            if parent is not None:
                self._dirty_deployments.add(parent)
        self._dirty_budgets.add(key[0])

    def _daemon_set_written(self, key: Tuple[str, str], daemon_set: dict, removed: bool) -> None:
        uid = daemon_set["metadata"]["uid"]
        if removed:
            self._controllers.discard(uid)
            self._daemon_views.pop(uid, None)
        else:
            self._controllers.add(uid)
        if not self._own_status_write:
            self._dirty_daemon_sets.add(uid)
        self._dirty_budgets.add(key[0])           # expected pods follow status.desiredNumberScheduled

    def _budget_written(self, key: Tuple[str, str], pdb: dict, removed: bool) -> None:
        budgets = self._budgets.setdefault(key[0], {})
        if removed:
            budgets.pop(key[1], None)
        elif key[1] not in budgets or budgets[key[1]].spec != pdb.get("spec"):
            budget = budgets[key[1]] = Budget(pdb)
            for pod in self.store.iter(self.kind("Pod"), key[0]):
                pod_key = (key[0], pod["metadata"]["name"])
                budget.put(pod_key, pod, self._pod_facts[pod_key])
        if not budgets:
            del self._budgets[key[0]]
        if not self._own_status_write:
            self._dirty_budgets.add(key[0])

    def _set_ready_at(self, name: str, when: Optional[float]) -> None:
        """Arm (or, with None, disarm) the node's kubelet timer: it turns Ready at `when`."""
        self.node_state[name]["ready_at"] = when
        if when is not None:
            heapq.heappush(self._ready_timers, (when, name))
            self._next_due = min(self._next_due, when)

    def _tally(self, namespace: str, uid: str) -> Tally:
        return self._tallies.get((namespace, uid), NO_PODS)
