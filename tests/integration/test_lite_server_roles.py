"""Roles on Lite Servers over real SSH: npu_health and hccl_retry on the simulated fleet."""
import json
import os

import pytest
import yaml

from ssh_fleet import BIN, SshFleet

SUPER_NODE_SERVERS = ["sn-a-1", "sn-a-2", "sn-b-1", "sn-b-2"]


@pytest.fixture(scope="module")
def fleet(sim, tmp_path_factory):
    fleet = SshFleet.start(sim, tmp_path_factory.mktemp("fleet"))
    yield fleet
    fleet.stop()


def write_play(fleet, name, roles, post_tasks=None):
    path = fleet.base / ("%s.yml" % name)
    path.write_text(yaml.safe_dump([{"name": name, "hosts": "lite_servers", "gather_facts": False,
                                     "roles": roles, "post_tasks": post_tasks or []}]))
    return path


def failed_message(output, host):
    """The message of the host's failed task; the host's stats when it has none (e.g. unreachable)."""
    for play in output["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get(host)
            if result and result.get("failed"):
                return result.get("msg", "")
    return "no failed task for %s; stats %s" % (host, output["stats"].get(host))


def test_npu_health_reports_each_server_and_gates_the_sick_one(fleet, tmp_path):
    fleet.world.inject("sn-b-1", unhealthy_chips=[3])
    reports = tmp_path / "reports"
    play = write_play(fleet, "health", [{"role": "modelarts.lite.npu_health",
                                         "vars": {"npu_health_report_dir": str(reports)}}],
                      post_tasks=[{"name": "after the gate", "ansible.builtin.debug": {"msg": "still in the play"}}])
    try:
        output = fleet.playbook(fleet.inventory(), play, expect_rc=(2,))
        stats = output["stats"]
        assert stats["sn-b-1"]["failures"] == 1
        message = failed_message(output, "sn-b-1")
        assert "unhealthy NPU chips (Phy-ID) 3" in message and "health Critical" in message
        after = [t for t in output["plays"][0]["tasks"] if t["task"]["name"] == "after the gate"][0]["hosts"]
        assert sorted(after) == sorted(set(fleet.running()) - {"sn-b-1"})  # the gate left sn-b-1 out
        report = json.loads((reports / "sn-a-1.json").read_text())
        assert report["chip_count"] == 16 and report["healthy"] and report["driver_version"] == "24.1.rc3.10"
        assert json.loads((reports / "solo-1.json").read_text())["chip_name"] == "910B3"
        sick = json.loads((reports / "sn-b-1.json").read_text())
        assert sick["unhealthy_chips"] == [3] and sick["chips"][3]["hbm_double_bit_errors"] == 4
        rerun = fleet.playbook(fleet.inventory(), play, expect_rc=(2,))
        assert all(host["changed"] == 0 for host in rerun["stats"].values()), rerun["stats"]
    finally:
        fleet.world.inject("sn-b-1", unhealthy_chips=None)


def env_file(fleet, host):
    return os.path.join(fleet.world.root(host), "etc/modelarts-lite/hccl-retry.env")


def test_hccl_retry_sets_checks_refuses_and_removes(fleet):
    play = write_play(fleet, "retry", [{"role": "modelarts.lite.hccl_retry"}])
    output = fleet.playbook(fleet.inventory(), play, expect_rc=(2,))
    # The A2 server has no operator retry: refused before any write.
    assert "only on Atlas A3" in failed_message(output, "solo-1")
    assert not os.path.exists(os.path.join(fleet.world.root("solo-1"), "etc/environment"))
    assert not os.path.exists(env_file(fleet, "solo-1"))
    for host in SUPER_NODE_SERVERS:
        root = fleet.world.root(host)
        with open(os.path.join(root, "etc/environment"), encoding="utf-8") as handle:
            assert handle.read() == ('HCCL_OP_RETRY_ENABLE="L1:1,L2:1"\n'
                                     'HCCL_OP_RETRY_PARAMS="MaxCnt:3,HoldTime:5000,IntervalTime:1000"\n')
        assert output["stats"][host]["changed"] >= 3 and output["stats"][host]["failures"] == 0
    # A login shell on the server sees the values (through its own sshd).
    proc = fleet.run([str(BIN / "ansible"), "sn-a-2", "-i", str(fleet.inventory()), "-m",
                      "ansible.builtin.shell", "-a", ". $LITE_SERVER_ROOT/etc/profile.d/modelarts-lite-hccl-retry.sh; "
                      "echo $HCCL_OP_RETRY_ENABLE/$HCCL_OP_RETRY_PARAMS"])
    assert "L1:1,L2:1/MaxCnt:3,HoldTime:5000,IntervalTime:1000" in proc.stdout

    rerun = fleet.playbook(fleet.inventory(), play, limit=",".join(SUPER_NODE_SERVERS))
    assert all(rerun["stats"][host]["changed"] == 0 for host in SUPER_NODE_SERVERS)

    before = {host: open(env_file(fleet, host), encoding="utf-8").read() for host in SUPER_NODE_SERVERS}
    bad = fleet.playbook(fleet.inventory(), play, limit=",".join(SUPER_NODE_SERVERS),
                         extra_vars={"hccl_retry_max_count": 11}, expect_rc=(2,))
    assert "hccl_retry_max_count must be 1-10 (got 11)" in failed_message(bad, "sn-a-1")
    assert before == {host: open(env_file(fleet, host), encoding="utf-8").read() for host in SUPER_NODE_SERVERS}

    changed = fleet.playbook(fleet.inventory(), play, limit="sn-a-1", extra_vars={"hccl_retry_levels": ["L1"]})
    assert changed["stats"]["sn-a-1"]["changed"] >= 1
    assert "HCCL_OP_RETRY_ENABLE=L1:1,L2:0" in open(env_file(fleet, "sn-a-1"), encoding="utf-8").read()

    absent = fleet.playbook(fleet.inventory(), play, limit=",".join(SUPER_NODE_SERVERS),
                            extra_vars={"hccl_retry_state": "absent"})
    assert all(absent["stats"][host]["failures"] == 0 for host in SUPER_NODE_SERVERS)
    for host in SUPER_NODE_SERVERS:
        assert not os.path.exists(env_file(fleet, host))
        with open(os.path.join(fleet.world.root(host), "etc/environment"), encoding="utf-8") as handle:
            assert "HCCL_OP_RETRY" not in handle.read()
    again = fleet.playbook(fleet.inventory(), play, limit=",".join(SUPER_NODE_SERVERS),
                           extra_vars={"hccl_retry_state": "absent"})
    assert all(again["stats"][host]["changed"] == 0 for host in SUPER_NODE_SERVERS)


def etc_tree(fleet, host):
    """Every file below the host's etc/ with its content: what a refused run must leave as it was."""
    root = os.path.join(fleet.world.root(host), "etc")
    tree = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(directory, name), "rb") as handle:
                tree[os.path.relpath(os.path.join(directory, name), root)] = handle.read()
    return tree


