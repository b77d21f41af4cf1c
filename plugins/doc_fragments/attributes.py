# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    # Modules state their own support level; these fragments give the shared wording.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description:
      - Can run in C(check_mode). The module then makes only read-only API calls and returns the
        resource as it would be after the change, refusing exactly what a real run would refuse.
    support: full
  diff_mode:
    description:
      - Returns C(diff) with C(before) and C(after) of the resource when run with C(--diff).
    support: full
  action_group:
    description:
      - Use C(group/modelarts.lite.lite) in C(module_defaults) to set credentials and endpoint
        options once for every module of this collection.
    support: full
    membership:
      - modelarts.lite.lite
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module only reads; it behaves the same in check mode.
  diff_mode:
    support: N/A
    details:
      - This module only reads; there is nothing to diff.
"""
