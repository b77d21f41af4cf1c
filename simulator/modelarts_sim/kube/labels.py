"""Every Kubernetes label, taint and resource name the simulated Lite Cluster puts on a Node.

The single place for these keys (the collection keeps its own copy in
plugins/module_utils/k8s/labels.py). Evidence, from ../shared/reference/modelarts-lite-api.md §11
and ascend-facts.md §3:
  CONFIRMED  documented by Huawei (API/SDK/CCE docs) for this exact key
  PROBABLE   a confirmed ModelArts API node label; its presence on the k8s Node is inferred
  GUESSED    seen only in third-party code, or chosen by us where nothing is published
"""

# --- ModelArts node labels, copied from the ModelArts node record (PROBABLE on the k8s Node) ----
NODE_POOL = "os.modelarts.node/nodepool"                      # node pool id
NODE_POOL_NAME = "os.modelarts.node/nodepoolname"             # node pool name
CLUSTER = "os.modelarts.node/cluster"                         # cluster name
RESOURCE_ID = "os.modelarts/resource.id"                      # billing resource id
UNDERLYING_INSTANCE_ID = "os.modelarts.node/underlying.instance.id"
# Label prefixes of ModelArts node labels that are mirrored onto the Node as they are.
MODELARTS_LABEL_PREFIXES = ("os.modelarts.node/", "os.modelarts/", "cce.kubectl.kubernetes.io/")

# --- well-known Kubernetes labels (CONFIRMED: upstream Kubernetes) -------------------------------
HOSTNAME = "kubernetes.io/hostname"
ARCH = "kubernetes.io/arch"
OS = "kubernetes.io/os"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"            # = ModelArts flavor
ZONE = "topology.kubernetes.io/zone"

# --- NPU labels ------------------------------------------------------------------------------------
ACCELERATOR = "accelerator/huawei-npu"                        # CONFIRMED key (CCE docs); value GUESSED
ACCELERATOR_VALUE = "ascend-1980"
NPU_CHIP_NAME = "node.kubernetes.io/npu.chip.name"            # GUESSED on ModelArts nodes (Ascend plugin label)
# The NPU firmware/driver version ("<firmware>-<driver>", e.g. 7.5.0.5.220-24.1.0.3).
# GUESSED (third-party only); the collection reads the same constant.
DRIVER_VERSION = "os.modelarts.node/npu.firmware.driver.version"

# --- extended resources -----------------------------------------------------------------------------
NPU_RESOURCE = "huawei.com/ascend-1980"                       # CONFIRMED for 910B/910C class NPUs

# --- taints the control plane manages (CONFIRMED: upstream Kubernetes) ------------------------------
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"

# --- ownership of seeded workloads (GUESSED: chosen by the simulator) -------------------------------
DEVICE_PLUGIN_NAME = "huawei-npu-device-plugin"

# --- super-node topology (PROBABLE: ModelArts node labels on super-node servers) -------------------
# The servers of one super node share HCCS links and carry the same values of both keys.
SUPER_NODE_ID = "os.modelarts.node/spod.id"
SUPER_NODE_BATCH = "os.modelarts.node/batch.uid"

# --- gang-scheduled jobs (CONFIRMED: Volcano's labels on the pods of a vcjob) ------------------------
VOLCANO_JOB_NAME = "volcano.sh/job-name"
POD_GROUP = "scheduling.k8s.io/group-name"
VOLCANO_TASK_INDEX = "volcano.sh/task-index"
