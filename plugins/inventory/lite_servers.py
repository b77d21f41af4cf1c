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
    C(status_<status>) (lower case) and C(az_<zone>) (with O(availability_zones=true)).
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
      - V(private_ip) is the server's SSH endpoint (its private IP, C(endpoints[].uri) of the server record).
      - >-
        V(public_ip) is the first EIP bound to the server. The server record carries none, so the plugin asks
        C(GET /v1/{project_id}/dev-servers/{id}/publicips) once per server the filters keep (the cache keeps the
        answers too).
      - V(none) sets no C(ansible_host), for a bastion or C(/etc/hosts) that resolves server names.
      - >-
        A server without the chosen address is an error with O(strict=true); otherwise it stays in the inventory
        without C(ansible_host), and a warning names it.
    type: str
    choices: [private_ip, public_ip, none]
    default: private_ip
  availability_zones:
    description:
      - >-
        Put each server in its availability zone: C(lite_server_availability_zone) and an C(az_<zone>) group. The
        server record has no zone, so the plugin asks EVS once (C(GET /v2/{project_id}/cloudvolumes/detail), pages
        of 1000) for the zone of the server's system disk, which is the server's zone (an EVS disk attaches only to a
        server in its own zone). Needs EVS read permission.
    type: bool
    default: false
  evs_endpoint:
    description:
      - Elastic Volume Service (EVS) endpoint, for O(availability_zones=true).
      - Defaults to C(https://evs.{region}.myhuaweicloud.com).
    type: str
    env:
      - name: MODELARTS_LITE_EVS_ENDPOINT
notes:
  - The Lite Server record has no public IP (EIPs are a separate call, see O(ansible_host_address)) and no
    availability zone (the zone comes from EVS, see O(availability_zones)).
  - Hostvars (prefix C(lite_server_)) are C(id), C(name), C(status), C(flavor), C(category),
    C(private_ip), C(public_ip) (with O(ansible_host_address=public_ip) only), C(image_id), C(image_name), C(arch), C(server_type), C(cloud_server_id),
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

# Another file, one.lite_servers.yml: only one super node's servers, the listing cached for ten
# minutes (one YAML document per example block: ansible-core 2.16's sanity parses it as one).
# plugin: modelarts.lite.lite_servers
# super_nodes: [sn-train-a]
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/modelarts-lite-inventory
# cache_timeout: 600
"""

from ansible_collections.modelarts.lite.plugins.module_utils.hosts import ALL_SERVERS_GROUP, builtin_groups, place_in_zones, select
from ansible_collections.modelarts.lite.plugins.plugin_utils.inventory import LiteInventory


class InventoryModule(LiteInventory):
    NAME = "modelarts.lite.lite_servers"
    ALL_GROUP = ALL_SERVERS_GROUP
    EXTRA_CLIENT_OPTIONS = ("evs_endpoint",)

    def _selected(self, servers):
        return select(servers, self.get_option("statuses"), self.get_option("flavors"), self.get_option("super_nodes"),
                      self.get_option("name_pattern"))

    def fetch(self, cloud):
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.evs import list_volumes
        from ansible_collections.modelarts.lite.plugins.module_utils.cloud.servers import list_public_ips, list_servers

        servers = list_servers(cloud)
        if self.get_option("availability_zones"):
            place_in_zones(servers, list_volumes(cloud))
        if self.get_option("ansible_host_address") == "public_ip":
            kept = {hostvars["lite_server_id"] for hostvars in self._selected(servers)}
            for server in servers:
                if server.get("id") in kept:
                    server["public_ips"] = list_public_ips(cloud, server["id"])
        return servers

    def hosts(self, listing):
        address = self.get_option("ansible_host_address")
        for hostvars in self._selected(listing):
            name = hostvars["lite_server_" + self.get_option("hostnames")]
            extra = {}
            if address != "none" and hostvars["lite_server_" + address]:
                extra["ansible_host"] = hostvars["lite_server_" + address]
            elif address != "none":
                problem = "server %s (id %s) has no %s, so it gets no ansible_host" % (
                    hostvars["lite_server_name"], hostvars["lite_server_id"],
                    "EIP bound" if address == "public_ip" else "private IP (no SSH endpoint)")
                if self.get_option("strict"):
                    self.fail(problem + "; bind one, filter the server out, or choose another ansible_host_address.")
                self.display.warning("%s: %s." % (self.NAME, problem))
            yield name, hostvars, ["%s_%s" % pair for pair in builtin_groups(hostvars)], extra
