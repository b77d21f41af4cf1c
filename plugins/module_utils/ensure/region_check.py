# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""First contact with a region, read-only (lite_region_check): list what the collection reads and
compare every answer with the contract (cloud/contract.py, from docs/api-contract.yml).

Only GET requests: pools, node pools, nodes, resource flavors, the NPU driver template, Lite
Servers, super nodes and their servers, and scheduled events. A difference is a field every
answer must carry that is missing, a status value the collection does not know, or a call the
region refuses; each names the contract entry it breaks.
"""

from __future__ import annotations

import re
from functools import partial

from ansible_collections.modelarts.lite.plugins.module_utils.cloud import pools, servers
from ansible_collections.modelarts.lite.plugins.module_utils.cloud.contract import CALLS
from ansible_collections.modelarts.lite.plugins.module_utils.errors import ApiError, TransportError

TOKEN = re.compile(r'\["([^"]+)"\]|(\[\])|([^.\[\]]+)')
MISSING = object()
EXAMPLES = 3


def tokens(path):
    return [quoted or brackets or plain for quoted, brackets, plain in TOKEN.findall(path)]


def values_at(data, path):
    """Every value at ``path`` (``a[].b``; a trailing ``.*`` means each value of a map), MISSING
    where an element lacks it. An empty list yields nothing."""
    parts = tokens(path)
    each_value = bool(parts) and parts[-1] == "*"
    found = _walk(data, parts[:-1] if each_value else parts)
    if not each_value:
        return found
    out = []
    for value in found:
        if isinstance(value, dict):
            out.extend(value.values())
        else:
            out.append(MISSING)
    return out


def _walk(data, parts):
    if not parts:
        return [data]
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if not isinstance(data, list):
            return [MISSING]
        return [value for item in data for value in _walk(item, rest)]
    if not isinstance(data, dict) or data.get(head) is None:
        return [MISSING]
    return _walk(data[head], rest)


def compare(call_id, answer, subject=None):
    """The differences between one answer and the contract entry ``call_id``."""
    entry = CALLS[call_id]
    where = "%s%s" % (call_id, " (%s)" % subject if subject else "")
    differences = []
    for field in entry["required_reads"]:
        values = values_at(answer, field)
        missing = sum(1 for v in values if v is MISSING)
        if missing:
            differences.append({"call": call_id, "subject": subject, "field": field, "problem": "missing",
                                "count": missing, "of": len(values),
                                "message": "%s: %s is missing in %d of %d answers; the collection relies on it"
                                           % (where, field, missing, len(values))})
    for field, known in entry["statuses"].items():
        values = [v for v in values_at(answer, field) if v is not MISSING]
        unknown = sorted({str(v) for v in values if v not in known})
        if unknown:
            differences.append({"call": call_id, "subject": subject, "field": field, "problem": "unknown value",
                                "values": unknown[:EXAMPLES], "known": list(known),
                                "message": "%s: %s has values the collection does not know: %s (known: %s)"
                                           % (where, field, ", ".join(unknown[:EXAMPLES]), ", ".join(known))})
    return differences


class _Run:
    def __init__(self):
        self.differences = []
        self.checked = {}

    def check(self, call_id, fetch, wrap=None, subject=None):
        """Fetch one answer, compare it; a refused call is a difference too. Returns the raw result
        (None when the call failed)."""
        try:
            result = fetch()
        except (ApiError, TransportError) as exc:
            self.differences.append({"call": call_id, "subject": subject, "field": None, "problem": "call failed",
                                     "message": "%s%s: %s %s failed: %s" % (
                                         call_id, " (%s)" % subject if subject else "", CALLS[call_id]["method"],
                                         CALLS[call_id]["path"], exc)})
            return None
        answer = {wrap: result} if wrap else result
        self.differences.extend(compare(call_id, answer, subject))
        count = len(result) if isinstance(result, list) else 1
        self.checked[call_id] = self.checked.get(call_id, 0) + count
        return result


def check_region(cloud, pool_names=None):
    """Read the region and compare it with the contract; never mutates. ``pool_names`` limits the
    per-pool calls to those pools (display names or ids); all pools by default."""
    run = _Run()
    listed = run.check("list_pools", lambda: pools.list_pools(cloud), wrap="items") or []
    for pool in listed:
        pool_id = (pool.get("metadata") or {}).get("name")
        if not pool_id or (pool_names and pool_id not in pool_names
                           and pools.pool_display_name(pool) not in pool_names):
            continue
        run.check("show_pool", partial(pools.show_pool, cloud, pool_id), subject=pool_id)
        run.check("list_node_pools", partial(pools.list_node_pools, cloud, pool_id), wrap="items", subject=pool_id)
        run.check("list_nodes", partial(pools.list_nodes, cloud, pool_id), wrap="items", subject=pool_id)
    run.check("list_resource_flavors", lambda: pools.list_resource_flavors(cloud), wrap="items")
    run.check("show_plugin_template", lambda: pools.show_plugin_template(cloud))
    run.check("list_servers", lambda: servers.list_servers(cloud), wrap="data")
    for hyper in run.check("list_supernodes", lambda: servers.list_supernodes(cloud), wrap="data") or []:
        if hyper.get("id"):
            run.check("supernode_servers", partial(servers.supernode_servers, cloud, hyper["id"]), wrap="data",
                      subject=hyper["id"])
    run.check("list_scheduled_events", lambda: servers.list_scheduled_events(cloud), wrap="events")
    return {"changed": False, "differences": run.differences, "checked": run.checked,
            "report": [d["message"] for d in run.differences]}


def region_check(clients, params, check_mode):
    """lite_region_check: read-only, so check mode runs the same."""
    return check_region(clients.cloud, params.get("pools"))
