"""Elastic Volume Service (EVS), its own endpoint: the disks the Lite Servers report.

The volumes ARE the dev servers' `volumes[]` (devservers.py): a ROOT volume is the server's
bootable system disk, attached to its `cloud_server.id`. A grown disk changes that record, so the
ModelArts server detail shows the new size too. Paths and bodies as huaweicloudsdkevs v2:
list (`GET /v2/{project_id}/cloudvolumes/detail`), show, `os-extend`
(`POST /v2.1/{project_id}/cloudvolumes/{id}/action`) and the job it returns (`GET /v1/{project_id}/jobs/{id}`).

Expansion rules (EVS API "Expanding Capacity of an EVS Disk"): larger than now, at most 1024 GB
for a system disk (32768 for data); an in-use disk must not be shared and its server must be
ACTIVE, PAUSED, SUSPENDED or SHUTOFF (a Lite Server RUNNING or STOPPED); one expansion at a time.
A yearly/monthly disk (`metadata.orderID`) answers `order_id`: with `bssParam.isAutoPay: "true"` the
order is paid and the disk grows, without it the order waits for payment and nothing changes.
"""
from .cloud_base import ApiError
from .devserver_catalog import DEFAULT_AZ
from .neighbours import NeighbourApi
from .world import iso

EXTEND_SECONDS = 60
MAX_SYSTEM_DISK_GB = 1024
MAX_DATA_DISK_GB = 32768
# Lite Server status -> the ECS/BMS status of its cloud server, as EVS sees it.
ECS_STATUS = {"RUNNING": "ACTIVE", "STOPPED": "SHUTOFF"}
EXTENDABLE_SERVER_STATUSES = ("ACTIVE", "PAUSED", "SUSPENDED", "SHUTOFF")


def bad(message):
    return ApiError(400, "EVS.5400", message)


def not_found(volume_id):
    # [EMU] the code for an unknown volume is not documented; the shape is EVS's.
    return ApiError(404, "EVS.5404", "Volume %s could not be found." % volume_id)


def refused(message):
    # [EMU] invented code for "the disk or its server is in a status that forbids expansion".
    return ApiError(400, "EVS.2026", message)


