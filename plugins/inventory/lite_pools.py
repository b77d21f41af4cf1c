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

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import auth_spec
from ansible_collections.modelarts.lite.plugins.module_utils.errors import LiteError
from ansible_collections.modelarts.lite.plugins.module_utils.hosts import ALL_POOLS_GROUP, select_pools


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "modelarts.lite.lite_pools"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("lite_pools.yml", "lite_pools.yaml"))

    def _fetch(self):
        # Imported here: requests is needed only once the inventory actually talks to the cloud.
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud import client
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.options import client_options
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.pools import list_pools
        from ansible_collections.modelarts.lite.plugins.module_utils.ensure.pool import describe_pool

        if client.REQUESTS_IMPORT_ERROR is not None:
            raise AnsibleError("the modelarts.lite.lite_pools inventory needs the Python library requests")
        cloud = None
        try:
            cloud = client.CloudClient(**client_options({name: self.get_option(name) for name in auth_spec()}))
            return [describe_pool(raw) for raw in list_pools(cloud)]
        except LiteError as err:
            raise AnsibleError("modelarts.lite.lite_pools: %s" % err) from None
        finally:
            if cloud is not None:
                cloud.close()

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        pools = None
        if use_cache:
            try:
                pools = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if pools is None:
            pools = self._fetch()
        if update_cache:
            self._cache[cache_key] = pools
        self._populate(select_pools(pools, self.get_option("phases"), self.get_option("name_pattern")))

    def _populate(self, hosts):
        strict = self.get_option("strict")
        self.inventory.add_group(ALL_POOLS_GROUP)
        for hostvars in hosts:
            name = hostvars["lite_pool_" + self.get_option("hostnames")]
            self.inventory.add_host(name, group=ALL_POOLS_GROUP)
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            self.inventory.set_variable(name, "ansible_connection", "local")
            if hostvars["lite_pool_phase"]:
                group = self.inventory.add_group(self._sanitize_group_name(
                    "pool_phase_%s" % hostvars["lite_pool_phase"].lower()))
                self.inventory.add_child(group, name)
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
