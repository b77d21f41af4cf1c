"""What the simulated Lite Server (dev-server) service sells: server flavors and OS images.

Names follow the vendor's shapes; the catalogue itself is made up for the simulator.
"""

# Where servers are placed unless seeded elsewhere (seed availability_zone); EVS reports it on their disks.
DEFAULT_AZ = "cn-north-4a"

# flavor -> facts. server_type BMS = a bare-metal Lite Server, HPS = a super node sub-server.
SERVER_FLAVORS = {
    "modelarts.bm.npu.arm.8snt9b3.d": {"server_type": "BMS", "arch": "ARM", "chip": "snt9b", "npu": 8,
                                       "sold_out": False},
    "modelarts.bm.npu.arm.16snt9b23.d": {"server_type": "BMS", "arch": "ARM", "chip": "snt9b23", "npu": 16,
                                         "sold_out": False},
    "modelarts.hps.npu.arm.16snt9b23.d": {"server_type": "HPS", "arch": "ARM", "chip": "snt9b23", "npu": 16,
                                          "sold_out": False},
    "modelarts.hps.npu.arm.8snt9b3.d": {"server_type": "HPS", "arch": "ARM", "chip": "snt9b", "npu": 8,
                                        "sold_out": True},
    "modelarts.ecs.cpu.x86.8u32g": {"server_type": "ECS", "arch": "X86", "chip": None, "npu": 0,
                                    "sold_out": False},
}

# image id -> image. `chips` lists the NPU chip families the image has drivers for.
IMAGES = {
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a01": {
        "name": "EulerOS-2.10-Arm-rc3-64bit-for-Snt9B-BareMetal-with-CANN7.0", "arch": "ARM",
        "server_type": "BMS", "status": "ACTIVE", "chips": ["snt9b"]},
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a02": {
        "name": "HCE2.0-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0", "arch": "ARM",
        "server_type": "BMS", "status": "ACTIVE", "chips": ["snt9b"]},
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a03": {
        "name": "Ubuntu-22.04-Arm-64bit-for-Snt9B-BareMetal-with-CANN8.0", "arch": "ARM",
        "server_type": "BMS", "status": "ACTIVE", "chips": ["snt9b"]},
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a04": {
        "name": "HCE2.0-Arm-64bit-for-Snt9B23-BareMetal-with-CANN8.0", "arch": "ARM",
        "server_type": "BMS", "status": "ACTIVE", "chips": ["snt9b23"]},
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a05": {
        "name": "HCE2.0-Arm-64bit-for-Snt9B23-HPS-with-CANN8.0", "arch": "ARM",
        "server_type": "HPS", "status": "ACTIVE", "chips": ["snt9b23", "snt9b"]},
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a06": {
        "name": "EulerOS-2.10-Arm-64bit-for-Snt9B23-HPS-with-CANN7.0", "arch": "ARM",
        "server_type": "HPS", "status": "ACTIVE", "chips": ["snt9b23", "snt9b"]},
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a07": {
        "name": "EulerOS-2.9-Arm-64bit-for-Snt9B-BareMetal-deprecated", "arch": "ARM",
        "server_type": "BMS", "status": "INACTIVE", "chips": ["snt9b"]},
    "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a08": {
        "name": "Ubuntu-22.04-x86-64bit-ECS", "arch": "X86", "server_type": "ECS", "status": "ACTIVE",
        "chips": [None]},
}

DEFAULT_IMAGE = {"BMS": {"snt9b": "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a01",
                         "snt9b23": "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a04"},
                 "HPS": {"snt9b23": "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a05",
                         "snt9b": "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a05"},
                 "ECS": {None: "6d1f3c2a-0b1e-4c55-9a61-5b2c8f0e1a08"}}


def image_fits(image, flavor_name):
    """True when the image boots servers of this flavor (same server type and arch, drivers for its chip)."""
    flavor = SERVER_FLAVORS.get(flavor_name)
    return bool(flavor) and image["server_type"] == flavor["server_type"] and image["arch"] == flavor["arch"] \
        and flavor["chip"] in image["chips"]


def find_image(id_or_name):
    if id_or_name in IMAGES:
        return id_or_name
    for image_id, image in IMAGES.items():
        if image["name"] == id_or_name:
            return image_id
    return None


def image_view(image_id):
    image = IMAGES[image_id]
    return {"image_id": image_id, "name": image["name"], "arch": image["arch"], "server_type": image["server_type"],
            "status": image["status"]}


def flavor_view(name):
    flavor = SERVER_FLAVORS[name]
    return {"flavor": name, "flavor_type": "NPU" if flavor["npu"] else "CPU",
            "specification": "%d x Ascend %s" % (flavor["npu"], flavor["chip"]) if flavor["npu"] else "8 vCPUs 32 GiB",
            "arch": flavor["arch"], "server_type": flavor["server_type"], "charging_mode": "POST_PAID",
            "sku_code": name, "roce_num": 8 if flavor["npu"] else 0, "count": 0 if flavor["sold_out"] else 16,
            "status": "normal", "is_sold_out": flavor["sold_out"], "availability_zone": DEFAULT_AZ,
            "server_flavors": [{"name": name}],
            "availability_zones": [{"id": DEFAULT_AZ, "is_sold_out": flavor["sold_out"]}]}
