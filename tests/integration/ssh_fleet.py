"""A simulated Lite Server fleet reached over real SSH: super nodes seeded in the simulator, each
server's private IP a loopback address where its own sshd listens (modelarts_sim.sshworld).

Used by the inventory and role tests: `fleet = SshFleet.start(sim, tmp)`, then `fleet.ansible(...)`,
`fleet.playbook(...)`, `fleet.world.inject(host, ...)`, `fleet.stop()`.
"""
import json
import os
import pathlib
import subprocess
import sys

import yaml

from modelarts_sim.sshworld import SshWorld

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
HPS = "modelarts.hps.npu.arm.16snt9b23.d"
BMS_A2 = "modelarts.bm.npu.arm.8snt9b3.d"
CHIP = {HPS: "snt9b23", BMS_A2: "snt9b"}
# Two super nodes of two servers, one standalone A2 server, one stopped server (no sshd).
SUPERNODES = [("sn-a", ["127.0.0.11", "127.0.0.12"]), ("sn-b", ["127.0.0.13", "127.0.0.14"])]
SERVERS = [{"name": "solo-1", "flavor": BMS_A2, "ip": "127.0.0.15"},
           {"name": "parked-1", "flavor": BMS_A2, "ip": "127.0.0.16", "status": "STOPPED"}]
# Root file systems (blockdev.py stand-ins): ext4 everywhere but the standalone server's xfs.
ROOT_FSTYPE = {"solo-1": "xfs"}


def _plain(obj):
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


class SshFleet:
    def __init__(self, sim, base, world, servers):
        self.sim = sim
        self.base = pathlib.Path(base)
        self.world = world
        self.servers = servers  # name -> {"id", "ip", "flavor", "super_node"}
        self.env = dict(os.environ)
        self.env.update(sim.env_vars())
        self.env.update(world.ansible_env())
        self.env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / "build" / "install"))
        self.env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
                        ANSIBLE_ROLES_PATH=str(REPO / "roles"), ANSIBLE_TIMEOUT="30")

    @classmethod
    def start(cls, sim, base):
        seeded = sim.admin("POST", "seed", {
            "supernodes": [{"name": name, "servers": len(ips), "ips": ips} for name, ips in SUPERNODES],
            "servers": SERVERS})
        servers = {}
        for (name, ips), hyper in zip(SUPERNODES, seeded["supernodes"]):
            for index, (server, ip) in enumerate(zip(hyper["servers"], ips)):
                servers[server["name"]] = {"id": server["id"], "ip": ip, "flavor": HPS, "super_node": name,
                                           "server_index": index}
        for spec, server in zip(SERVERS, seeded["servers"]):
            servers[server["name"]] = {"id": server["id"], "ip": spec["ip"], "flavor": spec["flavor"],
                                       "super_node": "", "status": spec.get("status", "RUNNING")}
        world = SshWorld(pathlib.Path(base) / "ssh")
        pods = {name: index for index, (name, _ips) in enumerate(SUPERNODES)}
        for name, server in servers.items():
            if server.get("status", "RUNNING") == "RUNNING":
                world.add_host(name, server["ip"], chip=CHIP[server["flavor"]],
                               super_pod_id=pods.get(server["super_node"], 0),
                               server_index=server.get("server_index", 0),
                               system_disk={"simulator_env": os.path.join(sim.state_dir, "env.json"),
                                            "server_id": server["id"], "root_fstype": ROOT_FSTYPE.get(name, "ext4")})
        world.start()
        return cls(sim, base, world, servers)

    def running(self):
        return sorted(name for name, s in self.servers.items() if s.get("status", "RUNNING") == "RUNNING")

    def stop(self):
        self.world.stop()

    def inventory(self, name="fleet", **options):
        """Write <name>.lite_servers.yml; every host's files live under its own root (lite_server_root)."""
        config = {"plugin": "modelarts.lite.lite_servers",
                  "compose": {"lite_server_root": "%r ~ lite_server_name" % (self.world.base + "/hosts/"),
                              "ansible_python_interpreter": repr(sys.executable)}}
        config.update(options)
        path = self.base / ("%s.lite_servers.yml" % name)
        path.write_text(yaml.safe_dump(config))
        return path

    def run(self, cmd, expect_rc=(0,), extra_env=None):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(self.env, **(extra_env or {})),
                              cwd=self.base, check=False, timeout=600)
        if proc.returncode not in expect_rc:
            raise AssertionError("%s exited %s\nstdout:\n%s\nstderr:\n%s"
                                 % (cmd[0], proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:]))
        return proc

    def inventory_json(self, path, extra_env=None):
        """ansible-inventory --list, with ansible's unsafe-text markers unwrapped."""
        return json.loads(self.run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"],
                                   extra_env=extra_env).stdout, object_hook=_plain)

    def playbook(self, inventory, playbook, limit=None, extra_vars=None, expect_rc=(0,), check=False):
        """Run a playbook with the JSON callback; -> parsed output (stats per host under "stats")."""
        cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)] + (["--check"] if check else [])
        if limit:
            cmd += ["--limit", limit]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        proc = self.run(cmd, expect_rc=expect_rc,
                        extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"})
        return json.loads(proc.stdout)
