"""lite_server_image and lite_server_image_info against the simulator's IMS; lite_server_os installs the image."""
import pytest

IMAGE = "modelarts.lite.lite_server_image"
IMAGE_INFO = "modelarts.lite.lite_server_image_info"
OS = "modelarts.lite.lite_server_os"
SERVER_INFO = "modelarts.lite.lite_server_info"


def seed(sim, **body):
    return sim.admin("POST", "seed", body)


def server(ansible, name):
    servers = ansible.module(SERVER_INFO, {"name": name})["servers"]
    assert len(servers) == 1, servers
    return servers[0]


def images(ansible, name):
    return ansible.module(IMAGE_INFO, {"name": name})["images"]


def test_image_check_apply_again_info_and_install(ansible, sim, audit):
    seed(sim, servers=[{"name": "img-src", "status": "STOPPED", "root_volume_size": 200}, {"name": "img-dst"}])
    args = {"name": "golden-one", "server": "img-src", "description": "our stack"}
    mark = audit.mark()
    preview = ansible.module(IMAGE, args, check=True, diff=True)
    assert preview["changed"] is True and preview["image"]["min_disk"] == 200, preview
    assert preview["stopped_server"] is False and preview["diff"] == {"before": None, "after": "golden-one"}
    assert audit.since(mark) == []

    made = ansible.module(IMAGE, args)
    assert made["changed"] is True and made["image"]["status"] == "active" and made["image"]["id"], made
    entries = audit.since(mark)
    assert [(e["api"], e["method"], e["path"]) for e in entries] == [("ims", "POST", "/v2/cloudimages/action")]
    source = server(ansible, "img-src")
    assert entries[0]["body"] == {"name": "golden-one", "instance_id": made["image"]["source"],
                                  "description": "our stack"}

    mark = audit.mark()
    again = ansible.module(IMAGE, args)
    assert again["changed"] is False and again["image"]["id"] == made["image"]["id"]
    assert audit.since(mark) == [], "an identical second run must send no mutating call"
    listed = images(ansible, "golden-one")
    assert [(i["id"], i["status"]) for i in listed] == [(made["image"]["id"], "active")]
    assert source["status"] == "STOPPED"

    # lite_server_os installs it by IMS id: the dev-server image list does not show private images.
    switched = ansible.module(OS, {"name": "img-dst", "image": made["image"]["id"], "allow_erase_system_disk": True,
                                   "stop_if_running": True})
    assert switched["changed"] is True, switched
    assert server(ansible, "img-dst")["image_id"] == made["image"]["id"]
    by_name = ansible.module(OS, {"name": "img-dst", "image": "golden-one", "allow_erase_system_disk": True})
    assert by_name["changed"] is False


def test_running_server_is_stopped_and_started_again_with_the_opt_in(ansible, sim, audit):
    server_id = seed(sim, servers=[{"name": "img-run"}])["servers"][0]["id"]
    mark = audit.mark()
    refused = ansible.module(IMAGE, {"name": "golden-run", "server": "img-run"})
    assert refused.get("failed") is True and "stop_if_running=true" in refused["msg"]
    assert audit.since(mark) == []
    made = ansible.module(IMAGE, {"name": "golden-run", "server": "img-run", "stop_if_running": True})
    assert made["changed"] is True and made["stopped_server"] is True and made["image"]["status"] == "active"
    assert [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in audit.since(mark)] == [
        ("PUT", "stop"), ("POST", "action"), ("PUT", "start")]
    assert server(ansible, "img-run")["status"] == "RUNNING" and server(ansible, server_id)["name"] == "img-run"


def test_absent_deletes_once(ansible, sim, audit):
    seed(sim, servers=[{"name": "img-del", "status": "STOPPED"}])
    made = ansible.module(IMAGE, {"name": "golden-del", "server": "img-del"})
    mark = audit.mark()
    preview = ansible.module(IMAGE, {"name": "golden-del", "state": "absent"}, check=True)
    assert preview["changed"] is True and audit.since(mark) == []
    deleted = ansible.module(IMAGE, {"name": "golden-del", "state": "absent"})
    assert deleted["changed"] is True
    assert [(e["api"], e["method"], e["path"]) for e in audit.since(mark)] == [
        ("ims", "DELETE", "/v2/images/%s" % made["image"]["id"])]
    mark = audit.mark()
    again = ansible.module(IMAGE, {"name": "golden-del", "state": "absent"})
    assert again["changed"] is False and audit.since(mark) == []
    assert images(ansible, "golden-del") == []


