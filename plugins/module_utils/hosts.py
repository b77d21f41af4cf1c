# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""What the inventory plugins make of API records: hostvars, filters and built-in groups.

Pure functions of the listings (no Ansible controller imports), so they are unit-tested alone.
"""

from __future__ import annotations

import fnmatch

ALL_SERVERS_GROUP = "lite_servers"


def server_vars(server):
    """The hostvars of one server record (reference 7.1), flat and prefixed. ``public_ips`` and
    ``availability_zone`` are not part of the record: the lite_servers inventory adds them when asked
    (GET .../publicips's answer; place_in_zones)."""
    image = server.get("image") or {}
    cloud_server = server.get("cloud_server") or {}
    hps = server.get("server_hps") or {}
    endpoints = [e for e in server.get("endpoints") or [] if e.get("uri")]
    ssh = [e for e in endpoints if (e.get("service") or e.get("dev_service")) == "SSH"] or endpoints
    return {
        "lite_server_id": server.get("id"),
        "lite_server_name": server.get("name"),
        "lite_server_status": server.get("status"),
        "lite_server_flavor": server.get("flavor") or server.get("resource_flavor"),
        "lite_server_category": server.get("category"),
        "lite_server_private_ip": ssh[0]["uri"] if ssh else None,
        "lite_server_public_ip": next((e["address"] for e in server.get("public_ips") or [] if e.get("address")), None),
        "lite_server_image_id": image.get("image_id"),
        "lite_server_image_name": image.get("name"),
        "lite_server_arch": image.get("arch"),
        "lite_server_server_type": cloud_server.get("type"),
        "lite_server_cloud_server_id": cloud_server.get("id"),
        "lite_server_super_node": hps.get("name") or "",
        "lite_server_super_node_id": hps.get("id") or cloud_server.get("hps_id") or "",
        "lite_server_availability_zone": server.get("availability_zone") or "",
        "lite_server_key_pair_name": server.get("key_pair_name") or "",
        "lite_server_vpc_id": server.get("vpc_id"),
        "lite_server_subnet_id": server.get("subnet_id"),
    }


def place_in_zones(servers, volumes):
    """Set each server's ``availability_zone`` to its disks' zone (EVS volumes); the system disk decides. An EVS
    disk attaches only to a server in its own zone, and the server record itself has no zone."""
    zones = {v.get("id"): v.get("availability_zone") for v in volumes}
    for server in servers:
        disks = sorted(server.get("volumes") or [], key=lambda v: v.get("type") != "ROOT")
        server["availability_zone"] = next((zones[d["evs_id"]] for d in disks if zones.get(d.get("evs_id"))), "")
    return servers


def select(servers, statuses=(), flavors=(), super_nodes=(), name_pattern=None):
    """The hostvars of the servers the filters keep, in name order (a pure function of the listing)."""
    kept = []
    for server in servers:
        hostvars = server_vars(server)
        if statuses and hostvars["lite_server_status"] not in statuses:
            continue
        if flavors and hostvars["lite_server_flavor"] not in flavors:
            continue
        if super_nodes and not {hostvars["lite_server_super_node"], hostvars["lite_server_super_node_id"]} \
                & set(super_nodes):
            continue
        if name_pattern and not fnmatch.fnmatchcase(hostvars["lite_server_name"] or "", name_pattern):
            continue
        kept.append(hostvars)
    return sorted(kept, key=lambda v: (v["lite_server_name"] or "", v["lite_server_id"] or ""))


def builtin_groups(hostvars):
    """(group prefix, value) pairs: super node, flavor, status and zone."""
    pairs = [("supernode", hostvars["lite_server_super_node"]), ("flavor", hostvars["lite_server_flavor"]),
             ("status", (hostvars["lite_server_status"] or "").lower()),
             ("az", hostvars["lite_server_availability_zone"])]
    return [(prefix, value) for prefix, value in pairs if value]


# ---- Lite Cluster pools (lite_pools inventory) --------------------------------------------------
ALL_POOLS_GROUP = "lite_pools"


def pool_vars(pool):
    """The hostvars of one pool (ensure.pool.describe_pool's shape): one host per pool, run locally."""
    return {
        "lite_pool_id": pool["id"],
        "lite_pool_name": pool["name"],
        "lite_pool_phase": pool["phase"],
        "lite_pool_driver_version": pool["driver_version"],
        "lite_pool_driver_state": pool["driver_state"],
        "lite_pool_node_pools": [{k: np[k] for k in ("name", "flavor", "count", "driver_version")}
                                 for np in pool["node_pools"]],
        "lite_pool_node_count": pool["node_count"],
        # The simulator's kubeconfig and the collection's modules name each pool's context by its id.
        "lite_pool_kube_context": pool["id"],
    }


def select_pools(pools, phases=(), name_pattern=None):
    """The hostvars of the described pools the filters keep, in name order."""
    kept = [pool_vars(p) for p in pools
            if (not phases or p["phase"] in phases)
            and (not name_pattern or fnmatch.fnmatchcase(p["name"] or "", name_pattern))]
    return sorted(kept, key=lambda v: (v["lite_pool_name"] or "", v["lite_pool_id"] or ""))
