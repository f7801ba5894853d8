"""What stacks need from an account and region, from their config alone (no AWS calls)."""

from __future__ import annotations

from dataclasses import dataclass

from stackconfig import StackConfig
from tools.cost.prices import pool_candidates, pools


@dataclass(frozen=True)
class Quota:
    service: str
    code: str
    name: str


# vCPU quotas of the GPU families, by (family letter, purchase option); codes as AWS Service Quotas lists them.
GPU_QUOTAS = {
    ("g", "on-demand"): Quota("ec2", "L-DB2E81BA", "Running On-Demand G and VT instances (vCPUs)"),
    ("g", "spot"): Quota("ec2", "L-3819A6DF", "All G and VT Spot Instance Requests (vCPUs)"),
    ("p", "on-demand"): Quota("ec2", "L-417A185B", "Running On-Demand P instances (vCPUs)"),
    ("p", "spot"): Quota("ec2", "L-7212CCBC", "All P Spot Instance Requests (vCPUs)"),
}
ELASTIC_IPS = Quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs")
VPCS = Quota("vpc", "L-F678F1CE", "VPCs per Region")


def purchase_options(config: StackConfig, pool_key: str) -> list[str]:
    """What a pool's instances count against. Instances in an On-Demand Capacity Reservation count against the
    On-Demand quota, so the reserved pool does too."""
    if pool_key == "reserved":
        return ["on-demand"]
    return ["spot", "on-demand"] if config.gpu_pools.spot.on_demand_fallback else ["spot"]


def gpu_vcpus(config: StackConfig) -> dict[tuple[str, str], int]:
    """vCPUs each GPU quota must allow for the pools at their gpuLimit, on the instance type with the most vCPUs per
    GPU they may launch (Karpenter launches no node that would cross a pool's limit)."""
    needed: dict[tuple[str, str], int] = {}
    for pool_key, pool in pools(config).items():
        candidates = pool_candidates(pool, pool_key)
        for letter in ("g", "p"):
            vcpus = max((pool.gpu_limit // t.gpus * t.vcpus for t in candidates if t.family.startswith(letter)), default=0)
            for purchase in purchase_options(config, pool_key):
                if vcpus:
                    needed[(letter, purchase)] = needed.get((letter, purchase), 0) + vcpus
    return needed


def nat_elastic_ips(config: StackConfig) -> int:
    return config.network.zone_count if config.network.nat_gateways == "perAz" else 1


def eip_name_prefix(config: StackConfig) -> str:
    """The Name tag infra/network.py gives the NAT gateways' Elastic IPs, less the zone."""
    return f"{config.cluster_name}-nat-"


def vpc_name(config: StackConfig) -> str:
    return f"{config.cluster_name}-vpc"
