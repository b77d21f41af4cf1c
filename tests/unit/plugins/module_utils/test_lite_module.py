"""LiteModule: merged specs, lazy client, the single failure path, diff handling."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.modelarts.lite.plugins.module_utils import lite_module
from ansible_collections.modelarts.lite.plugins.module_utils.errors import NotFoundError, WaitTimeoutError
from ansible_collections.modelarts.lite.plugins.module_utils.lite_module import LiteModule

CANARY_SK = "CANARY-secret-5e6f7a8b9c0d"
CANARY_TOKEN = "CANARY-token-1122334455"
BASE_ARGS = {"access_key": "HPUAEXAMPLEAK0000001", "secret_key": CANARY_SK, "region": "cn-north-4",
             "project_id": "0123456789abcdef0123456789abcdef"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in ("HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY", "HUAWEICLOUD_SDK_REGION",
                "HW_REGION_NAME", "HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID", "MODELARTS_LITE_ENDPOINT",
                "HUAWEICLOUD_SDK_REGION_MODELARTS_CN_NORTH_4", "MODELARTS_LITE_POLL_INTERVAL",
                "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN", "HUAWEICLOUD_SDK_IAM_ENDPOINT",
                "MODELARTS_LITE_CA_PATH", "MODELARTS_LITE_VALIDATE_CERTS"):
        monkeypatch.delenv(var, raising=False)


def run_module(args, ensure_fn, capsys, spec=None, **kwargs):
    with patch_module_args(args):
        module = LiteModule(argument_spec=spec or {}, **kwargs)
        with pytest.raises(SystemExit):
            module.run(ensure_fn)
    return json.loads(capsys.readouterr().out)


def test_result_passes_through_and_diff_is_dropped_without_diff_mode(capsys):
    def ensure(clients, params, check_mode):
        return {"changed": True, "pool": {"name": params["name"]}, "diff": {"before": {}, "after": {"name": "p"}}}

    result = run_module(dict(BASE_ARGS, name="p"), ensure, capsys, spec={"name": {"type": "str", "required": True}})
    assert result["changed"] is True and result["pool"] == {"name": "p"} and "diff" not in result


def test_diff_kept_in_diff_mode(capsys):
    args = dict(BASE_ARGS, _ansible_diff=True)
    result = run_module(args, lambda clients, params, check_mode: {
        "changed": False, "diff": {"before": {"a": 1}, "after": {"a": 1}}}, capsys)
    assert result["diff"] == {"before": {"a": 1}, "after": {"a": 1}} and result["changed"] is False


def test_lite_error_becomes_failure_with_details(capsys):
    def ensure(clients, params, check_mode):
        raise NotFoundError(404, "ModelArts.50015001", "Pool x not found.", "r1", "GET", "/v2/p/pools/x")

    result = run_module(BASE_ARGS, ensure, capsys)
    assert result["failed"] is True and "ModelArts.50015001" in result["msg"]
    assert result["http_status"] == 404 and result["request_id"] == "r1" and result["error_type"] == "NotFoundError"


def test_wait_timeout_failure_carries_last_state(capsys):
    def ensure(clients, params, check_mode):
        raise WaitTimeoutError("timed out", last_state={"phase": "Creating"}, timeout=5)

    result = run_module(BASE_ARGS, ensure, capsys)
    assert result["last_state"] == {"phase": "Creating"}


def test_unexpected_exception_fails_cleanly_without_secrets(capsys):
    def ensure(clients, params, check_mode):
        raise KeyError("boom with %s and %s" % (CANARY_SK, CANARY_TOKEN))

    result = run_module(dict(BASE_ARGS, security_token=CANARY_TOKEN), ensure, capsys)
    text = json.dumps(result)
    assert result["failed"] is True and "KeyError" in result["msg"] and "boom" in result["msg"]
    assert CANARY_SK not in text and CANARY_TOKEN not in text


def test_wait_options_merged_and_bounded(capsys):
    seen = {}

    def ensure(clients, params, check_mode):
        seen.update(wait=params["wait"], timeout=params["wait_timeout"])
        return {"changed": False}

    run_module(BASE_ARGS, ensure, capsys)
    assert seen == {"wait": True, "timeout": 1800}
    result = run_module(dict(BASE_ARGS, wait_timeout=0), ensure, capsys)
    assert result["failed"] and result["option"] == "wait_timeout"


def test_without_wait_options(capsys):
    with patch_module_args(dict(BASE_ARGS)):
        module = LiteModule(argument_spec={}, with_wait=False)
    assert "wait" not in module.params and "wait_timeout" not in module.params


def test_cloud_built_from_params_and_env_before_the_ensure_function(monkeypatch, capsys):
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_MODELARTS_CN_NORTH_4", "https://127.0.0.1:9443")
    monkeypatch.setenv("MODELARTS_LITE_POLL_INTERVAL", "0.2")
    seen = {}

    def ensure(clients, params, check_mode):
        seen.update(cloud=clients.cloud, kube=clients.kube, check_mode=check_mode)
        clients.warn("a warning")
        return {"changed": False}

    result = run_module(dict(BASE_ARGS, _ansible_check_mode=True), ensure, capsys)
    client = seen["cloud"]
    assert client.modelarts.base == "https://127.0.0.1:9443" and client.poll_interval == 0.2
    assert client.project_id == BASE_ARGS["project_id"]
    assert seen["kube"] is None and seen["check_mode"] is True
    assert "a warning" in json.dumps(result["warnings"])  # the shape varies across ansible-core versions


def test_kube_context_defaults_to_the_resolved_pool_id(monkeypatch, capsys):
    from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools
    from ansible_collections.modelarts.lite.plugins.module_utils.k8s import client as kclient

    built = {}

    class FakeKube:
        def __init__(self, kubeconfig=None, context=None, api_timeout=60):
            built.update(context=context, kubeconfig=kubeconfig)

        def close(self):
            built["closed"] = True

    monkeypatch.setattr(pools, "find_pool", lambda client, name: {"metadata": {"name": "pool-ab12-" + name}})
    monkeypatch.setattr(kclient, "KubeClient", FakeKube)
    spec = {"pool": {"type": "str", "required": True}}

    def ensure(clients, params, check_mode):
        built["seen_before_ensure"] = dict(built)
        return {"changed": False, "pool_id": clients.pool_id}

    result = run_module(dict(BASE_ARGS, pool="train"), ensure, capsys, spec=spec, with_kube=True)
    assert result["pool_id"] == "pool-ab12-train"
    assert built["seen_before_ensure"]["context"] == "pool-ab12-train" and built["closed"]
    run_module(dict(BASE_ARGS, pool="train", kube_context="other"), ensure, capsys, spec=spec, with_kube=True)
    assert built["context"] == "other"
    monkeypatch.setattr(pools, "find_pool", lambda client, name: None)
    result = run_module(dict(BASE_ARGS, pool="gone"), ensure, capsys, spec=spec, with_kube=True)
    assert result["failed"] and result["option"] == "pool" and "does not exist" in result["msg"]


def test_a_failed_rollout_carries_its_result(capsys):
    from ansible_collections.modelarts.lite.plugins.module_utils.errors import RolloutFailedError

    def ensure(clients, params, check_mode):
        raise RolloutFailedError("rolling driver upgrade failed: 1 node(s) failed",
                                 {"changed": True, "status": "failed", "msg": "x", "report": {"nodes": []}})

    result = run_module(BASE_ARGS, ensure, capsys)
    assert result["failed"] is True and result["changed"] is True and result["status"] == "failed"
    assert result["msg"] == "rolling driver upgrade failed: 1 node(s) failed" and result["report"] == {"nodes": []}
    assert result["error_type"] == "RolloutFailedError"


def test_without_cloud_options():
    with patch_module_args({"path": "/x"}):
        module = LiteModule(argument_spec={"path": {"type": "str"}}, with_cloud=False, with_wait=False)
    assert "access_key" not in module.params and "region" not in module.params


def test_env_credentials(monkeypatch):
    monkeypatch.setenv("HW_ACCESS_KEY", "HPUAEXAMPLEAK0000002")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", CANARY_SK)
    monkeypatch.setenv("HW_REGION_NAME", "ap-southeast-1")
    monkeypatch.setenv("MODELARTS_LITE_ENDPOINT", "https://sim.example:8443")
    with patch_module_args({}):
        module = LiteModule(argument_spec={})
    options = module.cloud_options()
    assert options["access_key"] == "HPUAEXAMPLEAK0000002" and options["region"] == "ap-southeast-1"
    assert options["endpoint"] == "https://sim.example:8443"


@pytest.mark.parametrize("override, option, fragment", [
    ({"access_key": None}, "access_key", "required"),
    ({"access_key": CANARY_SK + "/x"}, "access_key", "swapped"),
    ({"secret_key": None}, "secret_key", "required"),
    ({"region": None}, "region", "required"),
    ({"region": "North China 4"}, "region", "region ID"),
    ({"endpoint": "http://127.0.0.1:8080"}, "endpoint", "allow_http"),
])
def test_credential_shape_checked_before_any_request(override, option, fragment, capsys):
    args = {k: v for k, v in dict(BASE_ARGS, **override).items() if v is not None}
    result = run_module(args, lambda clients, params, check_mode: {"changed": False}, capsys)
    assert result["failed"] and result["option"] == option and fragment in result["msg"]
    assert CANARY_SK not in json.dumps(result)


def test_missing_requests_reported_through_missing_required_lib(monkeypatch, capsys):
    from ansible_collections.modelarts.lite.plugins.module_utils.cloud import client

    monkeypatch.setattr(client, "REQUESTS_IMPORT_ERROR", ImportError("No module named 'requests'"))
    result = run_module(BASE_ARGS, lambda clients, params, check_mode: {"changed": False}, capsys)
    assert result["failed"] and "requests" in result["msg"]


def test_module_import_is_light():
    # The cloud client (and requests) are imported only when the clients are built.
    assert "client" not in vars(lite_module)


def test_a_file_the_options_name_is_a_user_error_naming_the_option(capsys, tmp_path):
    missing = str(tmp_path / "no-such-report-dir" / "report.json")

    def ensure(clients, params, check_mode):
        raise FileNotFoundError(2, "No such file or directory", missing)

    result = run_module(dict(BASE_ARGS, report=missing), ensure, capsys, spec={"report": {"type": "path"}})
    assert result["failed"] is True and "bug" not in result["msg"]
    assert result["msg"].startswith("report %s cannot be used: No such file or directory. Fix report." % missing)
    assert result["option"] == "report" and result["error_type"] == "FileNotFoundError"


def test_api_timeout_0_is_refused_not_replaced(capsys):
    called = []
    result = run_module(dict(BASE_ARGS, api_timeout=0), lambda *args: called.append(args) or {}, capsys)
    assert result["failed"] is True and result["option"] == "api_timeout" and called == []
    assert "api_timeout must be between 1 and 3600 seconds, got 0" in result["msg"]


def test_a_missing_ca_path_is_refused_naming_it(capsys, tmp_path):
    called = []
    result = run_module(dict(BASE_ARGS, ca_path=str(tmp_path / "ca.pem")), lambda *args: called.append(args) or {},
                        capsys)
    assert result["failed"] is True and result["option"] == "ca_path" and called == []
    assert "does not exist" in result["msg"] and "bug" not in result["msg"]
