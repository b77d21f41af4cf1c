# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Option specs shared by every module; documented by doc_fragments/auth.py and wait.py.

tests/unit/plugins/module_utils/test_arg_specs.py keeps specs and fragments in sync.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.modelarts.lite.plugins.module_utils.cloud.evs import MAX_SYSTEM_DISK_GB
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError

DEFAULT_WAIT_TIMEOUT = 1800
# Waits are bounded: a day is the longest any single module call may block.
MAX_WAIT_TIMEOUT = 86400
# The largest CCE cluster a Lite pool runs on manages 2,000 nodes, so no pool (and no node pool)
# holds more; a count above it is refused before the create or scale call.
MAX_POOL_NODES = 2000
# A super node is one CloudMatrix384 (384 NPUs, 8 per server): at most 48 servers.
MAX_SUPERNODE_SERVERS = 48

# Every numeric option of every module: (lowest, highest, unit[, why]). LiteModule checks them before
# the first call; a nested option is "<option>[].<suboption>". Module docs state the same numbers, and
# tests/unit/plugins/module_utils/test_arg_specs.py proves no numeric option is missing.
BOUNDS = {
    "api_timeout": (1, 3600, "seconds"),
    "poll_interval": (0.05, 3600, "seconds"),
    "wait_timeout": (1, MAX_WAIT_TIMEOUT, "seconds", "waits are always bounded"),
    "drain_timeout": (1, 86400, "seconds", "drains are always bounded"),
    "grace_period": (0, 86400, "seconds"),
    "node_timeout": (1, 86400, "seconds"),
    "smoke_timeout": (1, 86400, "seconds"),
    "lease_duration": (1, 86400, "seconds"),
    "expected_node_seconds": (1, 86400, "seconds"),
    "window_margin": (0, 86400, "seconds"),
    "controller_timeout": (0, 86400, "seconds"),
    "job_idle_wait": (0, 86400, "seconds"),
    "max_failed_nodes": (0, MAX_POOL_NODES, "nodes"),
    "canary_nodes": (0, MAX_POOL_NODES, "nodes"),
    # 0 is allowed for a node pool marked absent; a present one needs at least 1 (ensure/pool.py).
    "node_pools[].count": (0, MAX_POOL_NODES, "nodes"),
    "count": (1, MAX_SUPERNODE_SERVERS, "servers",
              "a super node keeps at least one server and holds at most one CloudMatrix384's worth"),
    "system_disk_size": (100, MAX_SYSTEM_DISK_GB, "GB"),
    "size": (1, MAX_SYSTEM_DISK_GB, "GB", "EVS's largest system disk"),
    "wait": (0, 600, "seconds"),
}


def check_bounds(spec, params, bounds=None, prefix=""):
    """Refuse a numeric option outside its bounds (ValidationError naming the option), before any call."""
    bounds = BOUNDS if bounds is None else bounds
    for name, option in spec.items():
        value = (params or {}).get(name)
        if value is None:
            continue
        key = prefix + name
        if option.get("options"):
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    check_bounds(option["options"], item, bounds, key + ("[]." if isinstance(value, list) else "."))
            continue
        if option.get("type") not in ("int", "float"):
            continue
        low, high, unit = bounds[key][:3]
        if not low <= value <= high:
            why = "; %s" % bounds[key][3] if len(bounds[key]) > 3 else ""
            raise ValidationError("%s must be between %s and %s %s, got %s%s." % (key, low, high, unit, value, why),
                                  option=key.split("[", 1)[0].split(".", 1)[0])


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
