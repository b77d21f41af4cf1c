# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    # Kept in sync with plugins/module_utils/arg_specs.py neighbour_spec() by a unit test.
    DOCUMENTATION = r"""
options:
  evs_endpoint:
    description:
      - Elastic Volume Service (EVS) endpoint, for the Lite Servers' disks. Requests are signed with the same
        credentials, CA settings and retries as ModelArts.
      - Falls back to E(MODELARTS_LITE_EVS_ENDPOINT), then to C(https://evs.{region}.myhuaweicloud.com).
    type: str
  ims_endpoint:
    description:
      - Image Management Service (IMS) endpoint, for private images made from Lite Servers.
      - Falls back to E(MODELARTS_LITE_IMS_ENDPOINT), then to C(https://ims.{region}.myhuaweicloud.com).
    type: str
"""
