# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: lite_pools
short_description: ModelArts Lite Cluster resource pools as Ansible hosts (one per pool, run locally)
version_added: 0.1.0
description:
  - >-
    One host per Lite Cluster resource pool of the project (C(GET /v2/{project_id}/pools)), with
    C(ansible_connection=local). A play over the pools runs the collection's modules for each pool on the
    controller, so C(--forks 8) works on eight pools at once and AWX job slicing spreads pools across
    execution nodes.
  - Built-in groups C(lite_pools) (every host) and C(pool_phase_<phase>) (lower case).
  - Uses a YAML configuration file whose name ends with C(lite_pools.yml) or C(lite_pools.yaml).
  - Takes the same credential options and environment variables as the modules.
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - modelarts.lite.auth.plugins
options:
  plugin:
    description: The name of this plugin; it must always be set to V(modelarts.lite.lite_pools).
    required: true
    type: str
    choices: [modelarts.lite.lite_pools]
  phases:
    description: Only pools in one of these phases. An empty list keeps every phase.
    type: list
    elements: str
    default: [Running]
  name_pattern:
    description: Only pools whose display name matches this shell-style pattern.
    type: str
  hostnames:
    description: What names the hosts, the pool's display name or its id.
    type: str
    choices: [name, id]
    default: name
notes:
  - Hostvars (prefix C(lite_pool_)) are C(id), C(name), C(phase), C(driver_version) (when every node pool runs one),
    C(driver_state), C(node_pools) (C(name), C(flavor), C(count), C(driver_version)), C(node_count) and
    C(kube_context) (the pool id, the context name the modules default to).
"""

EXAMPLES = r"""
# fleet.lite_pools.yml
plugin: modelarts.lite.lite_pools
region: cn-north-4
name_pattern: "train-*"
keyed_groups:
  - key: lite_pool_driver_version
    prefix: driver
"""

from ansible_collections.modelarts.lite.plugins.module_utils.hosts import ALL_POOLS_GROUP, select_pools
from ansible_collections.modelarts.lite.plugins.plugin_utils.inventory import LiteInventory


class InventoryModule(LiteInventory):
    NAME = "modelarts.lite.lite_pools"
    ALL_GROUP = ALL_POOLS_GROUP

    def fetch(self, cloud):
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.pools import list_pools
        from ansible_collections.modelarts.lite.plugins.module_utils.ensure.pool import describe_pool

        return [describe_pool(raw) for raw in list_pools(cloud)]

    def hosts(self, listing):
        for hostvars in select_pools(listing, self.get_option("phases"), self.get_option("name_pattern")):
            groups = ["pool_phase_%s" % hostvars["lite_pool_phase"].lower()] if hostvars["lite_pool_phase"] else []
            yield (hostvars["lite_pool_" + self.get_option("hostnames")], hostvars, groups,
                   {"ansible_connection": "local"})
