"""Unit tests of the store, selectors, patches and PDB arithmetic (no HTTP)."""
import pytest

from modelarts_sim.kube import disruption
from modelarts_sim.kube.patch import json_patch, merge_patch, strategic_merge_patch
from modelarts_sim.kube.resources import default_registry
from modelarts_sim.kube.selectors import (fields_match, labels_match, parse_field_selector, parse_label_selector,
                                          selector_from_object)
from modelarts_sim.kube.status import StatusError
from modelarts_sim.kube.store import ObjectStore

LABELS = {"app": "web", "tier": "front", "size": "5"}


@pytest.mark.parametrize("selector, expected", [
    ("app=web", True), ("app==web", True), ("app!=web", False), ("app!=db", True), ("missing!=x", True),
    ("app in (db,web)", True), ("app notin (db,web)", False), ("missing notin (a)", True),
    ("tier", True), ("!tier", False), ("!missing", True), ("missing", False),
    ("app=web,tier in (front, back),!missing", True), ("app=web,tier=back", False),
    ("size>3", True), ("size<3", False),
])
def test_label_selector_operators(selector, expected):
    assert labels_match(parse_label_selector(selector), LABELS) is expected


def test_bad_label_selector_is_a_400():
    with pytest.raises(StatusError) as error:
        parse_label_selector("app in web")
    assert error.value.code == 400 and error.value.reason == "BadRequest"


def test_selector_objects_nil_matches_nothing_empty_matches_all():
    assert labels_match(selector_from_object(None), LABELS) is False
    assert labels_match(selector_from_object({}), LABELS) is True
    expressions = {"matchLabels": {"app": "web"},
                   "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]},
                                        {"key": "gone", "operator": "DoesNotExist"}]}
    assert labels_match(selector_from_object(expressions), LABELS) is True
    assert labels_match(selector_from_object(expressions), {"app": "web", "tier": "back"}) is False


def test_field_selectors():
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "10.0.0.1"},
           "status": {"phase": "Running"}}
    fields = ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase")
    assert fields_match(parse_field_selector("spec.nodeName=10.0.0.1,status.phase!=Failed", fields), pod)
    assert not fields_match(parse_field_selector("spec.nodeName==10.0.0.2", fields), pod)
    assert not fields_match(parse_field_selector("status.phase!=Running", fields), pod)
    node = {"metadata": {"name": "n"}, "spec": {}}
    assert fields_match(parse_field_selector("spec.unschedulable=false", ("spec.unschedulable",)), node)
    with pytest.raises(StatusError) as error:
        parse_field_selector("spec.bogus=1", fields)
    assert error.value.code == 400 and "field label not supported: spec.bogus" in error.value.message


def test_merge_patch_deletes_with_null():
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": None, "d": 3}, "l": [3]}) == \
        {"a": {"c": 2, "d": 3}, "l": [3]}


def test_strategic_merge_patch_strategies():
    node = {"spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"},
                                      {"type": "DiskPressure", "status": "False"}]},
            "metadata": {"finalizers": ["x"], "labels": {"keep": "1", "drop": "1"}}}
    patched = strategic_merge_patch(node, {
        "spec": {"taints": [{"key": "b", "effect": "NoExecute"}], "unschedulable": True},
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
        "metadata": {"finalizers": ["y"], "labels": {"drop": None}}})
    assert patched["spec"]["taints"] == [{"key": "b", "effect": "NoExecute"}]      # no merge key: replaced
    assert patched["spec"]["unschedulable"] is True
    conditions = {c["type"]: c["status"] for c in patched["status"]["conditions"]}
    assert conditions == {"Ready": "False", "DiskPressure": "False"}
    assert patched["metadata"]["finalizers"] == ["x", "y"]
    assert patched["metadata"]["labels"] == {"keep": "1"}
    removed = strategic_merge_patch(patched, {"status": {"conditions": [{"type": "Ready", "$patch": "delete"}]},
                                              "$setElementOrder/x": []})
    assert [c["type"] for c in removed["status"]["conditions"]] == ["DiskPressure"]