def test_hccl_retry_refuses_an_old_or_missing_cann_before_any_change(fleet):
    play = write_play(fleet, "retry-cann", [{"role": "modelarts.lite.hccl_retry"}])
    fleet.world.install_cann("sn-a-1", "8.0.RC3")  # before operator retry (CANN 8.1.RC1)
    fleet.world.install_cann("sn-a-2", None)  # no toolkit at all
    before = {host: etc_tree(fleet, host) for host in ("sn-a-1", "sn-a-2")}
    try:
        output = fleet.playbook(fleet.inventory(), play, limit="sn-a-1,sn-a-2", expect_rc=(2,))
        assert "needs CANN 8.1.RC1 or later; this server runs CANN 8.0.RC3. Nothing was changed" \
            in failed_message(output, "sn-a-1")
        assert "has no CANN toolkit" in failed_message(output, "sn-a-2")
        assert all(output["stats"][host]["changed"] == 0 for host in ("sn-a-1", "sn-a-2"))
        assert before == {host: etc_tree(fleet, host) for host in ("sn-a-1", "sn-a-2")}
        assert not os.path.exists(env_file(fleet, "sn-a-1"))
    finally:
        for host in ("sn-a-1", "sn-a-2"):
            fleet.world.install_cann(host, "8.2.RC1")


