# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Lite Cluster calls: pools, pool tags, node pools, nodes, pool jobs, plugin templates, resource
flavors (API reference sections 4-6), plus the normalisers and name rules the ensure/ engines share
(each written once here: the default node pool name, a node by name or IP, "driver not offered").

Thin on purpose: one function per HTTP call taking the CloudClient first; bodies are passed
through in wire format (camelCase). Not-found surfaces as NotFoundError unless a ``get_*`` /
``find_*`` helper says it returns None.
"""

from __future__ import annotations

from ansible_collections.modelarts.lite.plugins.module_utils.cloud.client import MERGE_PATCH
from ansible_collections.modelarts.lite.plugins.module_utils.errors import NotFoundError, ValidationError

POOL_NAME_LABEL = "os.modelarts/name"
NODE_POOL_LABEL = "os.modelarts.node/nodepoolname"
# A node pool created without a name is "{flavor}-default"; users may not take such names.
DEFAULT_NODE_POOL_SUFFIX = "-default"
# batch-update openHaRedundant / closeHaRedundant flips this ModelArts node label ("true"/"false").
HA_REDUNDANT_LABEL = "os.modelarts.node/ha.redundant.enabled"
HA_ACTIONS = {True: "openHaRedundant", False: "closeHaRedundant"}
RESOURCE_STATES = ("creating", "available", "abnormal", "deleting")
NPU_DRIVER_TEMPLATE = "npu-driver"


def _v2(client, *segments):
    return client.path("v2", *segments)


def _v1(client, *segments):
    return client.path("v1", *segments)


# -- pools ---------------------------------------------------------------------------------------

def list_pools(client, workspace_id=None, label_selector=None, status=None):
    query = {"workspaceId": workspace_id, "labelSelector": label_selector, "status": status}
    return client.request("GET", _v2(client, "pools"), query=query).get("items") or []


def show_pool(client, pool_id):
    return client.request("GET", _v2(client, "pools", pool_id))


def find_pool(client, name, workspace_id=None):
    """The pool whose display name (``os.modelarts/name``) or id (``metadata.name``) is ``name``,
    or None. One list call, filtered here, so it works whether or not labelSelector is honoured."""
    matches = [p for p in list_pools(client, workspace_id=workspace_id)
               if pool_display_name(p) == name or (p.get("metadata") or {}).get("name") == name]
    if len(matches) > 1:
        raise ValidationError(
            "%d pools match the name %r (%s); use the pool id to pick one."
            % (len(matches), name, ", ".join(sorted(str(p["metadata"].get("name")) for p in matches))),
            option="name")
    return matches[0] if matches else None


def require_pool(client, name, option="pool"):
    """find_pool, or a ValidationError naming the option when no pool has that name or id."""
    pool = find_pool(client, name)
    if pool is None:
        raise ValidationError("pool %r does not exist (checked display names and ids)." % name, option=option)
    return pool


def create_pool(client, body):
    return client.request("POST", _v2(client, "pools"), body=body)


def patch_pool(client, pool_id, patch):
    return client.request("PATCH", _v2(client, "pools", pool_id), body=patch, content_type=MERGE_PATCH)


def delete_pool(client, pool_id):
    return client.request("DELETE", _v2(client, "pools", pool_id))


# -- pool tags (v1) ------------------------------------------------------------------------------

def list_pool_tags(client, pool_id):
    """Raw tag list: ``[{"key", "value"}]`` or ``[{"key", "values": [...]}]``."""
    return client.request("GET", _v1(client, "pools", pool_id, "tags")).get("tags") or []


def pool_tags(client, pool_id):
    """The pool's tags as ``{key: value}``."""
    return tags_to_dict(list_pool_tags(client, pool_id))


def add_pool_tags(client, pool_id, tags):
    """Create (or overwrite) tags given as ``{key: value}``."""
    body = {"tags": [{"key": str(k), "value": str(v)} for k, v in sorted(tags.items())]}
    return client.request("POST", _v1(client, "pools", pool_id, "tags", "create"), body=body)


def remove_pool_tags(client, pool_id, tags):
    """Delete tags given as a list of keys (sent as ``{"key"}``) or as ``{key: value}``."""
    if isinstance(tags, dict):
        entries = [{"key": str(k), "value": str(v)} for k, v in sorted(tags.items())]
    else:
        entries = [{"key": str(k)} for k in tags]
    return client.request("DELETE", _v1(client, "pools", pool_id, "tags", "delete"), body={"tags": entries})


def tags_to_dict(tags):
    result = {}
    for tag in tags or []:
        if not isinstance(tag, dict) or "key" not in tag:
            continue
        value = tag.get("value")
        if value is None and tag.get("values"):
            value = tag["values"][0]
        result[str(tag["key"])] = "" if value is None else str(value)
    return result


# -- node pools ----------------------------------------------------------------------------------

