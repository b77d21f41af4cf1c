"""The hot standby plan is a pure function of the Nodes: what to patch, in which order, or a refusal."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import standby as S


def node(name, ready=True, cordoned=False, taints=(), annotations=None):
    return {"metadata": {"name": name, "annotations": dict(annotations or {})},
            "spec": {"unschedulable": cordoned, "taints": [dict(t) for t in taints]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


STANDBY = {"key": L.STANDBY_TAINT, "value": "true", "effect": "NoSchedule"}
FAULTY = {"key": L.FAULTY_TAINT, "value": "true", "effect": "NoSchedule"}


def cluster(*nodes):
    return {n["metadata"]["name"]: n for n in nodes}


def apply(nodes, steps):
    for name, _what, patch in steps:
        nodes[name]["spec"]["taints"] = patch["spec"]["taints"]
        for key, value in patch["metadata"]["annotations"].items():
            if value is None:
                nodes[name]["metadata"]["annotations"].pop(key, None)
            else:
                nodes[name]["metadata"]["annotations"][key] = value
    return nodes


def test_declare_is_idempotent_and_keeps_other_taints():
    nodes = cluster(node("a", taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]), node("b"))
    first = S.plan(nodes, standby=["a"])
    assert [(n, w) for n, w, _p in first["steps"]] == [("a", "declare_standby")]
    assert first["steps"][0][2]["spec"]["taints"][0]["key"] == "dedicated"
    apply(nodes, first["steps"])
    assert S.plan(nodes, standby=["a"])["steps"] == []


def test_failover_promotes_first_then_fences_and_never_shrinks():
    nodes = cluster(node("a"), node("b"), node("s1", taints=[STANDBY]), node("s2", taints=[STANDBY]))
    result = S.plan(nodes, failed="a")
    assert [(n, w) for n, w, _p in result["steps"]] == [("s1", "promote_standby"), ("a", "fence_faulty")]
    assert result["failover"]["schedulable_before"] == 2 and result["failover"]["schedulable_after"] == 2
    apply(nodes, result["steps"])
    assert S.describe(nodes)["schedulable"] == 2
    assert S.role(nodes["a"]) == "faulty" and S.role(nodes["s1"]) == "active"
    again = S.plan(nodes, failed="a")
    assert again["steps"] == [] and again["failover"]["done_before"] is True
    assert again["failover"]["replacement"] == "s1"


def test_a_notready_failed_node_gains_capacity():
    nodes = cluster(node("a", ready=False), node("b"), node("s1", taints=[STANDBY]))
    result = S.plan(nodes, failed="a")
    assert (result["failover"]["schedulable_before"], result["failover"]["schedulable_after"]) == (1, 2)


@pytest.mark.parametrize("nodes, kwargs, match", [
    (cluster(node("a"), node("b")), {"failed": "a"}, "no Ready standby node"),
    (cluster(node("a"), node("s1", ready=False, taints=[STANDBY])), {"failed": "a"}, "no Ready standby node"),
    (cluster(node("a"), node("s1", cordoned=True, taints=[STANDBY])), {"failed": "a"}, "no Ready standby node"),
    (cluster(node("a"), node("b")), {"failed": "a", "replacement": "b"}, "not a Ready, uncordoned standby"),
])
def test_refusals(nodes, kwargs, match):
    with pytest.raises(PreconditionError, match=match):
        S.plan(nodes, **kwargs)


def test_bad_names():
    with pytest.raises(ValidationError):
        S.plan(cluster(node("a")), standby=["zzz"])
    with pytest.raises(ValidationError):
        S.plan(cluster(node("a"), node("s", taints=[STANDBY])), standby=["a"], failed="a")


def test_declaring_a_repaired_node_standby_lifts_its_fence():
    nodes = cluster(node("a", taints=[FAULTY], annotations={L.REPLACED_BY: "s1"}), node("s1"))
    steps = S.plan(nodes, standby=["a"])["steps"]
    apply(nodes, steps)
    assert S.role(nodes["a"]) == "standby" and L.REPLACED_BY not in nodes["a"]["metadata"]["annotations"]
