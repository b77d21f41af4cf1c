"""Bad input across every module and the rolling upgrade role: a clear message, and no mutation.

All cases run in ONE ansible-playbook process (one task per case, `ignore_errors` + `register`;
role cases inside block/rescue), then each result is checked here: it failed, its message has a
substring that tells the operator what to fix, and the simulator's audit log holds no mutating
call from the whole run (the audit records refused mutations too, so a request that reached the
API and was refused there would show up).
"""
import json

import pytest
from modelarts_sim.certs import ensure_certificates

from roles_helpers import task_results

OLD = "7.1.0.9.220-23.0.6"
SNT9B = "modelarts.bm.npu.arm.8snt9b3.d"
CPU = "modelarts.vm.cpu.8ud"
SOLD_OUT = "modelarts.bm.npu.arm.8snt9b2.d"
TARGET_IMAGE = "HCE2.0-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0"
# Offered in the region, but for the Snt9b23 chip only.
SNT9B23_ONLY = "7.7.0.9.220-25.2.1"
POOL = "bad-pool"


def pool_args(name="bad-new", count=1, flavor=SNT9B, **extra):
    args = {"name": name, "vpc_id": "vpc-it", "subnet_id": "subnet-it", "clusters": ["cce-it"],
            "user_login": {"key_pair_name": "kp-it"},
            "node_pools": [{"name": "np1", "flavor": flavor, "count": count}], "driver_version": OLD}
    args.update(extra)
    return args


def rollout_args(**extra):
    args = {"pool": POOL, "driver_version": "7.5.0.5.220-24.1.0.3", "max_unavailable": "1", "canary_nodes": 0}
    args.update(extra)
    return args


