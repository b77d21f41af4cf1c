# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    # Kept in sync with plugins/module_utils/arg_specs.py by a unit test.
    DOCUMENTATION = r"""
options:
  access_key:
    description:
      - Access key (AK) of the Huawei Cloud user or agency.
      - Falls back to the environment variables E(HUAWEICLOUD_SDK_AK), then E(HW_ACCESS_KEY).
      - Required, from the option or the environment.
      - Masked in output like a secret, because a swapped O(access_key)/O(secret_key) pair would
        otherwise print the secret key.
    type: str
  secret_key:
    description:
      - Secret key (SK) that belongs to O(access_key). Never logged or returned.
      - Falls back to E(HUAWEICLOUD_SDK_SK), then E(HW_SECRET_KEY).
      - Required, from the option or the environment.
    type: str
  security_token:
    description:
      - Security token of temporary (STS) credentials; needed only with a temporary AK/SK.
      - Falls back to E(HUAWEICLOUD_SDK_SECURITY_TOKEN), then E(HW_SECURITY_TOKEN).
    type: str
  project_id:
    description:
      - ID of the project that owns the resources.
      - Falls back to E(HUAWEICLOUD_SDK_PROJECT_ID), then E(HW_PROJECT_ID).
      - When absent it is looked up through IAM (C(GET /v3/projects?name=<region>)); exactly one
        project of that name must be visible to the credentials.
    type: str
  region:
    description:
      - Region ID, for example V(cn-north-4) or V(ap-southeast-1).
      - Falls back to E(HUAWEICLOUD_SDK_REGION), then E(HW_REGION_NAME).
      - Required, from the option or the environment.
    type: str
  endpoint:
    description:
      - ModelArts endpoint URL.
      - Falls back to E(MODELARTS_LITE_ENDPOINT), then E(HUAWEICLOUD_SDK_REGION_MODELARTS_<REGION>) (the
        region upper-cased with C(-) replaced by C(_), for example E(HUAWEICLOUD_SDK_REGION_MODELARTS_CN_NORTH_4)).
      - Defaults to C(https://modelarts.<region>.myhuaweicloud.com)
        (C(https://modelarts.ap-southeast-1.myhuaweicloud.cn) for V(ap-southeast-1)).
    type: str
  iam_endpoint:
    description:
      - IAM endpoint URL, used only to look up O(project_id).
      - Falls back to E(HUAWEICLOUD_SDK_IAM_ENDPOINT).
      - Defaults to C(https://iam.<region>.myhuaweicloud.com).
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the endpoints. Turn it off only for throw-away test endpoints;
        prefer O(ca_path).
      - Falls back to E(MODELARTS_LITE_VALIDATE_CERTS).
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle (PEM) that signed the endpoints' certificates, for a private cloud or the simulator.
      - Falls back to E(MODELARTS_LITE_CA_PATH). When set it is used even if O(validate_certs=false).
    type: path
  allow_http:
    description:
      - Allow plain C(http://) endpoints. Without it such an endpoint is refused before any request,
        because signed requests would travel unencrypted.
    type: bool
    default: false
  api_timeout:
    description:
      - Seconds to wait for each HTTP request to connect and for each read.
      - Between 1 and 3600 seconds; a value outside is refused before any call.
    type: int
    default: 60
  poll_interval:
    description:
      - Seconds between two polls of an asynchronous operation.
      - Falls back to E(MODELARTS_LITE_POLL_INTERVAL).
      - Between 0.05 and 3600 seconds; a value outside is refused before any call.
    type: float
    default: 10.0
notes:
  - Requests are signed with AK/SK (C(SDK-HMAC-SHA256)), exactly as the Huawei Cloud SDK signs them.
  - Throttled requests (HTTP 429) are retried with back-off, honouring C(Retry-After). Server errors and
    connection failures are retried only for requests that are safe to repeat (GET, PUT, DELETE).
  - Put the credentials in C(module_defaults) with the C(group/modelarts.lite.lite) action group,
    or in the environment, rather than in every task.
requirements:
  - requests >= 2.28
"""

    # The same options for inventory plugins, which read environment variables through `env:`
    # entries rather than module fallbacks. Kept in sync with auth_spec() by the same unit test.
    PLUGINS = r"""
options:
  access_key:
    description:
      - Access key (AK) of the Huawei Cloud user or agency.
    type: str
    env:
      - name: HUAWEICLOUD_SDK_AK
      - name: HW_ACCESS_KEY
  secret_key:
    description:
      - Secret key (SK) that belongs to O(access_key). Never logged.
    type: str
    env:
      - name: HUAWEICLOUD_SDK_SK
      - name: HW_SECRET_KEY
  security_token:
    description:
      - Security token of temporary (STS) credentials; needed only with a temporary AK/SK.
    type: str
    env:
      - name: HUAWEICLOUD_SDK_SECURITY_TOKEN
      - name: HW_SECURITY_TOKEN
  project_id:
    description:
      - ID of the project that owns the resources; looked up through IAM when absent.
    type: str
    env:
      - name: HUAWEICLOUD_SDK_PROJECT_ID
      - name: HW_PROJECT_ID
  region:
    description:
      - Region ID, for example V(cn-north-4).
    type: str
    env:
      - name: HUAWEICLOUD_SDK_REGION
      - name: HW_REGION_NAME
  endpoint:
    description:
      - ModelArts endpoint URL. Then E(HUAWEICLOUD_SDK_REGION_MODELARTS_<REGION>) is read, as the modules do.
      - Defaults to C(https://modelarts.<region>.myhuaweicloud.com).
    type: str
    env:
      - name: MODELARTS_LITE_ENDPOINT
  iam_endpoint:
    description:
      - IAM endpoint URL, used only to look up O(project_id).
    type: str
    env:
      - name: HUAWEICLOUD_SDK_IAM_ENDPOINT
  validate_certs:
    description:
      - Verify the TLS certificate of the endpoints.
    type: bool
    default: true
    env:
      - name: MODELARTS_LITE_VALIDATE_CERTS
  ca_path:
    description:
      - CA bundle (PEM) that signed the endpoints' certificates, for a private cloud or the simulator.
    type: path
    env:
      - name: MODELARTS_LITE_CA_PATH
  allow_http:
    description:
      - Allow plain C(http://) endpoints.
    type: bool
    default: false
  api_timeout:
    description:
      - Seconds to wait for each HTTP request to connect and for each read.
    type: int
    default: 60
  poll_interval:
    description:
      - Seconds between two polls of an asynchronous operation (unused by inventories, accepted for symmetry).
    type: float
    default: 10.0
    env:
      - name: MODELARTS_LITE_POLL_INTERVAL
"""