def stress_play(fleet, **extra):
    return write_play(fleet, "stress", [{"role": "modelarts.lite.supernode_stress_test", "vars": dict({
        "supernode_stress_test_days": ["Sat", "Sun"], "supernode_stress_test_time": "03:30",
        "supernode_stress_test_fio_size_mb": 16, "supernode_stress_test_fio_runtime": 4,
        "supernode_stress_test_fio_min_mbps": 20}, **extra)}])


def test_stress_test_schedules_runs_and_reports_the_faulty_link(fleet, tmp_path):
    reports = tmp_path / "stress"
    play = stress_play(fleet, supernode_stress_test_run_now=True, supernode_stress_test_report_dir=str(reports))
    fleet.world.inject("sn-a-2", hccs_link_down=[5])
    fleet.world.inject("sn-b-1", slow_storage=2)
    limit = ",".join(SUPER_NODE_SERVERS)
    try:
        output = fleet.playbook(fleet.inventory(), play, limit=limit, expect_rc=(2,))
        assert "hccs_links device 5" in failed_message(output, "sn-a-2")
        summary = {s["server"]: s for s in json.loads((reports / "summary.json").read_text())}
        assert summary["sn-a-2"]["failed"] == ["hccs_links device 5: 3.1 GB/s < 150.0 GB/s"]
        assert summary["sn-a-2"]["items"] == {"npu_compute": "PASS", "hccs_links": "FAIL", "roce_network": "PASS",
                                              "storage_io": "PASS"}
        assert [f.split(":")[0] for f in summary["sn-b-1"]["failed"]] == ["storage_io " + os.path.join(
            fleet.world.root("sn-b-1"), "var/lib/modelarts-lite/stress-io")]
        assert summary["sn-a-1"]["passed"] and summary["sn-b-2"]["passed"]
        per_link = json.loads((reports / "sn-a-1.json").read_text())["results"]
        assert len([r for r in per_link if r["item"] == "hccs_links"]) == 16
        assert len([r for r in per_link if r["item"] == "roce_network"]) == 16
        for host in SUPER_NODE_SERVERS:
            units = os.path.join(fleet.world.root(host), "etc/systemd/system")
            with open(os.path.join(units, "timers.target.wants/modelarts-lite-stress-test.timer"),
                      encoding="utf-8") as handle:
                assert "OnCalendar=Sat,Sun *-*-* 03:30:00 Asia/Shanghai\n" in handle.read()
            assert os.path.exists(os.path.join(units, "modelarts-lite-stress-test.service"))
        rerun = fleet.playbook(fleet.inventory(), play, limit=limit, expect_rc=(2,))
        assert all(rerun["stats"][host]["changed"] == 0 for host in SUPER_NODE_SERVERS), rerun["stats"]
    finally:
        fleet.world.inject("sn-a-2", hccs_link_down=None)
        fleet.world.inject("sn-b-1", slow_storage=None)

    bad = fleet.playbook(fleet.inventory(), stress_play(fleet, supernode_stress_test_time="25:00",
                                                        supernode_stress_test_days=["Sat"]),
                         limit="sn-a-1", expect_rc=(2,))
    assert "time HH:MM (got 25:00)" in failed_message(bad, "sn-a-1")
    with open(os.path.join(fleet.world.root("sn-a-1"), "etc/systemd/system/modelarts-lite-stress-test.timer"),
              encoding="utf-8") as handle:
        assert "OnCalendar=Sat,Sun *-*-* 03:30:00" in handle.read()  # unchanged

    absent = fleet.playbook(fleet.inventory(), stress_play(fleet, supernode_stress_test_state="absent"), limit=limit)
    for host in SUPER_NODE_SERVERS:
        root = fleet.world.root(host)
        assert absent["stats"][host]["failures"] == 0
        for path in ("etc/systemd/system/modelarts-lite-stress-test.timer",
                     "etc/systemd/system/timers.target.wants/modelarts-lite-stress-test.timer",
                     "usr/local/sbin/modelarts-lite-stress-test", "etc/modelarts-lite/stress-test.json",
                     "var/log/modelarts-lite/stress-test"):
            assert not os.path.lexists(os.path.join(root, path)), (host, path)


