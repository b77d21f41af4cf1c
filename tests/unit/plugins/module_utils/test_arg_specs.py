"""The shared specs and their documentation fragments say the same thing."""

import pathlib
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


# -- numeric bounds ---------------------------------------------------------------------------------

MODULES = sorted(path.stem for path in (pathlib.Path(__file__).resolve().parents[4] / "plugins" / "modules").glob("*.py")
                 if not path.stem.startswith("_"))


def _numeric_options(spec, doc, prefix=""):
    """(bounds key, documentation of the option) for every int/float option, nested ones included."""
    for name, option in spec.items():
        key = prefix + name
        if option.get("options"):
            sub_doc = (doc.get(name) or {}).get("suboptions") or {}
            nested = "[]." if option.get("type") == "list" else "."
            yield from _numeric_options(option["options"], sub_doc, key + nested)
        elif option.get("type") in ("int", "float"):
            yield key, doc.get(name)


def _module_options(name):
    import importlib
    from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import kube_spec

    module = importlib.import_module("ansible_collections.modelarts.lite.plugins.modules." + name)
    documented = dict(yaml.safe_load(auth_fragment.ModuleDocFragment.DOCUMENTATION)["options"])
    documented.update(yaml.safe_load(wait_fragment.ModuleDocFragment.DOCUMENTATION)["options"])
    own = yaml.safe_load(module.DOCUMENTATION)
    for fragment in own.get("extends_documentation_fragment") or []:
        # The collection's own fragments of one module's option groups (modelarts.lite.rollout.jobs).
        parts = fragment.split(".")
        if parts[:2] == ["modelarts", "lite"] and len(parts) == 4:
            source = importlib.import_module("ansible_collections.modelarts.lite.plugins.doc_fragments." + parts[2])
            documented.update(yaml.safe_load(getattr(source.ModuleDocFragment, parts[3].upper()))["options"])
    documented.update(own.get("options") or {})
    spec = dict(auth_spec(), **wait_spec())
    spec.update(kube_spec())
    spec.update(module.ARGUMENT_SPEC)
    return list(_numeric_options(spec, documented))


@pytest.mark.parametrize("name", MODULES)
def test_every_numeric_option_has_documented_bounds(name):
    from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import BOUNDS

    for key, doc in _module_options(name):
        assert key in BOUNDS, "%s: option %s has no bounds in arg_specs.BOUNDS" % (name, key)
        low, high = BOUNDS[key][:2]
        text = " ".join(doc["description"]) if doc else ""
        assert "Between %g and %g" % (low, high) in text, "%s: %s does not document its bounds" % (name, key)


@pytest.mark.parametrize("params, message", [
    ({"api_timeout": 0}, "api_timeout must be between 1 and 3600 seconds, got 0"),
    ({"poll_interval": 0.0}, "poll_interval must be between 0.05 and 3600"),
    ({"wait_timeout": 86401}, "waits are always bounded"),
    ({"node_pools": [{"name": "np", "count": 1000000}]}, "node_pools[].count must be between 0 and 2000 nodes"),
    ({"count": 0}, "a super node keeps at least one server"),
])
def test_out_of_bounds_is_refused_naming_the_option(params, message):
    from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import check_bounds
    from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError

    spec = dict(auth_spec(), **wait_spec())
    node_pool = dict(name=dict(type="str"), count=dict(type="int"))
    spec.update(node_pools=dict(type="list", elements="dict", options=node_pool), count=dict(type="int"))
    with pytest.raises(ValidationError) as caught:
        check_bounds(spec, params)
    assert message in str(caught.value)
    assert caught.value.option == next(iter(params))


def test_values_within_bounds_pass():
    from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import check_bounds

    check_bounds(dict(auth_spec(), **wait_spec()), {"api_timeout": 1, "poll_interval": 0.2, "wait_timeout": 86400})