@pytest.fixture(scope="module")
def duplicate(sim):
    seed(sim, servers=[{"name": "img-dup", "status": "STOPPED"}, {"name": "img-error", "status": "ERROR"}])
    cloud_id = sim.request("GET", "/v1/{project_id}/dev-servers", query={"limit": 100})[1]["data"]
    instance = next(s for s in cloud_id if s["name"] == "img-dup")["cloud_server"]["id"]
    for _copy in range(2):  # IMS itself allows two images with one name
        assert sim.request("POST", "/v2/cloudimages/action", body={"name": "twin", "instance_id": instance},
                           service="ims")[0] == 200


@pytest.mark.parametrize("args, message", [
    ({"name": "twin", "server": "img-dup"}, "2 private IMS images are named 'twin'"),
    ({"name": "twin", "state": "absent"}, "2 private IMS images are named 'twin'"),
    ({"name": " leading-space", "server": "img-dup"}, "not a valid IMS image name"),
    ({"name": "no-server"}, "state=present needs server"),
    ({"name": "golden-error", "server": "img-error"}, "img-error is ERROR; an image needs it STOPPED"),
    ({"name": "golden-none", "server": "no-such"}, "no Lite Server has the name or id 'no-such'"),
])
def test_refused_cases_change_nothing(ansible, audit, duplicate, args, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(IMAGE, args, check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
    assert audit.since(mark) == [], "a refused input must not reach any API as a mutation"


def test_unknown_private_image_is_refused_by_lite_server_os(ansible, sim, audit):
    seed(sim, servers=[{"name": "img-os-guard", "status": "STOPPED"}])
    mark = audit.mark()
    result = ansible.module(OS, {"name": "img-os-guard", "image": "00000000-0000-4000-8000-000000000000",
                                 "allow_erase_system_disk": True})
    assert result.get("failed") is True and "IMS has no private image" in result["msg"]
    assert audit.since(mark) == []


def test_failed_image_job_is_reported(ansible, sim):
    seed(sim, servers=[{"name": "img-fault", "status": "STOPPED"}])
    sim.set_faults([{"kind": "fail_operation", "operation": "create_image", "node": "img-fault"}])
    try:
        result = ansible.module(IMAGE, {"name": "golden-fault", "server": "img-fault"})
    finally:
        sim.clear_faults()
    assert result.get("failed") is True and result["error_type"] == "OperationFailedError", result
    assert "IMS job" in result["msg"]
    assert images(ansible, "golden-fault") == []
    retried = ansible.module(IMAGE, {"name": "golden-fault", "server": "img-fault"})
    assert retried["changed"] is True and retried["image"]["status"] == "active"


SUPERNODE_OS = "modelarts.lite.supernode_os"
SUPERNODE_INFO = "modelarts.lite.supernode_info"
ECS_FLAVOR = "modelarts.ecs.cpu.x86.8u32g"


@pytest.fixture(scope="module")
def bms_image(ansible, sim):
    """A private image made from a BMS (Snt9B) server, a super node (HPS, Snt9B23) and an x86 ECS server."""
    seed(sim, servers=[{"name": "img-bms-src", "status": "STOPPED"},
                       {"name": "img-ecs-dst", "flavor": ECS_FLAVOR, "image": "Ubuntu-22.04-x86-64bit-ECS"}],
         supernodes=[{"name": "sn-img-guard", "servers": 2}])
    made = ansible.module(IMAGE, {"name": "golden-bms", "server": "img-bms-src"})
    assert made["changed"] is True and made["image"]["status"] == "active", made
    return made["image"]["id"]


@pytest.mark.parametrize("module, args, by_name, message", [
    (SUPERNODE_OS, {"name": "sn-img-guard", "stop_if_running": True, "allow_erase_system_disk": True}, False,
     "server type BMS, not HPS"),
    (OS, {"name": "img-ecs-dst", "stop_if_running": True, "allow_erase_system_disk": True}, True,
     "server type BMS, not ECS; architecture ARM, not X86"),
])
def test_private_image_of_another_server_type_is_refused_before_any_stop(ansible, audit, bms_image, module, args,
                                                                         by_name, message):
    mark = audit.mark()
    for check in (True, False):
        result = ansible.module(module, dict(args, image="golden-bms" if by_name else bms_image), check=check)
        assert result.get("failed") is True, result
        assert message in result["msg"], result["msg"]
        assert "image %s (golden-bms) is a private IMS image made from server img-bms-src" % bms_image \
            in result["msg"], result["msg"]
        assert result.get("option") == "image" and "Set image to" in result["msg"], result
    assert audit.since(mark) == [], "a refused image must not stop or change anything"
    if module == OS:
        assert server(ansible, "img-ecs-dst")["status"] == "RUNNING"
    else:
        servers = ansible.module(SUPERNODE_INFO, {"name": "sn-img-guard"})["supernodes"][0]["servers"]
        assert [s["status"] for s in servers] == ["RUNNING", "RUNNING"], servers
