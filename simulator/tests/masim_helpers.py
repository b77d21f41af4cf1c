"""Request bodies shared by the simulator tests."""

NPU_FLAVOR = "modelarts.bm.npu.arm.8snt9b3.d"
A3_FLAVOR = "modelarts.bm.npu.arm.16snt9b23.d"


def pool_body(name, count=2, node_pool="np-a", flavor=NPU_FLAVOR, **resource):
    return {"apiVersion": "v2", "kind": "Pool",
            "metadata": {"labels": {"os.modelarts/name": name, "os.modelarts/workspace.id": "0"},
                         "annotations": {"os.modelarts/description": "test"}},
            "spec": {"type": "Dedicate", "scope": ["Train"], "network": {"vpcId": "vpc-1", "subnetId": "sub-1"},
                     "clusters": [{"providerId": "cce-1"}], "userLogin": {"password": "S3cret!pass"},
                     "resources": [dict({"flavor": flavor, "count": count, "nodePool": node_pool}, **resource)]}}
