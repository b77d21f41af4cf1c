"""Seeding the simulated Lite Server API (a mixin of DevServers): servers, super nodes, addresses,
zones, scheduled events and jobs from a test's or a rehearsal's seed."""
import ipaddress

from . import devserver_catalog as catalog
from .cloud_base import ApiError
from .world import iso
from .devserver_rules import JOB_SECONDS, AZ_PATTERN, STATUSES, EVENT_TYPES


class Seeding:
    # ---- admin seed ---------------------------------------------------------------------------
    SEED_KEYS = ("servers", "supernodes", "scheduled_events", "server_jobs")

    def seed(self, body):
        result = {}
        for spec in body.get("servers") or []:
            result.setdefault("servers", []).append(self._seed_server(spec))
        for spec in body.get("supernodes") or []:
            result.setdefault("supernodes", []).append(self._seed_supernode(spec))
        for spec in body.get("scheduled_events") or []:
            result.setdefault("scheduled_events", []).append(self._seed_event(spec))
        for spec in body.get("server_jobs") or []:
            result.setdefault("server_jobs", []).append(self._seed_job(spec))
        return result

    def _seed_server(self, spec):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ApiError(400, "SIM.400", "each seeded server needs a name")
        flavor = spec.get("flavor", "modelarts.bm.npu.arm.8snt9b3.d")
        if flavor not in catalog.SERVER_FLAVORS:
            raise ApiError(400, "SIM.400", "unknown server flavor %r" % flavor)
        status = spec.get("status", "RUNNING")
        if status not in STATUSES:
            raise ApiError(400, "SIM.400", "status must be one of %s" % ", ".join(STATUSES))
        server = self._make_server(spec["name"], flavor, self._resolve_image(spec.get("image"), flavor),
                                   spec.get("key_pair_name", "kp-sim"), status, spec.get("root_volume_size", 200),
                                   data_volumes=spec.get("data_volumes", [500]), ip=self._seed_ip(spec.get("ip")),
                                   public_ip=self._seed_public_ip(spec.get("public_ip")), az=self._seed_az(spec))
        if spec.get("charging_mode") in ("PRE_PAID", "POST_PAID"):  # PRE_PAID: yearly/monthly, disks too
            server["charging_mode"] = spec["charging_mode"]
        if spec.get("displayed_status"):  # a stale console status that only sync corrects
            server["displayed_status"] = spec["displayed_status"]
        return {"id": server["id"], "name": server["name"]}

    def _seed_supernode(self, spec):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ApiError(400, "SIM.400", "each seeded super node needs a name")
        flavor = spec.get("flavor", "modelarts.hps.npu.arm.16snt9b23.d")
        if catalog.SERVER_FLAVORS.get(flavor, {}).get("server_type") != "HPS":
            raise ApiError(400, "SIM.400", "super node flavor %r is not an HPS flavor" % flavor)
        now = self.world.now()
        hyper = {"id": self.cloud._uuid(), "name": spec["name"], "status": "ACTIVE", "flavor": flavor,
                 "hps_cluster_id": self.cloud._uuid(), "server_ids": [], "created": now, "updated": now,
                 "counter": 0}
        self.data["hyperinstances"][hyper["id"]] = hyper
        image_id = self._resolve_image(spec.get("image"), flavor)
        count = int(spec.get("servers", 2))
        ips = spec.get("ips") or [None] * count
        if len(ips) != count:
            raise ApiError(400, "SIM.400", "super node %r: give one of ips per server (%d)" % (spec["name"], count))
        public_ips = spec.get("public_ips") or [None] * count
        if len(public_ips) != count:
            raise ApiError(400, "SIM.400", "super node %r: give one of public_ips per server (%d), null for none"
                           % (spec["name"], count))
        for ip, public_ip in zip(ips, public_ips):
            hyper["counter"] += 1
            server = self._make_server("%s-%d" % (spec["name"], hyper["counter"]), flavor, image_id,
                                       spec.get("key_pair_name", "kp-sim"), "RUNNING",
                                       spec.get("root_volume_size", 200), data_volumes=[], hps_id=hyper["id"],
                                       ip=self._seed_ip(ip), public_ip=self._seed_public_ip(public_ip),
                                       az=self._seed_az(spec))
            hyper["server_ids"].append(server["id"])
        return {"id": hyper["id"], "name": hyper["name"],
                "servers": [{"id": s, "name": self.data["servers"][s]["name"]} for s in hyper["server_ids"]]}

    def _seed_ip(self, ip):
        """A seeded private IP (tests point servers at loopback addresses where an sshd listens)."""
        if ip is None:
            return None
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            raise ApiError(400, "SIM.400", "ip %r is not an IPv4 address" % (ip,)) from None
        if any(s["ip"] == str(address) for s in self.data["servers"].values()):
            raise ApiError(400, "SIM.400", "ip %s is already a server's address" % address)
        return str(address)

    @staticmethod
    def _seed_public_ip(address):
        if address is None:
            return None
        try:
            return str(ipaddress.IPv4Address(address))
        except ValueError:
            raise ApiError(400, "SIM.400", "public_ip %r is not an IPv4 address" % (address,)) from None

    @staticmethod
    def _seed_az(spec):
        zone = spec.get("availability_zone")
        if zone is not None and not (isinstance(zone, str) and AZ_PATTERN.match(zone)):
            raise ApiError(400, "SIM.400", "availability_zone %r is not a zone such as cn-north-4a" % (zone,))
        return zone

    def _find_server(self, ident):
        if ident in self.data["servers"]:
            return self.data["servers"][ident]
        for server in self.data["servers"].values():
            if server["name"] == ident:
                return server
        raise ApiError(400, "SIM.400", "no server %r" % ident)

    def _seed_event(self, spec):
        server = self._find_server(spec.get("server"))
        event_type = spec.get("type", "node_redeploy")
        if event_type not in EVENT_TYPES:
            raise ApiError(400, "SIM.400", "event type must be one of %s" % ", ".join(EVENT_TYPES))
        now = self.world.now()
        event = {"id": self.cloud._uuid(), "catalog": spec.get("catalog", "hardware"), "type": event_type,
                 "state": spec.get("state", "inquiring"), "instanceType": "devserver", "instanceId": server["id"],
                 "nodeName": server["name"], "poolName": "", "poolDisplayName": "", "publishTime": iso(now),
                 "startTime": "", "finishTime": "", "notBefore": "",
                 "probeMsg": spec.get("probe_msg", "NPU chip ECC errors exceed the threshold"), "jobProgress": "",
                 "redeployType": spec.get("redeploy_types", ["HARD", "SOFT"]),
                 "underLyingInstanceId": server["cloud_server_id"],
                 "description": spec.get("description", "Hardware fault detected; authorize the repair."),
                 "token": 0}
        self.data["events"][event["id"]] = event
        return {"id": event["id"], "server": server["id"]}

    def _seed_job(self, spec):
        servers = [self._find_server(s) for s in spec.get("servers") or []]
        if not servers:
            raise ApiError(400, "SIM.400", "a seeded job needs servers")
        return {"id": self._new_job({"name": spec.get("name", "seeded-job"), "type": spec.get("type", "COMMON"),
                                     "server_ids": [s["id"] for s in servers], "items": []},
                                    spec.get("seconds", JOB_SECONDS))["id"]}
