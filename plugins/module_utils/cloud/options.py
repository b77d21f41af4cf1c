# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""CloudClient keyword arguments from the auth options (arg_specs.auth_spec()), checked first.

Shared by LiteModule (modules) and the inventory plugins, so both accept and refuse the same input.
No Ansible imports.
"""

from __future__ import annotations

import os
import re

from ansible_collections.modelarts.lite.plugins.module_utils.errors import ValidationError

# Huawei Cloud AKs are 20 upper-case letters and digits; private clouds and STS vary a little.
ACCESS_KEY_PATTERN = re.compile(r"^[A-Za-z0-9]{16,64}$")
REGION_PATTERN = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")


def client_options(params, environ=None):
    """CloudClient keyword arguments from option values (a dict keyed by auth_spec() names)."""
    environ = os.environ if environ is None else environ
    access_key, secret_key, region = params.get("access_key"), params.get("secret_key"), params.get("region")
    if not access_key:
        raise ValidationError("access_key is required: set the option or HUAWEICLOUD_SDK_AK.", option="access_key")
    if not ACCESS_KEY_PATTERN.match(access_key):
        # Never echo the value: a swapped pair would print the secret key.
        raise ValidationError(
            "access_key does not look like an access key (16-64 letters and digits, usually 20 "
            "upper-case characters); check that access_key and secret_key are not swapped.",
            option="access_key")
    if not secret_key:
        raise ValidationError("secret_key is required: set the option or HUAWEICLOUD_SDK_SK.", option="secret_key")
    if not region:
        raise ValidationError("region is required (for example cn-north-4): set the option or "
                              "HUAWEICLOUD_SDK_REGION.", option="region")
    if not REGION_PATTERN.match(region):
        raise ValidationError("region %r is not a region ID; use one such as cn-north-4 or ap-southeast-1."
                              % region, option="region")
    endpoint = params.get("endpoint") or environ.get(
        "HUAWEICLOUD_SDK_REGION_MODELARTS_%s" % region.upper().replace("-", "_")) or None
    validate_certs = params.get("validate_certs")
    return dict(
        access_key=access_key,
        secret_key=secret_key,
        security_token=params.get("security_token") or None,
        region=region,
        project_id=params.get("project_id") or None,
        endpoint=endpoint,
        iam_endpoint=params.get("iam_endpoint") or None,
        # Only the modules that call EVS or IMS have these options (arg_specs.neighbour_spec).
        evs_endpoint=params.get("evs_endpoint") or None,
        ims_endpoint=params.get("ims_endpoint") or None,
        validate_certs=True if validate_certs is None else validate_certs,
        ca_path=params.get("ca_path") or None,
        allow_http=params.get("allow_http") or False,
        # Never "or <default>": a 0 must reach the bounds check and be refused, not become 60.
        api_timeout=params["api_timeout"] if params.get("api_timeout") is not None else 60,
        poll_interval=params["poll_interval"] if params.get("poll_interval") is not None else 10,
    )
