# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""LiteModule: the one wrapper every module uses.

It merges the shared option specs, builds the clients from the options (ModelArts, and for modules
with Kubernetes options the pool's cluster, whose context defaults to the pool id), calls the
module's ensure function with them, and is the ONLY place in the collection that calls fail_json:
typed LiteErrors become failures with their snake_case details, anything unexpected fails cleanly
with its type and a redacted message.

The calling convention (docs/development.md, "Using module_utils"):
``ensure_fn(clients, params, check_mode) -> result dict``. Ensure functions never see this class.
"""

from __future__ import annotations

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import (
    DEFAULT_WAIT_TIMEOUT,
    auth_spec,
    check_bounds,
    kube_spec,
    wait_spec,
)
from ansible_collections.modelarts.lite.plugins.module_utils.clients import Clients
from ansible_collections.modelarts.lite.plugins.module_utils.cloud.options import client_options
from ansible_collections.modelarts.lite.plugins.module_utils.errors import LiteError


class LiteModule:
    """AnsibleModule plus the collection's shared options, its clients and single failure path.

    ``with_cloud=False`` is for modules that read only local files (lite_rollout_info): no
    credential options, no clients. ``with_kube=True`` adds kubeconfig/kube_context; such a module
    has a ``pool`` option, which the wrapper resolves before the ensure function runs.
    """

    def __init__(self, argument_spec=None, supports_check_mode=True, with_wait=True,
                 wait_timeout=DEFAULT_WAIT_TIMEOUT, with_kube=False, with_cloud=True, **kwargs):
        spec = auth_spec() if with_cloud else {}
        self.with_cloud = with_cloud
        self.with_kube = with_kube
        if with_kube:
            spec.update(kube_spec())
        if with_wait:
            spec.update(wait_spec(wait_timeout))
        # A module's own spec wins, e.g. to document a different wait_timeout default.
        spec.update(argument_spec or {})
        self._spec = spec
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self._diff = self.module._diff

    # -- clients -------------------------------------------------------------------------------

    def build_clients(self, clients):
        """Fill ``clients`` from the options, before the ensure function runs (ValidationError on
        bad options). The Kubernetes context is ``kube_context``, else the id of the module's pool."""
        if not self.with_cloud:
            return clients
        # Imported here: requests is only needed by modules that talk to the cloud.
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud import client

        if client.REQUESTS_IMPORT_ERROR is not None:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=str(client.REQUESTS_IMPORT_ERROR))
        clients.cloud = client.CloudClient(**self.cloud_options())
        if self.with_kube:
            from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools
            from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeClient

            clients.pool = pools.require_pool(clients.cloud, self.params["pool"])
            clients.kube = KubeClient(kubeconfig=self.params.get("kubeconfig"),
                                      context=self.params.get("kube_context") or clients.pool_id,
                                      api_timeout=self.params["api_timeout"])
        return clients

    def cloud_options(self):
        """CloudClient keyword arguments from the options, after checking their shape."""
        return client_options(self.params)

    # -- the single exit ---------------------------------------------------------------------------

    def run(self, ensure_fn, on_failure=None):
        """Build the clients, call ``ensure_fn(clients, params, check_mode)`` and exit with its
        result dict (``changed``, optional ``diff``, the resource under its own name). ``diff`` is
        dropped unless running with --diff. Warnings the ensure function gave are shown either way.

        ``on_failure(params, check_mode, error, msg)``, when given, is told of every failure (the clients' too)
        before the module fails: lite_rollout records it where its watcher looks (its journal)."""
        failure = error = None
        clients = Clients()
        try:
            check_bounds(self._spec, self.params)
            self.build_clients(clients)
            result = ensure_fn(clients, self.params, self.check_mode)
        except LiteError as err:
            failure, error = dict(msg=str(err), exception=None, **err.to_result()), err
        except OSError as err:
            failure, error = self._file_failure(err) if err.filename else self._bug(err), err
        except Exception as err:  # a bug or an unforeseen library error: fail cleanly, never leak
            failure, error = self._bug(err), err
        finally:
            clients.close()
            for warning in clients.warnings:
                self.module.warn(warning)
        if failure is not None:
            if on_failure is not None:
                on_failure(self.params, self.check_mode, error, self._redact(failure["msg"]))
            self._fail(**failure)
        if not isinstance(result, dict):
            self._fail(msg="Internal error: %s returned %s instead of a result dict." % (
                getattr(ensure_fn, "__name__", "ensure function"), type(result).__name__))
        result = dict(result)
        if not self._diff:
            result.pop("diff", None)
        result.setdefault("changed", False)
        self.module.exit_json(**result)

    def _bug(self, err):
        return dict(
            msg="Unexpected %s: %s. This is a bug in modelarts.lite; please report it." % (
                type(err).__name__, self._redact(str(err))),
            error_type=type(err).__name__,
            exception=self._redact(traceback.format_exc()),
        )

    def _file_failure(self, err):
        """A file the task could not use is the user's to fix (a path, a permission), not a bug:
        name the option that gave the path when there is one."""
        options = sorted(name for name, value in self.params.items() if isinstance(value, str) and value
                         and err.filename in (value, os.path.expanduser(value)))
        what = "%s %s" % (options[0], err.filename) if options else "file %s" % err.filename
        fix = "Fix %s." % options[0] if options else "Check the path and its permissions."
        return dict(msg=self._redact("%s cannot be used: %s. %s" % (what, err.strerror or type(err).__name__, fix)),
                    error_type=type(err).__name__, option=options[0] if options else None,
                    detail=self._redact(str(err)))

    def _fail(self, msg, exception=None, **kwargs):
        self.module.fail_json(msg=self._redact(msg), exception=exception, **kwargs)

    def _redact(self, text):
        for name in ("secret_key", "security_token", "access_key"):
            secret = self.params.get(name)
            if secret and len(secret) >= 4:
                text = text.replace(secret, "********")
        return text
