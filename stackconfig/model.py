"""The typed stack config: one model for every stack, defaults in one place.

Each ``Pulumi.<stack>.yaml`` sets keys under the ``llm-platform:`` namespace;
each top-level field below is one such key (``llm-platform:network`` and so
on). What differs between migration phases is data in those files; nothing in
the program branches on the stack's name.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from .regions import AWS_REGIONS
from .versions import SUPPORTED_CLUSTER_VERSIONS

DURATION = r"^([0-9]+(s|m|h))+$|^Never$"


class Section(BaseModel):
    """Base for every config block: camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        # No silent coercion: "yes" is not a boolean and "2" is not a count.
        strict=True,
    )


# --- AWS layer -------------------------------------------------------------


class NetworkConfig(Section):
    az_count: int = Field(2, ge=2, le=6, description="Availability zones to spread subnets over (prod: 3).")
    vpc_cidr: str = Field("10.40.0.0/16", description="IPv4 CIDR of the VPC, /16 to /20.")
    nat_gateways: Literal["single", "perAz"] = Field(
        "single", description="`perAz` keeps egress up when one AZ fails; `single` saves ~$33/month per AZ."
    )
    interface_endpoints: list[Literal["ecr.api", "ecr.dkr", "sts", "sqs", "ec2", "logs", "elasticloadbalancing"]] = Field(
        default_factory=lambda: ["ecr.api", "ecr.dkr", "sts", "sqs"],
        description="Interface VPC endpoints for private nodes (the S3 gateway endpoint is always created).",
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 network CIDR; allowed: a network address such as 10.40.0.0/16")
        if not 16 <= net.prefixlen <= 20:
            raise ValueError(f"prefix /{net.prefixlen} is out of range; allowed: /16 to /20")
        return value


class AddonVersions(Section):
    """EKS managed add-on versions; defaults follow the cluster version's table in versions.py."""

    vpc_cni: Optional[str] = None
    coredns: Optional[str] = None
    kube_proxy: Optional[str] = None
    eks_pod_identity_agent: Optional[str] = None
    aws_ebs_csi_driver: Optional[str] = None


class ClusterConfig(Section):
    version: str = Field("1.35", description="EKS Kubernetes version (its add-on versions are pinned in stackconfig/eks_addon_versions.yaml).")
    public_access_cidrs: list[str] = Field(
        min_length=1, description="CIDRs allowed to reach the public API endpoint (never 0.0.0.0/0 in prod)."
    )
    admin_principals: list[str] = Field(
        default_factory=list, description="IAM role/user ARNs granted cluster admin through access entries."
    )
    log_types: list[Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]] = Field(
        default_factory=lambda: ["api", "audit", "authenticator"], description="Control-plane log types sent to CloudWatch."
    )
    addon_versions: AddonVersions = Field(default_factory=AddonVersions)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in SUPPORTED_CLUSTER_VERSIONS:
            raise ValueError(f"{value!r} is not a supported EKS version; allowed: {', '.join(SUPPORTED_CLUSTER_VERSIONS)}")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for cidr in values:
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR; allowed: network addresses such as 203.0.113.0/24")
        return values

    @field_validator("admin_principals")
    @classmethod
    def _principals(cls, values: list[str]) -> list[str]:
        for arn in values:
            if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+", arn):
                raise ValueError(f"{arn!r} is not an IAM role or user ARN; allowed: arn:aws:iam::<account>:role/<name>")
        return values


class SystemNodesConfig(Section):
    instance_types: list[str] = Field(default_factory=lambda: ["m7i.large", "m6i.large"], min_length=1)
    min_size: int = Field(2, ge=1)
    max_size: int = Field(4, ge=1)
    desired_size: int = Field(2, ge=1)
    disk_size_gib: int = Field(50, ge=20, le=1000)

    @model_validator(mode="after")
    def _sizes(self) -> "SystemNodesConfig":
        if self.min_size > self.max_size:
            raise ValueError(f"minSize ({self.min_size}) is greater than maxSize ({self.max_size}); allowed: minSize <= maxSize")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"desiredSize ({self.desired_size}) is outside minSize..maxSize ({self.min_size}..{self.max_size})"
            )
        return self


class DisruptionBudget(Section):
    nodes: str = Field(pattern=r"^((100|[0-9]{1,2})%|[0-9]+)$", description="Node count or percentage that may be disrupted at once.")
    reasons: Optional[list[Literal["Underutilized", "Empty", "Drifted"]]] = None
    schedule: Optional[str] = Field(None, description="Cron schedule when this budget is active (UTC).")
    duration: Optional[str] = Field(None, pattern=r"^([0-9]+(s|m|h))+$")

    @model_validator(mode="after")
    def _schedule_pair(self) -> "DisruptionBudget":
        if (self.schedule is None) != (self.duration is None):
            raise ValueError("schedule and duration go together; allowed: both or neither")
        return self