# (case id, module, arguments, substring the failure message must contain)
MODULE_CASES = [
    # lite_pool: names, catalogue, shapes, guards
    ("pool-name-uppercase", "lite_pool", pool_args("Bad_Name"), "not a valid pool name"),
    ("pool-name-too-short", "lite_pool", pool_args("abc"), "not a valid pool name"),
    ("pool-unknown-flavor", "lite_pool", pool_args(flavor="no.such.flavor"), "is not offered"),
    ("pool-sold-out-flavor", "lite_pool", pool_args(flavor=SOLD_OUT), "sold out"),
    ("pool-create-count-0", "lite_pool", pool_args(count=0), "count 0 is below 1"),
    ("pool-scale-to-0", "lite_pool", {"name": POOL, "node_pools": [{"name": "np1", "flavor": SNT9B, "count": 0}]},
     "count 0 is below 1"),
    ("pool-unknown-driver", "lite_pool", pool_args(driver_version="9.9.9"), "driver_version '9.9.9' is not offered"),
    ("pool-missing-vpc", "lite_pool", pool_args(vpc_id=None), "needs vpc_id"),
    ("pool-missing-clusters", "lite_pool", pool_args(clusters=None), "needs clusters"),
    ("pool-missing-login", "lite_pool", pool_args(user_login=None), "needs user_login"),
    ("pool-login-both", "lite_pool", pool_args(user_login={"key_pair_name": "kp", "password": "Pw-12345678"}),
     "mutually exclusive"),
    ("pool-node-pool-name", "lite_pool",
     pool_args(node_pools=[{"name": "np-default", "flavor": SNT9B, "count": 1}]), "is not valid"),
    ("pool-flavor-change", "lite_pool", {"name": POOL, "node_pools": [{"name": "np1", "flavor": CPU, "count": 2}]},
     "cannot be changed"),
    ("pool-scale-down-no-opt-in", "lite_pool",
     {"name": POOL, "node_pools": [{"name": "np1", "flavor": SNT9B, "count": 1}]}, "allow_scale_down=true"),
    ("pool-driver-upgrade-no-opt-in", "lite_pool", {"name": POOL, "driver_version": "7.5.0.5.220-24.1.0.3"},
     "allow_driver_upgrade=true"),
    ("pool-delete-no-opt-in", "lite_pool", {"name": POOL, "state": "absent"}, "allow_delete=true"),
    ("pool-wait-timeout-0", "lite_pool", pool_args(wait_timeout=0), "wait_timeout must be between 1"),
    # numeric bounds (arg_specs.BOUNDS), checked before any call
    ("pool-count-million", "lite_pool", pool_args(count=1000000), "node_pools[].count must be between 0 and 2000"),
    ("pool-total-over-limit", "lite_pool",
     pool_args(node_pools=[{"name": "np%d" % i, "flavor": SNT9B, "count": 1500} for i in (1, 2)]),
     "add up to 3000 nodes"),
    ("pool-scale-over-limit", "lite_pool", {"name": POOL, "node_pools": [{"name": "np1", "flavor": SNT9B,
                                                                          "count": 2001}]}, "between 0 and 2000"),
    ("pool-api-timeout-0", "lite_pool", pool_args(api_timeout=0), "api_timeout must be between 1 and 3600"),
    ("pool-poll-interval-0", "lite_pool", pool_args(poll_interval=0), "poll_interval must be between 0.05"),
    ("node-grace-negative", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "state": "drained",
                                          "grace_period": -5}, "grace_period must be between 0"),
    ("supernode-count-over-limit", "supernode_scale", {"name": "bad-sn", "count": 49}, "between 1 and 48 servers"),
    ("rollout-node-timeout-0", "lite_rollout", rollout_args(node_timeout=0), "node_timeout must be between 1"),
    ("rollout-canary-million", "lite_rollout", rollout_args(canary_nodes=1000000), "canary_nodes must be between 0"),
    # pairings the catalogue decides, refused before any call
    ("pool-driver-other-chip", "lite_pool", pool_args(driver_version=SNT9B23_ONLY),
     "is for chip snt9b23, not for flavor %s (chip snt9b)" % SNT9B),
    ("pool-cpu-flavor-driver", "lite_pool", pool_args(flavor=CPU), "has no NPU, so it takes no driver_version"),
    ("pool-upgrade-other-chip", "lite_pool", {"name": POOL, "driver_version": SNT9B23_ONLY,
                                              "allow_driver_upgrade": True}, "is for chip snt9b23"),
    ("node-driver-other-chip", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "driver_version": SNT9B23_ONLY,
                                             "allow_driver_upgrade": True}, "is for chip snt9b23"),
    ("server-os-image-other-chip", "lite_server_os", {"name": "bad-srv", "operation": "switch",
                                                      "image": "HCE2.0-Arm-64bit-for-Snt9B23-BareMetal-with-CANN8.0",
                                                      "allow_erase_system_disk": True}, "is not offered for server"),
    ("server-os-image-other-type", "lite_server_os", {"name": "bad-srv", "operation": "switch",
                                                      "image": "HCE2.0-Arm-64bit-for-Snt9B23-HPS-with-CANN8.0",
                                                      "allow_erase_system_disk": True}, "is not offered for server"),
    ("supernode-image-bare-metal", "supernode_scale", {"name": "bad-sn", "count": 3, "image": TARGET_IMAGE},
     "is not offered for server"),
    # credentials and endpoints (shared by every module)
    ("auth-http-endpoint", "lite_pool_info", {"endpoint": "http://127.0.0.1:9"}, "plain http"),
    ("auth-not-a-url", "lite_pool_info", {"endpoint": "ftp://127.0.0.1"}, "absolute http(s) URL"),
    ("auth-access-key-shape", "lite_pool_info", {"access_key": "AK/with+slash=="}, "does not look like an access key"),
    ("auth-access-key-short", "lite_node_info", {"pool": POOL, "access_key": "short"}, "does not look like an access key"),
    ("auth-region-shape", "lite_server_info", {"region": "Nowhere Land"}, "is not a region ID"),
    # files, TLS and connections: a sentence naming the option, never "a bug", library text in detail only
    ("auth-ca-path-missing", "lite_pool_info", {"ca_path": "/nonexistent/modelarts-ca.pem"},
     "ca_path /nonexistent/modelarts-ca.pem does not exist"),
    ("auth-ca-path-not-pem", "lite_pool_info", {"ca_path": "{{ not_pem }}"}, "is not a PEM CA bundle"),
    ("auth-ca-did-not-sign", "lite_pool", pool_args(ca_path="{{ other_ca }}"),
     "is not signed by a CA in the CA bundle in ca_path"),
    ("auth-connection-refused", "lite_pool", pool_args(endpoint="https://127.0.0.1:9"),
     "127.0.0.1:9 refused the connection"),
    ("auth-dns-unresolvable", "lite_pool", pool_args(endpoint="https://modelarts.no-such-region.invalid"),
     "the host name modelarts.no-such-region.invalid in endpoint cannot be resolved (DNS)"),
    # Through a proxy that is not there (the task's environment, CASE_ENVIRONMENT).
    ("auth-proxy-dead", "lite_pool", pool_args(), "the HTTP(S) proxy could not carry the request"),
    ("auth-wrong-secret", "lite_pool", pool_args(secret_key="W" * 40), "Check access_key/secret_key"),
    ("auth-temporary-key-wrong-token", "lite_pool_info", {"access_key": "{{ temp_ak }}", "secret_key": "{{ temp_sk }}",
                                                          "security_token": "not-a-valid-token"}, "security_token"),
    ("auth-temporary-key-no-token", "lite_pool_info", {"access_key": "{{ temp_ak }}", "secret_key": "{{ temp_sk }}"},
     "security_token"),
    # pools and nodes that do not exist
    ("pool-info-unknown-node-pool", "lite_pool_info", {"name": POOL, "node_pool": "nope"}, "has no node pool 'nope'"),
    ("node-unknown-pool", "lite_node", {"pool": "no-such-pool", "nodes": ["x"], "state": "cordoned"}, "does not exist"),
    ("node-unknown-node", "lite_node", {"pool": POOL, "nodes": ["os-node-created-nope0"], "state": "cordoned"},
     "has no node 'os-node-created-nope0'"),
    ("node-info-unknown-node", "lite_node_info", {"pool": POOL, "nodes": ["10.9.9.9"]}, "has no node '10.9.9.9'"),
    ("node-system-label", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "labels": {"kubernetes.io/hostname": "x"}},
     "cannot be set here"),
    ("node-system-taint", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"],
                                        "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]},
     "managed by Kubernetes or ModelArts"),
    ("node-unknown-driver", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "driver_version": "9.9.9",
                                          "allow_driver_upgrade": True}, "is not offered"),
    ("node-reboot-no-opt-in", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "action": "reboot"},
     "allow_reboot=true"),
    ("node-reset-no-opt-in", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "action": "reset"},
     "allow_reset=true"),
    ("node-absent-and-driver", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "state": "absent",
                                             "driver_version": OLD}, "cannot be combined"),
    ("node-drain-timeout-0", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "state": "drained",
                                           "drain_timeout": 0}, "drain_timeout must be between 1"),
    ("node-delete-no-opt-in", "lite_node", {"pool": POOL, "nodes": ["{{ node0 }}"], "state": "absent"},
     "allow_delete=true"),
    # the rollout engine
    ("rollout-max-unavailable-0", "lite_rollout", rollout_args(max_unavailable="0"), "max_unavailable must be a positive"),
    ("rollout-max-unavailable-150pct", "lite_rollout", rollout_args(max_unavailable="150%"),
     "max_unavailable must be a positive"),
    ("rollout-max-unavailable-word", "lite_rollout", rollout_args(max_unavailable="lots"),
     "max_unavailable must be a positive"),
    ("rollout-window-bad-time", "lite_rollout", rollout_args(window={"start": "25:00", "end": "03:00"}),
     "window.start must be a time of day"),
    ("rollout-window-bad-day", "lite_rollout", rollout_args(window={"start": "01:00", "end": "03:00", "days": ["funday"]}),
     "is not a weekday"),
    ("rollout-window-bad-zone", "lite_rollout", rollout_args(window={"start": "01:00", "end": "03:00",
                                                                     "timezone": "Mars/Olympus"}),
     "not a known IANA time zone"),
    ("rollout-unknown-node", "lite_rollout", rollout_args(nodes=["os-node-created-nope0"]), "has no node"),
    ("rollout-unknown-node-pool", "lite_rollout", rollout_args(node_pools=["nope"]), "has no node pool(s) nope"),
    ("rollout-unknown-pool", "lite_rollout", rollout_args(pool="no-such-pool"), "does not exist"),
    ("rollout-unknown-driver", "lite_rollout", rollout_args(driver_version="9.9.9"), "is not offered"),
    ("rollout-no-driver-version", "lite_rollout", {"pool": POOL, "max_unavailable": "1"}, "missing: driver_version"),
    ("rollout-driver-other-chip", "lite_rollout", rollout_args(driver_version=SNT9B23_ONLY), "is for chip snt9b23"),
    ("rollout-drain-timeout-0", "lite_rollout", rollout_args(drain_timeout=0), "drain_timeout must be between 1"),
    ("rollout-negative-failures", "lite_rollout", rollout_args(max_failed_nodes=-1),
     "max_failed_nodes must be between 0"),
    # Lite Servers
    ("server-unknown", "lite_server", {"name": "no-such-server", "state": "stopped"}, "no Lite Server has the name"),
    ("server-bad-new-name", "lite_server", {"name": "bad-srv", "new_name": "bad name!"}, "not a valid server name"),
    ("server-bad-repair-time", "lite_server", {"name": "bad-srv", "authorize_repair": True,
                                               "repair_not_before": "tomorrow"}, "must be a UTC time"),
    ("server-hard-repair-no-opt-in", "lite_server", {"name": "bad-srv", "authorize_repair": True, "repair_type": "HARD"},
     "allow_hard_repair=true"),
    ("server-os-switch-no-image", "lite_server_os", {"name": "bad-srv", "operation": "switch"}, "needs image"),
    ("server-os-unknown-image", "lite_server_os", {"name": "bad-srv", "operation": "switch", "image": "no-such-image",
                                                   "allow_erase_system_disk": True}, "is not offered"),
    ("server-os-create-image", "lite_server_os", {"name": "bad-srv", "operation": "create_image"},
     "Image Management Service"),
    ("server-os-erase-no-opt-in", "lite_server_os", {"name": "bad-srv", "operation": "switch", "image": TARGET_IMAGE},
     "allow_erase_system_disk=true"),
    # super nodes
    ("supernode-scale-to-0", "supernode_scale", {"name": "bad-sn", "count": 0}, "keeps at least one server"),
    ("supernode-shrink-disk", "supernode_scale", {"name": "bad-sn", "count": 3, "system_disk_size": 150},
     "never shrink"),
    ("supernode-disk-out-of-range", "supernode_scale", {"name": "bad-sn", "count": 3, "system_disk_size": 50},
     "between 100 and 1024 GB"),
    ("supernode-other-flavor", "supernode_scale", {"name": "bad-sn", "count": 3,
                                                   "flavor": "modelarts.hps.npu.arm.8snt9b3.d"}, "differs from super node"),
    ("supernode-unknown", "supernode_scale", {"name": "no-such-sn", "count": 2}, "no super node has the name"),
    ("supernode-unknown-server", "supernode_scale", {"name": "bad-sn", "remove_servers": ["bad-srv"],
                                                     "allow_scale_down": True}, "is not in super node"),
    ("supernode-scale-down-no-opt-in", "supernode_scale", {"name": "bad-sn", "count": 1}, "allow_scale_down=true"),
]

