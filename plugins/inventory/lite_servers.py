# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: lite_servers
short_description: ModelArts Lite Servers (and super node servers) as Ansible hosts
version_added: 0.1.0
description:
  - One host per Lite Server (dev server) of the project, from C(GET /v1/{project_id}/dev-servers).
  - Servers of a super node are grouped per super node, so a play can target one super node's servers.
  - Built-in groups C(lite_servers) (every host), C(supernode_<name>), C(flavor_<flavor>),
    C(status_<status>) (lower case) and C(az_<zone>) when the service reports a server's zone.
    Group names are sanitised like every constructed group.
  - Uses a YAML configuration file whose name ends with C(lite_servers.yml) or C(lite_servers.yaml).
  - Takes the same credential options and environment variables as the modules.
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - modelarts.lite.auth.plugins
options:
  plugin:
    description: The name of this plugin; it must always be set to V(modelarts.lite.lite_servers).
    required: true
    type: str
    choices: [modelarts.lite.lite_servers]
  statuses:
    description:
      - Only servers in one of these statuses. An empty list keeps every status.
    type: list
    elements: str
    default: [RUNNING]
  flavors:
    description: Only servers of these flavors (for example V(modelarts.hps.npu.arm.16snt9b23.d)).
    type: list
    elements: str
    default: []
  super_nodes:
    description:
      - Only servers of these super nodes (names or ids). Standalone servers are then left out.
    type: list
    elements: str
    default: []
  name_pattern:
    description:
      - Only servers whose name matches this shell-style pattern, for example V(sn-train-*).
    type: str
  hostnames:
    description: What names the hosts. Server names can repeat; ids cannot.
    type: str
    choices: [name, id]
    default: name
  ansible_host_address:
    description:
      - Which address becomes C(ansible_host).
      - V(private_ip) is the server's SSH endpoint (its private IP, C(endpoints[].uri)).
      - V(none) sets no C(ansible_host), for a bastion or C(/etc/hosts) that resolves server names.
    type: str
    choices: [private_ip, none]
    default: private_ip
notes:
  - The Lite Server API reports no public IP in the server record (EIPs are a separate call); reach
    servers through a bastion or VPN on their private IPs.
  - Hostvars (prefix C(lite_server_)) are C(id), C(name), C(status), C(flavor), C(category),
    C(private_ip), C(image_id), C(image_name), C(arch), C(server_type), C(cloud_server_id),
    C(super_node) and C(super_node_id) (empty for standalone servers), C(availability_zone),
    C(key_pair_name), C(vpc_id), C(subnet_id).
"""

EXAMPLES = r"""
# prod.lite_servers.yml: every running super node server, reached on its private IP.
plugin: modelarts.lite.lite_servers
region: cn-north-4
flavors: [modelarts.hps.npu.arm.16snt9b23.d]
keyed_groups:
  - key: lite_server_image_name
    prefix: image
compose:
  ansible_user: "'root'"

---
# Only one super node's servers; cache the listing for ten minutes.
plugin: modelarts.lite.lite_servers
super_nodes: [sn-train-a]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/modelarts-lite-inventory
cache_timeout: 600
"""

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.modelarts.lite.plugins.module_utils.arg_specs import auth_spec
from ansible_collections.modelarts.lite.plugins.module_utils.errors import LiteError
from ansible_collections.modelarts.lite.plugins.module_utils.hosts import ALL_SERVERS_GROUP, builtin_groups, select


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "modelarts.lite.lite_servers"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("lite_servers.yml", "lite_servers.yaml"))

    def _client(self):
        # Imported here: requests is needed only once the inventory actually talks to the cloud.
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud import client
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.options import client_options

        if client.REQUESTS_IMPORT_ERROR is not None:
            raise AnsibleError("the modelarts.lite.lite_servers inventory needs the Python library requests")
        return client.CloudClient(**client_options({name: self.get_option(name) for name in auth_spec()}))

    def _fetch(self):
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.servers import list_servers

        cloud = None
        try:
            cloud = self._client()
            return list_servers(cloud)
        except LiteError as err:
            raise AnsibleError("modelarts.lite.lite_servers: %s" % err) from None
        finally:
            if cloud is not None:
                cloud.close()

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        servers = None
        if use_cache:
            try:
                servers = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if servers is None:
            servers = self._fetch()
        if update_cache:
            self._cache[cache_key] = servers
        self._populate(select(servers, self.get_option("statuses"), self.get_option("flavors"),
                              self.get_option("super_nodes"), self.get_option("name_pattern")))

    def _populate(self, hosts):
        strict = self.get_option("strict")
        self.inventory.add_group(ALL_SERVERS_GROUP)
        for hostvars in hosts:
            name = hostvars["lite_server_" + self.get_option("hostnames")]
            self.inventory.add_host(name, group=ALL_SERVERS_GROUP)
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            if self.get_option("ansible_host_address") == "private_ip" and hostvars["lite_server_private_ip"]:
                self.inventory.set_variable(name, "ansible_host", hostvars["lite_server_private_ip"])
            for prefix, value in builtin_groups(hostvars):
                group = self.inventory.add_group(self._sanitize_group_name("%s_%s" % (prefix, value)))
                self.inventory.add_child(group, name)
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
