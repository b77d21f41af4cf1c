"""lite_server_os/supernode_os: a private IMS image that cannot boot the target server is refused before the wire.

The integration tests (test_lite_server_image.py) cover a source server that exists; these cover what IMS's own
record decides when it is gone, and what is left to the service."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure import server_os
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError

HPS = {"name": "sn-1", "flavor": "modelarts.hps.npu.arm.16snt9b23.d", "cloud_server": {"id": "m-hps", "type": "HPS"},
       "image": {"arch": "ARM"}}
ECS = {"name": "cpu-1", "flavor": "modelarts.ecs.cpu.x86.8u32g", "cloud_server": {"id": "m-ecs", "type": "ECS"},
       "image": {"arch": "X86"}}
BMS_SOURCE = {"name": "bms-1", "flavor": "modelarts.bm.npu.arm.8snt9b3.d",
              "cloud_server": {"id": "m-bms", "type": "BMS"}, "image": {"arch": "ARM"}}


def image(origin="instance,m-bms", arm="true", env="Ironic"):
    record = {"id": "img-1", "name": "golden", "status": "active", "__imagetype": "private", "__support_arm": arm,
              "virtual_env_type": env, "__data_origin": origin}
    return {"image_id": "img-1", "name": "golden", "status": "ACTIVE", "made_for": server_os._made_for(record)}


@pytest.fixture
def servers(monkeypatch):
    listed = []
    monkeypatch.setattr(server_os.api, "list_servers", lambda client: list(listed))
    return listed


def test_the_source_server_decides_bms_against_hps(servers):
    servers.append(BMS_SOURCE)
    with pytest.raises(ValidationError, match="made from server bms-1 .type BMS, arch ARM.*server type BMS, not HPS"):
        server_os.refuse_unfit(None, HPS, image(), "HPS-image")


def test_without_the_source_server_ims_decides_arch_and_bare_metal(servers):
    with pytest.raises(ValidationError) as refused:
        server_os.refuse_unfit(None, ECS, image(), "Ubuntu-22.04-x86-64bit-ECS")
    assert "machine m-bms, which is no Lite Server now (IMS records arch ARM, bare metal)" in str(refused.value)
    assert "made for bare metal (BMS/HPS), not ECS; architecture ARM, not X86" in str(refused.value)
    assert refused.value.option == "image"


@pytest.mark.parametrize("record", [
    image(),  # bare metal ARM, source gone: BMS or HPS cannot be told apart, so the service decides
    image(origin="", arm=None, env=None),  # nothing recorded
])
def test_what_no_record_decides_is_left_to_the_service(servers, record):
    assert server_os.refuse_unfit(None, HPS, record, "x") is None


def test_same_type_and_arch_passes(servers):
    servers.append(dict(BMS_SOURCE, cloud_server={"id": "m-bms", "type": "HPS"}))
    assert server_os.refuse_unfit(None, HPS, image(), "x") is None