class Evs(NeighbourApi):
    name = "evs"

    def __init__(self, world, cloud, authenticate):
        super().__init__(world, authenticate)
        self.cloud = cloud
        self.data = {"jobs": {}, "extending": {}, "orders": {}, "updated": {}}
        world.register_timer("evs_extended", self._on_extended)
        world.on_save("evs", lambda: self.data, self._restore)

    def _restore(self, saved):
        self.data = saved

    def route_table(self):
        return [
            ("GET", "v2/{project_id}/cloudvolumes/detail", self.list_volumes),
            ("GET", "v2/{project_id}/cloudvolumes/*", self.show_volume),
            ("POST", "v2.1/{project_id}/cloudvolumes/*/action", self.volume_action),
            ("GET", "v1/{project_id}/jobs/*", self.show_job),
        ]

    # ---- the volumes of the dev servers -----------------------------------------------------------
    def _volumes(self):
        """[(volume record, its server)] in a stable order."""
        servers = sorted(self.cloud.devservers.data["servers"].values(), key=lambda s: (s["created"], s["id"]))
        return [(volume, server) for server in servers for volume in server["volumes"]]

    def _find(self, volume_id):
        for volume, server in self._volumes():
            if volume["evs_id"] == volume_id:
                return volume, server
        raise not_found(volume_id)

    def volume_view(self, volume, server):
        index = server["volumes"].index(volume)
        root = volume["type"] == "ROOT"
        created = iso(server["created"])
        metadata = {"__system__encrypted": "0"}
        if server.get("charging_mode") == "PRE_PAID":
            metadata["orderID"] = "CS%s" % server["id"].replace("-", "")[:16].upper()
        status = "extending" if volume["evs_id"] in self.data["extending"] else "in-use"
        return {
            "id": volume["evs_id"], "links": [], "name": "%s-volume-%04d" % (server["name"], index),
            "status": status, "availability_zone": server.get("az", DEFAULT_AZ), "size": volume["size"], "volume_type": volume["evs_type"],
            "bootable": "true" if root else "false", "multiattach": False, "shareable": "false",
            "encrypted": False, "service_type": "EVS", "metadata": metadata, "volume_image_metadata": {},
            "os-vol-tenant-attr:tenant_id": self.world.project_id, "replication_status": "disabled",
            "created_at": created, "updated_at": iso(self.data["updated"].get(volume["evs_id"], server["created"])),
            "attachments": [{"attached_at": created, "attachment_id": volume["evs_id"],
                             "device": "/dev/sda" if root else "/dev/sd%s" % chr(ord("a") + index),
                             "host_name": server["name"], "id": volume["evs_id"],
                             "server_id": server["cloud_server_id"], "volume_id": volume["evs_id"]}],
            "tags": {}, "enterprise_project_id": "0",
        }

    def list_volumes(self, request):
        limit = self.int_query(request, "limit", 1000, bad)
        offset = self.int_query(request, "offset", 0, bad)
        views = [self.volume_view(v, s) for v, s in self._volumes()]
        for key in ("name", "status", "id", "server_id"):
            wanted = request.query_value(key)
            if wanted:
                views = [v for v in views if (v["attachments"][0]["server_id"] if key == "server_id" else v[key])
                         == wanted]
        ids = request.query_value("ids")
        if ids:
            wanted_ids = set(ids.strip("[]").replace("'", "").replace('"', "").split(","))
            views = [v for v in views if v["id"] in wanted_ids]
        return 200, {"count": len(views), "volumes": views[offset:offset + limit], "volumes_links": []}

    def show_volume(self, request, volume_id):
        return 200, {"volume": self.volume_view(*self._find(volume_id))}

    # ---- os-extend -----------------------------------------------------------------------------
    def volume_action(self, request, volume_id):
        body = self.body(request, bad)
        volume, server = self._find(volume_id)
        extend = body.get("os-extend")
        if not isinstance(extend, dict) or set(body) - {"os-extend", "bssParam"}:
            raise bad("The request body must be {\"os-extend\": {\"new_size\": N}} with an optional bssParam.")
        new_size = extend.get("new_size")
        if not isinstance(new_size, int) or isinstance(new_size, bool):
            raise bad("os-extend.new_size must be an integer number of GB.")
        root = volume["type"] == "ROOT"
        ceiling = MAX_SYSTEM_DISK_GB if root else MAX_DATA_DISK_GB
        if new_size <= volume["size"]:
            raise bad("new_size %d must be larger than the disk's current size %d GB; disks cannot shrink."
                      % (new_size, volume["size"]))
        if new_size > ceiling:
            raise bad("new_size %d exceeds the maximum size of a %s disk (%d GB)."
                      % (new_size, "system" if root else "data", ceiling))
        if volume_id in self.data["extending"]:
            raise refused("Volume %s is extending; wait until it is in-use again." % volume_id)
        server_status = self.cloud.devservers._visible(server)
        ecs_status = ECS_STATUS.get(server_status, server_status)
        if ecs_status not in EXTENDABLE_SERVER_STATUSES:
            raise refused("Volume %s is in-use on server %s, whose status %s does not allow expansion (it must be "
                          "ACTIVE, PAUSED, SUSPENDED or SHUTOFF)."
                          % (volume_id, server["cloud_server_id"], server_status))
        bss = body.get("bssParam") or {}
        prepaid = server.get("charging_mode") == "PRE_PAID"
        if prepaid:
            order_id = "CS%s" % self.cloud._uuid().replace("-", "")[:20].upper()
            paid = str(bss.get("isAutoPay", "false")).lower() == "true"
            self.data["orders"][order_id] = {"volume": volume_id, "new_size": new_size,
                                             "status": "paid" if paid else "unpaid"}
            if paid:
                self._start(volume, server, new_size, order_id=order_id)
            return 200, {"order_id": order_id}
        job_id = self._start(volume, server, new_size)
        return 202, {"job_id": job_id}

    def _start(self, volume, server, new_size, order_id=None):
        now = self.world.now()
        job_id = self.cloud._uuid().replace("-", "")
        self.data["jobs"][job_id] = {
            "job_id": job_id, "job_type": "extendVolume", "status": "RUNNING", "begin_time": iso(now),
            "end_time": "", "error_code": None, "fail_reason": None, "order_id": order_id,
            "entities": {"volume_id": volume["evs_id"], "size": new_size, "volume_type": volume["evs_type"],
                         "name": "%s-volume-%04d" % (server["name"], server["volumes"].index(volume))}}
        self.data["extending"][volume["evs_id"]] = job_id
        self.world.schedule(EXTEND_SECONDS * self.cloud.spread(volume["evs_id"] + "|extend"), "evs_extended",
                            job_id=job_id)
        return job_id

    def _on_extended(self, due, job_id):
        job = self.data["jobs"].get(job_id)
        if not job or job["status"] != "RUNNING":
            return
        volume_id = job["entities"]["volume_id"]
        self.data["extending"].pop(volume_id, None)
        job["end_time"] = iso(self.world.now())
        try:
            volume, server = self._find(volume_id)
        except ApiError:
            job.update(status="FAIL", error_code="EVS.2024", fail_reason="volume is gone")
            return
        hyper = self.cloud.devservers.data["hyperinstances"].get(server.get("hps_id") or "")
        if self.world.faults.fails("extend", (volume_id, server["id"], server["name"], hyper and hyper["id"],
                                              hyper and hyper["name"])):
            job.update(status="FAIL", error_code="EVS.2024", fail_reason="EbsExtendVolumeTask-fail: injected fault")
            return
        previous = volume["size"]
        volume["size"] = job["entities"]["size"]
        self.data["updated"][volume_id] = self.world.now()
        server["updated"] = self.world.now()
        job["status"] = "SUCCESS"
        self.world.history({"kind": "evs", "operation": "extend", "volume": volume_id, "server": server["id"],
                            "name": server["name"], "size": volume["size"], "previous_size": previous})

    def show_job(self, request, job_id):
        job = self.data["jobs"].get(job_id)
        if job is None:
            # [EMU] undocumented code for an unknown job id.
            raise ApiError(404, "EVS.5404", "Job %s could not be found." % job_id)
        return 200, {k: v for k, v in job.items() if k != "order_id"}
