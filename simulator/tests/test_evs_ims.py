"""EVS and IMS on their own ports: the vendor SDK clients (huaweicloudsdkevs, huaweicloudsdkims 3.1.219)
sign, list and show; the simulator refuses what EVS and IMS refuse, audits, injects faults, and
its durations follow the simulated clock.
"""
import pytest

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkevs.v2 import model as evs_model
from huaweicloudsdkevs.v2.evs_client import EvsClient
from huaweicloudsdkims.v2 import model as ims_model
from huaweicloudsdkims.v2.ims_client import ImsClient
from modelarts_sim.testing import SimulatorError


def sdk_client(sim, cls, service):
    config = HttpConfig.get_default_config()
    config.ssl_ca_cert = sim.env["ca_path"]
    config.timeout = (5, 10)
    credentials = BasicCredentials(sim.env["access_key"], sim.env["secret_key"], sim.env["project_id"])
    return (cls.new_builder().with_http_config(config).with_credentials(credentials)
            .with_endpoint(sim.env[service + "_endpoint"]).build())


@pytest.fixture(scope="module")
def evs(sim):
    return sdk_client(sim, EvsClient, "evs")


@pytest.fixture(scope="module")
def ims(sim):
    return sdk_client(sim, ImsClient, "ims")


@pytest.fixture(scope="module")
def seeded(sim):
    return sim.admin("POST", "seed", {
        "servers": [{"name": "evs-a", "root_volume_size": 200, "data_volumes": [500]},
                    {"name": "evs-pre", "charging_mode": "PRE_PAID", "status": "STOPPED"}],
        "supernodes": [{"name": "evs-sn", "servers": 2}]})


def server(sim, name):
    servers = sim.request("GET", "/v1/{project_id}/dev-servers", query={"limit": 100})[1]["data"]
    return next(s for s in servers if s["name"] == name)


def root(raw):
    return next(v for v in raw["volumes"] if v["type"] == "ROOT")


def test_own_endpoints_in_env(sim):
    ports = {sim.env["endpoint"], sim.env["evs_endpoint"], sim.env["ims_endpoint"]}
    assert len(ports) == 3
    exports = sim.env_vars()
    assert exports["MODELARTS_LITE_EVS_ENDPOINT"] == sim.env["evs_endpoint"]
    assert exports["MODELARTS_LITE_IMS_ENDPOINT"] == sim.env["ims_endpoint"]


def test_sdk_lists_and_shows_the_servers_volumes(sim, evs, seeded):
    raw = server(sim, "evs-a")
    listed = evs.list_volumes(evs_model.ListVolumesRequest(limit=100))
    ids = {v.id for v in listed.volumes}
    assert {v["evs_id"] for v in raw["volumes"]} <= ids
    assert listed.count == len(listed.volumes)
    shown = evs.show_volume(evs_model.ShowVolumeRequest(volume_id=root(raw)["evs_id"])).volume
    assert shown.size == 200 and shown.bootable == "true" and shown.status == "in-use"
    assert shown.attachments[0].server_id == raw["cloud_server"]["id"]
    assert shown.multiattach is False and not (shown.metadata or {}).get("orderID")
    prepaid = evs.show_volume(evs_model.ShowVolumeRequest(volume_id=root(server(sim, "evs-pre"))["evs_id"]))
    assert prepaid.volume.metadata["orderID"]


