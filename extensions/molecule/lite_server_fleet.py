"""Lite Servers over real SSH for the molecule scenarios that need them (make molecule).

Seeds one super node of two servers at loopback addresses in the simulator, starts one sshd per
server (modelarts_sim.sshworld) and writes an inventory directory with a lite_servers inventory
file; molecule.yml links it as the scenario's inventory (MODELARTS_SIM_LITE_SERVERS_INVENTORY).
"""
import os
import sys

import yaml

from modelarts_sim.sshworld import SshWorld

ADDRESSES = ["127.0.0.41", "127.0.0.42"]


def start(sim, state_dir):
    """-> (SshWorld, environment for ansible/molecule)."""
    hyper = sim.admin("POST", "seed", {"supernodes": [{"name": "sn-molecule", "servers": len(ADDRESSES),
                                                       "ips": ADDRESSES}]})["supernodes"][0]
    world = SshWorld(os.path.join(state_dir, "ssh"))
    for index, (server, address) in enumerate(zip(hyper["servers"], ADDRESSES)):
        # One root file system of each kind the system_disk_grow role grows: ext4, then xfs.
        world.add_host(server["name"], address, chip="snt9b23", super_pod_id=0, server_index=index,
                       system_disk={"simulator_env": os.path.join(sim.state_dir, "env.json"), "server_id": server["id"],
                                    "root_fstype": ("ext4", "xfs")[index]})
    world.start()
    inventory_dir = os.path.join(state_dir, "inventory")
    os.makedirs(inventory_dir, exist_ok=True)
    with open(os.path.join(inventory_dir, "molecule.lite_servers.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({"plugin": "modelarts.lite.lite_servers", "super_nodes": ["sn-molecule"],
                        "compose": {"lite_server_root": "%r ~ lite_server_name" % (world.base + "/hosts/"),
                                    "ansible_python_interpreter": repr(sys.executable)}}, handle)
    return world, dict(world.ansible_env(), MODELARTS_SIM_LITE_SERVERS_INVENTORY=inventory_dir)
