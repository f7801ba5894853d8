"""The GPU capacity Karpenter may launch: one shared EC2NodeClass and a NodePool per capacity type.

Each pool's ``limits`` on ``nvidia.com/gpu`` is the phase's cost cap; the
``nvidia.com/gpu:NoSchedule`` taint keeps everything but GPU workloads off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from stackconfig.model import GpuPoolConfig, KarpenterConfig

NODE_CLASS_NAME = "gpu"
GPU_TAINT = {"key": "nvidia.com/gpu", "effect": "NoSchedule"}
POOL_LABEL = "node.llm-platform.io/pool"


@dataclass(frozen=True)
class GpuNodePoolsArgs:
    cluster_name: str
    node_role_name: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    karpenter: KarpenterConfig
    spot: GpuPoolConfig
    reserved: Optional[GpuPoolConfig]
    instance_tags: dict[str, str] = field(default_factory=dict)
    k8s_provider: Optional[k8s.Provider] = None


def block_devices(ami_alias: str, root_gib: int) -> list[dict[str, Any]]:
    """Encrypted gp3 storage large enough to unpack multi-GB inference images."""
    data_volume = {
        "volumeSize": f"{root_gib}Gi",
        "volumeType": "gp3",
        "iops": 6000,
        "throughput": 500,
        "encrypted": True,
        "deleteOnTermination": True,
    }
    if ami_alias.startswith("bottlerocket@"):
        # Bottlerocket keeps its OS on a small volume and images on the second one.
        return [
            {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "4Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}},
            {"deviceName": "/dev/xvdb", "ebs": data_volume},
        ]
    return [{"deviceName": "/dev/xvda", "rootVolume": True, "ebs": data_volume}]


def node_class_spec(args: GpuNodePoolsArgs) -> dict[str, Any]:
    reservations: list[dict[str, Any]] = []
    if args.reserved is not None:
        reservations += [{"id": reservation.id} for reservation in args.reserved.capacity_reservations]
        if args.reserved.capacity_reservation_tags:
            reservations.append({"tags": dict(args.reserved.capacity_reservation_tags)})
    spec: dict[str, Any] = {
        # The AL2023 and Bottlerocket aliases resolve to their NVIDIA variants on GPU instance types.
        "amiSelectorTerms": [{"alias": args.karpenter.ami_alias}],
        "role": args.node_role_name,
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": args.cluster_name}}],
        "securityGroupSelectorTerms": [{"id": args.cluster_security_group_id}],
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            # Hop limit 1: pods cannot reach the node's instance credentials; they use Pod Identity.
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": block_devices(args.karpenter.ami_alias, args.karpenter.root_volume_gib),
        "tags": dict(args.instance_tags),
    }
    if reservations:
        spec["capacityReservationSelectorTerms"] = reservations
    return spec


def node_pool_spec(pool: GpuPoolConfig, capacity_types: list[str], pool_name: str) -> dict[str, Any]:
    requirements: list[dict[str, Any]] = [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": capacity_types},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Lt", "values": [str(pool.max_gpus_per_node + 1)]},
    ]
    if pool.instance_families:
        requirements.append({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": list(pool.instance_families)})
    if pool.instance_sizes:
        requirements.append({"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": list(pool.instance_sizes)})
    if pool.instance_types:
        requirements.append({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": list(pool.instance_types)})
    return {
        "template": {
            "metadata": {"labels": {POOL_LABEL: pool_name}},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": NODE_CLASS_NAME},
                "requirements": requirements,
                "taints": [GPU_TAINT],
                "expireAfter": pool.expire_after,
                "terminationGracePeriod": pool.termination_grace_period,
            },
        },
        # WhenEmpty: a node serving a model is never consolidated away under load;
        # only nodes with no GPU pods left are removed, after consolidateAfter.
        "disruption": {
            "consolidationPolicy": "WhenEmpty",
            "consolidateAfter": pool.consolidate_after,
            "budgets": [b.model_dump(by_alias=True, exclude_none=True) for b in pool.disruption_budgets],
        },
        "limits": {"nvidia.com/gpu": pool.gpu_limit},
        "weight": pool.weight,
    }


class GpuNodePools(pulumi.ComponentResource):
    pool_names: list[str]

    def __init__(self, name: str, args: GpuNodePoolsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:GpuNodePools", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        node_class = k8s.apiextensions.CustomResource(
            f"{name}-{NODE_CLASS_NAME}",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata={"name": NODE_CLASS_NAME},
            spec=node_class_spec(args),
            opts=child,
        )
        pools: dict[str, dict[str, Any]] = {
            "gpu-spot": node_pool_spec(
                args.spot, ["spot", "on-demand"] if args.spot.on_demand_fallback else ["spot"], "gpu-spot"
            )
        }
        if args.reserved is not None:
            pools["gpu-reserved"] = node_pool_spec(args.reserved, ["reserved"], "gpu-reserved")
        for pool_name, spec in pools.items():
            k8s.apiextensions.CustomResource(
                pool_name,
                api_version="karpenter.sh/v1",
                kind="NodePool",
                metadata={"name": pool_name},
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[node_class]),
            )
        self.pool_names = sorted(pools)
        self.register_outputs({"nodePools": self.pool_names})
