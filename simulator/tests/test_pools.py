"""Pools, node pools, nodes and their state machines, over HTTPS with signed requests."""
import pytest
import yaml

from modelarts_sim.testing import start_simulator

from masim_helpers import A3_FLAVOR, NPU_FLAVOR, pool_body

POOLS = "/v2/{project_id}/pools"


def create(sim, name, **kwargs):
    status, body, headers = sim.request("POST", POOLS, pool_body(name, **kwargs))
    assert status == 200, body
    return body["metadata"]["name"]


def show(sim, pool_id):
    status, body, _ = sim.request("GET", "%s/%s" % (POOLS, pool_id))
    assert status == 200, body
    return body


def nodes(sim, pool_id, **query):
    status, body, _ = sim.request("GET", "%s/%s/nodes" % (POOLS, pool_id), query=query)
    assert status == 200, body
    return body


def test_iam_project_lookup(sim):
    status, body, headers = sim.request("GET", "/v3/projects", query={"name": "cn-north-4"})
    assert status == 200
    assert [p["id"] for p in body["projects"]] == [sim.env["project_id"]]
    assert headers["x-request-id"]
    assert sim.request("GET", "/v3/projects", query={"name": "eu-west-0"})[1]["projects"] == []


def test_create_pool_runs_through_its_phases(sim):
    status, created, headers = sim.request("POST", POOLS, pool_body("phases-pool", count=3))
    assert status == 200 and headers["x-request-id"]
    pool_id = created["metadata"]["name"]
    assert created["status"] == {"resources": {}}
    assert created["metadata"]["labels"]["os.modelarts/order.name"].startswith("order.phases-pool-")
    assert "password" not in created["spec"]["userLogin"]
    pool = show(sim, pool_id)
    assert pool["status"]["phase"] == "Creating"
    assert pool["status"]["scope"] == [{"scopeType": "Train", "state": "Enabling"}]
    assert pool["status"]["resources"]["creating"][0]["count"] == 3
    assert {n["status"]["driver"]["phase"] for n in nodes(sim, pool_id)["items"]} == {"Pending"}

    sim.advance(2 * 3600)
    pool = show(sim, pool_id)
    assert pool["status"]["phase"] == "Running"
    assert pool["status"]["scope"][0]["state"] == "Enabled"
    assert pool["status"]["resources"] == {"available": [
        {"flavor": NPU_FLAVOR, "count": 3, "maxCount": 3, "nodePool": "np-a", "azs": [{"az": "cn-north-4a", "count": 3}]}]}
    listed = nodes(sim, pool_id)["items"]
    assert {(n["status"]["phase"], n["status"]["driver"]["phase"]) for n in listed} == {("Available", "Running")}
    assert len({n["status"]["privateIp"] for n in listed}) == 3
    assert all(n["metadata"]["name"].startswith("os-node-created-") for n in listed)

    order_name = created["metadata"]["labels"]["os.modelarts/order.name"]
    status, orders, _ = sim.request("GET", "/v1/{project_id}/orders", query={"involvedName": pool_id})
    assert [o["phase"] for o in orders["items"] if o["orderName"] == order_name] == ["successed"]
    status, order, _ = sim.request("GET", "/v1/{project_id}/orders/" + order_name)
    assert order["count"] == 3 and {i["status"] for i in order["items"]} == {"succeed"}


@pytest.fixture(scope="module")
def running_sim(tmp_path_factory):
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=1000, seed=7)
    yield handle
    assert handle.stop() == 0


