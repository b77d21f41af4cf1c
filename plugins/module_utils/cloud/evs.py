# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Elastic Volume Service (EVS) calls: the Lite Servers' disks (huaweicloudsdkevs v2 paths).

Thin on purpose: one function per HTTP call, taking the CloudClient first; signing, retries and
errors are the client's (``client.service_request("evs", ...)``). A Lite Server reports its system
disk as ``volumes[type=ROOT].evs_id``: that id is the EVS volume id.
"""

from __future__ import annotations

# EVS limits (API "Expanding Capacity of an EVS Disk"): the new size ranges up to these, in GB.
MAX_SYSTEM_DISK_GB = 1024
# An in-use disk can be expanded only while its server is in one of these (ECS/BMS) statuses.
EXTENDABLE_SERVER_STATUSES = ("ACTIVE", "PAUSED", "SUSPENDED", "SHUTOFF")
EXTENDABLE_VOLUME_STATUSES = ("available", "in-use")
JOB_DONE, JOB_FAILED = "SUCCESS", "FAIL"


def _request(client, method, path, body=None):
    return client.service_request("evs", method, path, body=body)


def list_volumes(client):
    """Every EVS disk of the project (``GET /v2/{project_id}/cloudvolumes/detail``, pages of 1000, EVS's largest)."""
    return client.paginate_offset(client.path("v2", "cloudvolumes", "detail"), limit=1000, items_key="volumes",
                                  total_key="count", service="evs")


def show_volume(client, volume_id):
    return _request(client, "GET", client.path("v2", "cloudvolumes", volume_id)).get("volume") or {}


def extend_volume(client, volume_id, new_size, auto_pay):
    """POST os-extend. -> {"job_id"} (pay-per-use) or {"order_id"} (yearly/monthly).

    ``auto_pay`` sends ``bssParam.isAutoPay: "true"``: without it a yearly/monthly disk's order waits
    for payment in the console and the disk does not grow."""
    body = {"os-extend": {"new_size": int(new_size)}}
    if auto_pay:
        body["bssParam"] = {"isAutoPay": "true"}
    return _request(client, "POST", client.path("v2.1", "cloudvolumes", volume_id, "action"), body=body)


def show_job(client, job_id):
    return _request(client, "GET", client.path("v1", "jobs", job_id))


def is_prepaid(volume):
    """Yearly/monthly: EVS marks such a disk with ``metadata.orderID``."""
    return bool((volume.get("metadata") or {}).get("orderID"))
