"""lite_servers inventory: hostvars, filters and built-in groups are pure functions of the listing."""
from ansible_collections.modelarts.lite.plugins.module_utils.hosts import builtin_groups, select, server_vars


def server(name, status="RUNNING", flavor="f1", hps=None, ip="192.168.0.2", **extra):
    record = {"id": "id-" + name, "name": name, "status": status, "flavor": flavor,
              "image": {"image_id": "img", "name": "HCE2.0", "arch": "ARM"},
              "cloud_server": {"id": "bms-" + name, "type": "HPS" if hps else "BMS"},
              "endpoints": [{"dev_service": "SSH", "service": "SSH", "uri": ip}] if ip else []}
    if hps:
        record["server_hps"] = {"id": "hps-" + hps, "name": hps}
    record.update(extra)
    return record


def test_server_vars_flatten_the_record():
    hostvars = server_vars(server("a", hps="sn1", availability_zone="cn-north-4a"))
    assert hostvars["lite_server_private_ip"] == "192.168.0.2"
    assert hostvars["lite_server_super_node"] == "sn1" and hostvars["lite_server_super_node_id"] == "hps-sn1"
    assert hostvars["lite_server_image_name"] == "HCE2.0" and hostvars["lite_server_server_type"] == "HPS"
    assert builtin_groups(hostvars) == [("supernode", "sn1"), ("flavor", "f1"), ("status", "running"),
                                        ("az", "cn-north-4a")]
    assert server_vars(server("b", ip=None))["lite_server_private_ip"] is None
    assert [p for p, _v in builtin_groups(server_vars(server("c")))] == ["flavor", "status"]


def test_select_filters_and_orders():
    servers = [server("b-2", hps="sn-b"), server("a-1", hps="sn-a"), server("x", status="STOPPED"),
               server("solo", flavor="f2")]
    assert [v["lite_server_name"] for v in select(servers, ["RUNNING"])] == ["a-1", "b-2", "solo"]
    assert [v["lite_server_name"] for v in select(servers, [], ["f1"])] == ["a-1", "b-2", "x"]
    assert [v["lite_server_name"] for v in select(servers, [], super_nodes=["hps-sn-b"])] == ["b-2"]
    assert [v["lite_server_name"] for v in select(servers, [], name_pattern="?-*")] == ["a-1", "b-2"]
