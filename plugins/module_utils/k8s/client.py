# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""A small Kubernetes API client on top of the kubernetes library.

The kubernetes library is imported only when a client is built, and then only the submodules we
use (see _import_kubernetes): it is slow to import and only the node modules need it. It reads the
kubeconfig (contexts, CA, tokens, client certificates, exec plugins) and its REST client's
connection pool (TLS, client certificates, proxy, all set from that kubeconfig) carries every
request. We send and parse plain JSON ourselves instead of going through the generated model
classes: that keeps 2,000-node lists fast and works across kubernetes library versions. Errors are
the collection's typed errors and never carry the bearer token.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import threading
import time
from urllib.parse import quote, urlencode

from ansible_collections.modelarts.lite.plugins.module_utils.clients import CallCounter
from ansible_collections.modelarts.lite.plugins.module_utils.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    ThrottledError,
    TransportError,
    ValidationError,
    classify_transport_failure,
)

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
RETRIED_STATUS = frozenset((429, 500, 502, 503, 504))
SAFE_METHODS = frozenset(("GET", "HEAD"))


class KubeApiError(ApiError):
    hint = "The Kubernetes API refused the request; the message above says why."


class KubeAuthError(AuthError):
    hint = ("Check the kubeconfig credentials of this context (token, client certificate) and the RBAC "
            "permissions on nodes, pods, pods/eviction and poddisruptionbudgets.")


class KubeNotFoundError(NotFoundError):
    hint = "The Kubernetes object does not exist; check the kube_context points at the pool's cluster."


class KubeThrottledError(ThrottledError):
    hint = "The Kubernetes API is still throttling after retries; retry later."


class KubeConflictError(KubeApiError):
    """HTTP 409: the object changed since we read it (optimistic concurrency)."""


def kube_path(*segments):
    return "/" + "/".join(quote(str(s), safe="") for s in segments)


def expand_kubeconfig(value):
    """One path or a KUBECONFIG-style list, each part with ~ and $VARS expanded."""
    if not value:
        return None
    parts = [os.path.expandvars(os.path.expanduser(p)) for p in value.split(os.pathsep) if p]
    return os.pathsep.join(parts) or None


