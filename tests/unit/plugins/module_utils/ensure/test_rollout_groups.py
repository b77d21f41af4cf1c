"""Job- and topology-aware grouping: a pure function of nodes' labels and pods."""
import random

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import groups as G
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L

VOLCANO = "volcano.sh/job-name"
GROUP = "scheduling.k8s.io/group-name"


def pod(node, job=None, key=VOLCANO, namespace="training", phase="Running", terminating=False, name=None):
    metadata = {"namespace": namespace, "name": name or "%s-%s" % (job or "solo", node),
                "labels": {key: job} if job else {"app": "web"}}
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-06T10:00:00Z"
    return {"metadata": metadata, "spec": {"nodeName": node}, "status": {"phase": phase}}


def job_pods(job, nodes, **kwargs):
    return [pod(n, job, **kwargs) for n in nodes]


def spod(spod_id, batch="b1"):
    return {L.SUPER_NODE_ID: spod_id, L.SUPER_NODE_BATCH: batch}


def nodes_of(groups):
    return [g["nodes"] for g in groups]


NODES = ["n%02d" % i for i in range(12)]


def test_label_keys_are_the_ones_volcano_and_modelarts_use():
    assert L.JOB_LABELS == (VOLCANO, GROUP)
    assert (L.SUPER_NODE_ID, L.SUPER_NODE_BATCH) == ("os.modelarts.node/spod.id", "os.modelarts.node/batch.uid")


def test_no_jobs_no_topology_every_node_alone_in_the_engines_order():
    order = {n: "%02d" % (11 - i) for i, n in enumerate(NODES)}   # reversed key
    groups = G.plan_groups(NODES, {}, [pod(n) for n in NODES], order=order.get)
    assert nodes_of(groups) == [[n] for n in reversed(NODES)]
    assert not any(g["busy"] for g in groups)


def test_multi_node_job_groups_its_nodes_and_single_node_jobs_do_not():
    pods = job_pods("llm", ["n03", "n07", "n01"]) + job_pods("tiny", ["n05"]) + [pod("n05")]
    groups = G.plan_groups(NODES, {}, pods)
    busy = [g for g in groups if g["busy"]]
    assert nodes_of(busy) == [["n01", "n03", "n07"]]
    assert busy[0]["jobs"] == [{"job": "training/llm", "nodes": 3, "selected": 3}]
    assert ["n05"] in nodes_of(groups) and len(groups) == 10
    # Busy groups go last: a job may end while the rest of the pool upgrades.
    assert groups[-1]["busy"] and not any(g["busy"] for g in groups[:-1])


def test_job_label_precedence_namespace_and_a_user_named_label():
    pods = (job_pods("pg", ["n00", "n01"], key=GROUP)                  # PodGroup only
            + [pod("n02", "a", key=VOLCANO), pod("n03", "a", key=VOLCANO)]
            + job_pods("a", ["n04", "n05"], namespace="other")          # same name, other namespace
            + job_pods("exp-9", ["n06", "n07"], key="team.example.com/run"))
    groups = G.plan_groups(NODES, {}, pods)
    assert sorted(nodes_of([g for g in groups if g["busy"]])) == [["n00", "n01"], ["n02", "n03"], ["n04", "n05"]]
    # A PodGroup and a Volcano job of the same name in one namespace count as one job (the
    # conservative reading: older Volcano names the PodGroup after the job).
    same = job_pods("a", ["n08"], key=GROUP) + job_pods("a", ["n09"], key=VOLCANO)
    assert ["n08", "n09"] in nodes_of(G.plan_groups(NODES, {}, same))
    custom = G.plan_groups(NODES, {}, pods, job_labels=L.JOB_LABELS + ("team.example.com/run",))
    assert ["n06", "n07"] in nodes_of(custom)
    # A pod with both labels counts under Volcano's job name.
    both = {"metadata": {"namespace": "t", "labels": {VOLCANO: "x", GROUP: "x-pg"}}, "status": {}}
    assert G.job_of(both, L.JOB_LABELS) == "t/x"


def test_finished_and_terminating_pods_do_not_bind_nodes():
    pods = [pod("n00", "done", phase="Succeeded"), pod("n01", "done", phase="Failed"),
            pod("n02", "gone", terminating=True), pod("n03", "gone")]
    assert not any(g["busy"] for g in G.plan_groups(NODES, {}, pods))


def test_super_nodes_group_and_merge_transitively_with_jobs():
    labels = {"n00": spod("s1"), "n01": spod("s1"), "n02": spod("s2"), "n03": spod("s2"),
              "n04": spod("s1", batch="b2"), "n05": spod("s1", batch="b2")}
    # A job spanning s1/b1 and s2 joins both super nodes and the plain server n09.
    pods = job_pods("bridge", ["n01", "n02", "n09"])
    groups = G.plan_groups(NODES, labels, pods)
    by_first = {g["nodes"][0]: g for g in groups}
    assert by_first["n00"]["nodes"] == ["n00", "n01", "n02", "n03", "n09"]
    assert by_first["n00"]["super_nodes"] == ["s1/b1", "s2/b1"]
    # Same spod.id, other batch.uid: another super node.
    assert by_first["n04"]["nodes"] == ["n04", "n05"] and not by_first["n04"]["busy"]
    # Topology off: only the job groups.
    no_topology = G.plan_groups(NODES, labels, pods, topology=False)
    assert ["n01", "n02", "n09"] in nodes_of(no_topology) and ["n04"] in nodes_of(no_topology)


