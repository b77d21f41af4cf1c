# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    # Options that the Lite Server and super node modules share word for word. ansible-test's
    # validate-modules checks each module's argument spec against them.

    # The super node modules (supernode_os, supernode_power, supernode_scale) address one super node.
    SUPERNODE = r"""
options:
  name:
    description:
      - Name or ID of the super node.
    type: str
    required: true
"""

    # Modules whose change needs stopped servers (lite_server_os, lite_server_image, supernode_os).
    STOP_FIRST = r"""
options:
  stop_if_running:
    description:
      - Stop a C(RUNNING) server first instead of refusing (for a super node, the whole super node). That ends
        everything running on it.
      - The module always waits for the stop to finish, even with O(wait=false), because the service does this
        only on a stopped server.
    type: bool
    default: false
"""

    # Modules that install an operating system (lite_server_os, supernode_os).
    OS_INSTALL = r"""
options:
  user_data:
    description:
      - Script run at first boot of the new system, as plain text (the module base64-encodes it). At most 32 KiB.
    type: str
  allow_erase_system_disk:
    description:
      - Opt in to erasing the system disk (the C(ROOT) volume) of every server the change reinstalls. Data
        volumes are kept.
      - Required on every run that would erase one, check mode included, so that a preview is refused exactly
        like the real run.
    type: bool
    default: false
"""
