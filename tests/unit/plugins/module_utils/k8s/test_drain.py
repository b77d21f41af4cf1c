"""Drain planning (kubectl's pod rules) and the PDB-aware eviction state machine, with a fake API."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    DrainBlockedError,
    PreconditionError,
    WaitTimeoutError,
)
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import drain
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeApiError, error_from_response


def pod(name, owner=None, namespace="default", labels=None, empty_dir=False, phase="Running", mirror=False,
        deleting=False, node="10.0.0.1"):
    metadata = {"name": name, "namespace": namespace, "uid": "uid-" + name, "labels": labels or {"app": name}}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner, "name": owner.lower() + "-x", "controller": True}]
    if mirror:
        metadata["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    spec = {"nodeName": node, "containers": [{"name": "c"}]}
    if empty_dir:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    return {"metadata": metadata, "spec": spec, "status": {"phase": phase}}


def actions(plan):
    return {action: [e["pod"] for e in entries] for action, entries in plan.items() if entries}


def test_kubectl_rules_in_kubectl_order():
    pods = [pod("ds", "DaemonSet"), pod("static", mirror=True), pod("web", "ReplicaSet"),
            pod("bare"), pod("scratch", "ReplicaSet", empty_dir=True), pod("bare-scratch", empty_dir=True),
            pod("done", phase="Succeeded"), pod("done-scratch", phase="Failed", empty_dir=True),
            pod("going", "ReplicaSet", deleting=True)]
    plan = drain.plan_drain(pods)
    assert actions(plan) == {
        "skip": ["default/ds", "default/static"],
        "evict": ["default/done", "default/done-scratch", "default/web"],
        "refuse": ["default/bare", "default/bare-scratch", "default/scratch"],
        "wait": ["default/going"],
    }
    reasons = {e["pod"]: e["reason"] for e in plan["refuse"]}
    assert "force=true" in reasons["default/bare"]
    # Local storage is checked before the controller, as kubectl does: one reason per pod.
    assert "delete_emptydir_data=true" in reasons["default/bare-scratch"]


def test_opt_ins_turn_refusals_into_evictions():
    pods = [pod("bare"), pod("scratch", "ReplicaSet", empty_dir=True), pod("bare-scratch", empty_dir=True)]
    assert actions(drain.plan_drain(pods, force=True)) == {
        "evict": ["default/bare"], "refuse": ["default/bare-scratch", "default/scratch"]}
    assert actions(drain.plan_drain(pods, force=True, delete_emptydir_data=True)) == {
        "evict": ["default/bare", "default/bare-scratch", "default/scratch"]}


def test_pdb_matching_selectors_and_namespace():
    pdbs = [{"metadata": {"name": "web-pdb", "namespace": "default"},
             "spec": {"selector": {"matchLabels": {"app": "web"}}}, "status": {"disruptionsAllowed": 0}},
            {"metadata": {"name": "other-ns", "namespace": "prod"}, "spec": {"selector": {}}},
            {"metadata": {"name": "expr", "namespace": "default"},
             "spec": {"selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]}},
             "status": {"disruptionsAllowed": 1}}]
    plan = drain.plan_drain([pod("web-1", "ReplicaSet", labels={"app": "web"}),
                             pod("db-1", "StatefulSet", labels={"tier": "db"}),
                             pod("free", "ReplicaSet", labels={"app": "free"})], pdbs)
    by_pod = {e["pod"]: e for e in plan["evict"]}
    assert by_pod["default/web-1"]["pdb"] == "default/web-pdb" and by_pod["default/web-1"]["disruptions_allowed"] == 0
    assert by_pod["default/db-1"]["pdb"] == "default/expr"
    assert "pdb" not in by_pod["default/free"]
    assert drain.selector_matches({}, {"a": "b"}) is True      # policy/v1: empty selects all
    assert drain.selector_matches(None, {"a": "b"}) is False


class FakeKube:
    """Evictions answer from a script per pod; evicted pods vanish after `terminate_after` passes."""

    def __init__(self, pods, refusals=None, terminate_after=1):
        self.pods = {p["metadata"]["name"]: p for p in pods}
        self.refusals = dict(refusals or {})      # pod name -> number of 429s before it is allowed
        self.terminate_after = terminate_after
        self.evicted = {}
        self.calls = []

    def request(self, method, path, query=None, body=None, content_type=None, retry_throttled=True):
        assert method == "POST" and path.endswith("/eviction") and retry_throttled is False
        name = body["metadata"]["name"]
        self.calls.append(name)
        if self.refusals.get(name):
            self.refusals[name] -= 1
            raise error_from_response("POST", path, 429, '{"kind":"Status","code":429,"reason":"TooManyRequests",'
                                      '"message":"Cannot evict pod as it would violate the pod\'s disruption budget.",'
                                      '"details":{"causes":[{"reason":"DisruptionBudget","message":"The disruption '
                                      'budget web-pdb needs 2 healthy pods and has 2 currently"}]}}')
        if name not in self.pods:
            raise error_from_response("POST", path, 404, '{"reason":"NotFound"}')
        self.evicted[name] = 0
        return {}

    def list_items(self, path, query=None):
        for name in list(self.evicted):
            self.evicted[name] += 1
            if self.evicted[name] > self.terminate_after:
                self.pods.pop(name, None)
        return list(self.pods.values())


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_pdb_refusals_are_retried_until_allowed():
    pods = [pod("web-1", "ReplicaSet", labels={"app": "web"}), pod("web-2", "ReplicaSet", labels={"app": "web"})]
    kube = FakeKube(pods, refusals={"web-2": 2})
    clock = Clock()
    job = drain.NodeDrain("10.0.0.1", drain.plan_drain(pods), timeout=60, clock=clock)
    passes = 0
    while not job.step(kube):
        clock.now += 5
        passes += 1
        assert passes < 10
    assert kube.calls == ["web-1", "web-2", "web-2", "web-2"]
    assert job.report()["evicted"] == ["default/web-1", "default/web-2"]
    assert job.blocked == {}


def test_pdb_timeout_names_pod_and_pdb_and_keeps_evicting_nothing_more():
    pods = [pod("web-1", "ReplicaSet", labels={"app": "web"})]
    kube = FakeKube(pods, refusals={"web-1": 1000})
    clock = Clock()
    job = drain.NodeDrain("10.0.0.1", drain.plan_drain(pods), timeout=30, clock=clock)
    with pytest.raises(DrainBlockedError) as caught:
        for _attempt in range(20):
            job.step(kube)
            clock.now += 5
    error = caught.value
    assert isinstance(error, PreconditionError)
    assert error.pod == "default/web-1" and error.pdb == "default/web-pdb" and error.node == "10.0.0.1"
    assert "default/web-1" in str(error) and "default/web-pdb" in str(error) and "stays cordoned" in str(error)
    assert error.to_result()["details"]["blocked"][0]["pdb"] == "default/web-pdb"
    assert kube.evicted == {}


def test_pods_that_never_terminate_time_out_with_last_state():
    pods = [pod("web-1", "ReplicaSet")]
    kube = FakeKube(pods, terminate_after=10 ** 6)
    clock = Clock()
    job = drain.NodeDrain("10.0.0.1", drain.plan_drain(pods), timeout=10, clock=clock)
    with pytest.raises(WaitTimeoutError) as caught:
        for _attempt in range(10):
            job.step(kube)
            clock.now += 5
    assert caught.value.last_state["terminating"] == ["default/web-1"]


def test_gone_pod_counts_as_evicted_and_other_errors_propagate():
    kube = FakeKube([])
    assert drain.evict(kube, "default", "vanished") == (True, None)

    class Broken(FakeKube):
        def request(self, *args, **kwargs):
            raise error_from_response("POST", "/x", 500, '{"message":"more than one PodDisruptionBudget"}')
    with pytest.raises(KubeApiError):
        drain.evict(Broken([]), "default", "p")


def test_nothing_to_evict_is_done_at_once():
    job = drain.NodeDrain("n", drain.plan_drain([pod("ds", "DaemonSet")]), timeout=1)
    assert job.done and job.step(object()) is True


class ListingKube:
    """Answers pod lists like the API server (field selector spec.nodeName=X honoured) and records them."""

    def __init__(self, pods):
        self.pods = pods
        self.lists = []

    def list_items(self, path, query=None):
        selector = (query or {}).get("fieldSelector")
        self.lists.append(selector)
        node = selector.split("=", 1)[1] if selector else None
        return [p for p in self.pods if node is None or p["spec"]["nodeName"] == node]


def pods_on(count):
    return [{"metadata": {"name": "p%d" % index, "namespace": "default"}, "spec": {"nodeName": "n%d" % index}}
            for index in range(count)]


def test_pods_by_node_lists_a_few_nodes_one_by_one_and_many_at_once():
    few = ListingKube(pods_on(40))
    grouped = drain.pods_by_node(few, ["n3", "n1", "n3", "n7"])
    assert {node: [p["metadata"]["name"] for p in pods] for node, pods in grouped.items()} == {
        "n3": ["p3"], "n1": ["p1"], "n7": ["p7"]}
    assert sorted(few.lists) == ["spec.nodeName=n1", "spec.nodeName=n3", "spec.nodeName=n7"]

    many = ListingKube(pods_on(40))
    names = ["n%d" % index for index in range(drain.MAX_NODE_POD_LISTS + 1)]
    grouped = drain.pods_by_node(many, names)
    assert many.lists == [None]          # one cluster-wide list
    assert all([p["metadata"]["name"] for p in grouped[name]] == ["p" + name[1:]] for name in names)


def test_pods_by_node_passes_a_failed_list_on():
    class Failing(ListingKube):
        def list_items(self, path, query=None):
            if query["fieldSelector"].endswith("n2"):
                raise error_from_response("GET", path, 500, '{"message":"etcd timeout"}')
            return super().list_items(path, query)
    with pytest.raises(KubeApiError):
        drain.pods_by_node(Failing(pods_on(4)), ["n1", "n2", "n3"])
