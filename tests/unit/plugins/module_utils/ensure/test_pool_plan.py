"""The lite_pool planner: what it changes, what it refuses, before any API call."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure import pool as engine
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError

FLAVOR = "modelarts.bm.npu.arm.8snt9b3.d"


def params(**overrides):
    base = dict(name="train-a", state="present", description=None, scope=["Train"], vpc_id="vpc-1",
                subnet_id="subnet-1", security_group_ids=None, clusters=["cce-1"],
                user_login={"key_pair_name": "kp", "password": None},
                node_pools=[dict(name="snt9b", flavor=FLAVOR, count=2, labels=None, taints=None, state="present")],
                purge_node_pools=False, driver_version=None, driver_update_strategy="idle", tags=None,
                purge_tags=True, allow_scale_down=False, allow_driver_upgrade=False, allow_delete=False)
    base.update(overrides)
    return base


def raw_pool(resources=None, phase="Running", description=""):
    resources = resources if resources is not None else [
        {"flavor": FLAVOR, "count": 2, "nodePool": "snt9b", "labels": {"team": "a"},
         "driver": {"version": "7.1.0.9.220-23.0.6"}}]
    return {
        "apiVersion": "v2", "kind": "Pool",
        "metadata": {"name": "train-a-0123", "labels": {"os.modelarts/name": "train-a"},
                     "annotations": {"os.modelarts/description": description}},
        "spec": {"type": "Dedicate", "scope": ["Train"], "resources": resources,
                 "network": {"vpcId": "vpc-1", "subnetId": "subnet-1"}},
        "status": {"phase": phase, "resources": {"available": [
            {"flavor": r["flavor"], "count": r["count"], "nodePool": r["nodePool"]} for r in resources]}},
    }


def node_pool(**overrides):
    entry = dict(name="snt9b", flavor=FLAVOR, count=2, labels=None, taints=None, state="present")
    entry.update(overrides)
    return entry


@pytest.mark.parametrize("name", ["ab", "Train-a", "1pool", "pool-", "a" * 33, "pool_a", ""])
def test_bad_pool_names_are_refused(name):
    with pytest.raises(ValidationError, match="not a valid pool name"):
        engine.validate_pool_name(name)


@pytest.mark.parametrize("name", ["pool", "train-a", "a" * 32, "p0-9"])
def test_good_pool_names_pass(name):
    engine.validate_pool_name(name)


@pytest.mark.parametrize("entry, message", [
    (node_pool(count=0), "count 0 is below 1"),
    (node_pool(name="np-default"), "not valid"),
    (node_pool(name="NP"), "not valid"),
    (node_pool(labels={"a": 1}), "string value"),
])
def test_bad_node_pools_are_refused(entry, message):
    with pytest.raises(ValidationError, match=message):
        engine.validate_node_pools([entry])


def test_duplicate_node_pool_is_refused():
    with pytest.raises(ValidationError, match="listed twice"):
        engine.validate_node_pools([node_pool(), node_pool()])


def test_same_declaration_plans_nothing():
    plan = engine.plan_update(params(node_pools=[node_pool(labels={"team": "a"})]), raw_pool(), {})
    assert not plan.changed
    assert plan.patch_body == {}


def test_scale_up_patches_the_whole_resource_list():
    plan = engine.plan_update(params(node_pools=[node_pool(count=5)]), raw_pool(), {})
    assert plan.changed and not plan.scale_down
    resources = plan.patch_body["spec"]["resources"]
    assert [(r["nodePool"], r["count"]) for r in resources] == [("snt9b", 5)]
    # fields we do not manage are carried over unchanged
    assert resources[0]["labels"] == {"team": "a"}


def test_scale_down_is_recorded_as_high_risk():
    plan = engine.plan_update(params(node_pools=[node_pool(count=1)]), raw_pool(), {})
    assert plan.scale_down == [("snt9b", 2, 1)]


def test_flavor_change_is_refused():
    with pytest.raises(ValidationError, match="cannot be changed"):
        engine.plan_update(params(node_pools=[node_pool(flavor="other")]), raw_pool(), {})


def test_node_pool_marked_absent_and_gone_is_a_removal_done():
    plan = engine.plan_update(params(node_pools=[node_pool(), node_pool(name="gone", state="absent")]),
                              raw_pool(), {})
    assert plan.already_absent == ["gone"] and not plan.changed and plan.removed == []


def test_removing_every_node_pool_is_refused():
    with pytest.raises(ValidationError, match="at least one"):
        engine.plan_update(params(node_pools=[node_pool(state="absent")]), raw_pool(), {})


def test_unlisted_node_pools_stay_unless_purged():
    resources = [{"flavor": FLAVOR, "count": 2, "nodePool": "snt9b"},
                 {"flavor": FLAVOR, "count": 1, "nodePool": "extra"}]
    assert not engine.plan_update(params(), raw_pool(resources), {}).changed
    plan = engine.plan_update(params(purge_node_pools=True), raw_pool(resources), {})
    assert plan.removed == ["extra"]


def test_driver_change_marks_every_node_pool():
    plan = engine.plan_update(params(driver_version="7.5.0.5.220-24.1.0.3"), raw_pool(), {})
    assert plan.driver_change
    assert plan.patch_body["spec"]["resources"][0]["driver"] == {"version": "7.5.0.5.220-24.1.0.3"}


def test_tags_are_merged_and_purged():
    plan = engine.plan_update(params(tags={"owner": "sre", "env": "prod"}), raw_pool(), {"owner": "sre", "old": "x"})
    assert plan.tags_to_add == {"env": "prod"}
    assert plan.tags_to_remove == ["old"]
    plan = engine.plan_update(params(tags={"env": "prod"}, purge_tags=False), raw_pool(), {"old": "x"})
    assert plan.tags_to_remove == []


def test_describe_pool_counts_and_driver():
    pool = engine.describe_pool(raw_pool(), {"owner": "sre"})
    assert pool["id"] == "train-a-0123" and pool["name"] == "train-a"
    assert pool["node_pools"][0]["available"] == 2
    assert pool["node_count"] == 2
    assert pool["driver_version"] == "7.1.0.9.220-23.0.6"
    assert pool["tags"] == {"owner": "sre"}


def test_settled_needs_every_desired_node_available():
    raw = raw_pool()
    assert engine.settled(raw)
    raw["spec"]["resources"][0]["count"] = 3
    assert not engine.settled(raw)
    assert not engine.settled(raw_pool(phase="Creating"))


def test_scaling_keeps_the_az_split_consistent():
    resources = [{"flavor": FLAVOR, "count": 3, "nodePool": "snt9b",
                  "azs": [{"az": "a", "count": 2}, {"az": "b", "count": 1}]}]
    up = engine.plan_update(params(node_pools=[node_pool(count=5)]), raw_pool(resources), {})
    assert sorted((az["az"], az["count"]) for az in up.resources[0]["azs"]) == [("a", 3), ("b", 2)]
    down = engine.plan_update(params(node_pools=[node_pool(count=1)]), raw_pool(resources), {})
    assert sum(az["count"] for az in down.resources[0]["azs"]) == 1


def test_create_body_sends_the_clusters_and_the_login_a_pool_in_a_vpc_needs():
    spec = engine.create_body(params(clusters=["cce-1", "cce-2"]))["spec"]
    assert spec["network"] == {"vpcId": "vpc-1", "subnetId": "subnet-1"}
    assert spec["clusters"] == [{"providerId": "cce-1"}, {"providerId": "cce-2"}]
    assert spec["userLogin"] == {"keyPairName": "kp"}
    spec = engine.create_body(params(user_login={"key_pair_name": None, "password": "S3cret-pass"}))["spec"]
    assert spec["userLogin"] == {"password": "S3cret-pass"}