def test_sdk_extends_a_system_disk_and_the_server_reports_it(sim, evs, seeded):
    raw = server(sim, "evs-a")
    volume_id = root(raw)["evs_id"]
    before = len(sim.audit_entries())
    body = evs_model.ResizeVolumeRequestBody(os_extend=evs_model.OsExtend(new_size=300))
    job_id = evs.resize_volume(evs_model.ResizeVolumeRequest(volume_id=volume_id, body=body)).job_id
    entries = sim.audit_entries(before)
    assert [(e["api"], e["method"], e["status"]) for e in entries] == [("evs", "POST", 202)]
    assert entries[0]["body"] == {"os-extend": {"new_size": 300}}
    job = evs.show_job(evs_model.ShowJobRequest(job_id=job_id))
    assert job.status == "RUNNING" and job.job_type == "extendVolume"
    assert evs.show_volume(evs_model.ShowVolumeRequest(volume_id=volume_id)).volume.status == "extending"
    sim.advance(30)  # EXTEND_SECONDS 60 x a 0.5-2 spread: not yet, unless the spread is at its floor
    sim.advance(120)
    job = evs.show_job(evs_model.ShowJobRequest(job_id=job_id))
    assert job.status == "SUCCESS" and job.entities.size == 300
    assert root(server(sim, "evs-a"))["size"] == 300
    assert evs.show_volume(evs_model.ShowVolumeRequest(volume_id=volume_id)).volume.size == 300
    # What the server's own disk tools see (blockdev.py stand-ins read it): the grown size, read without an audit line.
    before = len(sim.audit_entries())
    assert sim.admin("GET", "system-disk?server=" + raw["id"]) == {"server_id": raw["id"], "volume_id": volume_id,
                                                                   "size": 300}
    assert sim.audit_entries(before) == []
    with pytest.raises(SimulatorError, match="404"):
        sim.admin("GET", "system-disk?server=no-such-server")


@pytest.mark.parametrize("new_size, fragment", [(lambda size: size, "larger than"),
                                                (lambda size: size - 50, "larger than"),
                                                (lambda size: 1025, "maximum size")])
def test_refused_sizes_change_nothing(sim, seeded, new_size, fragment):
    volume_id = root(server(sim, "evs-a"))["evs_id"]
    size = root(server(sim, "evs-a"))["size"]
    before = len(sim.audit_entries())
    status, body, _ = sim.request("POST", "/v2.1/{project_id}/cloudvolumes/%s/action" % volume_id,
                                  body={"os-extend": {"new_size": new_size(size)}}, service="evs")
    assert status == 400 and body["error"]["code"] == "EVS.5400" and fragment in body["error"]["message"]
    assert root(server(sim, "evs-a"))["size"] == size
    assert [(e["api"], e["status"]) for e in sim.audit_entries(before)] == [("evs", 400)]


def test_server_status_rules_and_unknown_volume(sim, seeded):
    members = sim.request("GET", "/v1/{project_id}/dev-servers/hyperinstance/%s" % seeded["supernodes"][0]["id"])[1]
    first = members["servers"][0]
    sim.request("PUT", "/v1/{project_id}/dev-servers/%s/stop" % first["id"])  # STOPPING for a while
    status, body, _ = sim.request("POST", "/v2.1/{project_id}/cloudvolumes/%s/action" % root(first)["evs_id"],
                                  body={"os-extend": {"new_size": 400}}, service="evs")
    assert status == 400 and "STOPPING" in body["error"]["message"]
    status, body, _ = sim.request("POST", "/v2.1/{project_id}/cloudvolumes/nope/action",
                                  body={"os-extend": {"new_size": 400}}, service="evs")
    assert status == 404 and body["error"]["code"]
    sim.advance(600)


def test_prepaid_disk_needs_auto_pay_to_grow(sim, seeded):
    volume_id = root(server(sim, "evs-pre"))["evs_id"]
    path = "/v2.1/{project_id}/cloudvolumes/%s/action" % volume_id
    status, body, _ = sim.request("POST", path, body={"os-extend": {"new_size": 250}}, service="evs")
    assert status == 200 and body["order_id"] and "job_id" not in body
    sim.advance(600)
    assert root(server(sim, "evs-pre"))["size"] == 200  # the order waits for payment
    status, body, _ = sim.request("POST", path, body={"os-extend": {"new_size": 250}, "bssParam": {"isAutoPay": "true"}},
                                  service="evs")
    assert status == 200 and body["order_id"]
    sim.advance(600)
    assert root(server(sim, "evs-pre"))["size"] == 250


def test_unsigned_and_faulted_requests(sim, seeded, clean_faults):
    status, body, _ = sim.raw("GET", "/v2/%s/cloudvolumes/detail" % sim.env["project_id"],
                              port=int(sim.env["evs_endpoint"].rsplit(":", 1)[1]))
    assert status == 401
    sim.set_faults([{"kind": "error", "api": "evs", "status": 503, "count": 1}])
    status, body, _ = sim.request("GET", "/v2/{project_id}/cloudvolumes/detail", service="evs")
    assert status == 503 and body["error"]["code"] == "EVS.0500"
    status, _body, _ = sim.request("GET", "/v2/{project_id}/cloudvolumes/detail", service="evs")
    assert status == 200
    counters = sim.counters()
    assert counters["evs"]["GET"] >= 2


