"""modelarts.lite.lite_servers: the simulator's servers as hosts, reached through real sshd."""
import json
import os
import pathlib
import subprocess
import sys

import jinja2
import pytest
import yaml

from ssh_fleet import BIN, BMS_A2, HPS, REPO, SshFleet, _plain


@pytest.fixture(scope="module")
def fleet(sim, tmp_path_factory):
    fleet = SshFleet.start(sim, tmp_path_factory.mktemp("fleet"))
    yield fleet
    fleet.stop()


def test_graph_lists_every_running_server_grouped_by_super_node(fleet):
    graph = fleet.run([str(BIN / "ansible-inventory"), "-i", str(fleet.inventory()), "--graph"]).stdout
    assert "@supernode_sn_a:" in graph and "@supernode_sn_b:" in graph
    listing = fleet.inventory_json(fleet.inventory())
    assert sorted(listing["lite_servers"]["hosts"]) == fleet.running()
    assert sorted(listing["supernode_sn_a"]["hosts"]) == ["sn-a-1", "sn-a-2"]
    assert sorted(listing["supernode_sn_b"]["hosts"]) == ["sn-b-1", "sn-b-2"]
    flavor_group = listing["flavor_modelarts_hps_npu_arm_16snt9b23_d"]["hosts"]
    assert sorted(flavor_group) == ["sn-a-1", "sn-a-2", "sn-b-1", "sn-b-2"]
    assert "parked-1" not in listing["_meta"]["hostvars"]  # STOPPED: filtered out by the default statuses
    hostvars = listing["_meta"]["hostvars"]["sn-a-1"]
    server = fleet.servers["sn-a-1"]
    assert hostvars["ansible_host"] == server["ip"] == hostvars["lite_server_private_ip"]
    assert hostvars["lite_server_id"] == server["id"] and hostvars["lite_server_flavor"] == HPS
    assert hostvars["lite_server_super_node"] == "sn-a" and hostvars["lite_server_super_node_id"]
    assert hostvars["lite_server_image_name"] and hostvars["lite_server_image_id"]
    assert hostvars["lite_server_root"].endswith("/hosts/sn-a-1")
    assert listing["_meta"]["hostvars"]["solo-1"]["lite_server_super_node"] == ""


def test_filters_constructed_groups_and_hostnames(fleet):
    path = fleet.inventory("filtered", statuses=["RUNNING", "STOPPED"], super_nodes=["sn-b"], name_pattern="*-2",
                           hostnames="id", keyed_groups=[{"key": "lite_server_super_node", "prefix": "pod"}],
                           groups={"first_servers": "lite_server_name.endswith('-2')"})
    listing = fleet.inventory_json(path)
    only = fleet.servers["sn-b-2"]["id"]
    assert listing["lite_servers"]["hosts"] == [only]
    assert listing["pod_sn_b"]["hosts"] == [only] and listing["first_servers"]["hosts"] == [only]
    stopped = fleet.inventory_json(fleet.inventory("stopped", statuses=["STOPPED"], flavors=[
        "modelarts.bm.npu.arm.8snt9b3.d"]))
    assert stopped["lite_servers"]["hosts"] == ["parked-1"] and "status_stopped" in stopped


def test_strict_compose_refuses_an_unknown_variable(fleet):
    path = fleet.inventory("strict", strict=True, compose={"ansible_user": "no_such_var"})
    proc = fleet.run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"], expect_rc=(0, 1, 4),
                     extra_env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    assert proc.returncode != 0 and "no_such_var" in proc.stderr


def test_ping_reaches_each_server_through_its_own_sshd(fleet):
    path = fleet.inventory()
    proc = fleet.run([str(BIN / "ansible"), "all", "-i", str(path), "-m", "ansible.builtin.ping", "-o"])
    for name in fleet.running():
        assert "%s | SUCCESS" % name in proc.stdout, proc.stdout
    # Each host is its own sshd: the session's LITE_SERVER_ROOT is that host's root directory.
    proc = fleet.run([str(BIN / "ansible"), "all", "-i", str(path), "-m", "ansible.builtin.command",
                      "-a", "printenv LITE_SERVER_ROOT", "-o"])
    for name in fleet.running():
        assert "%s | CHANGED | rc=0 | (stdout) %s" % (name, fleet.world.root(name)) in proc.stdout, proc.stdout


