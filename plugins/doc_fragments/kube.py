# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    # Kept in sync with plugins/module_utils/arg_specs.py (kube_spec) by a unit test.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig that reaches the pool's Kubernetes API (CCE cluster), or a list of paths
        joined with V(:).
      - Falls back to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then C(~/.kube/config).
      - The server certificate is validated against the context's certificate authority.
      - Needs the Python library C(kubernetes) on the host that runs the module; it is loaded only
        when the task really talks to Kubernetes.
    type: str
  kube_context:
    description:
      - Context of O(kubeconfig) to use.
      - Falls back to E(K8S_AUTH_CONTEXT). When unset, the context named like the pool id is used, never
        the kubeconfig's current context, so a task cannot act on the wrong cluster by accident.
    type: str
requirements:
  - kubernetes >= 29.0.0
"""
