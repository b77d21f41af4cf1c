"""The kubernetes library is loaded piecemeal (kubeconfig loading and the REST client only), yet it
still behaves as the whole package to anyone who asks for more. Each case runs in a fresh
interpreter: what is imported is the point."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import client as kube_client
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeClient, load_configuration

# Where ansible_collections is importable from, for the child interpreters.
COLLECTIONS_ROOT = kube_client.__file__[:kube_client.__file__.rindex("ansible_collections")]


def kubeconfig(path, contexts, current=None, ca=None):
    cluster = {"certificate-authority": ca} if ca else {}
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", **({"current-context": current} if current else {}),
        "clusters": [{"name": c, "cluster": dict(cluster, server="https://127.0.0.1:1/k8s/%s" % c)} for c in contexts],
        "users": [{"name": c, "user": {"token": "token-" + c}} for c in contexts],
        "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts]}))
    return str(path)


def run_python(code, tmp_path):
    """Run ``code`` in a new interpreter that sees the collection; return what it printed as JSON."""
    script = "import json, sys\nsys.path.insert(0, %r)\n" % COLLECTIONS_ROOT + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=str(tmp_path),
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


LOAD = """
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import client as kc
config = kc.load_configuration(%r, "pool-a")
loaded = sorted(name for name in sys.modules if name.startswith("kubernetes"))
"""


def test_only_the_submodules_in_use_are_imported(tmp_path):
    path = kubeconfig(tmp_path / "kubeconfig", ["pool-a"])
    result = run_python(LOAD % path + """
pool = kc.KubeClient(context="pool-a", configuration=config)._get_pool()
print(json.dumps({"host": config.host, "loaded": loaded,
                  "heavy": [n for n in ("kubernetes.client.api_client", "kubernetes.watch", "kubernetes.dynamic",
                                        "kubernetes.stream", "kubernetes.client.api") if n in sys.modules]}))
""", tmp_path)
    assert result["host"] == "https://127.0.0.1:1/k8s/pool-a"
    assert "kubernetes.config.kube_config" in result["loaded"] and "kubernetes.client.rest" in result["loaded"]
    assert result["heavy"] == []


def test_the_rest_of_the_package_still_loads_on_demand(tmp_path):
    path = kubeconfig(tmp_path / "kubeconfig", ["pool-a"])
    result = run_python(LOAD % path + """
import kubernetes
from kubernetes.client import ApiClient
from kubernetes.config import kube_config
built = kube_config.ApiClient(configuration=config)   # what an OIDC token refresh does
print(json.dumps({"version": kubernetes.__version__, "api": kubernetes.client.CoreV1Api.__name__,
                  "real_api_client": type(built) is ApiClient and ApiClient.__module__,
                  "watch": kubernetes.watch.Watch.__name__}))
""", tmp_path)
    assert result["version"] and result["api"] == "CoreV1Api" and result["watch"] == "Watch"
    assert result["real_api_client"] == "kubernetes.client.api_client"


def test_an_unknown_package_layout_falls_back_to_the_plain_import(tmp_path):
    path = kubeconfig(tmp_path / "kubeconfig", ["pool-a"])
    result = run_python("""
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import client as kc
def surprise():
    kc._register_deferred_package("kubernetes")   # part of the way in, then a layout we do not know
    raise AttributeError("no such layout")
kc._import_kubernetes_submodules = surprise
config = kc.load_configuration(%r, "pool-a")
import kubernetes
print(json.dumps({"host": config.host, "whole_package": "kubernetes.watch" in sys.modules,
                  "version": kubernetes.__version__}))
""" % path, tmp_path)
    assert result["host"] == "https://127.0.0.1:1/k8s/pool-a"
    assert result["whole_package"] and result["version"]


def test_a_package_already_imported_is_used_as_it_is(tmp_path):
    path = kubeconfig(tmp_path / "kubeconfig", ["pool-a"])
    result = run_python("""
import kubernetes
whole = kubernetes.client
""" + LOAD % path + """
print(json.dumps({"same": sys.modules["kubernetes"] is kubernetes and kubernetes.client is whole,
                  "host": config.host}))
""", tmp_path)
    assert result == {"same": True, "host": "https://127.0.0.1:1/k8s/pool-a"}


def test_a_kubeconfig_list_is_merged_with_paths_relative_to_each_file(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (second / "ca.pem").write_text("not checked here")
    paths = os.pathsep.join([kubeconfig(first / "config", ["other"], current="other"),
                             kubeconfig(second / "config", ["pool-a"], ca="ca.pem")])
    config = load_configuration(paths, "pool-a")
    assert config.host == "https://127.0.0.1:1/k8s/pool-a"
    assert config.ssl_ca_cert == str(second / "ca.pem")
    assert KubeClient(context="pool-a", configuration=config)._auth_headers() == {
        "Authorization": "Bearer token-pool-a"}


def test_the_context_is_checked_against_every_file_of_a_list(tmp_path):
    paths = os.pathsep.join([kubeconfig(tmp_path / "one", ["pool-a"]), kubeconfig(tmp_path / "two", ["pool-b"])])
    with pytest.raises(ValidationError) as caught:
        load_configuration(paths, "pool-c")
    assert caught.value.option == "kube_context"
    assert "pool-a, pool-b" in str(caught.value) and "token-" not in str(caught.value)


def test_the_current_context_is_neither_needed_nor_checked(tmp_path):
    # The context is always named (kube_context or the pool id); kubeconfigs written for the
    # collection often set no current-context, or one that is gone.
    for name, current in (("none", None), ("gone", "old")):
        config = load_configuration(kubeconfig(tmp_path / name, ["pool-a"], current=current), "pool-a")
        assert config.host == "https://127.0.0.1:1/k8s/pool-a"