def list_node_pools(client, pool_id):
    return client.request("GET", _v2(client, "pools", pool_id, "nodepools")).get("items") or []


# -- nodes ---------------------------------------------------------------------------------------

def list_nodes(client, pool_id, limit=None):
    """Every node of the pool. Without ``limit`` the service answers with all nodes at once (it may
    ignore paging anyway), so one poll cycle costs one request; continue tokens are followed."""
    return client.paginate_continue(_v2(client, "pools", pool_id, "nodes"), limit=limit)


def show_node(client, pool_id, node_name):
    return client.request("GET", _v2(client, "pools", pool_id, "nodes", node_name))


def get_node(client, pool_id, node_name):
    try:
        return show_node(client, pool_id, node_name)
    except NotFoundError:
        return None


def _batch(client, pool_id, operation, body):
    return client.request("POST", _v2(client, "pools", pool_id, "nodes", operation), body=body)


def batch_delete_nodes(client, pool_id, node_names):
    return _batch(client, pool_id, "batch-delete", {"deleteNodeNames": list(node_names)})


def batch_reboot_nodes(client, pool_id, node_names):
    """Answers ``{"job_id": ...}``: poll show_pool_job."""
    return _batch(client, pool_id, "batch-reboot", {"nodeNames": list(node_names)})


def batch_reset_nodes(client, pool_id, node_names, rolling_config, node_config=None):
    """Reinstall the OS. ``rolling_config`` e.g. ``{"strategy": "RollingByNumber", "maxUnavailable": 1}``."""
    body = {"nodeNames": list(node_names), "rollingConfig": rolling_config}
    if node_config:
        body["nodeConfig"] = node_config
    return _batch(client, pool_id, "batch-reset", body)


def batch_update_nodes(client, pool_id, node_names, action=None, driver=None, tags=None, ha_redundant_effect=None):
    """batch-update; ``driver`` is ``{"version": ..., "updateStrategy": "idle"|"force"}``."""
    body = {"nodeNames": list(node_names)}
    for key, value in (("action", action), ("driver", driver), ("tags", tags),
                       ("haRedundantEffect", ha_redundant_effect)):
        if value is not None:
            body[key] = value
    return _batch(client, pool_id, "batch-update", body)


# -- orders, jobs, plugin templates, flavors -------------------------------------------------------


def show_pool_job(client, job_id):
    return client.request("GET", _v2(client, "jobs", job_id))


def show_plugin_template(client, name=NPU_DRIVER_TEMPLATE):
    return client.request("GET", _v1(client, "plugintemplates", name))


def npu_driver_versions(client):
    """NPU driver versions the region offers, sorted."""
    return plugin_template_versions(show_plugin_template(client, NPU_DRIVER_TEMPLATE))


def require_offered_driver(client, version, offered=None):
    """ValidationError (option driver_version) unless the region offers NPU driver ``version``."""
    offered = npu_driver_versions(client) if offered is None else offered
    if version not in offered:
        raise ValidationError("driver_version %r is not offered. Offered NPU driver versions: %s."
                              % (version, ", ".join(offered) or "none"), option="driver_version")


def npu_driver_chips(template, version):
    """The chip families (lower case, e.g. ``snt9b``) an offered driver version is for, or None when
    the catalogue does not say (then only the API can decide). Read from the version entry's
    ``inputs.families``: the reference documents only ``versions:{"<ver>":{detail,...}}``, so a
    catalogue without it leaves the pairing to the API, which refuses it with a 400."""
    versions = (template or {}).get("spec", {}).get("versions")
    if versions is None:
        versions = (template or {}).get("versions")
    entry = versions.get(version) if isinstance(versions, dict) else None
    families = ((entry or {}).get("inputs") or {}).get("families") if isinstance(entry, dict) else None
    if not isinstance(families, list) or not families:
        return None
    return sorted(str(f).lower() for f in families)


def flavor_chip(flavor):
    """The NPU chip family of a flavor entry of list_flavors() (``ascend-snt9b`` -> ``snt9b``), or None
    for a flavor without NPUs."""
    npu = ((flavor or {}).get("spec") or {}).get("npu") or {}
    kind = str(npu.get("type") or "").lower()
    return kind[len("ascend-"):] if kind.startswith("ascend-") else (kind or None)