def disk_state(fleet, host):
    with open(os.path.join(fleet.world.root(host), "etc/modelarts-sim/disk.json"), encoding="utf-8") as handle:
        return json.load(handle)["partitions"]


def outcome(output, host):
    for task in output["plays"][0]["tasks"]:
        if task["task"]["name"].endswith("The outcome") and host in task["hosts"]:
            return task["hosts"][host]["ansible_facts"]["system_disk_grow_result"]
    raise AssertionError("no outcome for %s" % host)


def test_system_disk_grow_evs_then_host_idempotent_and_refusals(fleet, sim):
    hosts = ["sn-a-1", "solo-1"]     # root on ext4 and on xfs (ssh_fleet.ROOT_FSTYPE)
    limit = ",".join(hosts)
    play = write_play(fleet, "disk", [{"role": "modelarts.lite.system_disk_grow", "vars": {"system_disk_grow_size": 300}}])
    before = {host: disk_state(fleet, host) for host in hosts}
    mark = len(sim.audit_entries())
    preview = fleet.playbook(fleet.inventory(), play, limit=limit, check=True)
    assert all(preview["stats"][host]["changed"] >= 3 for host in hosts), preview["stats"]   # EVS, partition, fs
    assert sim.audit_entries()[mark:] == [] and before == {host: disk_state(fleet, host) for host in hosts}

    grown = fleet.playbook(fleet.inventory(), play, limit=limit)
    extends = [e for e in sim.audit_entries()[mark:] if e["api"] == "evs"]
    assert [e["body"] for e in extends] == [{"os-extend": {"new_size": 300}}] * 2
    for host, tool in zip(hosts, ["resize2fs", "xfs_growfs"]):
        result = outcome(grown, host)
        assert (result["disk"], result["partition"], result["tool"], result["evs_size_gb"]) == ("/dev/sda", 2, tool, 300)
        assert result["disk_bytes"] == 300 << 30 and result["partition_changed"] and result["fs_changed"]
        assert result["device_bytes"] > result["device_bytes_before"] + (99 << 30) and result["full_size"]
        assert result == outcome(preview, host)   # check mode predicted exactly this
        root = disk_state(fleet, host)[1]
        assert root["sectors"] * 512 == result["device_bytes"] and root["blocks"] * 4096 == result["fs_bytes"]

    mark = len(sim.audit_entries())
    rerun = fleet.playbook(fleet.inventory(), play, limit=limit)
    assert all(rerun["stats"][host]["changed"] == 0 for host in hosts), rerun["stats"]
    assert sim.audit_entries()[mark:] == []

    grown_state = {host: disk_state(fleet, host) for host in hosts}
    refused = fleet.playbook(fleet.inventory(), write_play(fleet, "disk-refused", [{
        "role": "modelarts.lite.system_disk_grow", "vars": {
            "system_disk_grow_size": 400,
            "system_disk_grow_disk": "{{ '/dev/vdb' if inventory_hostname == 'sn-a-1' else '' }}",
            "system_disk_grow_mount": "{{ '/boot/efi' if inventory_hostname == 'solo-1' else '/' }}"}}]),
        limit=limit, expect_rc=(2,))
    assert "/ is on /dev/sda, not on /dev/vdb (system_disk_grow_disk). Nothing was changed." in \
        failed_message(refused, "sn-a-1")
    assert "/boot/efi (/dev/sda1) holds a vfat file system" in failed_message(refused, "solo-1")
    assert sim.audit_entries()[mark:] == [], "a refusal comes before the EVS call"
    assert grown_state == {host: disk_state(fleet, host) for host in hosts}
