"""The wire forms on which the vendor's own sources disagree (docs/api-contract.yml), each served by
a simulator started with it, through the calls that depend on them.

- batch-reboot answers {"nodeNames": [...]} (the SDK's model) or {"job_id": ...} (what Terraform reads);
- status.resources.<phase> is a list (the vendor examples) or one object (the SDK's model).

Every other test module runs on the default simulator (nodeNames, lists); this module runs the pool
create-and-scale wait and a node reboot under both remaining combinations, so each form is proved
without running the whole suite twice.
"""
import pytest

from modelarts_sim.testing import start_simulator

# Slow enough that a reboot job's queue time (60 simulated seconds before the node goes down) is
# longer than one poll: a run that took an accepted batch-reboot for a reboot would uncordon early.
WIRE_TIME_SCALE = 200

FLAVOR = "modelarts.bm.npu.arm.8snt9b3.d"
FORMS = {
    "sdk": {"MODELARTS_SIM_REBOOT_RESPONSE": "names", "MODELARTS_SIM_RESOURCES_SHAPE": "object"},
    "terraform": {"MODELARTS_SIM_REBOOT_RESPONSE": "job", "MODELARTS_SIM_RESOURCES_SHAPE": "list"},
}


@pytest.fixture(scope="module", params=sorted(FORMS))
def sim(request, tmp_path_factory):
    handle = start_simulator(tmp_path_factory.mktemp("sim-" + request.param), time_scale=WIRE_TIME_SCALE, seed=7,
                             extra_env=FORMS[request.param])
    handle.form = request.param
    yield handle
    handle.stop()


def test_pool_create_and_scale_wait_on_either_resources_shape(ansible, sim):
    args = {"name": "wire-%s" % sim.form, "vpc_id": "vpc-w", "subnet_id": "subnet-w", "clusters": ["cce-w"],
            "user_login": {"key_pair_name": "kp-w"},
            "node_pools": [{"name": "np", "flavor": FLAVOR, "count": 1}]}
    created = ansible.module("modelarts.lite.lite_pool", args)
    assert created.get("changed") is True, created.get("msg")
    assert created["pool"]["phase"] == "Running" and created["pool"]["node_pools"][0]["available"] == 1
    raw = sim.request("GET", "/v2/{project_id}/pools/" + created["pool"]["id"])[1]
    shape = dict if FORMS[sim.form]["MODELARTS_SIM_RESOURCES_SHAPE"] == "object" else list
    assert isinstance(raw["status"]["resources"]["available"], shape), "the simulator serves the form under test"

    args["node_pools"][0]["count"] = 2
    scaled = ansible.module("modelarts.lite.lite_pool", args)
    assert scaled.get("changed") is True, scaled.get("msg")
    assert scaled["pool"]["node_pools"][0]["available"] == 2
    again = ansible.module("modelarts.lite.lite_pool", args)
    assert again["changed"] is False


def test_a_reboot_is_seen_before_the_node_is_uncordoned(ansible, sim, audit):
    """Whatever batch-reboot answers, the node goes down and comes back before we uncordon it:
    no job id is never taken as done."""
    pool = sim.seed([{"name": "reboot-" + sim.form, "nodes": 2, "workloads": {"ready_nodes": True}}])["pools"][0]
    node = pool["nodes"][0]
    kube_name = pool["private_ips"][node]
    mark = len(sim.history())
    result = ansible.module("modelarts.lite.lite_node", {"pool": pool["id"], "nodes": [node], "action": "reboot",
                                                         "allow_reboot": True})
    assert result.get("changed") is True, result.get("msg")
    assert result["node"]["ready"] is True and result["node"]["schedulable"] is True

    answers = [e for e in audit.since(0) if e["path"].endswith("/nodes/batch-reboot")]
    assert answers and answers[-1]["status"] == 200
    events = [h["event"] for h in sim.history(mark) if h.get("kind") == "k8s" and h.get("node") == kube_name
              and h["event"] in ("node_unschedulable", "node_not_ready", "node_ready", "node_schedulable")]
    assert events[0] == "node_unschedulable" and events[-1] == "node_schedulable", events
    assert events.index("node_not_ready") < events.index("node_ready") < len(events) - 1, \
        "uncordoned only after the reboot went down and came back: %s" % events