class GpuPoolConfig(Section):
    """One Karpenter NodePool of GPU nodes."""

    instance_families: list[str] = Field(default_factory=list, description="EC2 instance families, e.g. g6, g6e, p5.")
    instance_types: list[str] = Field(default_factory=list, description="Exact instance types (a reservation's type).")
    max_gpus_per_node: int = Field(8, ge=1, le=8, description="Largest GPU count per node the pool may launch.")
    gpu_limit: int = Field(ge=1, description="Cap on GPUs across the pool: the phase's cost cap.")
    weight: int = Field(10, ge=1, le=100, description="Karpenter prefers pools with higher weight.")
    on_demand_fallback: bool = Field(False, description="Spot pool only: may launch on-demand when spot is short.")
    consolidate_after: str = Field("15m", pattern=DURATION, description="How long a node must be empty before removal.")
    expire_after: str = Field("720h", pattern=DURATION)
    termination_grace_period: str = Field("2h", pattern=r"^([0-9]+(s|m|h))+$")
    disruption_budgets: list[DisruptionBudget] = Field(default_factory=lambda: [DisruptionBudget(nodes="1")])
    capacity_reservation_ids: list[str] = Field(default_factory=list)
    capacity_reservation_tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("instance_families")
    @classmethod
    def _families(cls, values: list[str]) -> list[str]:
        for family in values:
            if not re.fullmatch(r"(g|p)[0-9][a-z0-9-]*", family):
                raise ValueError(f"{family!r} is not a GPU instance family; allowed: g and p families such as g6, g6e, p5")
        return values

    @field_validator("capacity_reservation_ids")
    @classmethod
    def _reservation_ids(cls, values: list[str]) -> list[str]:
        for rid in values:
            if not re.fullmatch(r"cr-[0-9a-f]{8,17}", rid):
                raise ValueError(f"{rid!r} is not a capacity reservation id; allowed: cr- followed by 8 to 17 hex digits")
        return values

    @model_validator(mode="after")
    def _some_instances(self) -> "GpuPoolConfig":
        if not self.instance_families and not self.instance_types:
            raise ValueError("neither instanceFamilies nor instanceTypes is set; allowed: at least one of them")
        return self


class ReservedGpuPoolConfig(GpuPoolConfig):
    weight: int = Field(100, ge=1, le=100)

    @model_validator(mode="after")
    def _needs_reservations(self) -> "ReservedGpuPoolConfig":
        if not self.capacity_reservation_ids and not self.capacity_reservation_tags:
            raise ValueError(
                "a reserved pool has no reservations; allowed: capacityReservationIds or capacityReservationTags"
            )
        if self.on_demand_fallback:
            raise ValueError("onDemandFallback applies to the spot pool only; allowed: false for the reserved pool")
        return self


class GpuPoolsConfig(Section):
    spot: GpuPoolConfig
    reserved: Optional[ReservedGpuPoolConfig] = None

    @model_validator(mode="after")
    def _weights(self) -> "GpuPoolsConfig":
        if self.reserved is not None and self.reserved.weight <= self.spot.weight:
            raise ValueError(
                f"reserved.weight ({self.reserved.weight}) must be above spot.weight ({self.spot.weight}); "
                "allowed: reserved capacity is paid for anyway, so it is preferred"
            )
        if self.spot.capacity_reservation_ids or self.spot.capacity_reservation_tags:
            raise ValueError("spot pool cannot select capacity reservations; allowed: put them under reserved")
        return self


class KarpenterConfig(Section):
    version: str = Field("1.14.1", pattern=r"^1\.(6|7|8|9|[1-9][0-9])\.[0-9]+$", description="Karpenter chart and CRD version (1.6 or newer).")
    ami_alias: str = Field(
        "al2023@v20260520", pattern=r"^(al2023|bottlerocket)@v?[0-9][0-9.]*$",
        description="EC2NodeClass AMI alias, pinned (the AL2023 alias picks the NVIDIA variant for GPU instances).",
    )
    root_volume_gib: int = Field(200, ge=100, le=2000, description="gp3 root volume, sized for model images.")


class BudgetConfig(Section):
    monthly_limit_usd: float = Field(gt=0)
    actual_thresholds_percent: list[int] = Field(default_factory=lambda: [50, 80, 100], min_length=1)
    forecast_thresholds_percent: list[int] = Field(default_factory=lambda: [100], min_length=1)
    notification_emails: list[str] = Field(min_length=1)
    anomaly_threshold_usd: float = Field(100, gt=0, description="Alert when an anomaly's total impact exceeds this.")

    @field_validator("actual_thresholds_percent", "forecast_thresholds_percent")
    @classmethod
    def _thresholds(cls, values: list[int]) -> list[int]:
        for value in values:
            if not 1 <= value <= 1000:
                raise ValueError(f"{value} is out of range; allowed: percentages from 1 to 1000")
        return values

    @field_validator("notification_emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for email in values:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValueError(f"{email!r} is not an email address")
        return values


class TagsConfig(Section):
    cost_center: str = Field(min_length=1)
    extra: dict[str, str] = Field(default_factory=dict, description="More default tags for every AWS resource.")


# --- Later issues' blocks: typed now so stack files can name them ------------


class ServingConfig(Section):
    model_id: str = Field("Qwen/Qwen2.5-7B-Instruct", min_length=1)


class TrafficConfig(Section):
    self_hosted_percent: int = Field(0, ge=0, le=100)
    mirror_percent: int = Field(0, ge=0, le=100)
    kill_switch: bool = False


class ObservabilityConfig(Section):
    enabled: bool = True


# --- The whole stack --------------------------------------------------------


class StackConfig(Section):
    """Everything one stack (one migration phase) is built from."""

    stack: str = Field(description="The Pulumi stack name (not set in the file).")
    region: str = Field(description="From `aws:region`.")
    phase: Literal["dev", "shadow", "rollout", "prod"]
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    cluster: ClusterConfig
    system_nodes: SystemNodesConfig = Field(default_factory=SystemNodesConfig)
    karpenter: KarpenterConfig = Field(default_factory=KarpenterConfig)
    gpu_pools: GpuPoolsConfig
    budget: BudgetConfig
    tags: TagsConfig
    serving: ServingConfig = Field(default_factory=ServingConfig)
    traffic: TrafficConfig = Field(default_factory=TrafficConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in AWS_REGIONS:
            raise ValueError(f"{value!r} is not an AWS region; allowed: a region such as us-east-1, eu-west-1")
        return value

    @property
    def cluster_name(self) -> str:
        return f"llm-platform-{self.stack}"


