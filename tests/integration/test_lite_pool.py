"""lite_pool and lite_pool_info against the simulator, the way an operator runs them."""
import pytest

FLAVOR = "modelarts.bm.npu.arm.8snt9b3.d"
DRIVER = "7.5.0.5.220-24.1.0.3"
NEWER_DRIVER = "7.5.0.109.220-24.1.rc3.10"


def pool_args(name, count=2, **extra):
    args = {
        "name": name,
        "description": "integration test pool",
        "vpc_id": "vpc-it",
        "subnet_id": "subnet-it",
        "clusters": ["cce-it"],
        "user_login": {"key_pair_name": "kp-it"},
        "node_pools": [{"name": "snt9b", "flavor": FLAVOR, "count": count, "labels": {"team": "it"}}],
        "driver_version": DRIVER,
        "tags": {"owner": "sre"},
    }
    args.update(extra)
    return args


def mutations(entries):
    return [(e["method"], e["path"]) for e in entries]


def test_lifecycle(ansible, sim, audit):
    """check mode -> apply -> apply again -> info -> scale -> delete -> delete again."""
    mark = audit.mark()
    predicted = ansible.module("modelarts.lite.lite_pool", pool_args("life-a"), check=True, diff=True)
    assert predicted["changed"] is True, predicted
    assert predicted["pool"]["node_count"] == 2
    assert predicted["diff"]["before"] == {}
    assert predicted["diff"]["after"]["node_pools"][0]["count"] == 2
    assert audit.since(mark) == [], "check mode must not mutate"

    created = ansible.module("modelarts.lite.lite_pool", pool_args("life-a"))
    assert created["changed"] is True, created
    pool = created["pool"]
    assert pool["phase"] == "Running"
    assert pool["node_pools"][0]["available"] == 2
    assert pool["driver_version"] == DRIVER
    assert pool["tags"] == {"owner": "sre"}
    assert ("POST", "/v2/%s/pools" % sim.env["project_id"]) in mutations(audit.since(mark))

    mark = audit.mark()
    again = ansible.module("modelarts.lite.lite_pool", pool_args("life-a"), diff=True)
    assert again["changed"] is False, again
    assert again["diff"]["before"] == again["diff"]["after"]
    assert audit.since(mark) == [], "an identical second run must send no mutating call"

    info = ansible.module("modelarts.lite.lite_pool_info", {"name": "life-a"})
    assert [p["id"] for p in info["pools"]] == [pool["id"]]
    assert info["pools"][0]["node_pools"][0]["available"] == 2

    scaled = ansible.module("modelarts.lite.lite_pool", pool_args("life-a", count=3), diff=True)
    assert scaled["changed"] is True
    assert scaled["diff"]["before"]["node_pools"][0]["count"] == 2
    assert scaled["diff"]["after"]["node_pools"][0]["count"] == 3
    assert scaled["pool"]["node_pools"][0]["available"] == 3

    mark = audit.mark()
    refused = ansible.module("modelarts.lite.lite_pool", {"name": "life-a", "state": "absent"})
    assert refused.get("failed") is True
    assert "allow_delete=true" in refused["msg"] and "3 nodes" in refused["msg"]
    assert audit.since(mark) == []

    preview = ansible.module("modelarts.lite.lite_pool", {"name": "life-a", "state": "absent", "allow_delete": True},
                             check=True, diff=True)
    assert preview["changed"] is True and preview["diff"]["after"] == {}
    assert preview["diff"]["before"]["node_count"] == 3
    assert audit.since(mark) == []

    deleted = ansible.module("modelarts.lite.lite_pool", {"name": "life-a", "state": "absent", "allow_delete": True})
    assert deleted["changed"] is True
    assert ansible.module("modelarts.lite.lite_pool_info", {"name": "life-a"})["pools"] == []

    mark = audit.mark()
    gone = ansible.module("modelarts.lite.lite_pool", {"name": "life-a", "state": "absent", "allow_delete": True})
    assert gone["changed"] is False
    assert audit.since(mark) == []


@pytest.fixture(scope="module")
def existing_pool(ansible):
    result = ansible.module("modelarts.lite.lite_pool", pool_args("keep-b"))
    assert result["changed"] is True and result["pool"]["phase"] == "Running", result
    return result["pool"]


@pytest.mark.parametrize("args, message", [
    (pool_args("Bad_Name"), "not a valid pool name"),
    (pool_args("abc"), "not a valid pool name"),
    (pool_args("new-c", node_pools=[{"name": "np", "flavor": "no.such.flavor", "count": 1}]), "is not offered"),
    (pool_args("new-c", count=0), "count 0 is below 1"),
    (pool_args("new-c", driver_version="9.9.9"), "driver_version '9.9.9' is not offered"),
    (pool_args("new-c", vpc_id=None), "needs vpc_id"),
    (pool_args("new-c", clusters=None), "needs clusters"),
    (pool_args("new-c", user_login=None), "needs user_login"),
    (pool_args("new-c", node_pools=[{"name": "np-default", "flavor": FLAVOR, "count": 1}]), "not valid"),
    (pool_args("keep-b", count=1), "allow_scale_down=true"),
    (pool_args("keep-b", node_pools=[{"name": "snt9b", "flavor": "modelarts.vm.cpu.8ud", "count": 2}]),
     "cannot be changed"),
    (pool_args("keep-b", driver_version=NEWER_DRIVER), "allow_driver_upgrade=true"),
    (pool_args("keep-b", node_pools=[{"name": "snt9b", "flavor": FLAVOR, "count": 2, "state": "absent"}],
               allow_scale_down=True), "at least one"),
])
def test_refused_input_changes_nothing(ansible, audit, existing_pool, args, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module("modelarts.lite.lite_pool", args, check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert audit.since(mark) == [], "a refused input must not reach the API as a mutation"


def test_unknown_node_pool_in_info_is_an_error(ansible, existing_pool):
    result = ansible.module("modelarts.lite.lite_pool_info", {"name": "keep-b", "node_pool": "nope"})
    assert result.get("failed") is True
    assert "has no node pool 'nope'" in result["msg"]


def test_scale_down_with_opt_in(ansible, audit, existing_pool):
    result = ansible.module("modelarts.lite.lite_pool", pool_args("keep-b", count=1, allow_scale_down=True))
    assert result["changed"] is True
    assert result["pool"]["node_pools"][0]["available"] == 1


def test_tags_are_purged_and_added(ansible, existing_pool):
    result = ansible.module("modelarts.lite.lite_pool", {"name": "keep-b", "tags": {"env": "prod"}}, diff=True)
    assert result["changed"] is True
    assert result["pool"]["tags"] == {"env": "prod"}
    info = ansible.module("modelarts.lite.lite_pool_info", {"name": "keep-b"})
    assert info["pools"][0]["tags"] == {"env": "prod"}


def test_secret_key_not_in_failure_result(ansible, sim):
    """The failure result carries no secret (the canary is the simulator's own secret key)."""
    result = ansible.module("modelarts.lite.lite_pool", pool_args("Bad_Name"))
    assert sim.env["secret_key"] not in repr(result)