def check_npu_driver(client, version, flavor_names):
    """Refuse, before any mutating call, a driver version the region does not offer, or one the
    catalogue says is not for the chip of one of ``flavor_names`` (or for a flavor without NPUs)."""
    template = show_plugin_template(client, NPU_DRIVER_TEMPLATE)
    offered = plugin_template_versions(template)
    require_offered_driver(client, version, offered)
    if not flavor_names:
        return
    flavors = list_flavors(client)
    chips = npu_driver_chips(template, version)
    for name in sorted(set(flavor_names)):
        if name not in flavors:
            continue  # an unknown flavor is refused by its own check
        chip = flavor_chip(flavors[name])
        if chip is None:
            raise ValidationError("flavor %s has no NPU, so it takes no %s (%s was asked)."
                                  % (name, "driver_version", version), option="driver_version")
        if chips is not None and chip not in chips:
            fitting = [v for v in offered if chip in (npu_driver_chips(template, v) or ())]
            raise ValidationError(
                "driver_version %s is for chip %s, not for flavor %s (chip %s). Versions for %s: %s."
                % (version, "/".join(chips), name, chip, chip, ", ".join(fitting) or "none"), option="driver_version")


def list_resource_flavors(client, label_selector=None, limit=None):
    return client.paginate_continue(_v1(client, "resourceflavors"), query={"labelSelector": label_selector},
                                    limit=limit)


def list_flavors(client):
    """``{flavor: {"name", "sold_out", "azs": {az: "normal"|"soldout"}, "spec"}}``."""
    flavors = {}
    for item in list_resource_flavors(client):
        name = (item.get("metadata") or {}).get("name")
        if not name:
            continue
        phase = (item.get("status") or {}).get("phase")
        azs = dict(phase) if isinstance(phase, dict) else {}
        flavors[name] = {"name": name, "azs": azs, "spec": item.get("spec") or {},
                         "sold_out": bool(azs) and all(v == "soldout" for v in azs.values())}
    return flavors


# -- normalisers -----------------------------------------------------------------------------------

def labels_of(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def pool_display_name(pool):
    return labels_of(pool).get(POOL_NAME_LABEL)


def node_pool_of_node(node):
    return labels_of(node).get(NODE_POOL_LABEL)


def private_ip(node):
    """A node's private IP: its Kubernetes Node name (CCE names Nodes by IP)."""
    return ((node or {}).get("status") or {}).get("privateIp")


def nodes_by_name_or_ip(records, wanted, pool_id, option="nodes"):
    """The node records ``wanted`` names, each by ModelArts node name or private IP, in that order
    and without repeats; ValidationError naming every one the pool does not have."""
    by_name = {r["metadata"]["name"]: r for r in records}
    by_ip = {private_ip(r): r for r in records if private_ip(r)}
    chosen, unknown = [], []
    for name in wanted:
        record = by_name.get(name) or by_ip.get(name)
        if record is None:
            unknown.append(name)
        elif record not in chosen:
            chosen.append(record)
    if unknown:
        raise ValidationError("pool %s has no node %s (give ModelArts node names or private IPs; it has: %s)."
                              % (pool_id, ", ".join(repr(n) for n in unknown), ", ".join(sorted(by_name)[:20]) or "none"),
                              option=option)
    return chosen


def ha_redundant(node):
    return labels_of(node).get(HA_REDUNDANT_LABEL) == "true"


def plugin_template_versions(template):
    """Versions a plugin template offers: ``versions`` under ``spec`` or at the top level, as a map
    keyed by version or as a list of strings / ``{"version": ...}`` objects."""
    template = template or {}
    versions = (template.get("spec") or {}).get("versions")
    if versions is None:
        versions = template.get("versions")
    if isinstance(versions, dict):
        return sorted(str(v) for v in versions)
    if isinstance(versions, list):
        found = [(v.get("version") or v.get("name")) if isinstance(v, dict) else v for v in versions]
        return sorted(str(v) for v in found if v)
    return []


def resource_entries(resources, state):
    """``status.resources[state]`` as a list, whether the server sent a list or one object."""
    value = (resources or {}).get(state)
    if not value:
        return []
    if isinstance(value, dict):
        return [value]
    return [entry for entry in value if isinstance(entry, dict)]


def default_node_pool_name(flavor):
    """The name the service gives a node pool created without one: ``{flavor}-default``."""
    return (flavor or "") + DEFAULT_NODE_POOL_SUFFIX


def node_pool_of_entry(entry):
    """The node pool a ``resources`` entry belongs to (unnamed: the flavor's default node pool)."""
    return entry.get("nodePool") or default_node_pool_name(entry.get("flavor"))


def node_counts_by_node_pool(status):
    """``{node_pool: {creating, available, abnormal, deleting}}`` from a pool's or node pool's
    ``status`` (``status.resources.*`` may be lists or single objects)."""
    resources = (status or {}).get("resources") or {}
    counts = {}
    for state in RESOURCE_STATES:
        for entry in resource_entries(resources, state):
            per_pool = counts.setdefault(node_pool_of_entry(entry), dict.fromkeys(RESOURCE_STATES, 0))
            per_pool[state] += int(entry.get("count") or 0)
    return counts


def spec_resources(obj):
    """``spec.resources`` as a list (a node pool carries a single object)."""
    value = ((obj or {}).get("spec") or {}).get("resources") or []
    return [value] if isinstance(value, dict) else list(value)
