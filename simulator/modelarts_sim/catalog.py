"""Fixed catalogues the simulator sells: resource flavors and NPU driver versions.

Version strings are ModelArts' `<firmware>-<driver>` form (ascend-facts.md §2.4).
"""

REGION = "cn-north-4"
AZS = ("cn-north-4a", "cn-north-4b")

# chip family -> (known versions, recommended default)
NPU_DRIVERS = {
    "snt9b": (
        ["7.1.0.9.220-23.0.6", "7.5.0.5.220-24.1.0.3"],
        "7.5.0.5.220-24.1.0.3",
    ),
    "snt9b23": (
        ["7.5.0.108.220-24.1.rc3.9", "7.5.0.109.220-24.1.rc3.10", "7.7.0.9.220-25.2.1"],
        "7.5.0.109.220-24.1.rc3.10",
    ),
}

GPU_DRIVERS = ["470.57.02", "535.54.03"]

FLAVORS = {
    "modelarts.bm.npu.arm.8snt9b3.d": {
        "cpu_arch": "arm", "cpu": "192", "memory": "1536Gi", "chip_family": "snt9b",
        "npu": {"type": "ascend-snt9b", "size": "8", "memory": "64Gi", "card": "8", "chip": "8"},
        "npu_resource": 8, "allocatable_cpu": "189500m", "allocatable_memory": "1468Gi",
        "sold_out": False,
    },
    "modelarts.bm.npu.arm.16snt9b23.d": {
        "cpu_arch": "arm", "cpu": "320", "memory": "1536Gi", "chip_family": "snt9b23",
        "npu": {"type": "ascend-snt9b23", "size": "16", "memory": "64Gi", "card": "8", "chip": "16"},
        "npu_resource": 16, "allocatable_cpu": "317000m", "allocatable_memory": "1460Gi",
        "sold_out": False,
    },
    "modelarts.bm.npu.arm.8snt9b2.d": {
        "cpu_arch": "arm", "cpu": "192", "memory": "1536Gi", "chip_family": "snt9b",
        "npu": {"type": "ascend-snt9b", "size": "8", "memory": "64Gi", "card": "8", "chip": "8"},
        "npu_resource": 8, "allocatable_cpu": "189500m", "allocatable_memory": "1468Gi",
        "sold_out": True,
    },
    "modelarts.vm.cpu.8ud": {
        "cpu_arch": "x86", "cpu": "8", "memory": "32Gi", "chip_family": None,
        "npu": None, "npu_resource": 0, "allocatable_cpu": "7600m", "allocatable_memory": "28Gi",
        "sold_out": False,
    },
}

NPU_RESOURCE_NAME = "huawei.com/ascend-1980"


def driver_family(flavor_name):
    """The NPU chip family of a flavor, or None for flavors without NPUs."""
    flavor = FLAVORS.get(flavor_name)
    return flavor["chip_family"] if flavor else None


def default_driver(flavor_name):
    family = driver_family(flavor_name)
    return NPU_DRIVERS[family][1] if family else None


def driver_supports(version, flavor_name):
    family = driver_family(flavor_name)
    return family is not None and version in NPU_DRIVERS[family][0]


def all_npu_versions():
    seen = []
    for versions, _default in NPU_DRIVERS.values():
        seen.extend(v for v in versions if v not in seen)
    return seen


def plugin_template(name, created):
    """The PluginTemplate object for `npu-driver` / `gpu-driver`, or None."""
    if name == "npu-driver":
        versions = {}
        for version in all_npu_versions():
            families = [f for f, (vs, _d) in NPU_DRIVERS.items() if version in vs]
            recommended = any(NPU_DRIVERS[f][1] == version for f in families)
            versions[version] = {
                "version": version, "creationTimestamp": created,
                "description": "Ascend firmware %s with driver %s for %s%s" % (
                    version.split("-", 1)[0], version.split("-", 1)[1], "/".join(families),
                    " (recommended)" if recommended else ""),
                "detail": "", "inputs": {"families": families}, "translate": {},
            }
        return {"apiVersion": "v1", "kind": "PluginTemplate", "metadata": {"name": name, "annotations": {}},
                "spec": {"type": "npuDriver", "description": "Ascend NPU firmware and driver", "versions": versions}}
    if name == "gpu-driver":
        versions = {v: {"version": v, "creationTimestamp": created, "description": "NVIDIA driver " + v,
                        "detail": "", "inputs": {}, "translate": {}} for v in GPU_DRIVERS}
        return {"apiVersion": "v1", "kind": "PluginTemplate", "metadata": {"name": name, "annotations": {}},
                "spec": {"type": "gpuDriver", "description": "NVIDIA GPU driver", "versions": versions}}
    return None


def resource_flavor_items():
    items = []
    for name, flavor in FLAVORS.items():
        spec = {"type": "Dedicate", "cpuArch": flavor["cpu_arch"], "cpu": flavor["cpu"], "memory": flavor["memory"],
                "billingModes": [0, 1], "jobFlavors": []}
        if flavor["npu"]:
            spec["npu"] = dict(flavor["npu"])
        phase = {az: ("soldout" if flavor["sold_out"] else "normal") for az in AZS}
        items.append({"apiVersion": "v1", "kind": "ResourceFlavor",
                      "metadata": {"name": name, "labels": {"os.modelarts/scope": "Train,Infer,Notebook"}},
                      "spec": spec, "status": {"phase": phase}})
    return items
