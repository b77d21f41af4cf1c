"""The shared specs and their documentation fragments say the same thing."""

import re

import pytest
import yaml

from ansible_collections.modelarts.lite.plugins.doc_fragments import auth as auth_fragment
from ansible_collections.modelarts.lite.plugins.doc_fragments import neighbour_endpoints as neighbour_fragment
from ansible_collections.modelarts.lite.plugins.doc_fragments import wait as wait_fragment
from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import auth_spec, neighbour_spec, wait_spec


@pytest.mark.parametrize("spec, fragment", [(auth_spec(), auth_fragment), (wait_spec(), wait_fragment),
                                            (neighbour_spec(), neighbour_fragment)])
def test_fragment_matches_spec(spec, fragment):
    documented = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc.get("type", "str") == option.get("type", "str"), name
        assert doc.get("default") == option.get("default"), name
        assert bool(doc.get("required")) == bool(option.get("required")), name
        text = " ".join(doc["description"])
        # Every env fallback is documented, in order.
        env = option.get("fallback", (None, []))[1]
        positions = [text.find("E(%s)" % var) for var in env]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), (name, env)


def test_credentials_are_no_log_and_nothing_else():
    spec = auth_spec()
    assert {k for k, v in spec.items() if v.get("no_log")} == {"access_key", "secret_key", "security_token"}


def test_documented_env_vars_all_exist_in_spec():
    spec = auth_spec()
    env_in_spec = {var for option in spec.values() for var in option.get("fallback", (None, []))[1]}
    documented = set(re.findall(r"E\(([A-Z0-9_]+)\)", auth_fragment.ModuleDocFragment.DOCUMENTATION))
    # The region-specific endpoint variable is resolved by LiteModule, not by a static fallback.
    assert documented - env_in_spec == {"HUAWEICLOUD_SDK_REGION_MODELARTS_CN_NORTH_4"}


def test_wait_timeout_default_is_finite():
    assert 0 < wait_spec()["wait_timeout"]["default"] <= 86400


def test_plugin_fragment_matches_spec():
    """Inventory plugins take the same options and environment variables as the modules."""
    documented = yaml.safe_load(auth_fragment.ModuleDocFragment.PLUGINS)["options"]
    spec = auth_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc.get("type", "str") == option.get("type", "str"), name
        assert doc.get("default") == option.get("default"), name
        env = [entry["name"] for entry in doc.get("env", [])]
        assert env == list(option.get("fallback", (None, []))[1]), name