def test_pool_becomes_running_on_the_real_clock(running_sim):
    sim = running_sim
    pool_id = create(sim, "clock-pool", count=1)
    # 15 min x spread (<= 2) and 10 min x spread at 1000x: at most 1.8 s of wall time
    import time
    deadline = time.monotonic() + 10
    while show(sim, pool_id)["status"]["phase"] != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    history = [h for h in sim.history() if h.get("pool_id") == pool_id and h.get("kind") == "pool"]
    assert [h["phase"] for h in history] == ["Creating", "Running"]
    assert history[-1]["sim_time"] > history[0]["sim_time"]


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b["metadata"]["labels"].update({"os.modelarts/name": "Bad_Name"}), "os.modelarts/name"),
    (lambda b: b["metadata"]["labels"].update({"os.modelarts/name": "abc"}), "4-32"),
    (lambda b: b["metadata"]["labels"].update({"os.modelarts/name": "ends-with-"}), "end with"),
    (lambda b: b["spec"]["resources"][0].update({"count": 0}), "count must be an integer >= 1"),
    (lambda b: b["spec"]["resources"][0].update({"flavor": "modelarts.nope"}), "unknown flavor"),
    (lambda b: b["spec"]["resources"][0].update({"flavor": "modelarts.bm.npu.arm.8snt9b2.d"}), "sold out"),
    (lambda b: b["spec"]["resources"][0].update({"nodePool": "Bad Name"}), "invalid nodepool name"),
    (lambda b: b["spec"]["resources"][0].update({"nodePool": "np-default"}), "invalid nodepool name"),
    (lambda b: b["spec"]["resources"][0].update({"driver": {"version": "9.9.9"}}), "unknown NPU driver"),
    (lambda b: b["spec"]["resources"][0].update({"driver": {"version": "7.7.0.9.220-25.2.1"}}), "does not support"),
    (lambda b: b["spec"].pop("network"), "spec.network"),
    (lambda b: b.update({"kind": "Pod"}), "kind"),
])
def test_invalid_pool_bodies_are_refused_and_change_nothing(sim, mutate, message):
    body = pool_body("refused-pool")
    mutate(body)
    before = sim.request("GET", POOLS)[1]["items"]
    status, error, headers = sim.request("POST", POOLS, body)
    assert status == 400
    assert error["error_code"] == "ModelArts.50004000" and message in error["error_msg"]
    assert error["request_id"] == headers["x-request-id"]
    assert sim.request("GET", POOLS)[1]["items"] == before


@pytest.mark.parametrize("missing, message", [
    ("clusters", "spec.clusters"), ("userLogin", "spec.userLogin")])
def test_a_pool_in_a_vpc_without_clusters_or_login_is_refused_with_the_real_400(sim, missing, message):
    body = pool_body("vpc-pool-" + missing.lower())
    del body["spec"][missing]
    before = sim.request("GET", POOLS)[1]["items"]
    status, error, _ = sim.request("POST", POOLS, body)
    assert status == 400 and error["error_code"] == "ModelArts.50004000"
    assert message in error["error_msg"] and "vpcId" in error["error_msg"]
    assert sim.request("GET", POOLS)[1]["items"] == before


def test_duplicate_display_name_is_409_and_audited_with_password_redacted(sim):
    create(sim, "dup-pool", count=1)
    seq = len(sim.audit_entries())
    status, error, _ = sim.request("POST", POOLS, pool_body("dup-pool"))
    assert status == 409 and error["error_code"] == "ModelArts.50015000"
    entries = sim.audit_entries(since=seq)
    assert [(e["method"], e["status"], e["api"]) for e in entries] == [("POST", 409, "modelarts")]
    assert entries[0]["body"]["spec"]["userLogin"]["password"] == "********"
    assert "S3cret" not in open(sim.state_dir + "/audit.jsonl").read()


def test_list_filters(sim):
    seeded = sim.seed([{"name": "filter-pool", "nodes": 1}])["pools"][0]
    status, listed, _ = sim.request("GET", POOLS, query={"labelSelector": "os.modelarts/name=filter-pool"})
    assert [p["metadata"]["name"] for p in listed["items"]] == [seeded["id"]]
    status, listed, _ = sim.request("GET", POOLS, query={
        "labelSelector": "os.modelarts/name in (filter-pool,x)", "status": "created"})
    assert [p["metadata"]["name"] for p in listed["items"]] == [seeded["id"]]
    status, listed, _ = sim.request("GET", POOLS, query={
        "labelSelector": "os.modelarts/name=filter-pool", "status": "creating"})
    assert listed["items"] == []


def test_node_paging_returns_everything_without_limit(sim):
    pool = sim.seed([{"name": "paging-pool", "nodes": 7}])["pools"][0]
    assert len(nodes(sim, pool["id"])["items"]) == 7
    seen, token = [], None
    while True:
        query = {"limit": 3}
        if token:
            query["continue"] = token
        page = nodes(sim, pool["id"], **query)
        seen += [n["metadata"]["name"] for n in page["items"]]
        token = page["metadata"]["continue"]
        if not token:
            assert page["metadata"]["remainingItemCount"] == 0
            break
    assert seen == pool["nodes"]
    status, node, _ = sim.request("GET", "%s/%s/nodes/%s" % (POOLS, pool["id"], seen[0]))
    assert status == 200 and node["status"]["privateIp"] == pool["private_ips"][seen[0]]
    status, error, _ = sim.request("GET", "%s/%s/nodes/os-node-created-none0" % (POOLS, pool["id"]))
    assert status == 404 and error["error_code"] == "ModelArts.50015001"


