# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    # Kept in sync with plugins/module_utils/arg_specs.py by a unit test.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the change has taken effect before returning.
      - With V(false) the module returns as soon as the service accepted the request.
      - Check mode never waits.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most when O(wait=true). There is no infinite value; the maximum is
        86400.
      - When the time runs out the task fails, and the result carries C(last_state), the last state
        seen. The operation itself may still be running in the cloud.
      - Between 1 and 86400 seconds; a value outside is refused before any call.
    type: int
    default: 1800
"""