# (case id, role variables over a valid base, substring of the failure)
ROLE_CASES = [
    ("role-max-unavailable-0", {"rolling_driver_upgrade_max_unavailable": "0"}, "max_unavailable must be a positive"),
    ("role-max-unavailable-over-100pct", {"rolling_driver_upgrade_max_unavailable": "101%"},
     "max_unavailable must be a positive"),
    ("role-window-malformed", {"rolling_driver_upgrade_window": {"start": "9am", "end": "10:00"}},
     "window.start must be a time of day"),
    ("role-incompatible-driver", {"rolling_driver_upgrade_driver_version": "7.7.0.9.220-25.2.1"},
     "does not support hardware Snt9b"),
    ("role-type-error", {"rolling_driver_upgrade_max_failed_nodes": "lots"}, "rolling_driver_upgrade_max_failed_nodes"),
    ("role-missing-pool", {"rolling_driver_upgrade_pool": None}, "rolling_driver_upgrade_pool"),
]


# Cases whose task runs with more environment variables (as a controller's shell would give them).
CASE_ENVIRONMENT = {"auth-proxy-dead": {"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}}


def module_task(case_id, module, args):
    task = {"name": case_id, "modelarts.lite." + module: args, "register": "result", "ignore_errors": True}
    if case_id in CASE_ENVIRONMENT:
        task["environment"] = CASE_ENVIRONMENT[case_id]
    return task


def role_block(case_id, variables, report_dir):
    base = {"rolling_driver_upgrade_pool": POOL, "rolling_driver_upgrade_driver_version": "7.5.0.5.220-24.1.0.3",
            "rolling_driver_upgrade_canary_nodes": 0, "rolling_driver_upgrade_progress_interval": 1,
            "rolling_driver_upgrade_report_dir": report_dir, "rolling_driver_upgrade_run_id": case_id}
    base.update(variables)
    base = {k: v for k, v in base.items() if v is not None}
    return {"name": "block " + case_id, "block": [
        {"name": "role " + case_id, "ansible.builtin.include_role": {"name": "modelarts.lite.rolling_driver_upgrade"},
         "vars": base}],
        "rescue": [{"name": "caught " + case_id,
                    "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg | default('') }}"}}]}


@pytest.fixture(scope="module")
def outcome(ansible, sim, tmp_path_factory):
    """Seed the objects the cases address, then run every case in one playbook."""
    pool = sim.seed([{"name": POOL, "nodes": 2, "node_pool": "np1", "driver_version": OLD,
                      "workloads": {"ready_nodes": True}}])["pools"][0]
    sim.admin("POST", "seed", {"servers": [{"name": "bad-srv"}],
                               "supernodes": [{"name": "bad-sn", "servers": 2, "root_volume_size": 200}]})
    mark = len(sim.audit_entries())
    report_dir = str(tmp_path_factory.mktemp("reports"))
    files = tmp_path_factory.mktemp("files")
    other_ca = ensure_certificates(str(files))[0]
    not_pem = files / "ca.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a this is not PEM")
    tasks = [module_task(case_id, module, args) for case_id, module, args, _message in MODULE_CASES]
    tasks += [role_block(case_id, variables, report_dir) for case_id, variables, _message in ROLE_CASES]
    playbook = ansible.workdir / "bad_input.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                     "vars": {"node0": sorted(pool["nodes"])[0],
                                              "temp_ak": sim.env["temporary_access_key"],
                                              "temp_sk": sim.env["temporary_secret_key"],
                                              "other_ca": other_ca, "not_pem": str(not_pem)},
                                     "tasks": tasks}]))
    output = ansible.playbook(playbook)
    return {"output": output, "mutations": [e for e in sim.audit_entries()[mark:]
                                            if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]}


def test_there_are_at_least_40_cases():
    assert len(MODULE_CASES) + len(ROLE_CASES) >= 40
    assert len({case[0] for case in MODULE_CASES + ROLE_CASES}) == len(MODULE_CASES) + len(ROLE_CASES)


def test_no_bad_input_reached_the_api_as_a_mutation(outcome):
    assert outcome["mutations"] == [], outcome["mutations"][:5]


@pytest.mark.parametrize("case_id, module, args, message", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_module_case(outcome, case_id, module, args, message):
    results = task_results(outcome["output"], case_id)
    assert len(results) == 1, "task %s did not run" % case_id
    result = results[0]
    assert result.get("failed") is True, result
    assert message in result["msg"], result["msg"]
    assert result.get("changed") is not True
    assert "This is a bug" not in result["msg"], result["msg"]


@pytest.mark.parametrize("case_id, variables, message", ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_role_case(outcome, case_id, variables, message):
    caught = task_results(outcome["output"], "caught " + case_id)
    assert len(caught) == 1, "the role did not fail for %s" % case_id
    assert message in caught[0]["msg"], caught[0]["msg"]
