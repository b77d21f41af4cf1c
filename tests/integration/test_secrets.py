"""Canary secrets never leak: not at -vvv, not on failure paths, not in logs, reports or artifacts.

The simulator generates its secret key, the temporary secret key and the security token; those are
the canaries. Every playbook in playbooks/ that runs against the simulator, plus a playbook of
failing tasks (bad input, a refused signature, temporary credentials, a failed rollout), runs at
-vvv with ANSIBLE_LOG_PATH set. Then stdout, stderr, the log, the role's report and journal files,
the async job results and everything else written under the run's directories are searched for
each canary, raw and base64-encoded.
"""
import base64
import json
import os
import subprocess

import pytest

from conftest import BIN, REPO

OLD = "7.1.0.9.220-23.0.6"
NEW = "7.5.0.5.220-24.1.0.3"
POOL_LOGIN_PASSWORD = "Pool-Login-Canary-7f3a9"  # a node login the provision role passes to lite_pool


def canaries(sim):
    secrets = [sim.env["secret_key"], sim.env["temporary_secret_key"], sim.env["security_token"], POOL_LOGIN_PASSWORD]
    found = set()
    for secret in secrets:
        found.add(secret)
        # base64 of the secret at each of the three byte alignments (it may sit inside a longer blob)
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + secret.encode()).decode()
            found.add(encoded[4 if shift else 0:-4])
    return sorted(found)


@pytest.fixture(scope="module")
def world(sim, tmp_path_factory):
    """Seed what the playbooks address; return their directories."""
    pool = sim.seed([{"name": "canary-pool", "nodes": 2, "driver_version": OLD, "workloads": {
        "ready_nodes": True, "deployments": [{"name": "web", "replicas": 2, "pdb": {"minAvailable": 1}}]}}])["pools"][0]
    sim.admin("POST", "seed", {"servers": [{"name": "canary-srv"}],
                               "supernodes": [{"name": "canary-sn", "servers": 1, "root_volume_size": 200}]})
    root = tmp_path_factory.mktemp("canary")
    return {"pool": pool, "root": root, "reports": root / "reports", "home": root / "home", "log": root / "ansible.log"}


def run_vvv(sim, world, playbook, extra_vars, expect_rc):
    """ansible-playbook -vvv with the default (human) output, a log file and its own temp dirs."""
    env = dict(os.environ)
    env.update(sim.env_vars())
    env.update(ANSIBLE_COLLECTIONS_PATH=env.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / "build" / "install")),
               ANSIBLE_LOG_PATH=str(world["log"]), ANSIBLE_LOCAL_TEMP=str(world["home"] / "tmp"),
               ANSIBLE_REMOTE_TEMP=str(world["home"] / "remote"), ANSIBLE_ASYNC_DIR=str(world["home"] / "async"),
               ANSIBLE_PYTHON_INTERPRETER=str(BIN / "python"),
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    cmd = [str(BIN / "ansible-playbook"), "-vvv", "-i", "localhost,", "-c", "local", str(playbook),
           "-e", json.dumps(extra_vars)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=world["root"], check=False)
    assert proc.returncode in expect_rc, (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:])
    return proc.stdout + "\n" + proc.stderr


FAILING_TASKS = [
    {"name": "bad pool name", "modelarts.lite.lite_pool": {"name": "Bad_Name", "vpc_id": "v", "subnet_id": "s",
                                                           "node_pools": [{"name": "np", "flavor": "x", "count": 1}]}},
    {"name": "wrong secret key", "modelarts.lite.lite_pool_info": {"secret_key": "{{ 'W' * 40 }}"}},
    {"name": "swapped keys", "modelarts.lite.lite_pool_info": {
        "access_key": "{{ lookup('env', 'HUAWEICLOUD_SDK_SK') }}", "secret_key": "{{ lookup('env', 'HUAWEICLOUD_SDK_AK') }}"}},
    {"name": "temporary key, wrong token", "modelarts.lite.lite_pool_info": {
        "access_key": "{{ temp_ak }}", "secret_key": "{{ temp_sk }}", "security_token": "{{ token }}-x"}},
    {"name": "temporary key, good token", "modelarts.lite.lite_pool_info": {
        "access_key": "{{ temp_ak }}", "secret_key": "{{ temp_sk }}", "security_token": "{{ token }}"}},
    {"name": "plain http", "modelarts.lite.lite_pool_info": {"endpoint": "http://127.0.0.1:9"}},
    {"name": "refused rollout",
     "modelarts.lite.lite_rollout": {"pool": "canary-pool", "driver_version": NEW, "max_unavailable": "0"}},
    {"name": "unknown node",
     "modelarts.lite.lite_node": {"pool": "canary-pool", "nodes": ["nope"], "state": "cordoned"}},
    {"name": "unknown server", "modelarts.lite.lite_server_os": {"name": "nope", "operation": "switch", "image": "x"}},
]


