"""Cordon ownership, uncordon rules, labels/taints patches, node health and views (pure functions)."""
import json

from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import nodes


def node(unschedulable=False, annotations=None, labels=None, taints=None, ready=True, npus=(8, 8)):
    return {"metadata": {"name": "10.0.0.1", "resourceVersion": "42", "annotations": annotations or {},
                         "labels": labels or {}},
            "spec": {"unschedulable": unschedulable, "taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "capacity": {"huawei.com/ascend-1980": str(npus[0])},
                       "allocatable": {"huawei.com/ascend-1980": str(npus[1])}}}


def test_cordon_claims_ownership_in_the_same_guarded_write():
    patch = nodes.cordon_patch(node(), reason="drained", when="2025-01-01T00:00:00Z")
    assert patch["spec"] == {"unschedulable": True}
    assert patch["metadata"]["resourceVersion"] == "42"
    assert patch["metadata"]["annotations"] == {L.CORDONED_BY: "modelarts.lite", L.CORDON_REASON: "drained",
                                                L.CORDONED_AT: "2025-01-01T00:00:00Z"}


def test_an_existing_cordon_is_never_claimed():
    assert nodes.cordon_patch(node(unschedulable=True)) is None


def test_uncordon_only_our_own_cordon():
    ours = node(unschedulable=True, annotations={L.CORDONED_BY: "modelarts.lite", L.CORDON_REASON: "x"})
    patch = nodes.uncordon_patch(ours)
    assert patch["spec"] == {"unschedulable": None}
    assert patch["metadata"]["annotations"] == {k: None for k in L.OWNERSHIP_ANNOTATIONS}
    foreign = node(unschedulable=True)
    assert nodes.uncordon_patch(foreign) is None
    assert nodes.uncordon_patch(foreign, release_foreign=True)["spec"] == {"unschedulable": None}
    assert nodes.uncordon_patch(node()) is None


def test_stale_annotation_on_a_schedulable_node_is_cleaned():
    stale = node(annotations={L.CORDONED_BY: "modelarts.lite"})
    patch = nodes.uncordon_patch(stale)
    assert "spec" not in patch and patch["metadata"]["annotations"][L.CORDONED_BY] is None


def test_summary_reports_who_cordoned():
    assert nodes.summary(node(unschedulable=True))["cordoned_by"] == "other"
    assert nodes.summary(node(unschedulable=True, annotations={L.CORDONED_BY: "run-7"}))["cordoned_by"] == "run-7"
    assert nodes.summary(node())["cordoned_by"] is None


def test_labels_patch_merge_remove_and_purge():
    current = node(labels={"team": "a", "kubernetes.io/hostname": "h", "pool-label": "p", "old": "x"})
    assert nodes.labels_patch(current, {"team": "a"}) is None
    assert nodes.labels_patch(current, {"team": "b", "old": None}) == {"team": "b", "old": None}
    assert nodes.labels_patch(current, {"team": "a"}, purge=True, protected={"pool-label"}) == {"old": None}


def test_taints_merge_by_key_and_effect_and_keep_control_plane_ones():
    cordon = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    current = node(taints=[cordon, {"key": "a", "value": "1", "effect": "NoSchedule"},
                           {"key": "pool", "effect": "NoExecute"}])
    assert nodes.desired_taints(current, [{"key": "a", "value": "1", "effect": "NoSchedule"}]) is None
    changed = nodes.desired_taints(current, [{"key": "a", "value": "2", "effect": "NoSchedule"}])
    assert {"key": "a", "value": "2", "effect": "NoSchedule"} in changed and cordon in changed
    purged = nodes.desired_taints(current, [], purge=True, protected={("pool", "NoExecute")})
    assert purged == [cordon, {"key": "pool", "effect": "NoExecute"}]


def test_health_needs_ready_npus_and_driver():
    labels = {L.DRIVER_VERSION: "v2"}
    assert nodes.health(node(labels=labels), "v2") == (True, "healthy")
    assert nodes.health(node(labels=labels, ready=False), "v2")[0] is False
    assert nodes.health(node(labels=labels, npus=(8, 0)), "v2")[1] == "only 0 of 8 NPUs are allocatable"
    assert "not v3" in nodes.health(node(labels=labels), "v3")[1]


def test_system_keys():
    for key in ("kubernetes.io/hostname", "node.kubernetes.io/x", "topology.kubernetes.io/zone",
                "os.modelarts.node/nodepool", "accelerator/huawei-npu", "modelarts.lite/cordoned-by"):
        assert L.is_system_key(key), key
    assert not L.is_system_key("team") and not L.is_system_key("example.com/role")


def test_user_labels_leave_out_system_keys():
    labeled = node(labels={"team": "a", "example.com/role": "x", "kubernetes.io/hostname": "h",
                           L.NODE_POOL_NAME: "np", L.DRIVER_UPGRADE_STATE: "done"})
    assert nodes.user_labels(labeled) == {"team": "a", "example.com/role": "x"}
    assert nodes.summary(labeled)["labels"] == {"team": "a", "example.com/role": "x"}


def test_driver_upgrade_reads_the_rollout_record():
    record = {"run": "r1", "target": "v2", "phase": "failed", "from": "v1", "reason": "Abnormal", "updated": "t"}
    assert nodes.driver_upgrade(node(annotations={L.DRIVER_UPGRADE: json.dumps(record)})) == record
    # Only the label readable (annotation missing or not JSON): the phase is still reported.
    assert nodes.driver_upgrade(node(labels={L.DRIVER_UPGRADE_STATE: "cordoned"},
                                     annotations={L.DRIVER_UPGRADE: "{oops"})) == {"phase": "cordoned"}
    assert nodes.driver_upgrade(node()) is None


def test_not_joined_summary_has_the_kubernetes_keys_of_summary():
    joined = set(nodes.summary(node())) - {"kube_name", "driver_version", "node_pool"}
    assert set(nodes.not_joined_summary()) == joined
    assert nodes.not_joined_summary()["ready"] is False and nodes.not_joined_summary()["npu_capacity"] is None