def test_scale_up_and_down_through_patch(sim):
    pool = sim.seed([{"name": "scale-pool", "nodes": 2, "node_pool": "np-a"}])["pools"][0]
    patch = {"spec": {"resources": [{"flavor": NPU_FLAVOR, "nodePool": "np-a", "count": 4}]}}
    status, patched, _ = sim.request("PATCH", "%s/%s" % (POOLS, pool["id"]), patch,
                                     content_type="application/merge-patch+json")
    assert status == 200, patched
    order_name = patched["metadata"]["labels"]["os.modelarts/order.name"]
    assert patched["spec"]["resources"][0]["count"] == 4
    assert patched["status"]["phase"] == "Running"
    assert patched["status"]["resources"]["creating"][0]["count"] == 2
    sim.advance(3600)
    assert len(nodes(sim, pool["id"])["items"]) == 4
    status, order, _ = sim.request("GET", "/v1/{project_id}/orders/" + order_name)
    assert [i["action"] for i in order["items"]] == ["createNode", "createNode"]

    patch["spec"]["resources"][0]["count"] = 1
    status, patched, _ = sim.request("PATCH", "%s/%s" % (POOLS, pool["id"]), patch)
    assert status == 200
    assert patched["status"]["resources"]["deleting"][0]["count"] == 3
    sim.advance(3600)
    assert len(nodes(sim, pool["id"])["items"]) == 1


def test_patch_refused_while_creating_and_last_node_pool_kept(sim):
    pool_id = create(sim, "busy-pool", count=1)
    status, error, _ = sim.request("PATCH", "%s/%s" % (POOLS, pool_id),
                                   {"spec": {"resources": [{"flavor": NPU_FLAVOR, "nodePool": "np-a", "count": 2}]}})
    assert status == 400 and "is Creating" in error["error_msg"]
    sim.advance(3600)
    status, error, _ = sim.request("DELETE", "%s/%s/nodepools/np-a" % (POOLS, pool_id))
    assert status == 400 and "last node pool" in error["error_msg"]


def test_pool_driver_upgrade_rolls_through_every_node(sim):
    pool = sim.seed([{"name": "drv-pool", "nodes": 2, "node_pool": "np-a",
                      "driver_version": "7.1.0.9.220-23.0.6"}])["pools"][0]
    new = "7.5.0.5.220-24.1.0.3"
    status, patched, _ = sim.request("PATCH", "%s/%s" % (POOLS, pool["id"]), {"spec": {"resources": [
        {"flavor": NPU_FLAVOR, "nodePool": "np-a", "count": 2, "driver": {"version": new}}]}})
    assert status == 200, patched
    assert patched["status"]["driver"]["npu"]["state"] == "Upgrading"
    assert {n["status"]["driver"]["phase"] for n in nodes(sim, pool["id"])["items"]} == {"Pending"}
    sim.advance(90)
    assert {n["status"]["driver"]["phase"] for n in nodes(sim, pool["id"])["items"]} == {"Updating"}
    sim.advance(3600)
    assert {(n["status"]["driver"]["phase"], n["status"]["driver"]["version"])
            for n in nodes(sim, pool["id"])["items"]} == {("Running", new)}
    assert show(sim, pool["id"])["status"]["driver"]["npu"] == {"version": new, "state": "Running"}
    phases = [h["driver_phase"] for h in sim.history() if h.get("node") == pool["nodes"][0] and "driver_phase" in h]
    assert phases == ["Pending", "Updating", "Running"]


def test_single_node_driver_upgrade_through_batch_update(sim):
    pool = sim.seed([{"name": "one-drv", "nodes": 2, "flavor": A3_FLAVOR,
                      "driver_version": "7.5.0.108.220-24.1.rc3.9"}])["pools"][0]
    target = pool["nodes"][0]
    url = "%s/%s/nodes/batch-update" % (POOLS, pool["id"])
    status, error, _ = sim.request("POST", url, {"nodeNames": [target], "driver": {"version": "7.1.0.9.220-23.0.6"}})
    assert status == 400 and "does not support" in error["error_msg"]
    status, result, _ = sim.request("POST", url, {"nodeNames": [target, "os-node-created-zzzzz"],
                                                  "driver": {"version": "7.7.0.9.220-25.2.1"}})
    assert status == 200 and result == {"successNodeNames": [target], "failNodeNames": ["os-node-created-zzzzz"]}
    sim.advance(3600)
    versions = {n["metadata"]["name"]: n["status"]["driver"]["version"] for n in nodes(sim, pool["id"])["items"]}
    assert versions == {target: "7.7.0.9.220-25.2.1", pool["nodes"][1]: "7.5.0.108.220-24.1.rc3.9"}


