"""Real OpenSSH servers for simulated Lite Servers: one sshd per server on a loopback address.

Lite Servers are bare-metal machines an operator reaches over SSH. Tests and rehearsals reach the
simulated ones the same way: every server gets its own ``sshd`` (Debian ``openssh-server``) listening
on its own 127.0.0.x address, all on one port, and the simulator's server record carries that address
as its private IP (seed ``ip`` / ``ips``), so inventory -> SSH -> host is the real path.

All hosts share this machine's file system, so each gets a root directory of its own. Every SSH
session on a host has ``LITE_SERVER_ROOT`` pointing there (roles write below ``lite_server_root``, which
the test inventory sets to the same directory) and a PATH that starts with the host's own
``usr/local/bin``, where the Ascend tool stand-ins (``ascend.py``) live, and for a host given a
system disk the block device tools' (``blockdev.py``). The host's facts for those
tools (chip, NPU count, driver, super node, injected faults) are ``<root>/etc/modelarts-sim/host.json``.

    world = SshWorld(tmp / "ssh", port=0)
    world.add_host("sn-a-1", "127.0.0.21", chip="snt9b23", super_node="sn-a")
    world.start()
    env = world.ansible_env()    # ANSIBLE_REMOTE_USER/PORT, key file, no host key checking
    world.inject("sn-a-1", hccs_link_down=[3])
    world.install_cann("sn-a-1", "8.0.RC3")   # the CANN version file the roles read
    world.stop()
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

from . import blockdev

SSHD = os.environ.get("MODELARTS_SIM_SSHD", "/usr/sbin/sshd")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FACTS = ("etc", "modelarts-sim", "host.json")
TOOLS = ("npu-smi", "ascend-dmi", "hccn_tool")
# The CANN toolkit as its installer leaves it (CANN <= 8.3 layout): <version>/<arch>-linux/ascend_toolkit_install.info
# below ascend-toolkit, and latest -> <version>. A3 Lite Server images ship CANN 8.x.
TOOLKIT = ("usr", "local", "Ascend", "ascend-toolkit")
DEFAULT_CANN = "8.2.RC1"
DISK_TOOLS = ("lsblk", "findmnt", "growpart", "resize2fs", "dumpe2fs", "xfs_growfs")


class SshWorldError(RuntimeError):
    pass


def free_port(address="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


class SshWorld:
    def __init__(self, base_dir, port=0, python=sys.executable):
        self.base = os.path.abspath(str(base_dir))
        self.port = port or free_port()
        self.python = python
        self.hosts = {}
        self.processes = {}
        os.makedirs(self.base, exist_ok=True)
        self.key_file = os.path.join(self.base, "id_ed25519")
        self.host_key = os.path.join(self.base, "ssh_host_ed25519_key")
        for path in (self.key_file, self.host_key):
            if not os.path.exists(path):
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)

    # ---- hosts ------------------------------------------------------------------------------------
    def root(self, name):
        return self.hosts[name]["root"]

    def add_host(self, name, address, system_disk=None, **facts):
        """A host at ``address`` with the tool facts ``facts`` (see ascend.DEFAULT_FACTS).

        ``system_disk`` (``{"simulator_env": <env.json>, "server_id": id, "root_fstype": "ext4"|"xfs"|...}``)
        gives the host its system disk: the block device tool stand-ins (blockdev.py) then report the
        server's EVS system volume as ``/dev/sda``, its root partition and file system filling it."""
        root = os.path.join(self.base, "hosts", name)
        for sub in ("usr/local/bin", "etc/modelarts-sim", "etc/profile.d", "var/log", "tmp"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        tools = [(tool, "ascend") for tool in TOOLS]
        if system_disk:
            blockdev.save(root, blockdev.new_disk(**system_disk))
            tools += [(tool, "blockdev") for tool in DISK_TOOLS]
        for tool, module in tools:
            script = os.path.join(root, "usr/local/bin", tool)
            with open(script, "w", encoding="utf-8") as handle:
                handle.write("#!/bin/sh\nexec %s -m modelarts_sim.%s %s \"$@\"\n" % (self.python, module, tool))
            os.chmod(script, 0o755)
        self.hosts[name] = {"address": address, "root": root}
        self.write_facts(name, dict(facts, hostname=name))
        self.install_cann(name, facts.get("cann", DEFAULT_CANN))
        return root

    def install_cann(self, name, version):
        """The host's CANN toolkit becomes ``version`` (None: no toolkit), as its version file reports it."""
        toolkit = os.path.join(self.root(name), *TOOLKIT)
        shutil.rmtree(toolkit, ignore_errors=True)
        if version is None:
            return
        directory = os.path.join(toolkit, version, "aarch64-linux")
        os.makedirs(directory)
        os.symlink(version, os.path.join(toolkit, "latest"))
        with open(os.path.join(directory, "ascend_toolkit_install.info"), "w", encoding="utf-8") as handle:
            handle.write("package_name=Ascend-cann-toolkit\nversion=%s\narch=aarch64\nos=linux\npath=%s\n"
                         % (version, "/" + "/".join(TOOLKIT + (version, "aarch64-linux"))))

    def facts(self, name):
        with open(os.path.join(self.root(name), *FACTS), encoding="utf-8") as handle:
            return json.load(handle)

    def write_facts(self, name, facts):
        path = os.path.join(self.root(name), *FACTS)
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(facts, handle, indent=1, sort_keys=True)
        os.replace(path + ".tmp", path)

    def inject(self, name, **faults):
        """Set faults on one host: unhealthy_chips=[phy ids], hccs_link_down=[phy ids], roce_link_down=[device
        ids] (the tool stand-ins read them), slow_storage=MB/s (a real fio, rate-limited). An empty value clears."""
        facts = self.facts(name)
        if "slow_storage" in faults:
            self._slow_storage(name, faults["slow_storage"])
        current = dict(facts.get("faults") or {})
        for key, value in faults.items():
            if value:
                current[key] = value
            else:
                current.pop(key, None)
        facts["faults"] = current
        self.write_facts(name, facts)

    def _slow_storage(self, name, megabytes_per_second):
        """A host whose disk is slow: its PATH finds a fio that runs the real one with a rate limit."""
        script = os.path.join(self.root(name), "usr/local/bin/fio")
        if not megabytes_per_second:
            if os.path.exists(script):
                os.remove(script)
            return
        real = shutil.which("fio", path=SYSTEM_PATH)
        if real is None:
            raise SshWorldError("fio is missing: install Debian fio (make test does).")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write("#!/bin/sh\nexec %s --rate=%dm \"$@\"\n" % (real, int(megabytes_per_second)))
        os.chmod(script, 0o755)

    # ---- sshd -------------------------------------------------------------------------------------
    def _config(self, name):
        host = self.hosts[name]
        directory = os.path.join(self.base, "sshd", name)
        os.makedirs(directory, exist_ok=True)
        authorized = os.path.join(directory, "authorized_keys")
        shutil.copyfile(self.key_file + ".pub", authorized)
        path = os.path.join(directory, "sshd_config")
        lines = [
            "Port %d" % self.port,
            "ListenAddress %s" % host["address"],
            "HostKey %s" % self.host_key,
            "PidFile %s" % os.path.join(directory, "sshd.pid"),
            "AuthorizedKeysFile %s" % authorized,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PrintMotd no",
            "LogLevel ERROR",
            "Subsystem sftp internal-sftp",
            # The host's own tools first; LITE_SERVER_ROOT tells a session which simulated host it is on.
            "SetEnv PATH=%s:%s LITE_SERVER_ROOT=%s"
            % (os.path.join(host["root"], "usr/local/bin"), SYSTEM_PATH, host["root"]),
        ]
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        return path, directory

    def start(self, timeout=20):
        if not os.path.exists(SSHD):
            raise SshWorldError("%s is missing: install Debian openssh-server (make test does)." % SSHD)
        os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory sshd insists on
        for name in self.hosts:
            config, directory = self._config(name)
            log = open(os.path.join(directory, "sshd.log"), "ab")  # pylint: disable=consider-using-with
            self.processes[name] = (subprocess.Popen([SSHD, "-D", "-e", "-f", config], stdout=log, stderr=log),
                                    log)
        deadline = time.monotonic() + timeout
        for name, host in self.hosts.items():
            while True:
                process = self.processes[name][0]
                if process.poll() is not None:
                    raise SshWorldError("sshd for %s exited with %s: %s" % (name, process.returncode, self.log(name)))
                try:
                    with socket.create_connection((host["address"], self.port), timeout=1) as sock:
                        if sock.recv(4).startswith(b"SSH"):
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SshWorldError("sshd for %s did not listen on %s:%d" % (name, host["address"], self.port))
                time.sleep(0.05)
        return self

    def log(self, name):
        with open(os.path.join(self.base, "sshd", name, "sshd.log"), encoding="utf-8", errors="replace") as handle:
            return handle.read()[-2000:]

    def stop(self):
        for process, log in self.processes.values():
            process.terminate()
        for process, log in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        self.processes = {}

    def ansible_env(self):
        """Connection settings for ansible: root over SSH with the world's key, no host key prompts."""
        return {"ANSIBLE_REMOTE_USER": "root", "ANSIBLE_REMOTE_PORT": str(self.port),
                "ANSIBLE_PRIVATE_KEY_FILE": self.key_file, "ANSIBLE_HOST_KEY_CHECKING": "False",
                "ANSIBLE_PIPELINING": "True",
                # A loaded CI machine can be slow to accept; ssh retries a refused or reset connection.
                "ANSIBLE_SSH_RETRIES": "3",
                "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=/dev/null"}
