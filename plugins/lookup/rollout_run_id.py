# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_run_id
short_description: A new run id for modelarts.lite.lite_rollout, made by the rollout's own rule
version_added: 0.1.0
description:
  - Returns one new run id, C(rollout-<UTC start time>-<6 hex digits>), the same rule
    M(modelarts.lite.lite_rollout) uses when it is given no O(modelarts.lite.lite_rollout#module:run_id).
  - The P(modelarts.lite.rolling_driver_upgrade#role) role names its run with it before it starts
    the rollout in the background, so it knows where the rollout's journal and report will be.
  - Takes no terms and makes no request.
"""

EXAMPLES = r"""
- name: Name a rollout
  ansible.builtin.set_fact:
    run_id: "{{ lookup('modelarts.lite.rollout_run_id') }}"
"""

RETURN = r"""
_raw:
  description: One new run id.
  type: list
  elements: str
  sample: [rollout-20261206t170102-3fa9c1]
"""

import time

from ansible.plugins.lookup import LookupBase

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout.report import new_run_id


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        return [new_run_id(time.time)]
