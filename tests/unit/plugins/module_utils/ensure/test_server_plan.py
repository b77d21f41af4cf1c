"""lite_server / lite_server_os planning: the status machine and the refusals, before any API call."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure import server as engine
from ansible_collections.modelarts.lite.plugins.module_utils.ensure import server_os as os_engine
from ansible_collections.modelarts.lite.plugins.module_utils.errors import PreconditionError, ValidationError


def raw(status, **extra):
    base = {"id": "srv-1", "name": "dev-01", "status": status, "key_pair_name": "kp",
            "image": {"image_id": "img-a", "name": "image-a"},
            "volumes": [{"type": "ROOT", "size": 200, "evs_type": "SSD", "evs_id": "evs-root"},
                        {"type": "DATA", "size": 500, "evs_type": "SSD", "evs_id": "evs-data"}]}
    base.update(extra)
    return base


@pytest.mark.parametrize("status, state, action", [
    ("RUNNING", "running", None), ("STOPPED", "running", "start"), ("RUNNING", "stopped", "stop"),
    ("STOPPED", "stopped", None), ("RUNNING", "restarted", "reboot"), ("STOPPED", "restarted", "start"),
    ("ERROR", "restarted", "reboot"), ("START_FAILED", "running", "start"), ("STOP_FAILED", "stopped", "stop"),
    ("ERROR", None, None),
])
def test_power_action_follows_the_allowed_operations(status, state, action):
    assert engine.power_action(raw(status), state) == action


@pytest.mark.parametrize("status, state, hint", [
    ("ERROR", "running", "state=restarted"), ("CHANGINGOS_FAILED", "running", "lite_server_os"),
    ("REBOOT_FAILED", "stopped", "authorize_repair"), ("CREATE_FAILED", "restarted", "create it again"),
])
def test_power_action_in_a_failed_status_says_what_to_do(status, state, hint):
    with pytest.raises(PreconditionError, match=hint):
        engine.power_action(raw(status), state)


def test_failed_reason_only_for_failed_statuses():
    assert engine.failed_reason(raw("RUNNING")) is None
    assert "retry with state=running" in engine.failed_reason(raw("START_FAILED"), "start")


@pytest.mark.parametrize("params, error", [
    (dict(new_name="has space"), ValidationError),
    (dict(new_name="x" * 65), ValidationError),
    (dict(repair_not_before="2025-09-15 07:02"), ValidationError),
    (dict(authorize_repair=True, repair_type="HARD", allow_hard_repair=False), PreconditionError),
])
def test_bad_lite_server_input(params, error):
    with pytest.raises(error):
        engine.validate_params(params)


def test_hard_repair_with_opt_in_passes():
    engine.validate_params(dict(authorize_repair=True, repair_type="HARD", allow_hard_repair=True,
                                new_name="ok.name_1", repair_not_before="2025-09-15T07:02:30Z"))


def test_create_image_is_refused_with_directions():
    with pytest.raises(ValidationError, match="IMS"):
        os_engine.validate_params(dict(operation="create_image", image=None, user_data=None))


def test_switch_needs_an_image_and_user_data_is_bounded():
    with pytest.raises(ValidationError, match="needs image"):
        os_engine.validate_params(dict(operation="switch", image=None, user_data=None))
    with pytest.raises(ValidationError, match="32 KiB"):
        os_engine.validate_params(dict(operation="reset", image=None, user_data="x" * (32 * 1024 + 1)))


def test_os_change_names_erased_and_kept_volumes():
    change = os_engine.os_change(raw("STOPPED"), "switch", {"image_id": "img-b", "name": "image-b"}, False)
    assert [v["evs_id"] for v in change["erased_volumes"]] == ["evs-root"]
    assert [v["evs_id"] for v in change["kept_volumes"]] == ["evs-data"]
    assert change["from_image"] == {"id": "img-a", "name": "image-a"}
    assert change["to_image"] == {"id": "img-b", "name": "image-b"}


def test_login_defaults_to_the_current_key_pair_and_refuses_passwords_on_super_nodes():
    assert os_engine.login({"key_pair_name": None, "admin_password": None}, raw("STOPPED")) == {"key_pair_name": "kp"}
    with pytest.raises(ValidationError, match="key pair only"):
        os_engine.login({"admin_password": "Secret-123"}, raw("STOPPED", category="HPS"))
    with pytest.raises(ValidationError, match="no key pair"):
        os_engine.login({}, raw("STOPPED", key_pair_name=""))