class KubeClient:
    """JSON requests to one cluster (one kubeconfig context)."""

    def __init__(self, kubeconfig=None, context=None, api_timeout=60, max_retries=3, pool=None,
                 sleep=time.sleep, configuration=None):
        self.context = context
        self.api_timeout = api_timeout
        self.max_retries = max_retries
        self._sleep = sleep
        self._configuration = configuration or load_configuration(kubeconfig, context)
        self.host = self._configuration.host.rstrip("/")
        self._pool = pool
        self._pool_lock = threading.Lock()   # callers may send concurrent requests (one pool for all)
        self.calls = CallCounter()           # requests by method (retries not counted); reports read it

    def __repr__(self):
        return "KubeClient(context=%r, host=%r)" % (self.context, self.host)

    # -- transport ---------------------------------------------------------------------------

    def _get_pool(self):
        """The kubernetes library's urllib3 pool for this configuration (CA, client cert, proxy)."""
        with self._pool_lock:
            if self._pool is None:
                rest = _import_kubernetes()[2]
                self._configuration.retries = False   # retries are ours, below, with typed errors
                self._pool = rest.RESTClientObject(self._configuration).pool_manager
        return self._pool

    def _auth_headers(self):
        cfg = self._configuration
        hook = getattr(cfg, "refresh_api_key_hook", None)
        if hook is not None:
            hook(cfg)   # exec plugins and expiring tokens refresh here
        token = cfg.get_api_key_with_prefix("authorization") or cfg.get_api_key_with_prefix("BearerToken")
        if token:
            return {"Authorization": token if " " in token else "Bearer " + token}
        if cfg.username and cfg.password:
            return {"Authorization": cfg.get_basic_auth_token()}
        return {}

    def _transport_error(self, method, path, exc):
        """The cluster could not be reached: say so naming the kubeconfig context, library text in detail."""
        failure = classify_transport_failure(exc)
        where = "the API server %s of kube_context %s" % (self.host, self.context)
        words = {
            "tls_untrusted": ("the TLS certificate of %s is not signed by the kubeconfig's certificate-authority"
                              % where, "kubeconfig"),
            "tls_hostname": ("the TLS certificate of %s is not issued for its host name" % where, "kubeconfig"),
            "tls_ca_file": ("the certificate-authority of kube_context %s is not a usable PEM CA" % self.context,
                            "kubeconfig"),
            "tls": ("the TLS handshake with %s failed" % where, "kubeconfig"),
            "dns": ("the host name of %s cannot be resolved (DNS)" % where, "kubeconfig"),
            "refused": ("%s refused the connection: nothing listens there" % where, "kubeconfig"),
            "proxy": ("the HTTP(S) proxy could not carry the request to %s" % where, None),
            "connect_timeout": ("%s did not accept a connection within api_timeout" % where, "api_timeout"),
            "read_timeout": ("%s did not answer within api_timeout" % where, "api_timeout"),
        }
        reason, option = words.get(failure, ("could not reach %s" % where, "kubeconfig"))
        hint = ("Fix the proxy environment variables (HTTPS_PROXY, HTTP_PROXY) or NO_PROXY." if option is None else
                "Check %s%s." % (option, " and kube_context (the default is the pool id)" if option == "kubeconfig"
                                 else ""))
        return TransportError(method, path, reason, hint=hint, option=option, failure=failure,
                              detail="%s: %s" % (type(exc).__name__, _clip(str(exc))))

    def close(self):
        if self._pool is not None:
            self._pool.clear()

    def request(self, method, path, query=None, body=None, content_type=JSON, retry_throttled=True):
        """One Kubernetes API call; returns the decoded JSON body ({} when empty).

        GET is retried on 429/5xx/connection failures; writes only on 429 (API priority and
        fairness), and not at all when ``retry_throttled`` is false (eviction: 429 means a PDB).
        """
        import urllib3
        method = method.upper()
        self.calls.count(method)
        pool = self._get_pool()
        data = None if body is None else json.dumps(body).encode("utf-8")
        query_string = urlencode(_query(query) or {})
        url = self.host + path + ("?" + query_string if query_string else "")
        attempt = 0
        while True:
            headers = {"Accept": JSON, "User-Agent": "modelarts.lite-ansible-collection"}
            headers.update(self._auth_headers())
            if data is not None:
                headers["Content-Type"] = content_type
            try:
                response = pool.request(method, url, body=data, headers=headers, redirect=False, retries=False,
                                        timeout=urllib3.Timeout(connect=self.api_timeout, read=self.api_timeout))
            except urllib3.exceptions.HTTPError as exc:
                tls_failure = isinstance(exc, urllib3.exceptions.SSLError)
                if method in SAFE_METHODS and not tls_failure and attempt < self.max_retries:
                    self._sleep(min(8.0, 0.5 * 2 ** attempt))
                    attempt += 1
                    continue
                raise self._transport_error(method, path, exc) from None
            status = response.status
            text = response.data.decode("utf-8", "replace")
            if status < 400:
                if not text:
                    return {}
                try:
                    return json.loads(text)
                except ValueError:
                    raise KubeApiError(status, "InvalidResponse", "the response is not JSON", None, method,
                                       path) from None
            may_retry = status == 429 and retry_throttled or (status in RETRIED_STATUS and method in SAFE_METHODS)
            if may_retry and attempt < self.max_retries:
                self._sleep(_retry_after(response.headers.get("Retry-After"), attempt))
                attempt += 1
                continue
            raise error_from_response(method, path, status, text)

    # -- conveniences ------------------------------------------------------------------------

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def list_items(self, path, query=None, limit=None):
        """Every item of a list, following continue tokens. Unpaged by default: one request per list
        costs the API server one pass, where 500-item chunks cost one pass each."""
        items, token = [], None
        while True:
            page_query = dict(query or {})
            if limit:
                page_query["limit"] = limit
            if token:
                page_query["continue"] = token
            page = self.get(path, page_query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def merge_patch(self, path, patch):
        return self.request("PATCH", path, body=patch, content_type=MERGE_PATCH)

    def watch_events(self, path, query, read_timeout):
        """The events of one watch request, decoded, as they arrive. No retries here: a watch that
        breaks is the caller's to resume from its last resourceVersion (k8s/watch.py)."""
        import urllib3
        query = dict(_query(query) or {}, watch="true")
        url = self.host + path + "?" + urlencode(query)
        headers = {"Accept": JSON, "User-Agent": "modelarts.lite-ansible-collection"}
        headers.update(self._auth_headers())
        try:
            response = self._get_pool().request(
                "GET", url, headers=headers, redirect=False, retries=False, preload_content=False,
                timeout=urllib3.Timeout(connect=self.api_timeout, read=read_timeout))
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error("GET", path, exc) from None
        try:
            if response.status >= 400:
                raise error_from_response("GET", path, response.status, response.data.decode("utf-8", "replace"))
            pending = b""
            for chunk in response.stream(64 * 1024, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        except (urllib3.exceptions.HTTPError, ValueError) as exc:
            raise TransportError("GET", path, "watch broke: %s: %s" % (type(exc).__name__, _clip(str(exc)))) from None
        finally:
            response.close()          # a watch read only in part must not go back to the pool
            response.release_conn()


def _query(query):
    return {k: v for k, v in (query or {}).items() if v is not None} or None


def _retry_after(header, attempt):
    try:
        return min(10.0, max(0.0, float(header)))
    except (TypeError, ValueError):
        return min(8.0, 0.5 * 2 ** attempt)


def _clip(text, size=300):
    return text if len(text) <= size else text[:size] + "..."


def status_details(text):
    """(reason, message, body) from a Kubernetes Status body."""
    try:
        body = json.loads(text)
    except ValueError:
        return None, _clip(text or ""), {}
    if not isinstance(body, dict):
        return None, _clip(text or ""), {}
    return body.get("reason"), body.get("message"), body


def error_from_response(method, path, status, text):
    reason, message, body = status_details(text)
    error_class = KubeApiError
    if status in (401, 403):
        error_class = KubeAuthError
    elif status == 404:
        error_class = KubeNotFoundError
    elif status == 409:
        error_class = KubeConflictError
    elif status == 429:
        error_class = KubeThrottledError
    error = error_class(status, reason or None, message or None, None, method, path)
    error.status_body = body
    return error


def load_configuration(kubeconfig, context):
    """A kubernetes.client.Configuration for ``context`` of ``kubeconfig`` (ValidationError when absent)."""
    try:
        kube_config, configuration_class, _rest = _import_kubernetes()
    except ImportError as exc:
        raise ValidationError("the Python library kubernetes is required for Kubernetes node operations (%s); "
                              "install it on the host that runs the module." % exc, option="kubeconfig") from None
    config_exception = kube_config.ConfigException
    config_file = expand_kubeconfig(kubeconfig) or expand_kubeconfig(os.environ.get("KUBECONFIG")) \
        or os.path.expanduser("~/.kube/config")
    missing = [p for p in config_file.split(os.pathsep) if not os.path.exists(p)]
    if missing and len(missing) == len(config_file.split(os.pathsep)):
        raise ValidationError("kubeconfig %s does not exist; set kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG) "
                              "to the pool's kubeconfig." % config_file, option="kubeconfig")
    try:
        # Parsed once, for the context check and the loading (a merged list keeps each file's directory
        # for relative certificate paths).
        merged = kube_config.KubeConfigMerger(config_file).config
        if merged is None:
            raise config_exception("Invalid kube-config file. No configuration found.")
        names = sorted(c.value["name"] for c in merged["contexts"])
    except config_exception as exc:
        raise ValidationError("kubeconfig %s cannot be read: %s" % (config_file, _clip(str(exc))),
                              option="kubeconfig") from None
    if context not in names:
        raise ValidationError(
            "kubeconfig %s has no context %r (it has: %s). The default context is the pool id; set "
            "kube_context to pick another." % (config_file, context, ", ".join(names) or "none"),
            option="kube_context")
    configuration = configuration_class()
    try:
        kube_config.load_kube_config_from_dict(merged, context=context, client_configuration=configuration,
                                               persist_config=False)
    except config_exception as exc:
        message = "context %s of kubeconfig %s cannot be used: %s" % (context, config_file, _clip(str(exc)))
        raise ValidationError(message, option="kube_context") from None
    return configuration


def _import_kubernetes():
    """(kube_config module, Configuration class, rest module) of the kubernetes library.

    ``import kubernetes`` runs package __init__s that load the whole API surface (every generated
    model in older releases; pydantic, watch, stream, dynamic... in newer ones): 0.1-0.2 s of CPU on
    every module run, where kubeconfig loading and the REST client need a few submodules. Unless something
    imported kubernetes already, the ``kubernetes`` and ``kubernetes.client`` packages are registered
    with their __init__ deferred to the first attribute asked of them, and only those submodules load.
    Any other package layout falls back to the plain import.
    """
    if "kubernetes" not in sys.modules:
        try:
            return _import_kubernetes_submodules()
        except Exception:  # not the layout we know: start over with the plain import
            for name in [n for n in sys.modules if n == "kubernetes" or n.startswith("kubernetes.")]:
                del sys.modules[name]
    from kubernetes.client import Configuration, rest
    from kubernetes.config import kube_config
    return kube_config, Configuration, rest


def _import_kubernetes_submodules():
    for name in ("kubernetes", "kubernetes.client"):
        _register_deferred_package(name)
    client = sys.modules["kubernetes.client"]
    client.Configuration = importlib.import_module("kubernetes.client.configuration").Configuration
    # kube_config imports ApiClient only to refresh OIDC tokens with it; the class pulls in every model
    # (or pydantic), so kube_config gets a stand-in that builds the real one when called.
    client.ApiClient = _ApiClient
    try:
        kube_config = importlib.import_module("kubernetes.config.kube_config")
    finally:
        if client.__dict__.get("ApiClient") is _ApiClient:
            del client.ApiClient   # later users of the package get the real class
    return kube_config, client.Configuration, importlib.import_module("kubernetes.client.rest")


def _register_deferred_package(name):
    """Put package ``name`` in sys.modules without running its __init__: that runs when an attribute
    the package does not have yet is first asked for (``kubernetes.client.CoreV1Api`` works as usual).
    Importing a submodule (``import kubernetes.client.rest``) asks for none."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError("%s is not a regular package" % name, name=name)
    module = importlib.util.module_from_spec(spec)
    lock = threading.Lock()

    def __getattr__(attr):
        with lock:
            if module.__dict__.pop("__getattr__", None) is not None:
                spec.loader.exec_module(module)
        return getattr(module, attr)

    module.__getattr__ = __getattr__
    sys.modules[name] = module
    parent, _dot, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


class _ApiClient:
    """kubernetes.client.ApiClient, imported when first built (see _import_kubernetes_submodules)."""

    def __new__(cls, *args, **kwargs):
        from kubernetes.client.api_client import ApiClient
        return ApiClient(*args, **kwargs)
