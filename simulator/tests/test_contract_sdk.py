"""Contract test: the vendor SDK (huaweicloudsdkmodelarts 3.1.219) signs, we verify; we answer, it parses.

Failures here mean the simulator and the real service disagree in a way the collection's own
client could not detect on its own.
"""
import pytest

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkmodelarts.v1 import model as m
from huaweicloudsdkmodelarts.v1.modelarts_client import ModelArtsClient

from masim_helpers import NPU_FLAVOR


def client_for(sim, project_id=True, secret_key=None):
    config = HttpConfig.get_default_config()
    config.ssl_ca_cert = sim.env["ca_path"]
    config.timeout = (5, 10)
    credentials = BasicCredentials(sim.env["access_key"], secret_key or sim.env["secret_key"],
                                   sim.env["project_id"] if project_id else None)
    builder = (ModelArtsClient.new_builder().with_http_config(config).with_credentials(credentials)
               .with_endpoint(sim.env["endpoint"]))
    return builder.build()


@pytest.fixture(scope="module")
def client(sim):
    return client_for(sim)


def test_sdk_creates_shows_lists_and_deletes_a_pool(sim, client):
    body = m.CreatePoolRequestBody(
        api_version="v2", kind="Pool",
        metadata=m.PoolMetadataCreation(labels=m.PoolLabelsCreation(os_modelarts_name="sdk-pool",
                                                                    os_modelarts_workspace_id="0")),
        spec=m.PoolSpecCreation(type="Dedicate", scope=["Train"],
                                resources=[m.PoolResourceFlavor(flavor=NPU_FLAVOR, count=2)],
                                network=m.PoolSpecCreationNetwork(name="network-sim")))
    created = client.create_pool(m.CreatePoolRequest(body=body))
    assert created.status_code == 200
    pool_id = created.metadata.name
    assert pool_id.endswith(sim.env["project_id"])
    assert created.metadata.labels.os_modelarts_name == "sdk-pool"

    shown = client.show_pool(m.ShowPoolRequest(pool_name=pool_id))
    assert shown.status.phase == "Creating"
    assert shown.spec.resources[0].flavor == NPU_FLAVOR and shown.spec.resources[0].count == 2

    sim.advance(3600)
    shown = client.show_pool(m.ShowPoolRequest(pool_name=pool_id))
    assert shown.status.phase == "Running"
    assert [s.state for s in shown.status.scope] == ["Enabled"]

    listed = client.list_pools(m.ListPoolsRequest(label_selector="os.modelarts/name=sdk-pool"))
    assert [p.metadata.name for p in listed.items] == [pool_id]

    nodes = client.list_pool_nodes(m.ListPoolNodesRequest(pool_name=pool_id, limit=1))
    assert len(nodes.items) == 1 and nodes.metadata.remaining_item_count == 1
    node = client.show_pool_node(m.ShowPoolNodeRequest(pool_name=pool_id, node_name=nodes.items[0].metadata.name))
    assert node.status.phase == "Available" and node.status.private_ip.startswith("192.168.")
    assert node.metadata.labels.os_modelarts_node_nodepool == NPU_FLAVOR + "-default"

    node_pools = client.list_node_pools(m.ListNodePoolsRequest(pool_name=pool_id))
    assert [np.metadata.name for np in node_pools.items] == [NPU_FLAVOR + "-default"]

    template = client.show_plugin_template(m.ShowPluginTemplateRequest(plugintemplate_name="npu-driver"))
    assert "7.5.0.5.220-24.1.0.3" in template.spec.versions

    flavors = client.list_resource_flavors(m.ListResourceFlavorsRequest())
    assert NPU_FLAVOR in [f.metadata.name for f in flavors.items]

    order_name = created.metadata.labels.os_modelarts_order_name
    order = client.show_order(m.ShowOrderRequest(order_name=order_name))
    assert order.count == 2 and {i.status for i in order.items} == {"succeed"}

    deleted = client.delete_pool(m.DeletePoolRequest(pool_name=pool_id))
    assert deleted.status.phase == "Deleting"
    sim.advance(3600)
    with pytest.raises(ClientRequestException) as caught:
        client.show_pool(m.ShowPoolRequest(pool_name=pool_id))
    assert caught.value.status_code == 404
    assert caught.value.error_code == "ModelArts.50015001"
    assert caught.value.request_id


