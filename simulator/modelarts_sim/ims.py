"""Image Management Service (IMS), its own endpoint: public images and private images made from Lite Servers.

Paths and bodies as huaweicloudsdkims v2: `GET /v2/cloudimages` (list, filters, `marker` paging),
`POST /v2/cloudimages/action` (create a private image from `instance_id`, answers `job_id`),
`GET /v1/{project_id}/jobs/{id}` (the job: `entities.image_id` once done), and the Glance-style
`GET /v2/images/{id}` and `DELETE /v2/images/{id}`.

The public images are the Lite Server catalogue (devserver_catalog.IMAGES), `__imagetype: gold`.
A private image is made from a dev server's underlying machine (`cloud_server.id`), which must be
STOPPED (SHUTOFF): the Lite Server guide says to stop the server first. It starts `saving`, turns
`active` after IMAGE_SECONDS, and then boots servers of the same server type, architecture and
NPU chip as its source (devservers._resolve_image asks private_image()). IMS does not require
unique names; the collection is idempotent by name and refuses an ambiguous one.
"""
import re

from . import devserver_catalog as catalog
from .cloud_base import ApiError
from .neighbours import NeighbourApi
from .world import iso

IMAGE_SECONDS = 20 * 60
NAME_RE = re.compile(r"^[A-Za-z0-9\u4e00-\u9fa5][-_. A-Za-z0-9\u4e00-\u9fa5]{0,127}$")
ECS_STATUS = {"RUNNING": "ACTIVE", "STOPPED": "SHUTOFF"}


def bad(message):
    # [EMU] IMS's parameter-error code is not in the SDK; the error shape is IMS's.
    return ApiError(400, "IMG.0001", message)


def not_found(what, ident):
    return ApiError(404, "IMG.0057", "%s %s does not exist." % (what, ident))