def test_no_canary_anywhere(sim, world):
    outputs = []
    common = {"rolling_driver_upgrade_report_dir": str(world["reports"])}
    # The playbooks of playbooks/ that run against the simulator (demo.yml is `make demo`'s own job).
    outputs.append(run_vvv(sim, world, REPO / "playbooks" / "rolling_driver_upgrade.yml", dict(
        common, rolling_driver_upgrade_pool="canary-pool", rolling_driver_upgrade_driver_version=NEW,
        rolling_driver_upgrade_canary_nodes=0, rolling_driver_upgrade_progress_interval=1,
        rolling_driver_upgrade_run_id="canary-ok"), expect_rc=(0,)))
    # A failing rollout: the target does not suit the flavor.
    outputs.append(run_vvv(sim, world, REPO / "playbooks" / "rolling_driver_upgrade.yml", dict(
        common, rolling_driver_upgrade_pool="canary-pool", rolling_driver_upgrade_driver_version="7.7.0.9.220-25.2.1",
        rolling_driver_upgrade_progress_interval=1, rolling_driver_upgrade_run_id="canary-bad"), expect_rc=(2,)))
    new_pool = {"name": "canary-new", "vpc_id": "vpc-c", "subnet_id": "subnet-c", "driver_version": OLD,
                "clusters": ["cce-c"], "user_login": {"password": POOL_LOGIN_PASSWORD},
                "node_pools": [{"name": "np", "flavor": "modelarts.bm.npu.arm.8snt9b3.d", "count": 1}]}
    outputs.append(run_vvv(sim, world, REPO / "playbooks" / "provision.yml", {
        "provision_verify_delay": 1, "provision_report_path": str(world["reports"] / "provision.json"),
        "provision_pools": [new_pool]}, expect_rc=(0,)))
    outputs.append(run_vvv(sim, world, REPO / "playbooks" / "stress_test.yml", {
        "stress_test_pool": "canary-pool", "stress_test_wait_delay": 1, "stress_test_run_now": True}, expect_rc=(0,)))
    outputs.append(run_vvv(sim, world, REPO / "playbooks" / "supernode_scale.yml", {
        "supernode_name": "canary-sn", "supernode_count": 2}, expect_rc=(0,)))
    outputs.append(run_vvv(sim, world, REPO / "playbooks" / "server_os_switch.yml", {
        "server_name": "canary-srv", "server_image": "HCE2.0-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0",
        "server_allow_erase_system_disk": True, "server_stop_if_running": True}, expect_rc=(0,)))
    failing = world["root"] / "failing.yml"
    failing.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False,
        "vars": {"temp_ak": sim.env["temporary_access_key"], "temp_sk": "{{ lookup('env', 'CANARY_TEMP_SK') }}",
                 "token": "{{ lookup('env', 'CANARY_TOKEN') }}"},
        "tasks": [dict(task, ignore_errors=True) for task in FAILING_TASKS]}]))
    os.environ["CANARY_TEMP_SK"] = sim.env["temporary_secret_key"]
    os.environ["CANARY_TOKEN"] = sim.env["security_token"]
    try:
        outputs.append(run_vvv(sim, world, failing, {}, expect_rc=(0,)))
    finally:
        del os.environ["CANARY_TEMP_SK"], os.environ["CANARY_TOKEN"]

    text = "\n".join(outputs)
    assert "refused rollout" in text and "max_unavailable must be a positive" in text, "the failing tasks must have run"
    assert "temporary key, good token" in text
    files = [p for p in world["root"].rglob("*") if p.is_file()]
    assert world["log"] in files and any(p.suffix == ".json" for p in (world["reports"]).iterdir())
    for canary in canaries(sim):
        assert canary not in text, "a canary secret is in the ansible-playbook output"
        for path in files:
            assert canary not in path.read_text(errors="replace"), "a canary secret is in %s" % path
