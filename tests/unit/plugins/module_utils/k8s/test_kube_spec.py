"""kube_spec and its documentation fragment agree; the client refuses unknown contexts."""
import json

import pytest
import yaml

from ansible_collections.modelarts.lite.plugins.doc_fragments import kube as kube_fragment
from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import kube_spec
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import expand_kubeconfig, load_configuration


def test_fragment_matches_spec():
    documented = yaml.safe_load(kube_fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    spec = kube_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        text = " ".join(documented[name]["description"])
        env = option["fallback"][1]
        positions = [text.find("E(%s)" % var) for var in env]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), name


def test_kubeconfig_lists_are_expanded(monkeypatch):
    monkeypatch.setenv("HOME", "/home/x")
    assert expand_kubeconfig("~/a:~/b") == "/home/x/a:/home/x/b"
    assert expand_kubeconfig("") is None


def test_unknown_context_is_refused_with_the_known_ones(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "pool-a",
        "clusters": [{"name": "pool-a", "cluster": {"server": "https://127.0.0.1:1/k8s/pool-a"}}],
        "users": [{"name": "pool-a", "user": {"token": "s3cr3t-token"}}],
        "contexts": [{"name": "pool-a", "context": {"cluster": "pool-a", "user": "pool-a"}}]}))
    with pytest.raises(ValidationError) as caught:
        load_configuration(str(path), "pool-b")
    assert "pool-a" in str(caught.value) and caught.value.option == "kube_context"
    assert "s3cr3t" not in str(caught.value)
    config = load_configuration(str(path), "pool-a")
    assert config.host == "https://127.0.0.1:1/k8s/pool-a"


def test_missing_kubeconfig_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError) as caught:
        load_configuration(str(tmp_path / "nope"), "pool-a")
    assert caught.value.option == "kubeconfig"