def test_json_patch_operations_and_failed_test():
    document = {"metadata": {"labels": {"a/b": "1"}}, "spec": {"list": [1, 2]}}
    patched = json_patch(document, [
        {"op": "add", "path": "/spec/list/-", "value": 3},
        {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"},
        {"op": "copy", "from": "/spec/list", "path": "/spec/copy"},
        {"op": "remove", "path": "/spec/list/0"},
        {"op": "test", "path": "/spec/copy", "value": [1, 2, 3]}])
    assert patched == {"metadata": {"labels": {"a/b": "2"}}, "spec": {"list": [2, 3], "copy": [1, 2, 3]}}
    assert document["spec"]["list"] == [1, 2]                     # the original is untouched
    with pytest.raises(StatusError) as error:
        json_patch(document, [{"op": "test", "path": "/spec/list", "value": []}])
    assert error.value.code == 422


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def store():
    registry = default_registry()
    store = ObjectStore(registry, Clock())
    store.create(registry.find("", "v1", "namespaces"), None, {"metadata": {"name": "default"}})
    return store


def test_store_versions_conflicts_and_status_bodies(store):
    pods = store.registry.find("", "v1", "pods")
    created = store.create(pods, "default", {"metadata": {"generateName": "web-"}, "spec": {"containers": []}})
    name = created["metadata"]["name"]
    assert name.startswith("web-") and len(name) == len("web-") + 5
    assert created["metadata"]["uid"] and created["metadata"]["creationTimestamp"] == "2023-11-14T22:13:20Z"
    first = int(created["metadata"]["resourceVersion"])
    updated = store.patch(pods, "default", name, "application/merge-patch+json", {"metadata": {"labels": {"a": "b"}}})
    assert int(updated["metadata"]["resourceVersion"]) > first
    with pytest.raises(StatusError) as error:
        store.update(pods, "default", name, created)          # carries the old resourceVersion
    body = error.value.body()
    assert body["code"] == 409 and body["reason"] == "Conflict" and body["kind"] == "Status"
    assert body["details"] == {"name": name, "kind": "pods"}
    with pytest.raises(StatusError):
        store.patch(pods, "default", name, "application/merge-patch+json",
                    {"metadata": {"resourceVersion": str(first)}})
    with pytest.raises(StatusError) as error:
        store.get(pods, "default", "nope")
    assert error.value.body() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": 'pods "nope" not found', "reason": "NotFound",
                                  "details": {"name": "nope", "kind": "pods"}, "code": 404}
    with pytest.raises(StatusError) as error:
        store.create(pods, "missing-ns", {"metadata": {"name": "x"}})
    assert error.value.code == 404 and 'namespaces "missing-ns" not found' in error.value.message


def test_store_keeps_status_on_main_resource_updates_and_bumps_generation(store):
    deployments = store.registry.find("apps", "v1", "deployments")
    created = store.create(deployments, "default", {"metadata": {"name": "d"}, "spec": {"replicas": 1}})
    stored = store.find(deployments, "default", "d")
    stored["status"] = {"replicas": 1}
    store.save(deployments, stored)
    updated = store.update(deployments, "default", "d", {"metadata": {"name": "d"}, "spec": {"replicas": 2},
                                                         "status": {"replicas": 99}})
    assert updated["status"] == {"replicas": 1}
    assert updated["metadata"]["generation"] == created["metadata"]["generation"] + 1
    status_only = store.update(deployments, "default", "d", {"metadata": {}, "spec": {"replicas": 7},
                                                             "status": {"replicas": 2}}, subresource="status")
    assert status_only["spec"]["replicas"] == 2 and status_only["status"] == {"replicas": 2}


def test_store_round_trips_through_plain_state(store):
    configmaps = store.registry.find("", "v1", "configmaps")
    store.create(configmaps, "default", {"metadata": {"name": "c"}, "data": {"k": "v"}})
    state = store.to_state()
    restored = ObjectStore(store.registry, Clock())
    restored.load_state(state)
    assert restored.get(configmaps, "default", "c") == store.get(configmaps, "default", "c")
    assert restored.resource_version == store.resource_version
    later = restored.create(configmaps, "default", {"metadata": {"name": "d"}})
    assert int(later["metadata"]["resourceVersion"]) == store.resource_version + 1