class Ims(NeighbourApi):
    name = "ims"

    def __init__(self, world, cloud, authenticate):
        super().__init__(world, authenticate)
        self.cloud = cloud
        self.data = {"images": {}, "jobs": {}}
        world.register_timer("ims_image_done", self._on_image_done)
        world.on_save("ims", lambda: self.data, self._restore)

    def _restore(self, saved):
        self.data = saved

    def route_table(self):
        return [
            ("GET", "v2/cloudimages", self.list_images),
            ("POST", "v2/cloudimages/action", self.create_image),
            ("GET", "v1/{project_id}/jobs/*", self.show_job),
            ("GET", "v2/images/*", self.show_image),
            ("DELETE", "v2/images/*", self.delete_image),
        ]

    # ---- what other parts ask ---------------------------------------------------------------------
    def private_image(self, image_id):
        """The catalogue-shaped facts of a private image (devservers checks fit and status), or None."""
        image = self.data["images"].get(image_id)
        if image is None:
            return None
        return {"name": image["name"], "arch": image["arch"], "server_type": image["server_type"],
                "chips": image["chips"], "status": "ACTIVE" if image["status"] == "active" else "INACTIVE"}

    # ---- views ----------------------------------------------------------------------------------
    def _public_view(self, image_id):
        image = catalog.IMAGES[image_id]
        return self._view({"id": image_id, "name": image["name"], "arch": image["arch"],
                           "server_type": image["server_type"], "status": "active" if image["status"] == "ACTIVE"
                           else "deactivated", "min_disk": 100, "created": 1700000000.0, "updated": 1700000000.0,
                           "description": "", "source_server": None}, "gold", "public", "huawei")

    def _view(self, image, image_type, visibility, owner):
        linux = "Ubuntu" if image["name"].startswith("Ubuntu") else "EulerOS" if "Euler" in image["name"] else \
            "HCE" if image["name"].startswith("HCE") else "Other"
        return {
            "id": image["id"], "name": image["name"], "status": image["status"], "visibility": visibility,
            "__imagetype": image_type, "owner": owner, "protected": False, "min_disk": image["min_disk"],
            "min_ram": 0, "disk_format": "zvhd2", "container_format": "bare", "size": 0,
            "virtual_env_type": "Ironic" if image["server_type"] in ("BMS", "HPS") else "FusionCompute",
            "__os_type": "Linux", "__platform": linux, "__os_version": image["name"],
            "__os_bit": "64", "__support_arm": "true" if image["arch"] == "ARM" else "false",
            "__image_source_type": "uds", "__isregistered": "true", "__description": image["description"],
            "__data_origin": "instance,%s" % image["source_server"] if image["source_server"] else "",
            "tags": [], "created_at": iso(image["created"]), "updated_at": iso(image["updated"]),
            "self": "/v2/images/%s" % image["id"], "file": "/v2/images/%s/file" % image["id"],
            "schema": "/v2/schemas/image", "hw_firmware_type": "uefi",
        }

    def _private_view(self, image):
        return self._view(image, "private", "private", self.world.project_id)

    def _all_views(self):
        views = [self._public_view(i) for i in sorted(catalog.IMAGES)]
        private = sorted(self.data["images"].values(), key=lambda i: (i["created"], i["id"]))
        return views + [self._private_view(i) for i in private]

    # ---- handlers ---------------------------------------------------------------------------------
    def list_images(self, request):
        views = self._all_views()
        for key in ("id", "name", "status", "visibility", "__imagetype", "owner", "__platform"):
            wanted = request.query_value(key)
            if wanted:
                views = [v for v in views if str(v.get(key)) == wanted]
        limit = self.int_query(request, "limit", 500, bad)
        marker = request.query_value("marker")
        if marker:
            ids = [v["id"] for v in views]
            if marker not in ids:
                raise bad("marker %s is not an image of this list." % marker)
            views = views[ids.index(marker) + 1:]
        page = views[:limit] if limit else views
        result = {"images": page}
        if limit and len(views) > limit:
            result["page_info"] = {"next_marker": page[-1]["id"]}
        return 200, result

    def _server_by_instance(self, instance_id):
        for server in self.cloud.devservers.data["servers"].values():
            if server["cloud_server_id"] == instance_id:
                return server
        # [EMU] the code for an unknown instance is not documented.
        raise ApiError(400, "IMG.0027", "The instance %s does not exist." % instance_id)

    def create_image(self, request):
        body = self.body(request, bad)
        name = body.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise bad("name must be 1-128 characters: letters, digits, spaces, '-', '_' and '.', not starting "
                      "with a space or a symbol.")
        if not body.get("instance_id"):
            raise bad("instance_id is required (this simulator makes system disk images of servers only).")
        description = body.get("description") or ""
        if not isinstance(description, str) or len(description) > 1024:
            raise bad("description must be a string of at most 1024 characters.")
        server = self._server_by_instance(body["instance_id"])
        status = self.cloud.devservers._visible(server)
        if status != "STOPPED":
            # [EMU] invented code; the Lite Server guide requires a stopped server.
            raise ApiError(400, "IMG.0099", "The instance %s is %s; stop it before creating an image from it."
                           % (body["instance_id"], ECS_STATUS.get(status, status)))
        root = next(v for v in server["volumes"] if v["type"] == "ROOT")
        now = self.world.now()
        flavor = catalog.SERVER_FLAVORS[server["flavor"]]
        source = catalog.IMAGES.get(server["image_id"]) or self.private_image(server["image_id"]) or {}
        image = {"id": self.cloud._uuid(), "name": name, "status": "saving", "arch": flavor["arch"],
                 "server_type": flavor["server_type"], "chips": list(source.get("chips") or [flavor["chip"]]),
                 "min_disk": root["size"], "created": now, "updated": now, "description": description,
                 "source_server": body["instance_id"]}
        job_id = self.cloud._uuid().replace("-", "")
        self.data["images"][image["id"]] = image
        self.data["jobs"][job_id] = {
            "job_id": job_id, "job_type": "createImageByInstance", "status": "RUNNING", "begin_time": iso(now),
            "end_time": "", "error_code": None, "fail_reason": None,
            "entities": {"image_name": name, "process_percent": 0.0}, "_image": image["id"]}
        self.world.schedule(IMAGE_SECONDS * self.cloud.spread(image["id"] + "|image"), "ims_image_done",
                            job_id=job_id)
        return 200, {"job_id": job_id}

    def _on_image_done(self, due, job_id):
        job = self.data["jobs"].get(job_id)
        if not job or job["status"] != "RUNNING":
            return
        image = self.data["images"].get(job["_image"])
        job["end_time"] = iso(self.world.now())
        server = next((s for s in self.cloud.devservers.data["servers"].values()
                       if image and s["cloud_server_id"] == image["source_server"]), None)
        names = (server["id"], server["name"]) if server else ()
        if image is None or self.world.faults.fails("create_image", names):
            job.update(status="FAIL", error_code="IMG.0123", fail_reason="creating the image failed (injected fault)")
            self.data["images"].pop(job["_image"], None)  # IMS removes an image whose creation failed
            return
        image.update(status="active", updated=self.world.now())
        job["status"] = "SUCCESS"
        job["entities"].update(image_id=image["id"], process_percent=1.0)
        self.world.history({"kind": "ims", "operation": "create_image", "image": image["id"], "name": image["name"],
                            "server": server["id"] if server else None})

    def show_job(self, request, job_id):
        job = self.data["jobs"].get(job_id)
        if job is None:
            raise not_found("Job", job_id)
        view = {k: v for k, v in job.items() if not k.startswith("_")}
        if view["status"] == "RUNNING":
            view["entities"] = dict(view["entities"], process_percent=0.5)
        return 200, view

    def show_image(self, request, image_id):
        if image_id in catalog.IMAGES:
            return 200, self._public_view(image_id)
        image = self.data["images"].get(image_id)
        if image is None:
            raise not_found("Image", image_id)
        return 200, self._private_view(image)

    def delete_image(self, request, image_id):
        if image_id in catalog.IMAGES:
            raise ApiError(403, "IMG.0040", "Image %s is a public image and cannot be deleted." % image_id)
        image = self.data["images"].get(image_id)
        if image is None:
            raise not_found("Image", image_id)
        if image["status"] != "active":
            raise bad("Image %s is %s; wait until it is active before deleting it." % (image_id, image["status"]))
        del self.data["images"][image_id]
        self.world.history({"kind": "ims", "operation": "delete_image", "image": image_id, "name": image["name"]})
        return 204, None