def test_sdk_patch_and_batch_calls(sim, client):
    pool = sim.seed([{"name": "sdk-patch", "nodes": 2, "node_pool": "np-a"}])["pools"][0]
    patched = client.patch_pool(m.PatchPoolRequest(pool_name=pool["id"], body=m.PoolUpdateRequest(
        spec=m.PoolSpecUpdate(resources=[m.PoolSpecUpdateResources(flavor=NPU_FLAVOR, count=3)]))))
    assert patched.spec.resources[0].count == 3
    assert [np.metadata.name for np in client.list_node_pools(m.ListNodePoolsRequest(pool_name=pool["id"])).items] \
        == ["np-a"]
    locked = client.batch_lock_pool_nodes(m.BatchLockPoolNodesRequest(
        pool_name=pool["id"], body=m.BatchLockPoolNodesRequestBody(node_names=[pool["nodes"][0]], actions=["delete"])))
    assert [(n.name, n.status) for n in locked.nodes] == [(pool["nodes"][0], "success")]
    updated = client.batch_update_pool_nodes(m.BatchUpdatePoolNodesRequest(
        pool_name=pool["id"],
        body=m.BatchUpdatePoolNodesRequestBody(node_names=[pool["nodes"][1]], action="openHaRedundant")))
    assert updated.success_node_names == [pool["nodes"][1]]


def test_sdk_reads_a_refused_call_as_the_service_sends_it(sim, client):
    """A `refuse` fault is a ModelArts 4xx in the service's shape: the SDK's error handler reads every field."""
    pool = sim.seed([{"name": "sdk-refused", "nodes": 1}])["pools"][0]
    sim.set_faults([{"kind": "refuse", "api": "modelarts", "method": "POST", "path": "/nodes/batch-update$",
                     "count": 1}])
    try:
        with pytest.raises(ClientRequestException) as caught:
            client.batch_update_pool_nodes(m.BatchUpdatePoolNodesRequest(
                pool_name=pool["id"],
                body=m.BatchUpdatePoolNodesRequestBody(node_names=pool["nodes"], action="openHaRedundant")))
    finally:
        sim.clear_faults()
    assert caught.value.status_code == 400
    assert (caught.value.error_code, caught.value.error_msg) == ("ModelArts.50004000", "Bad request")
    assert caught.value.request_id


def test_sdk_discovers_the_project_through_iam(sim, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.env["iam_endpoint"])
    config = HttpConfig.get_default_config()
    config.ssl_ca_cert = sim.env["ca_path"]
    from huaweicloudsdkcore.region.region import Region
    client = (ModelArtsClient.new_builder().with_http_config(config)
              .with_credentials(BasicCredentials(sim.env["access_key"], sim.env["secret_key"]))
              .with_region(Region("cn-north-4", sim.env["endpoint"])).build())
    listed = client.list_pools(m.ListPoolsRequest())
    assert listed.kind == "PoolList"


def test_sdk_with_temporary_credentials(sim):
    credentials = BasicCredentials(sim.env["temporary_access_key"], sim.env["temporary_secret_key"],
                                   sim.env["project_id"]).with_security_token(sim.env["security_token"])
    config = HttpConfig.get_default_config()
    config.ssl_ca_cert = sim.env["ca_path"]
    client = (ModelArtsClient.new_builder().with_http_config(config).with_credentials(credentials)
              .with_endpoint(sim.env["endpoint"]).build())
    assert client.list_pools(m.ListPoolsRequest()).kind == "PoolList"


def test_sdk_with_a_wrong_secret_gets_apig_0301(sim):
    seq = len(sim.audit_entries())
    client = client_for(sim, secret_key="x" * 40)
    with pytest.raises(ClientRequestException) as caught:
        client.list_pools(m.ListPoolsRequest())
    assert caught.value.status_code == 401 and caught.value.error_code == "APIG.0301"
    with pytest.raises(ClientRequestException):
        client.delete_pool(m.DeletePoolRequest(pool_name="pool-none"))
    entries = sim.audit_entries(since=seq)
    assert [(e["method"], e["status"]) for e in entries] == [("DELETE", 401)]