def test_cache_serves_the_second_run_without_api_calls(fleet, tmp_path):
    path = fleet.inventory("cached", cache=True, cache_plugin="ansible.builtin.jsonfile",
                           cache_connection=str(tmp_path / "cache"), cache_timeout=600)
    first = fleet.inventory_json(path)
    fleet.sim.reset_counters()
    second = fleet.inventory_json(path)
    assert second == first
    assert fleet.sim.counters().get("modelarts", {}).get("GET", 0) == 0


def test_bad_credentials_fail_clearly_without_the_secret(fleet, audit):
    secret = "S" * 40
    mark = audit.mark()
    proc = fleet.run([str(BIN / "ansible-inventory"), "-i", str(fleet.inventory("badauth")), "--list"],
                     expect_rc=(0, 1), extra_env={"HUAWEICLOUD_SDK_SK": secret,
                                                  "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    assert proc.returncode == 1 and "lite_servers" in proc.stderr
    assert secret not in proc.stdout + proc.stderr
    proc = fleet.run([str(BIN / "ansible-inventory"), "-i", str(fleet.inventory("swapped")), "--list"],
                     expect_rc=(0, 1), extra_env={"HUAWEICLOUD_SDK_AK": "not an access key!",
                                                  "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    assert proc.returncode == 1 and "does not look like an access key" in proc.stderr
    assert audit.since(mark) == []


def test_awx_inventory_source_reads_the_credential_types_injected_environment(fleet, tmp_path):
    """AWX runs awx/inventories/awx.lite_servers.yml with only what the "ModelArts Lite" credential injects."""
    credential_type = yaml.safe_load((REPO / "awx" / "credential_types" / "modelarts_lite.yml").read_text())
    env = fleet.sim.env
    inputs = {"access_key": env["access_key"], "secret_key": env["secret_key"], "security_token": "",
              "project_id": "", "region": env["region"], "endpoint": env["endpoint"],
              "iam_endpoint": env["iam_endpoint"], "ca_bundle": pathlib.Path(env["ca_path"]).read_text(),
              "kubeconfig": ""}
    files = {}
    for name, template in credential_type["injectors"]["file"].items():
        path = tmp_path / name
        path.write_text(jinja2.Template(template).render(**inputs))
        files[name.split(".", 1)[1]] = str(path)
    injected = {key: jinja2.Template(value).render(tower={"filename": files}, **inputs)
                for key, value in credential_type["injectors"]["env"].items()}
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("HUAWEICLOUD", "MODELARTS", "HW_"))}
    clean.update(injected, ANSIBLE_COLLECTIONS_PATH=fleet.env["ANSIBLE_COLLECTIONS_PATH"],
                 ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    source = REPO / "awx" / "inventories" / "awx.lite_servers.yml"
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], capture_output=True,
                          text=True, env=clean, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    listing = json.loads(proc.stdout)
    assert sorted(listing["lite_servers"]["hosts"]) == fleet.running()
    assert sorted(listing["supernode_sn_a"]["hosts"]) == ["sn-a-1", "sn-a-2"]
    assert env["secret_key"] not in proc.stdout + proc.stderr


def test_lite_pools_one_local_host_per_pool(fleet):
    seeded = fleet.sim.seed([{"name": "fleet-p%d" % i, "nodes": 1} for i in range(3)])["pools"]
    path = fleet.base / "fleet.lite_pools.yml"
    path.write_text(yaml.safe_dump({"plugin": "modelarts.lite.lite_pools", "name_pattern": "fleet-p*",
                                    "compose": {"ansible_python_interpreter": repr(sys.executable)}}))
    listing = fleet.inventory_json(path)
    assert sorted(listing["lite_pools"]["hosts"]) == ["fleet-p0", "fleet-p1", "fleet-p2"]
    hostvars = listing["_meta"]["hostvars"]["fleet-p1"]
    assert hostvars["ansible_connection"] == "local"
    assert hostvars["lite_pool_id"] == hostvars["lite_pool_kube_context"] == seeded[1]["id"]
    assert hostvars["lite_pool_node_count"] == 1 and len(hostvars["lite_pool_node_pools"]) == 1
    # A play over the pools runs each pool's modules locally, several pools at once (forks).
    play = fleet.base / "pools.yml"
    play.write_text(yaml.safe_dump([{"hosts": "lite_pools", "gather_facts": False, "tasks": [
        {"name": "pool info", "modelarts.lite.lite_pool_info": {"name": "{{ lite_pool_name }}"}, "register": "info"},
        {"ansible.builtin.assert": {"that": ["info.pools[0].id == lite_pool_id"]}}]}]))
    output = fleet.playbook(path, play)
    assert sorted(output["stats"]) == ["fleet-p0", "fleet-p1", "fleet-p2"]
    assert all(s["failures"] == 0 for s in output["stats"].values())


def test_public_ip_as_ansible_host_and_a_server_without_one(fleet, audit):
    """The EIP comes from GET .../publicips (one call per kept server; the record has none); a server without
    the chosen address gets no ansible_host and a warning, and with strict the inventory fails naming it."""
    fleet.sim.admin("POST", "seed", {"servers": [
        {"name": "eip-1", "flavor": BMS_A2, "ip": "127.0.0.31", "public_ip": "203.0.113.7"},
        {"name": "eip-2", "flavor": BMS_A2, "ip": "127.0.0.32"}]})
    inventory = [str(BIN / "ansible-inventory"), "--list", "-i"]
    fleet.sim.reset_counters()
    fleet.inventory_json(fleet.inventory("eip-private", name_pattern="eip-*"))
    private_gets = fleet.sim.counters()["modelarts"]["GET"]
    fleet.sim.reset_counters()
    proc = fleet.run(inventory + [str(fleet.inventory("eip", name_pattern="eip-*", ansible_host_address="public_ip"))])
    assert fleet.sim.counters()["modelarts"]["GET"] == private_gets + 2  # one publicips call per kept server
    hostvars = json.loads(proc.stdout, object_hook=_plain)["_meta"]["hostvars"]
    assert hostvars["eip-1"]["ansible_host"] == "203.0.113.7"
    assert hostvars["eip-1"]["lite_server_private_ip"] == "127.0.0.31"
    assert "ansible_host" not in hostvars["eip-2"] and hostvars["eip-2"]["lite_server_public_ip"] is None
    assert "server eip-2" in proc.stderr and "has no EIP bound" in proc.stderr
    mark = audit.mark()
    strict = fleet.run(inventory + [str(fleet.inventory("eip-strict", name_pattern="eip-*", strict=True,
                                                        ansible_host_address="public_ip"))],
                       expect_rc=(1,), extra_env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    assert "server eip-2" in strict.stderr and "choose another ansible_host_address" in strict.stderr
    assert audit.since(mark) == []


def test_availability_zone_groups_from_the_servers_disks(fleet):
    """The server record has no zone; with availability_zones the plugin reads it from EVS (one listing call) and
    groups the hosts per zone; without it EVS is not called."""
    fleet.sim.admin("POST", "seed", {"servers": [{"name": "zone-b-1", "flavor": BMS_A2,
                                                  "availability_zone": "cn-north-4b"}]})
    path = fleet.inventory("zones", availability_zones=True)
    fleet.sim.reset_counters()
    graph = fleet.run([str(BIN / "ansible-inventory"), "-i", str(path), "--graph"]).stdout
    assert fleet.sim.counters().get("evs", {}).get("GET", 0) == 1
    groups = {}
    for line in graph.splitlines():  # "@all:", "  |--@az_cn_north_4a:", "  |  |--sn-a-1"
        entry = line.split("|--")[-1].strip()
        if entry.startswith("@"):
            current = groups.setdefault(entry[1:].rstrip(":"), [])
        else:
            current.append(entry)
    assert groups["az_cn_north_4b"] == ["zone-b-1"]
    assert set(fleet.running()) <= set(groups["az_cn_north_4a"]) and "zone-b-1" not in groups["az_cn_north_4a"]
    assert fleet.inventory_json(path)["_meta"]["hostvars"]["zone-b-1"]["lite_server_availability_zone"] == "cn-north-4b"
    fleet.sim.reset_counters()
    plain = fleet.inventory_json(fleet.inventory())
    assert not [group for group in plain if group.startswith("az_")]
    assert fleet.sim.counters().get("evs", {}).get("GET", 0) == 0