def _pod(name, labels, ready=True, deleting=False, owner=None):
    pod = {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": labels},
           "spec": {"nodeName": "n1"},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    if owner:
        pod["metadata"]["ownerReferences"] = [{"uid": owner, "controller": True, "kind": "ReplicaSet"}]
    return pod


def _pdb(spec):
    return {"metadata": {"name": "budget", "namespace": "default", "generation": 1},
            "spec": dict(spec, selector={"matchLabels": {"app": "web"}})}


@pytest.mark.parametrize("spec, expected, desired, allowed", [
    ({"minAvailable": 2}, 3, 2, 1),
    ({"minAvailable": 3}, 3, 3, 0),
    ({"minAvailable": "50%"}, 4, 2, 1),        # 4 replicas desired, 3 healthy
    ({"minAvailable": "51%"}, 4, 3, 0),        # rounds up
    ({"maxUnavailable": 1}, 4, 3, 0),
    ({"maxUnavailable": "50%"}, 4, 2, 1),
    ({"maxUnavailable": "30%"}, 4, 2, 1),      # ceil(1.2) = 2 unavailable allowed
])
def test_pdb_status_arithmetic(spec, expected, desired, allowed):
    pods = [_pod("a", {"app": "web"}, owner="rs"), _pod("b", {"app": "web"}, owner="rs"),
            _pod("c", {"app": "web"}, owner="rs"), _pod("d", {"app": "web"}, ready=False, owner="rs"),
            _pod("other", {"app": "db"}, owner="rs2")]
    if isinstance(spec.get("minAvailable"), int):
        pods = pods[:3] + pods[4:]
    status = disruption.compute_status(_pdb(spec), pods, lambda pod: ("rs", 4), "now")
    assert (status["expectedPods"], status["desiredHealthy"], status["disruptionsAllowed"]) == \
        (expected, desired, allowed)
    assert status["currentHealthy"] == 3


def test_eviction_refused_with_the_real_status_body():
    pdb = _pdb({"minAvailable": 2})
    pods = [_pod("a", {"app": "web"}), _pod("b", {"app": "web"}, deleting=True)]
    pdb["status"] = disruption.compute_status(pdb, pods, lambda pod: None, "now")
    with pytest.raises(StatusError) as error:
        disruption.budget_blocks_eviction(pods[0], [pdb])
    assert error.value.body() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Cannot evict pod as it would violate the pod's disruption budget.",
        "reason": "TooManyRequests", "code": 429,
        "details": {"causes": [{"reason": "DisruptionBudget",
                                "message": "The disruption budget budget needs 2 healthy pods and has 1 currently"}]}}
    # A pod that is already terminating, and a pod without a budget, go without consuming one.
    assert disruption.budget_blocks_eviction(pods[1], [pdb]) is None
    assert disruption.budget_blocks_eviction(pods[0], []) is None


def test_eviction_of_unready_pod_and_of_pod_with_two_budgets():
    pdb = _pdb({"minAvailable": 1})
    pods = [_pod("a", {"app": "web"}), _pod("sick", {"app": "web"}, ready=False)]
    pdb["status"] = disruption.compute_status(pdb, pods, lambda pod: None, "now")
    assert pdb["status"]["disruptionsAllowed"] == 0
    assert disruption.budget_blocks_eviction(pods[1], [pdb]) is None       # IfHealthyBudget: budget is met
    with pytest.raises(StatusError) as error:
        disruption.budget_blocks_eviction(pods[0], [pdb, pdb])
    assert error.value.code == 500
    stale = dict(pdb, metadata=dict(pdb["metadata"], generation=2))
    with pytest.raises(StatusError) as error:
        disruption.budget_blocks_eviction(pods[0], [stale])
    assert error.value.code == 429 and error.value.headers == {"Retry-After": "10"}