def test_fail_operation_extend(sim, seeded, clean_faults):
    sim.set_faults([{"kind": "fail_operation", "operation": "extend", "node": "evs-a"}])
    volume_id = root(server(sim, "evs-a"))["evs_id"]
    size = root(server(sim, "evs-a"))["size"]
    _, body, _ = sim.request("POST", "/v2.1/{project_id}/cloudvolumes/%s/action" % volume_id,
                             body={"os-extend": {"new_size": size + 10}}, service="evs")
    sim.advance(300)
    status, job, _ = sim.request("GET", "/v1/{project_id}/jobs/%s" % body["job_id"], service="evs")
    assert status == 200 and job["status"] == "FAIL" and job["fail_reason"]
    assert root(server(sim, "evs-a"))["size"] == size


def test_ims_sdk_lists_shows_creates_and_deletes_images(sim, ims, seeded):
    public = ims.list_images(ims_model.ListImagesRequest(imagetype="gold", limit=100)).images
    assert public and all(i.visibility == "public" for i in public)
    raw = server(sim, "evs-pre")  # STOPPED
    body = ims_model.CreateImageRequestBody(name="golden-evs-pre", instance_id=raw["cloud_server"]["id"],
                                            description="from evs-pre")
    job_id = ims.create_image(ims_model.CreateImageRequest(body=body)).job_id
    job = ims.show_job(ims_model.ShowJobRequest(job_id=job_id))
    assert job.status == "RUNNING"
    saving = ims.list_images(ims_model.ListImagesRequest(name="golden-evs-pre")).images
    assert [i.status for i in saving] == ["saving"]
    sim.advance(3000)
    job = ims.show_job(ims_model.ShowJobRequest(job_id=job_id))
    assert job.status == "SUCCESS"
    image_id = job.entities.image_id
    shown = ims.glance_show_image(ims_model.GlanceShowImageRequest(image_id=image_id))
    assert shown.name == "golden-evs-pre" and shown.status == "active" and shown.visibility == "private"
    assert shown.min_disk == root(raw)["size"]
    private = ims.list_images(ims_model.ListImagesRequest(imagetype="private")).images
    assert [i.id for i in private] == [image_id]

    # The new image boots servers like its source: the ModelArts changeos accepts its IMS id.
    status, changed, _ = sim.request("POST", "/v1/{project_id}/dev-servers/%s/changeos" % raw["id"],
                                     body={"image_id": image_id, "key_pair_name": "kp-sim"})
    assert status == 200, changed
    sim.advance(3600)
    assert server(sim, "evs-pre")["image"]["image_id"] == image_id
    assert server(sim, "evs-pre")["image"]["name"] == "golden-evs-pre"

    ims.glance_delete_image(ims_model.GlanceDeleteImageRequest(image_id=image_id))
    with pytest.raises(ClientRequestException) as caught:
        ims.glance_show_image(ims_model.GlanceShowImageRequest(image_id=image_id))
    assert caught.value.status_code == 404


def test_ims_refuses_a_running_server_and_bad_names(sim, seeded):
    raw = server(sim, "evs-a")  # RUNNING
    before = len(sim.audit_entries())
    for body, status_code in (({"name": "x", "instance_id": raw["cloud_server"]["id"]}, 400),
                              ({"name": " bad", "instance_id": raw["cloud_server"]["id"]}, 400),
                              ({"name": "ok", "instance_id": "no-such-instance"}, 400)):
        status, answer, _ = sim.request("POST", "/v2/cloudimages/action", body=body, service="ims")
        assert status == status_code and answer["error"]["code"].startswith("IMG.")
    entries = sim.audit_entries(before)
    assert [(e["api"], e["status"]) for e in entries] == [("ims", 400)] * 3
    names = [i["name"] for i in sim.request("GET", "/v2/cloudimages", query={"__imagetype": "private"},
                                            service="ims")[1]["images"]]
    assert "x" not in names and "ok" not in names