def test_a_jobs_nodes_outside_the_run_are_counted_not_grouped():
    pods = job_pods("wide", ["n00", "n01", "x-upgraded", "x-other-pool"])
    groups = G.plan_groups(NODES, {}, pods)
    group = next(g for g in groups if g["busy"])
    assert group["nodes"] == ["n00", "n01"]
    assert group["jobs"] == [{"job": "training/wide", "nodes": 4, "selected": 2}]


def test_grouping_is_a_partition_and_deterministic_under_input_order():
    rng = random.Random(5)
    names = ["node-%03d" % i for i in range(200)]
    labels = {n: spod("s%d" % (i // 8)) for i, n in enumerate(names[:64])}
    pods = []
    for j in range(20):
        pods += job_pods("job-%d" % j, rng.sample(names, rng.choice([1, 2, 4, 16])))
    first = G.plan_groups(names, labels, pods)
    shuffled = list(pods)
    rng.shuffle(shuffled)
    again = G.plan_groups(list(reversed(names)), labels, shuffled)
    assert first == again
    flat = [n for g in first for n in g["nodes"]]
    assert sorted(flat) == names and len(flat) == len(set(flat))
    # Every multi-node job's selected nodes sit in exactly one group.
    for j in range(20):
        on = {p["spec"]["nodeName"] for p in pods if p["metadata"]["labels"].get(VOLCANO) == "job-%d" % j}
        holders = [g for g in first if on & set(g["nodes"])]
        assert len(holders) == 1 and on <= set(holders[0]["nodes"])


@pytest.mark.parametrize("policy", [G.ROLL, G.SKIP])
def test_oversized_groups_policy(policy):
    pods = job_pods("big", NODES[:6]) + job_pods("small", NODES[6:8])
    groups = G.plan_groups(NODES, {"n10": spod("s"), "n11": spod("s")}, pods)
    kept, skipped = G.apply_oversized(groups, 4, policy)
    if policy == G.ROLL:
        assert skipped == {}
        big = next(g for g in kept if g["nodes"][0] == "n00")
        assert big["interruptions"] == {"training/big": 1} and big["down_rounds"] == 2
    else:
        assert sorted(skipped) == NODES[:6]
        assert "larger than max_unavailable 4" in skipped["n00"] and "training/big" in skipped["n00"]
        assert all(g["nodes"][0] != "n00" for g in kept)
    # A job-free super node larger than the budget is never skipped (no job to protect).
    kept, skipped = G.apply_oversized(groups, 1, G.SKIP)
    assert ["n10", "n11"] in nodes_of(kept) and "n10" not in skipped
    with pytest.raises(ValueError, match="oversized_groups"):
        G.apply_oversized(groups, 4, "wait-forever")


def test_launch_order_keeps_groups_contiguous():
    groups = G.plan_groups(NODES, {}, job_pods("a", ["n02", "n09"]) + job_pods("b", ["n04", "n05", "n06"]))
    order, group_of = G.launch_order(groups)
    assert sorted(order) == NODES
    for index in set(group_of.values()):
        positions = [i for i, n in enumerate(order) if group_of[n] == index]
        assert positions == list(range(positions[0], positions[-1] + 1))


def test_canaries_prefer_idle_single_nodes_and_never_split_a_group():
    groups = G.plan_groups(NODES[:4], {}, job_pods("a", ["n00", "n01"]) + job_pods("b", ["n02", "n03"]))
    assert G.pick_canaries(groups, 1) == ["n00", "n01"]            # whole group, not half of it
    mixed = G.plan_groups(NODES[:5], {}, job_pods("a", ["n00", "n01"]))
    assert G.pick_canaries(mixed, 2) == ["n02", "n03"]
    assert G.pick_canaries(mixed, 0) == []


def test_idle_gate_waits_within_the_bound_only():
    group = {"nodes": ["n00", "n01"], "jobs": [{"job": "t/a", "nodes": 2, "selected": 2}], "busy": True}
    assert G.idle_gate(group, {"t/a"}, 10, 600)[0] == "wait"
    decision, reason = G.idle_gate(group, {"t/a"}, 600, 600)
    assert decision == "launch" and "t/a still running after 600s" in reason
    assert G.idle_gate(group, set(), 10, 600) == ("launch", "no multi-node job runs on the group")
    assert G.idle_gate(group, {"t/a"}, 0, 0)[0] == "launch"       # no bound: never waits


def test_queued_taint_added_once_removed_cleanly_and_other_taints_kept():
    node = {"spec": {"taints": [{"key": "dedicated", "value": "nlp", "effect": "NoSchedule"}]}}
    held = G.queued_taints(node, True)
    assert held == node["spec"]["taints"] + [{"key": L.QUEUED_TAINT, "effect": "NoSchedule"}]
    assert G.queued_taints({"spec": {"taints": held}}, True) is None
    assert G.queued_taints({"spec": {"taints": held}}, False) == node["spec"]["taints"]
    assert G.queued_taints({"spec": {}}, False) is None and G.queued_taints(node, None) is None
    assert G.interrupted([]) and not G.interrupted(["10.0.0.1"])
