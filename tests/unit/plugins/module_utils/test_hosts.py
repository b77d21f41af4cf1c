"""lite_servers inventory: hostvars, filters and built-in groups are pure functions of the listing."""
from ansible_collections.modelarts.lite.plugins.module_utils.hosts import builtin_groups, place_in_zones, select, server_vars


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


def test_zones_come_from_the_servers_disks():
    volumes = [{"id": "root-a", "availability_zone": "cn-north-4b"}, {"id": "data-a", "availability_zone": "cn-north-4c"},
               {"id": "data-b", "availability_zone": "cn-north-4a"}]
    servers = [server("a", volumes=[{"type": "DATA", "evs_id": "data-a"}, {"type": "ROOT", "evs_id": "root-a"}]),
               server("b", volumes=[{"type": "ROOT", "evs_id": "gone"}, {"type": "DATA", "evs_id": "data-b"}]),
               server("c", volumes=[{"type": "ROOT", "evs_id": "unknown"}]), server("d")]
    zones = [server_vars(s)["lite_server_availability_zone"] for s in place_in_zones(servers, volumes)]
    assert zones == ["cn-north-4b", "cn-north-4a", "", ""]  # the system disk decides; else any disk; else none


def test_select_filters_and_orders():
    servers = [server("b-2", hps="sn-b"), server("a-1", hps="sn-a"), server("x", status="STOPPED"),
               server("solo", flavor="f2")]
    assert [v["lite_server_name"] for v in select(servers, ["RUNNING"])] == ["a-1", "b-2", "solo"]
    assert [v["lite_server_name"] for v in select(servers, [], ["f1"])] == ["a-1", "b-2", "x"]
    assert [v["lite_server_name"] for v in select(servers, [], super_nodes=["hps-sn-b"])] == ["b-2"]
    assert [v["lite_server_name"] for v in select(servers, [], name_pattern="?-*")] == ["a-1", "b-2"]


def pool(name, phase="Running", versions=("7.5.0.5.220-24.1.0.3",)):
    return {"id": "pool-%s-x" % name, "name": name, "phase": phase, "driver_state": "Running",
            "driver_version": versions[0] if len(set(versions)) == 1 else None, "node_count": 2 * len(versions),
            "node_pools": [{"name": "np%d" % i, "flavor": "f", "count": 2, "driver_version": v, "labels": {}}
                           for i, v in enumerate(versions)]}


def test_pool_vars_and_selection():
    from ansible_collections.modelarts.lite.plugins.module_utils.hosts import select_pools

    pools = [pool("b"), pool("a", versions=("v1", "v2")), pool("c", phase="Creating")]
    kept = select_pools(pools, ["Running"])
    assert [v["lite_pool_name"] for v in kept] == ["a", "b"]
    assert kept[0]["lite_pool_kube_context"] == "pool-a-x" and kept[0]["lite_pool_driver_version"] is None
    assert kept[0]["lite_pool_node_pools"] == [{"name": "np0", "flavor": "f", "count": 2, "driver_version": "v1"},
                                               {"name": "np1", "flavor": "f", "count": 2, "driver_version": "v2"}]
    assert [v["lite_pool_name"] for v in select_pools(pools, [], "[bc]")] == ["b", "c"]
