"""The workload controllers of the simulated cluster (a mixin of Cluster): Deployment ->
ReplicaSet -> Pods, DaemonSets, PodDisruptionBudget status, and garbage collection of dependents."""
import hashlib
import json
from typing import Dict, List, Optional, Set, Tuple

from . import disruption
from .resources import ResourceType
from .store import clone, rfc3339
from .podfacts import DAEMON_TOLERATIONS, Budget, DaemonView, controller_of, controller_uid, is_active, pod_node


class WorkloadControllers:
    def _owned(self, kind: str, owner: dict, namespace: str) -> List[dict]:
        resource = self.kind(kind)
        uid = owner["metadata"]["uid"]
        if self.store.has_index(resource, "controller"):
            return [o for o in self.store.indexed(resource, "controller", uid)
                    if o["metadata"].get("namespace") == namespace]
        return [o for o in self.store.iter(resource, namespace) if controller_uid(o) == uid]

    @staticmethod
    def _reference(owner: dict) -> dict:
        return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

    def _save_status(self, resource: ResourceType, obj: dict, status: dict) -> None:
        if obj.get("status") != status:
            obj["status"] = status
            self._own_status_write = True
            try:
                self.store.commit(resource, obj)
            finally:
                self._own_status_write = False

    def _run_deployments(self) -> None:
        dirty, self._dirty_deployments = self._dirty_deployments, set()
        if not dirty:
            return
        replica_sets = self.kind("ReplicaSet")
        for deployment in list(self.store.iter(self.kind("Deployment"))):
            if deployment["metadata"].get("deletionTimestamp"):
                continue
            namespace = deployment["metadata"]["namespace"]
            owned = self._owned("ReplicaSet", deployment, namespace)
            if deployment["metadata"]["uid"] not in dirty and not any(
                    rs["metadata"]["uid"] in dirty for rs in owned):
                continue      # neither it, its ReplicaSets nor their pods changed
            spec = deployment.get("spec") or {}
            template = spec.get("template") or {}
            template_hash = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
            replicas = spec.get("replicas", 1)
            current = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get(
                "pod-template-hash") == template_hash), None)
            if current is None:
                labels = dict((template.get("metadata") or {}).get("labels") or {}, **{
                    "pod-template-hash": template_hash})
                rs_template = clone(template)
                rs_template.setdefault("metadata", {})["labels"] = labels
                selector = clone(spec.get("selector") or {})
                selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash
                self.store.create(replica_sets, namespace, {
                    "metadata": {"name": f'{deployment["metadata"]["name"]}-{template_hash}', "labels": labels,
                                 "annotations": {"deployment.kubernetes.io/revision": "1"},
                                 "ownerReferences": [self._reference(deployment)]},
                    "spec": {"replicas": replicas, "selector": selector, "template": rs_template}})
            else:
                if current["spec"].get("replicas") != replicas:
                    current["spec"]["replicas"] = replicas
                    current["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
                    self.store.commit(replica_sets, current)
            for old in owned:
                if old is not current and old["spec"].get("replicas", 0) != 0:
                    old["spec"]["replicas"] = 0
                    self.store.commit(replica_sets, old)
            tallies = [self._tally(namespace, rs["metadata"]["uid"])
                       for rs in self._owned("ReplicaSet", deployment, namespace)]
            active = sum(t.active for t in tallies)
            ready = sum(t.ready for t in tallies)
            status = {"observedGeneration": deployment["metadata"].get("generation", 1), "replicas": active,
                      "updatedReplicas": active, "readyReplicas": ready, "availableReplicas": ready,
                      "conditions": [
                          {"type": "Available", "status": "True" if ready >= replicas else "False",
                           "reason": "MinimumReplicasAvailable" if ready >= replicas
                           else "MinimumReplicasUnavailable",
                           "message": "Deployment has minimum availability." if ready >= replicas
                           else "Deployment does not have minimum availability."},
                          {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                           "message": f'ReplicaSet "{deployment["metadata"]["name"]}-{template_hash}" has '
                                      "successfully progressed."}]}
            if active - ready:
                status["unavailableReplicas"] = active - ready
            for field in ("readyReplicas", "availableReplicas"):
                if not status[field]:
                    status.pop(field)
            self._save_status(self.kind("Deployment"), deployment, status)

    def _template_pod(self, owner: dict, name_prefix: str) -> dict:
        template = clone((owner.get("spec") or {}).get("template") or {})
        metadata = template.get("metadata") or {}
        return {"metadata": {"generateName": f"{name_prefix}-", "labels": metadata.get("labels") or {},
                             "annotations": metadata.get("annotations") or {},
                             "ownerReferences": [self._reference(owner)]},
                "spec": template.get("spec") or {}}

    def _replacement_due(self, owner: dict, now: float, missing: bool) -> bool:
        """True when pods are missing and the controller's reaction delay after losing one has
        passed; a delay that ran out while nothing was missing is forgotten."""
        uid = owner["metadata"]["uid"]
        due = self.replacement_due.get(uid)
        if due is not None and now >= due:
            del self.replacement_due[uid]
            due = None
        return missing and due is None

    def _wants_visit(self, owner: dict, dirty: Set[str], now: float) -> bool:
        """A controller's loop looks at an owner whose inputs changed or whose reaction delay ran
        out (the delay is forgotten then, see _replacement_due)."""
        uid = owner["metadata"]["uid"]
        due = self.replacement_due.get(uid)
        return uid in dirty or (due is not None and now >= due)

    def _run_replicasets(self, now: float) -> None:
        dirty, self._dirty_replica_sets = self._dirty_replica_sets, set()
        resource = self.kind("ReplicaSet")
        for replica_set in list(self.store.iter(resource)):
            if not self._wants_visit(replica_set, dirty, now):
                continue
            namespace = replica_set["metadata"]["namespace"]
            uid = replica_set["metadata"]["uid"]
            replicas = (replica_set.get("spec") or {}).get("replicas", 1)
            active = self._tally(namespace, uid).active
            if self._replacement_due(replica_set, now, active < replicas):
                for _ in range(replicas - active):
                    self.create_pod(namespace, self._template_pod(replica_set, replica_set["metadata"]["name"]))
            elif active > replicas:
                pods = [p for p in self._owned("Pod", replica_set, namespace) if is_active(p)]
                surplus = sorted(pods, key=lambda p: (disruption.pod_is_ready(p), p["metadata"]["name"]))
                for pod in surplus[:active - replicas]:
                    self.delete_pod(namespace, pod["metadata"]["name"], reason="scaled down")
            tally = self._tally(namespace, uid)
            status = {"replicas": tally.active, "fullyLabeledReplicas": tally.active, "readyReplicas": tally.ready,
                      "availableReplicas": tally.ready,
                      "observedGeneration": replica_set["metadata"].get("generation", 1)}
            for field in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
                if not status[field]:
                    status.pop(field)
            self._save_status(resource, replica_set, status)

    @staticmethod
    def _daemon_probe(daemon_set: dict) -> dict:
        """The pod shape the DaemonSet controller checks nodes with (its template plus the
        tolerations it adds)."""
        pod = {"spec": dict((daemon_set["spec"].get("template") or {}).get("spec") or {})}
        pod["spec"]["tolerations"] = list(pod["spec"].get("tolerations") or []) + DAEMON_TOLERATIONS
        return pod

    def _daemon_view(self, daemon_set: dict, covered: Dict[Optional[str], int]) -> DaemonView:
        """The DaemonSet's eligible and missing Nodes, brought up to date: all Nodes are checked
        for a new pod template, only the changed ones otherwise."""
        uid = daemon_set["metadata"]["uid"]
        template = json.dumps((daemon_set.get("spec") or {}).get("template"), sort_keys=True)
        view = self._daemon_views.get(uid)
        if view is None or view.template != template:
            view = self._daemon_views[uid] = DaemonView(template, self._daemon_probe(daemon_set))
            view.eligible = {n["metadata"]["name"] for n in self.nodes()
                             if self._fits(view.probe, n, ignore_unschedulable=True)}
            view.missing = view.eligible.difference(covered)
            view.check = set(covered)      # its pods' nodes are all worth a look for being gone
            return view
        for name in view.check:
            node = self.store.find(self.kind("Node"), None, name) if name is not None else None
            if node is not None and self._fits(view.probe, node, ignore_unschedulable=True):
                view.eligible.add(name)
                if name in covered:
                    view.missing.discard(name)
                else:
                    view.missing.add(name)
            else:
                view.eligible.discard(name)
                view.missing.discard(name)
        return view

    def _run_daemonsets(self, now: float) -> None:
        dirty, self._dirty_daemon_sets = self._dirty_daemon_sets, set()
        resource = self.kind("DaemonSet")
        for daemon_set in list(self.store.iter(resource)):
            uid = daemon_set["metadata"]["uid"]
            view = self._daemon_views.get(uid)
            if view is not None and not view.check and not self._wants_visit(daemon_set, dirty, now):
                continue
            namespace = daemon_set["metadata"]["namespace"]
            covered = self._tally(namespace, uid).nodes
            view = self._daemon_view(daemon_set, covered)
            checked, view.check = view.check, set()
            if self._replacement_due(daemon_set, now, bool(view.missing)):
                for name in sorted(view.missing):
                    pod = self._template_pod(daemon_set, daemon_set["metadata"]["name"])
                    pod["spec"]["nodeName"] = name
                    pod["spec"]["tolerations"] = list(pod["spec"].get("tolerations") or []) + DAEMON_TOLERATIONS
                    self.create_pod(namespace, pod)
            # Pods on Nodes that are gone (only a changed node can have gone), in the order a
            # full scan of the DaemonSet's pods meets them.
            gone = {name for name in checked if name in covered and name not in view.eligible
                    and (name is None or self.store.find(self.kind("Node"), None, name) is None)}
            if gone:
                by_node: Dict[Optional[str], List[dict]] = {}
                for pod in self._owned("Pod", daemon_set, namespace):
                    if is_active(pod) and pod_node(pod) in gone:
                        by_node.setdefault(pod_node(pod), []).append(pod)
                for node_pods in by_node.values():
                    for pod in node_pods:
                        self._remove_pod(pod, reason="node gone")
            tally = self._tally(namespace, uid)
            eligible = len(view.eligible)
            status = {"currentNumberScheduled": tally.active, "desiredNumberScheduled": eligible,
                      "numberMisscheduled": 0, "numberReady": tally.ready, "numberAvailable": tally.ready,
                      "updatedNumberScheduled": tally.active,
                      "observedGeneration": daemon_set["metadata"].get("generation", 1)}
            if eligible - tally.ready > 0:
                status["numberUnavailable"] = eligible - tally.ready
            self._save_status(resource, daemon_set, status)

    def _scale_of_ref(self, namespace: str, kind: str, name: str, uid: str) -> Optional[Tuple[str, int]]:
        """(controller uid, its desired replicas) for a pod's controller reference, as the
        disruption controller finds it; None when its ReplicaSet is gone."""
        if kind == "ReplicaSet":
            replica_set = self.store.find(self.kind("ReplicaSet"), namespace, name)
            if replica_set is None:
                return None
            parent = controller_of(replica_set)
            if parent is not None and parent.get("kind") == "Deployment":
                deployment = self.store.find(self.kind("Deployment"), namespace, parent["name"])
                if deployment is not None:
                    return deployment["metadata"]["uid"], deployment["spec"].get("replicas", 1)
            return replica_set["metadata"]["uid"], replica_set["spec"].get("replicas", 1)
        if kind == "DaemonSet":
            daemon_set = self.store.find(self.kind("DaemonSet"), namespace, name)
            if daemon_set is not None:
                return uid, (daemon_set.get("status") or {}).get("desiredNumberScheduled", 0)
        return uid, 1

    def _expected_pods(self, namespace: str, budget: Budget) -> int:
        """A PDB's expected pods: the sum of its pods' controllers' scales, one per pod without
        (disruption.expected_pods, from the budget's tally)."""
        scales: Dict[str, int] = {}
        unscaled = 0
        for ref, count in budget.owners.items():
            scale = self._scale_of_ref(namespace, *ref) if ref is not None else None
            if scale is None:
                unscaled += count
            else:
                scales[scale[0]] = scale[1]
        return sum(scales.values()) + unscaled

    def refresh_budgets(self) -> None:
        """The disruption controller: status of the PDBs whose pods, controllers or spec changed."""
        dirty, self._dirty_budgets = self._dirty_budgets, set()
        if not dirty:
            return
        now = rfc3339(self.clock())
        resource = self.kind("PodDisruptionBudget")
        for pdb in list(self.store.iter(resource)):
            namespace = pdb["metadata"]["namespace"]
            if namespace not in dirty:
                continue
            budget = self._budgets[namespace][pdb["metadata"]["name"]]
            status = disruption.status_from_counts(pdb, len(budget.members), budget.healthy,
                                                   lambda: self._expected_pods(namespace, budget), now)
            # Keep the record of pods this controller still sees as being disrupted.
            disrupted = {name: when for name, when in ((pdb.get("status") or {}).get("disruptedPods") or {}).items()
                         if self.store.find(self.kind("Pod"), namespace, name) is not None}
            if disrupted:
                status["disruptedPods"] = disrupted
            self._save_status(resource, pdb, status)

    # ---- deletion of owners ---------------------------------------------------------------------

    def delete_dependents(self, owner: dict, orphan: bool) -> None:
        """Garbage collector: remove (or orphan) everything whose ownerReferences name `owner`."""
        uid = owner["metadata"]["uid"]
        for resource in self.registry.types.values():
            if not resource.namespaced:
                continue
            for obj in list(self.store.iter(resource, owner["metadata"].get("namespace") or None)):
                references = obj["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == uid for r in references):
                    continue
                if orphan:
                    obj["metadata"]["ownerReferences"] = [r for r in references if r.get("uid") != uid]
                    self.store.commit(resource, obj)
                elif resource.kind == "Pod":
                    self.delete_pod(obj["metadata"]["namespace"], obj["metadata"]["name"], reason="owner deleted")
                else:
                    self.store.remove(resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
                    self.delete_dependents(obj, orphan=False)
