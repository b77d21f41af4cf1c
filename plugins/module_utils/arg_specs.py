# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Option specs shared by every module; documented by doc_fragments/auth.py and wait.py.

tests/unit/plugins/module_utils/test_arg_specs.py keeps specs and fragments in sync.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

DEFAULT_WAIT_TIMEOUT = 1800
# Waits are bounded: a day is the longest any single module call may block.
MAX_WAIT_TIMEOUT = 86400


def auth_spec():
    """Credentials and endpoint options (docs/development.md, 'Credentials and endpoint options').

    The endpoint fallback ``HUAWEICLOUD_SDK_REGION_MODELARTS_<REGION>`` depends on the region, so
    LiteModule resolves it after MODELARTS_LITE_ENDPOINT.
    """
    return dict(
        # An AK is not a secret, but Ansible must mask it anyway: with a swapped pair it holds the SK.
        access_key=dict(type="str", no_log=True, fallback=(env_fallback, ["HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY"])),
        secret_key=dict(type="str", no_log=True, fallback=(env_fallback, ["HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY"])),
        security_token=dict(type="str", no_log=True,
                            fallback=(env_fallback, ["HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN"])),
        project_id=dict(type="str", fallback=(env_fallback, ["HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID"])),
        region=dict(type="str", fallback=(env_fallback, ["HUAWEICLOUD_SDK_REGION", "HW_REGION_NAME"])),
        endpoint=dict(type="str", fallback=(env_fallback, ["MODELARTS_LITE_ENDPOINT"])),
        iam_endpoint=dict(type="str", fallback=(env_fallback, ["HUAWEICLOUD_SDK_IAM_ENDPOINT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["MODELARTS_LITE_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["MODELARTS_LITE_CA_PATH"])),
        allow_http=dict(type="bool", default=False),
        api_timeout=dict(type="int", default=60),
        poll_interval=dict(type="float", default=10.0, fallback=(env_fallback, ["MODELARTS_LITE_POLL_INTERVAL"])),
    )


def neighbour_spec():
    """EVS / IMS endpoints, for the modules that call them (doc_fragments/neighbour_endpoints.py).
    Default: https://evs.{region}.myhuaweicloud.com and https://ims.{region}.myhuaweicloud.com."""
    return dict(
        evs_endpoint=dict(type="str", fallback=(env_fallback, ["MODELARTS_LITE_EVS_ENDPOINT"])),
        ims_endpoint=dict(type="str", fallback=(env_fallback, ["MODELARTS_LITE_IMS_ENDPOINT"])),
    )


def wait_spec(default_timeout=DEFAULT_WAIT_TIMEOUT):
    return dict(
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=default_timeout),
    )


def kube_spec():
    """Kubernetes access options (doc_fragments/kube.py). The context defaults to the pool id."""
    return dict(
        kubeconfig=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG", "KUBECONFIG"])),
        kube_context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    )