def test_batch_operations(sim):
    pool = sim.seed([{"name": "batch-pool", "nodes": 4}])["pools"][0]
    first, second, third, fourth = pool["nodes"]
    base = "%s/%s/nodes/" % (POOLS, pool["id"])
    status, locked, _ = sim.request("POST", base + "batch-lock", {"nodeNames": [first], "actions": ["delete"]})
    assert locked == {"nodes": [{"name": first, "status": "success"}]}
    status, error, _ = sim.request("POST", base + "batch-delete", {"deleteNodeNames": [first, second]})
    assert status == 400 and "locked" in error["error_msg"]
    sim.request("POST", base + "batch-unlock", {"nodeNames": [first], "actions": ["delete"]})

    status, reboot, _ = sim.request("POST", base + "batch-reboot", {"nodeNames": [third]})
    assert status == 200 and reboot == {"nodeNames": [third]}  # the SDK's BatchRebootPoolNodesResponse
    jobs = sim.request("GET", "/v2/{project_id}/jobs", query={"type": "reboot-node", "name": pool["id"]})[1]["items"]
    job = jobs[0]
    assert job["phase"] == "Running" and job["type"] == "reboot-node"
    status, error, _ = sim.request("POST", base + "batch-reboot", {"nodeNames": [third]})
    assert status == 400 and "busy" in error["error_msg"]
    status, reset, _ = sim.request("POST", base + "batch-reset", {"nodeNames": [fourth], "rollingConfig": {
        "strategy": "RollingByNumber", "maxUnavailable": 1}})
    assert status == 200 and reset["job_id"]

    status, result, _ = sim.request("POST", base + "batch-delete", {"deleteNodeNames": [first]})
    assert status == 200
    assert sim.request("GET", base + first)[1]["status"]["phase"] == "Deleting"
    sim.advance(3600)
    assert sim.request("GET", "/v2/{project_id}/jobs/" + job["jobId"])[1]["phase"] == "Success"
    assert sim.request("GET", "/v2/{project_id}/jobs/" + reset["job_id"])[1]["phase"] == "Success"
    assert sim.request("GET", base + first)[0] == 404
    assert show(sim, pool["id"])["spec"]["resources"][0]["count"] == 3


def test_node_pool_crud(sim):
    pool = sim.seed([{"name": "np-pool", "nodes": 1, "node_pool": "np-a"}])["pools"][0]
    base = "%s/%s/nodepools" % (POOLS, pool["id"])
    status, created, _ = sim.request("POST", base, {"apiVersion": "v2", "kind": "NodePool", "metadata": {"name": "np-b"},
                                                    "spec": {"resources": {"flavor": A3_FLAVOR, "count": 2,
                                                                           "labels": {"team": "a"}}}})
    assert status == 200, created
    assert created["spec"]["resources"]["driver"]["version"] == "7.5.0.109.220-24.1.rc3.10"
    status, listed, _ = sim.request("GET", base)
    assert [np["metadata"]["name"] for np in listed["items"]] == ["np-a", "np-b"]
    sim.advance(3600)
    status, np_nodes, _ = sim.request("GET", base + "/np-b/nodes")
    assert len(np_nodes["items"]) == 2
    status, patched, _ = sim.request("PATCH", base + "/np-b", {"spec": {"resources": {"count": 1}}})
    assert status == 200 and patched["spec"]["resources"]["count"] == 1
    assert patched["spec"]["resources"]["labels"] == {"team": "a"}
    status, deleted, _ = sim.request("DELETE", base + "/np-b")
    assert status == 200
    sim.advance(3600)
    status, error, _ = sim.request("GET", base + "/np-b")
    assert status == 404


def test_delete_pool_then_404(sim):
    pool = sim.seed([{"name": "gone-pool", "nodes": 2}])["pools"][0]
    status, deleted, _ = sim.request("DELETE", "%s/%s" % (POOLS, pool["id"]))
    assert status == 200 and deleted["status"]["phase"] == "Deleting"
    status, error, _ = sim.request("PATCH", "%s/%s" % (POOLS, pool["id"]), {"metadata": {}})
    assert status == 400 and "Deleting" in error["error_msg"]
    sim.advance(3600)
    status, error, headers = sim.request("GET", "%s/%s" % (POOLS, pool["id"]))
    assert status == 404 and error["error_code"] == "ModelArts.50015001"
    assert error["request_id"] == headers["x-request-id"]


