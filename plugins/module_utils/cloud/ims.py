# -*- coding: utf-8 -*-
# Copyright: contributors to the modelarts.lite collection
# Apache License 2.0 (see LICENSE)
"""Image Management Service (IMS) calls: private images made from Lite Servers (huaweicloudsdkims v2 paths).

Thin on purpose: one function per HTTP call, taking the CloudClient first; signing, retries and
errors are the client's (``client.service_request("ims", ...)``). IMS paths carry no project id;
the signed X-Project-Id header names the project.
"""

from __future__ import annotations

from urllib.parse import quote

PAGE = 100
JOB_DONE, JOB_FAILED = "SUCCESS", "FAIL"
ACTIVE = "active"


def _request(client, method, path, query=None, body=None):
    return client.service_request("ims", method, path, query=query, body=body)


def list_images(client, **filters):
    """Every image matching the filters (``name``, ``id``, ``__imagetype``, ``status``...), all pages."""
    images, marker = [], None
    query = {k: v for k, v in filters.items() if v is not None}
    for _page in range(1000):
        page_query = dict(query, limit=PAGE)
        if marker:
            page_query["marker"] = marker
        page = _request(client, "GET", "/v2/cloudimages", query=page_query)
        batch = page.get("images") or []
        images.extend(batch)
        marker = (page.get("page_info") or {}).get("next_marker")
        if not marker or not batch:
            return images
    return images


def find_private_images(client, name):
    return list_images(client, name=name, __imagetype="private")


def get_image(client, image_id):
    """The image with this id, or None."""
    found = list_images(client, id=image_id)
    return found[0] if found else None


def create_image(client, name, instance_id, description=None):
    """POST /v2/cloudimages/action from a server's underlying machine. -> job id."""
    body = {"name": name, "instance_id": instance_id}
    if description:
        body["description"] = description
    return _request(client, "POST", "/v2/cloudimages/action", body=body).get("job_id")


def show_job(client, job_id):
    return _request(client, "GET", client.path("v1", "jobs", job_id))


def delete_image(client, image_id):
    return _request(client, "DELETE", "/v2/images/%s" % quote(image_id, safe=""), body={"delete_backup": False})