def test_catalogues(sim):
    status, template, _ = sim.request("GET", "/v1/{project_id}/plugintemplates/npu-driver")
    assert status == 200
    assert {"7.1.0.9.220-23.0.6", "7.5.0.5.220-24.1.0.3", "7.5.0.108.220-24.1.rc3.9", "7.5.0.109.220-24.1.rc3.10",
            "7.7.0.9.220-25.2.1"} == set(template["spec"]["versions"])
    status, error, _ = sim.request("GET", "/v1/{project_id}/plugintemplates/fpga-driver")
    assert status == 404 and error["error_code"] == "ModelArts.50005101"
    status, flavors, _ = sim.request("GET", "/v1/{project_id}/resourceflavors")
    by_name = {f["metadata"]["name"]: f for f in flavors["items"]}
    assert by_name[NPU_FLAVOR]["spec"]["npu"]["size"] == "8"
    assert by_name[A3_FLAVOR]["spec"]["npu"]["size"] == "16"
    assert set(by_name["modelarts.bm.npu.arm.8snt9b2.d"]["status"]["phase"].values()) == {"soldout"}


def test_pool_tags(sim):
    pool = sim.seed([{"name": "tag-pool", "nodes": 1}])["pools"][0]
    url = "/v1/{project_id}/pools/%s/tags" % pool["id"]
    assert sim.request("POST", url + "/create", {"tags": [{"key": "env", "value": "prod"}]})[0] == 200
    assert sim.request("GET", url)[1] == {"tags": [{"key": "env", "values": ["prod"]}]}
    assert sim.request("DELETE", url + "/delete", {"tags": [{"key": "env"}]})[0] == 200
    assert sim.request("GET", url)[1] == {"tags": []}


@pytest.fixture(scope="module")
def terraform_wire_sim(tmp_path_factory):
    """A simulator started with the other wire forms: batch-reboot answers {"job_id"} (what Terraform
    reads) and status.resources.<phase> is one object (as the SDK models it)."""
    handle = start_simulator(tmp_path_factory.mktemp("sim-wire"), time_scale=0, seed=7, extra_env={
        "MODELARTS_SIM_REBOOT_RESPONSE": "job", "MODELARTS_SIM_RESOURCES_SHAPE": "object"})
    yield handle
    assert handle.stop() == 0


def test_wire_switches_serve_the_job_id_and_object_forms(terraform_wire_sim):
    sim = terraform_wire_sim
    pool = sim.seed([{"name": "wire-pool", "nodes": 2}])["pools"][0]
    status, reboot, _ = sim.request("POST", "%s/%s/nodes/batch-reboot" % (POOLS, pool["id"]),
                                    {"nodeNames": [pool["nodes"][0]]})
    assert status == 200 and list(reboot) == ["job_id"]
    assert sim.request("GET", "/v2/{project_id}/jobs/" + reboot["job_id"])[1]["type"] == "reboot-node"
    available = show(sim, pool["id"])["status"]["resources"]["available"]
    assert isinstance(available, dict) and available["count"] == 2


def kube_node(sim, pool_id, name):
    with open(sim.env["kubeconfig"], encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    token = next(u["user"]["token"] for u in config["users"] if u["name"] == pool_id)
    status, node, _ = sim.raw("GET", "/k8s/%s/api/v1/nodes/%s" % (pool_id, name),
                              headers={"Authorization": "Bearer " + token})
    assert status == 200, node
    return node


def test_a_reboot_gives_the_kubernetes_node_a_new_boot_id(sim):
    pool = sim.seed([{"name": "boot-pool", "nodes": 1}])["pools"][0]
    node = pool["nodes"][0]
    kube_name = pool["private_ips"][node]
    before = kube_node(sim, pool["id"], kube_name)["status"]["nodeInfo"]["bootID"]
    assert len(before) == 36
    sim.request("POST", "%s/%s/nodes/batch-reboot" % (POOLS, pool["id"]), {"nodeNames": [node]})
    sim.advance(3600)
    assert kube_node(sim, pool["id"], kube_name)["status"]["nodeInfo"]["bootID"] not in ("", before)
