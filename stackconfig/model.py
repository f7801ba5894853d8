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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.alias_generators import to_camel

from .errors import CrossSectionError
from .regions import AWS_REGIONS, zone_id_prefix
from .versions import SUPPORTED_CLUSTER_VERSIONS

DURATION = r"^([0-9]+(s|m|h))+$|^Never$"
HOSTNAME = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
# What a `secure:` value becomes where it cannot be decrypted (the offline plan): stands for the secret.
SECRET_PLACEHOLDER = "[secret]"
GRAFANA_PASSWORD_MIN_LENGTH = 16
# Private subnets take one eighth of the VPC per zone slot (see infra/network.py); the last eighth holds the public ones.
SUBNET_SLOTS = 7


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


ZONE_ID = r"^[a-z]{2,6}[0-9]-az[0-9]{1,2}$"


class NetworkConfig(Section):
    az_count: int = Field(2, ge=2, le=6, description="Availability zones to spread subnets over (prod: 3); with zoneIds, their count.")
    zone_ids: Optional[list[str]] = Field(
        None,
        description="Pin the zones by zone ID (e.g. use1-az1): zone names map to different zones in each account, "
                    "and not every zone offers every GPU type. Default: the region's first azCount zones.",
    )
    vpc_cidr: str = Field("10.40.0.0/16", description="IPv4 CIDR of the VPC, /16 to /20.")
    nat_gateways: Literal["single", "perAz"] = Field(
        "single", description="`perAz` keeps egress up when one AZ fails; `single` saves ~$33/month per AZ."
    )
    interface_endpoints: list[Literal["ecr.api", "ecr.dkr", "sts", "sqs", "ec2", "logs", "elasticloadbalancing"]] = Field(
        default_factory=lambda: ["ecr.api", "ecr.dkr", "sts", "sqs"],
        description="Interface VPC endpoints for private nodes (the S3 gateway endpoint is always created).",
    )

    @field_validator("zone_ids")
    @classmethod
    def _zone_ids(cls, values: Optional[list[str]]) -> Optional[list[str]]:
        if values is None:
            return values
        for zone_id in values:
            if not re.fullmatch(ZONE_ID, zone_id):
                raise ValueError(f"{zone_id!r} is not an availability zone ID; allowed: IDs such as use1-az1 (aws ec2 describe-availability-zones)")
            if int(zone_id.rsplit("az", 1)[1]) > SUBNET_SLOTS:
                raise ValueError(f"{zone_id!r} has a zone number above {SUBNET_SLOTS}; allowed: az1 to az{SUBNET_SLOTS}")
        if len(set(values)) != len(values):
            raise ValueError("lists a zone twice; allowed: distinct zone IDs")
        if len({zone_id.split("-az")[0] for zone_id in values}) != 1:
            raise ValueError("mixes regions; allowed: zone IDs of the stack's region only")
        return values

    @model_validator(mode="after")
    def _zone_count(self) -> "NetworkConfig":
        if self.zone_ids is not None:
            if not 2 <= len(self.zone_ids) <= 6:
                raise ValueError(f"zoneIds has {len(self.zone_ids)} zones; allowed: 2 to 6")
            if "az_count" in self.model_fields_set and self.az_count != len(self.zone_ids):
                raise ValueError(f"azCount ({self.az_count}) differs from the {len(self.zone_ids)} zoneIds; allowed: leave azCount out or make them agree")
        return self

    @property
    def zone_count(self) -> int:
        return len(self.zone_ids) if self.zone_ids is not None else self.az_count

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
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] = Field(
        90, description="Retention of the control-plane log group (EKS would otherwise create one that never expires)."
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


class CapacityReservation(Section):
    """An On-Demand Capacity Reservation or Capacity Block the reserved pool launches into."""

    id: str = Field(pattern=r"^cr-[0-9a-f]{8,17}$", description="cr- followed by 8 to 17 hex digits.")
    zone_id: Optional[str] = Field(None, pattern=ZONE_ID, description="The reservation's zone ID; must be one of network.zoneIds.")
    instance_type: Optional[str] = Field(None, pattern=r"^[gp][0-9][a-z0-9-]*\.[a-z0-9]+$", description="The reserved instance type; must be one the pool may launch.")
    hourly_price_usd: Optional[float] = Field(
        None, gt=0,
        description="What the reservation bills per instance-hour, for the cost model: a Capacity Block's purchase "
                    "price divided by its hours. Unset: an On-Demand Capacity Reservation, billed at the on-demand price "
                    "whether used or not.",
    )


class GpuPoolConfig(Section):
    """One Karpenter NodePool of GPU nodes."""

    instance_families: list[str] = Field(default_factory=list, description="EC2 instance families, e.g. g6, g6e, p5.")
    instance_types: list[str] = Field(default_factory=list, description="Exact instance types (a reservation's type).")
    instance_sizes: list[str] = Field(
        default_factory=list,
        description="Instance sizes the pool may launch (e.g. xlarge, 2xlarge, 4xlarge); empty: any. With instanceFamilies "
                    "this bounds the most expensive node, and so the pool's worst-case cost at its gpuLimit.",
    )
    max_gpus_per_node: int = Field(8, ge=1, le=8, description="Largest GPU count per node the pool may launch.")
    gpu_limit: int = Field(ge=0, description="Cap on GPUs across the pool: the phase's cost cap (0 stops the pool launching).")
    weight: int = Field(10, ge=1, le=100, description="Karpenter prefers pools with higher weight.")
    on_demand_fallback: bool = Field(False, description="Spot pool only: may launch on-demand when spot is short.")
    consolidate_after: str = Field("15m", pattern=DURATION, description="How long a node must be empty before removal.")
    expire_after: str = Field("720h", pattern=DURATION)
    termination_grace_period: str = Field("2h", pattern=r"^([0-9]+(s|m|h))+$")
    disruption_budgets: list[DisruptionBudget] = Field(default_factory=lambda: [DisruptionBudget(nodes="1")])
    capacity_reservations: list[CapacityReservation] = Field(default_factory=list, description="Reservations selected by id.")
    capacity_reservation_tags: dict[str, str] = Field(default_factory=dict, description="Reservations selected by tags.")

    @field_validator("instance_families")
    @classmethod
    def _families(cls, values: list[str]) -> list[str]:
        for family in values:
            if not re.fullmatch(r"(g|p)[0-9][a-z0-9-]*", family):
                raise ValueError(f"{family!r} is not a GPU instance family; allowed: g and p families such as g6, g6e, p5")
        return values

    @field_validator("instance_sizes")
    @classmethod
    def _sizes(cls, values: list[str]) -> list[str]:
        for size in values:
            if not re.fullmatch(r"(metal(-[0-9]+xl)?|[0-9]*x?large|medium|small)", size):
                raise ValueError(f"{size!r} is not an instance size; allowed: sizes such as xlarge, 2xlarge, 12xlarge, 48xlarge")
        return values

    @model_validator(mode="after")
    def _some_instances(self) -> "GpuPoolConfig":
        if not self.instance_families and not self.instance_types:
            raise ValueError("neither instanceFamilies nor instanceTypes is set; allowed: at least one of them")
        for reservation in self.capacity_reservations:
            if reservation.instance_type and not self.may_launch(reservation.instance_type):
                raise ValueError(
                    f"reservation {reservation.id} is for {reservation.instance_type}, which this pool does not launch; "
                    "allowed: a type the pool's instanceTypes, instanceFamilies and instanceSizes all admit"
                )
        return self

    def may_launch(self, instance_type: str) -> bool:
        """As Karpenter reads the pool's requirements: every list that is set must admit the type."""
        family, _, size = instance_type.partition(".")
        return (
            (not self.instance_types or instance_type in self.instance_types)
            and (not self.instance_families or family in self.instance_families)
            and (not self.instance_sizes or size in self.instance_sizes)
        )


class ReservedGpuPoolConfig(GpuPoolConfig):
    weight: int = Field(100, ge=1, le=100)

    @model_validator(mode="after")
    def _needs_reservations(self) -> "ReservedGpuPoolConfig":
        if not self.capacity_reservations and not self.capacity_reservation_tags:
            raise ValueError(
                "a reserved pool has no reservations; allowed: capacityReservations or capacityReservationTags"
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
        if self.spot.capacity_reservations or self.spot.capacity_reservation_tags:
            raise ValueError("spot pool cannot select capacity reservations; allowed: put them under reserved")
        return self

    @property
    def total_gpu_limit(self) -> int:
        return self.spot.gpu_limit + (self.reserved.gpu_limit if self.reserved is not None else 0)


class KarpenterConfig(Section):
    version: str = Field("1.14.1", pattern=r"^1\.(6|7|8|9|[1-9][0-9])\.[0-9]+$", description="Karpenter chart and CRD version (1.6 or newer).")
    ami_alias: str = Field(
        "al2023@v20260520", pattern=r"^(al2023|bottlerocket)@v?[0-9][0-9.]*$",
        description="EC2NodeClass AMI alias, pinned (the AL2023 alias picks the NVIDIA variant for GPU instances).",
    )
    root_volume_gib: int = Field(200, ge=100, le=2000, description="gp3 root volume, sized for model images.")


BUDGET_NOTIFICATIONS = 10


class BudgetConfig(Section):
    monthly_limit_usd: Optional[float] = Field(
        None, gt=0,
        description="The AWS Budget's monthly limit. Unset: derived from the cost estimate plus headroomPercent, and never "
                    "below the worst case at the GPU caps (docs/cost.md). Spend above the estimate plus headroomPercent is "
                    "announced either way.",
    )
    headroom_percent: int = Field(
        20, ge=0, le=500,
        description="Headroom over the cost estimate: for a derived budget, and for the alerts on spend above the estimate.",
    )
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

    @model_validator(mode="after")
    def _notifications(self) -> "BudgetConfig":
        for key, values in (("actualThresholdsPercent", self.actual_thresholds_percent),
                            ("forecastThresholdsPercent", self.forecast_thresholds_percent)):
            if len(set(values)) != len(values):
                raise ValueError(f"{key} repeats a threshold; allowed: each percentage once")
        # AWS Budgets takes ten notifications a budget; two announce spend above the estimate (infra/cost_alarms.py).
        count = len(self.actual_thresholds_percent) + len(self.forecast_thresholds_percent)
        if count > BUDGET_NOTIFICATIONS - 2:
            raise ValueError(f"actualThresholdsPercent and forecastThresholdsPercent have {count} thresholds together; "
                             f"allowed: at most {BUDGET_NOTIFICATIONS - 2} (AWS allows {BUDGET_NOTIFICATIONS} notifications "
                             "a budget, 2 of them are for spend above the estimate)")
        return self

    @field_validator("notification_emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for email in values:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValueError(f"{email!r} is not an email address")
        return values


class LoadConfig(Section):
    """The load a stack is planned for: all client requests, before the phase splits them (self-hosted, OpenAI)."""

    requests_per_month: int = Field(1_000_000, ge=0, description="Client requests a month (the migration plan's example: 1M).")
    input_tokens_per_request: int = Field(500, ge=1, le=1_048_576, description="Prompt tokens per request, on average.")
    output_tokens_per_request: int = Field(200, ge=1, le=1_048_576, description="Answer tokens per request, on average (the migration plan's example: 200).")
    peak_hour_factor: float = Field(3.0, ge=1, le=100, description="Requests in the busiest hour over those in an average active hour.")
    active_hours_per_day: int = Field(
        24, ge=1, le=24, description="Hours a day that carry the traffic; outside them vLLM runs serving.replicas.min."
    )


class OpenAIPriceConfig(Section):
    input_per_million_usd: float = Field(ge=0, description="USD per 1M input tokens.")
    output_per_million_usd: float = Field(ge=0, description="USD per 1M output tokens.")


class CostModelConfig(Section):
    """Assumptions of the cost model and capacity planner (tools/cost); the price tables are tools/cost/*.yaml."""

    spot_discount_percent: float = Field(
        40, ge=0, le=95,
        description="Spot price below on-demand, assumed (GPU spot moves daily; the source of the default is in "
                    "tools/cost/prices.yaml).",
    )
    on_demand_fallback_percent: float = Field(
        10, ge=0, le=100,
        description="Share of the spot pool's GPU-hours assumed to run on demand when its onDemandFallback is on.",
    )
    openai_prices: dict[str, OpenAIPriceConfig] = Field(
        default_factory=dict,
        description="OpenAI prices by model name, for models tools/cost/prices.yaml lacks or to use your contract's prices.",
    )
    nat_data_gb_per_month: float = Field(
        50, ge=0, description="NAT traffic besides OpenAI calls and image pulls: package updates, Hugging Face, webhooks."
    )
    control_plane_log_gb_per_type: float = Field(
        3, ge=0, description="CloudWatch Logs GB a month per enabled control-plane log type (audit is usually the largest)."
    )
    decode_efficiency: float = Field(
        0.5, ge=0.05, le=1.0,
        description="Share of the memory-bandwidth roofline vLLM reaches while decoding (kernels, scheduling, prefill "
                    "interleaving); the planner's tokens/s are the roofline times this.",
    )
    runtime_overhead_gib: float = Field(
        1.5, ge=0, le=64,
        description="GPU memory per GPU that is neither weights nor KV cache: CUDA context, activations, CUDA graphs.",
    )
    on_demand_hourly_usd: dict[str, float] = Field(
        default_factory=dict,
        description="EC2 on-demand USD per instance-hour by instance type, for types or regions the shipped table "
                    "(tools/cost/ec2/<region>.yaml) lacks; these take precedence over it.",
    )

    @field_validator("on_demand_hourly_usd")
    @classmethod
    def _prices(cls, values: dict[str, float]) -> dict[str, float]:
        for instance_type, price in values.items():
            if not re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9-]+", instance_type):
                raise ValueError(f"{instance_type!r} is not an EC2 instance type; allowed: names such as g6e.xlarge")
            if price <= 0:
                raise ValueError(f"{instance_type}: {price} is not a price; allowed: USD per hour above 0")
        return values


# --- Promotion gate (tools/promote_check) --------------------------------------

# The migration plan's serving objectives: the alerts page on them (observability.alerts), the promotion gate
# requires them (promotion); each side may set its own.
OBJECTIVE_TTFT_P95_MS = 500
OBJECTIVE_LATENCY_P99_MS = 1000
OBJECTIVE_ERROR_RATE_PERCENT = 1.0
OBJECTIVE_FALLBACK_RATE_PERCENT = 5.0

PROMETHEUS_DURATION = r"^[1-9][0-9]*(s|m|h|d|w)$"
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> int:
    """A Prometheus duration with one unit (90s, 15m, 24h, 7d, 2w) in seconds."""
    match = re.fullmatch(r"([0-9]+)(s|m|h|d|w)", text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration; allowed: a whole number and one unit of s, m, h, d, w (e.g. 24h)")
    return int(match.group(1)) * _SECONDS[match.group(2)]


class PromotionMinSamples(Section):
    """Below these counts a criterion cannot decide and the gate says "too few samples" (exit 1). 0: the criterion
    is judged when it has samples, never required."""

    requests: int = Field(500, ge=0, description="Requests behind each error rate (per backend) and behind the fallback rate.")
    latency: int = Field(500, ge=0, description="Self-hosted answers behind the TTFT p95 (streamed answers) and the end-to-end p99.")
    shadow_pairs: int = Field(200, ge=0, description="Compared answer pairs behind the shadow agreement.")


class PromotionConfig(Section):
    """What `python -m tools.promote_check` requires of the live metrics before the next step; defaults are the
    migration plan's objectives (they match the alert thresholds)."""

    window: str = Field(
        "24h", pattern=PROMETHEUS_DURATION,
        description="How far back the gate looks (a Prometheus duration). Judge a step on its own traffic: no longer "
                    "than the time since the last change, and long enough to include the daily peak.",
    )
    max_error_rate_percent: float = Field(
        OBJECTIVE_ERROR_RATE_PERCENT, ge=0, le=100,
        description="Failed requests per backend (self-hosted, OpenAI: every attempt, retries included) and client-visible 5xx.",
    )
    max_ttft_p95_ms: int = Field(OBJECTIVE_TTFT_P95_MS, ge=1, le=600000, description="Self-hosted time to first token, p95 (streamed answers).")
    max_latency_p99_ms: int = Field(OBJECTIVE_LATENCY_P99_MS, ge=1, le=3600000, description="Self-hosted end-to-end latency, p99.")
    max_fallback_rate_percent: float = Field(
        OBJECTIVE_FALLBACK_RATE_PERCENT, ge=0, le=100, description="Answers that came from the OpenAI fallback group (vLLM failing, timing out or not ready).",
    )
    min_agreement_median: float = Field(
        0.35, ge=0, le=1,
        description="Median shadow agreement score (0 to 1; ROUGE-L F1 for long answers, so two good models often "
                    "score 0.3 to 0.5 on open questions: set it from your own shadow baseline).",
    )
    low_agreement_score: float = Field(0.1, gt=0, le=1, description="A pair scoring below this counts as disagreeing.")
    max_low_agreement_percent: float = Field(10.0, ge=0, le=100, description="Share of pairs allowed below lowAgreementScore.")
    min_samples: PromotionMinSamples = Field(
        default_factory=PromotionMinSamples,
        description="Fewest samples each criterion needs to decide; 0 judges a criterion when it has samples but never requires them.",
    )
    rollout_steps: list[int] = Field(
        default_factory=lambda: [25, 50, 75], min_length=1,
        description="Self-hosted shares the rollout phase moves through; the gate names the next one.",
    )

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        duration_seconds(value)
        return value

    @field_validator("rollout_steps")
    @classmethod
    def _steps(cls, values: list[int]) -> list[int]:
        if any(not 0 < step < 100 for step in values) or values != sorted(set(values)):
            raise ValueError(f"{values} is not a rising list of shares; allowed: increasing whole percentages between 1 and 99")
        return values


class TagsConfig(Section):
    cost_center: str = Field(min_length=1)
    extra: dict[str, str] = Field(default_factory=dict, description="More default tags for every AWS resource.")


# --- Serving and traffic ----------------------------------------------------


class ModelArchitecture(Section):
    """What the capacity planner needs of a model tools/cost/models.yaml does not list (read its config.json)."""

    params_billion: float = Field(gt=0, le=5000, description="All parameters, in billions.")
    embedding_params_billion: float = Field(
        0, ge=0, description="Input embedding plus output head, in billions: kept at 16 bits when the rest is quantized."
    )
    layers: int = Field(ge=1, le=1024, description="num_hidden_layers")
    kv_heads: int = Field(ge=1, le=1024, description="num_key_value_heads")
    head_dim: int = Field(ge=8, le=1024, description="head_dim (hidden_size / num_attention_heads)")
    weights_gib: Optional[float] = Field(
        None, gt=0, description="Size of the weights in GPU memory, where the quantization does not tell it (compressed-tensors)."
    )

    @model_validator(mode="after")
    def _embeddings(self) -> "ModelArchitecture":
        if self.embedding_params_billion >= self.params_billion:
            raise ValueError(
                f"embeddingParamsBillion ({self.embedding_params_billion}) is not below paramsBillion ({self.params_billion}); "
                "allowed: the embedding and head are a part of the parameters"
            )
        return self


DEFAULT_MODEL_ID = "Qwen/Qwen2.5-7B-Instruct"
DEFAULT_MODEL_REVISION = "a09a35458c702b33eeacc393d103063234e8bc28"


class ModelConfig(Section):
    """The open model vLLM serves."""

    id: str = Field(
        DEFAULT_MODEL_ID, min_length=1, pattern=r"^[\w.-]+/[\w.-]+$",
        description="Hugging Face model id (org/name).",
    )
    served_name: str = Field("qwen2.5-7b-instruct", pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Name the router and clients use for the self-hosted model.")
    revision: Optional[str] = Field(
        DEFAULT_MODEL_REVISION, pattern=r"^[0-9a-f]{40}$",
        description="The model's Hugging Face commit (40 hex digits): what is cached and served. Required with "
                    "weightsCache s3; the default is the default model's, so another model needs its own.",
    )
    max_model_len: int = Field(16384, ge=256, le=1048576, description="--max-model-len")
    gpu_memory_utilization: float = Field(0.90, ge=0.5, le=0.98, description="--gpu-memory-utilization")
    tensor_parallel_size: int = Field(1, ge=1, le=8, description="--tensor-parallel-size; also the GPUs per replica.")
    quantization: Optional[Literal["awq", "awq_marlin", "gptq", "gptq_marlin", "fp8", "bitsandbytes", "compressed-tensors"]] = Field(
        None, description="--quantization"
    )
    dtype: Literal["auto", "bfloat16", "float16"] = Field("auto", description="--dtype")
    max_num_seqs: int = Field(64, ge=1, le=4096, description="--max-num-seqs: concurrent sequences per replica.")
    enable_prefix_caching: bool = Field(True, description="--enable-prefix-caching / --no-enable-prefix-caching")
    architecture: Optional[ModelArchitecture] = Field(
        None, description="For the capacity planner, when tools/cost/models.yaml does not list the model."
    )

    @model_validator(mode="before")
    @classmethod
    def _revision_belongs_to_its_model(cls, data: object) -> object:
        # The default revision is a commit of the default model: another model without one has none.
        if isinstance(data, dict) and data.get("id", DEFAULT_MODEL_ID) != DEFAULT_MODEL_ID and "revision" not in data:
            return {**data, "revision": None}
        return data


class ReplicasConfig(Section):
    min: int = Field(1, ge=0, description="0 lets the phase scale to zero (dev).")
    max: int = Field(2, ge=1)

    @model_validator(mode="after")
    def _order(self) -> "ReplicasConfig":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max}); allowed: min <= max")
        return self


class AutoscalingConfig(Section):
    queue_depth_target: int = Field(8, ge=1, description="Waiting requests per replica KEDA aims for (vllm:num_requests_waiting).")
    activation_queue_depth: int = Field(1, ge=0, description="Waiting requests that wake a scaled-to-zero deployment.")
    polling_interval_seconds: int = Field(15, ge=5, le=300)
    cooldown_seconds: int = Field(900, ge=60, description="Idle time before scaling to zero.")
    scale_down_stabilization_seconds: int = Field(600, ge=0, le=3600, description="GPU nodes are slow to come back: scale down slowly.")
    while_waking: Literal["fallback", "wait"] = Field(
        "fallback", description="While vLLM scales up from zero: answer from OpenAI, or let requests wait (router retries)."
    )


class WeightsSyncConfig(Section):
    """The Job that streams the pinned model revision into the weights bucket."""

    image: str = Field(
        "python:3.13.5-slim-bookworm@sha256:4c2cf9917bd1cbacc5e9b07320025bdb7cdf2df7b0ceaccb55e9dd7e30987419",
        pattern=r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$",
        description="A small Python image (tag and digest): boto3 is installed into it from hash-pinned wheels.",
    )
    timeout_minutes: int = Field(90, ge=10, le=720, description="How long the copy may take (Pulumi waits for it).")


# What one vLLM replica requests, per GPU it spans: the process (Python, CUDA context, tokenizer workers, CPU-side
# buffers) and the memory-backed /dev/shm, which counts against the limit; plus, once, the Run:ai streamer's host
# buffer, which vLLM is told to keep within this share. The capacity planner places replicas by the same figures.
VLLM_CPU_PER_GPU = 3
VLLM_PROCESS_GIB_PER_GPU = 12
VLLM_SHM_GIB_PER_GPU = 2
VLLM_STREAMER_BUFFER_GIB = 4
# vLLM's /cache volume (an emptyDir on the GPU node's disk): compile caches, and with weightsCache none the weights
# downloaded from Hugging Face, which must leave room for the caches.
VLLM_CACHE_GIB = 50
VLLM_COMPILE_CACHE_GIB = 5
# What a GPU node keeps for itself and its DaemonSets (kubelet reservation, device plugin, DCGM exporter, ...).
NODE_RESERVED_CPU = 0.5
NODE_RESERVED_GIB = 2.5

# The pod's share of the ~2-minute spot notice: preStop plus vLLM's drain must end 10 s before the kill.
SPOT_NOTICE_SECONDS = 120
DRAIN_MARGIN_SECONDS = 10


class ServingConfig(Section):
    image: str = Field(
        "vllm/vllm-openai:v0.33.0", pattern=r"^[\w./-]+:v?[0-9][\w.-]*(@sha256:[0-9a-f]{64})?$",
        description="vLLM OpenAI server image, pinned by version tag (and digest where published).",
    )
    model: ModelConfig = Field(default_factory=ModelConfig)
    replicas: ReplicasConfig = Field(default_factory=ReplicasConfig)
    autoscaling: AutoscalingConfig = Field(default_factory=AutoscalingConfig)
    termination_grace_period_seconds: int = Field(
        SPOT_NOTICE_SECONDS, ge=45, le=SPOT_NOTICE_SECONDS,
        description="Time to finish streamed responses on SIGTERM; at most the 2-minute spot notice. preStop (15 s) and "
                    "vLLM's --shutdown-timeout fit in it with a 10 s margin.",
    )
    startup_timeout_seconds: int = Field(1800, ge=120, le=7200, description="Model download and load time allowed before liveness applies.")
    weights_cache: Literal["s3", "none"] = Field(
        "s3", description="s3: weights are streamed from an S3 bucket this stack creates; none: downloaded from Hugging Face on every start, "
                    f"into the pod's {VLLM_CACHE_GIB} GiB cache volume (models up to "
                    f"{VLLM_CACHE_GIB - VLLM_COMPILE_CACHE_GIB} GiB of weights)."
    )
    weights_sync: WeightsSyncConfig = Field(default_factory=WeightsSyncConfig)

    @model_validator(mode="after")
    def _cache_needs_a_pinned_revision(self) -> "ServingConfig":
        if self.weights_cache == "s3" and self.model.revision is None:
            raise CrossSectionError(
                "llm-platform:serving.model.revision",
                "is required with weightsCache s3 (the cache holds one revision, and a moving 'main' would never re-sync); "
                "allowed: the model's commit on Hugging Face, 40 hex digits",
            )
        return self

    @property
    def replica_cpu(self) -> int:
        return VLLM_CPU_PER_GPU * self.model.tensor_parallel_size

    @property
    def replica_memory_gib(self) -> int:
        gpus = self.model.tensor_parallel_size
        return gpus * (VLLM_PROCESS_GIB_PER_GPU + VLLM_SHM_GIB_PER_GPU) + VLLM_STREAMER_BUFFER_GIB

    @property
    def rollout_timeout_minutes(self) -> int:
        """How long Pulumi waits for vLLM to become ready: a new GPU node, a ~20 GB image pull, then the model load."""
        return 20 + -(-self.startup_timeout_seconds // 60)


class TlsConfig(Section):
    issuer: Literal["selfSigned", "acme"] = Field("selfSigned", description="acme: Let's Encrypt via Route 53 DNS-01.")
    acme_email: Optional[str] = None
    acme_server: str = Field("https://acme-v02.api.letsencrypt.org/directory")
    route53_hosted_zone_id: Optional[str] = Field(None, pattern=r"^Z[A-Z0-9]{1,31}$")

    @model_validator(mode="after")
    def _acme_needs_zone(self) -> "TlsConfig":
        if self.issuer == "acme" and (not self.acme_email or not self.route53_hosted_zone_id):
            raise ValueError("issuer acme needs acmeEmail and route53HostedZoneId; allowed: set both, or issuer selfSigned")
        return self


NLB_MAX_IDLE_TIMEOUT_SECONDS = 6000


def nginx_seconds(value: str) -> float:
    """An NGINX time (the edge's timeouts): no unit means seconds."""
    number, unit = re.fullmatch(r"([0-9]+)(ms|s|m|h)?", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[unit]


class EdgeConfig(Section):
    hostname: str = Field(pattern=HOSTNAME, description="Public host name of the API.")
    tls: TlsConfig = Field(default_factory=TlsConfig)
    max_body_size: str = Field("10m", pattern=r"^\d{1,4}(k|m)?$", description="Largest request body (NGINX size).")
    read_timeout: str = Field("600s", pattern=r"^[0-9]{1,4}(ms|s|m|h)?$", description="Upstream read timeout (NGINX: between two reads): long enough for streamed (SSE) answers and for the fallback to answer.")
    rate_limit_per_client: str = Field("20r/s", pattern=r"^[0-9]+r/(s|m)$", description="Per client IP, NGINX rate.")
    rate_limit_burst: int = Field(40, ge=0)
    replicas: int = Field(2, ge=1, le=20)
    allowed_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="Client CIDRs the NLB accepts.")

    @field_validator("read_timeout")
    @classmethod
    def _read_timeout(cls, value: str) -> str:
        if nginx_seconds(value) > NLB_MAX_IDLE_TIMEOUT_SECONDS:
            raise ValueError(f"{value} is longer than the NLB's longest idle timeout, which must outlast it; allowed: up "
                             f"to {NLB_MAX_IDLE_TIMEOUT_SECONDS} s")
        return value

    @property
    def read_timeout_seconds(self) -> float:
        return nginx_seconds(self.read_timeout)


# The fallback must answer well inside the edge's read timeout (NGINX cuts a silent upstream after it).
FALLBACK_SHARE_OF_READ_TIMEOUT = 0.8


class FallbackConfig(Section):
    num_retries: int = Field(1, ge=0, le=5, description="Retries on the same group before falling back.")
    self_hosted_timeout_seconds: int = Field(
        90, ge=5, le=1800,
        description="Per attempt on vLLM: the whole answer, or the first token of a stream. A hung vLLM costs "
                    "(numRetries + 1) times this before OpenAI is asked.",
    )
    openai_timeout_seconds: int = Field(120, ge=5, le=1800, description="Per attempt on OpenAI, same meaning.")
    allowed_fails: int = Field(3, ge=1, description="Failures in a minute before a deployment cools down.")
    cooldown_seconds: int = Field(30, ge=1, le=3600)


class RouterStoreConfig(Section):
    db_instance_class: str = Field("db.t4g.small", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    db_allocated_storage_gib: int = Field(20, ge=20, le=1000)
    db_max_allocated_storage_gib: int = Field(100, ge=20, le=65536, description="Storage autoscaling ceiling: spend logs grow.")
    db_multi_az: bool = False
    db_backup_retention_days: int = Field(7, ge=1, le=35)
    db_deletion_protection: bool = Field(True, description="Off where `pulumi destroy` must just work (dev, shadow).")
    db_final_snapshot: bool = Field(True, description="Snapshot keys and spend history when the database is deleted.")
    cache_node_type: str = Field("cache.t4g.small", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")

    @model_validator(mode="after")
    def _storage(self) -> "RouterStoreConfig":
        if self.db_max_allocated_storage_gib < self.db_allocated_storage_gib:
            raise ValueError(
                f"dbMaxAllocatedStorageGib ({self.db_max_allocated_storage_gib}) is below dbAllocatedStorageGib "
                f"({self.db_allocated_storage_gib}); allowed: at least the allocated storage"
            )
        return self


class RouterConfig(Section):
    image: str = Field(
        "ghcr.io/berriai/litellm:v1.103.2@sha256:f63fb81b831b170ec16851e23c36ac5bf52ef106b271406429524a2ed730bbfd",
        pattern=r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$",
        description="LiteLLM proxy image: tag and digest both, since a release was compromised.",
    )
    replicas: int = Field(2, ge=1, le=20)
    store: RouterStoreConfig = Field(default_factory=RouterStoreConfig)


class OpenAIModelConfig(Section):
    name: str = Field(pattern=r"^[\w.:-]+$", description="The OpenAI model name clients send today, e.g. gpt-4o-mini.")


# The migration plan's shadow phase replays 5-10 % of the traffic; once users get self-hosted answers, the GPUs are
# theirs first, so replays stay small.
SHADOW_PHASE_PERCENT = (5.0, 10.0)
SHADOW_PERCENT_WHILE_SERVING = 5.0


class ShadowSampleStoreConfig(Section):
    """Pairs kept for human review (the migration plan's human eval): request, both answers, scores, as JSONL in S3."""

    enabled: bool = Field(False, description="Write a sample of the replayed pairs to this stack's shadow-samples bucket. They hold user content: off unless reviewed pairs are wanted.")
    sample_percent: float = Field(10.0, gt=0, le=100, description="Share of the replayed pairs that is stored.")
    expire_days: int = Field(30, ge=1, le=400, description="Stored pairs are deleted after this many days (S3 lifecycle rule).")


class ReverseCheckConfig(Section):
    """Where self-hosted answers almost everything: a share of its answers is also asked of OpenAI, as a moving baseline."""

    enabled: bool = Field(False, description="Ask OpenAI too for a share of the self-hosted answers (costs OpenAI tokens, within monthlyBudgetUsd).")
    percent: float = Field(1.0, gt=0, le=10, description="Share of self-hosted answers that is also asked of OpenAI.")
    monthly_budget_usd: float = Field(50.0, gt=0, le=100000, description="Reverse checks stop for the rest of the calendar month (UTC) once their estimated OpenAI cost reaches this.")


class AcceptanceConfig(Section):
    """What `make eval` requires of the candidate against the baseline on the golden set."""

    min_mean_agreement: float = Field(0.35, ge=0, le=1, description="Mean agreement score over the set (ROUGE-L F1, exact match or JSON equality per prompt; see docs/shadow.md for what it can tell).")
    min_exact_match_percent: float = Field(60.0, ge=0, le=100, description="Short answers (a few words, or a number) that match the baseline's exactly, after normalisation.")
    min_json_valid_percent: float = Field(95.0, ge=0, le=100, description="Prompts asking for JSON that the candidate answers with valid JSON.")
    min_refusal_agreement_percent: float = Field(80.0, ge=0, le=100, description="Prompts the baseline refuses that the candidate refuses too.")
    max_failure_percent: float = Field(2.0, ge=0, le=100, description="Candidate requests that fail (error, timeout, empty answer).")
    max_p95_latency_ratio: float = Field(2.0, gt=0, le=100, description="Candidate p95 latency divided by the baseline's.")


class ShadowConfig(Section):
    """Shadow evaluation in the router: replay OpenAI-answered requests to self-hosted, compare, export llm_shadow_* metrics."""

    percent: float = Field(
        0.0, ge=0, le=100,
        description="Share of the requests answered by OpenAI (by the split, not the fallback) that the router replays to "
                    "self-hosted after the client's answer. Phase shadow: 5 to 10; rollout and prod: at most 5; 0 when "
                    "selfHostedPercent is 100.",
    )
    max_concurrency: int = Field(8, ge=1, le=256, description="Replays in flight per router process; beyond it a sampled request is dropped, never queued.")
    timeout_seconds: int = Field(120, ge=5, le=1800, description="Per replay (the whole answer); a slower backend counts as a timeout.")
    sample_store: ShadowSampleStoreConfig = Field(default_factory=ShadowSampleStoreConfig)
    reverse_check: ReverseCheckConfig = Field(default_factory=ReverseCheckConfig)
    acceptance: AcceptanceConfig = Field(default_factory=AcceptanceConfig)


class CriticalConfig(Section):
    """Requests that OpenAI answers in every phase, by LiteLLM tag routing."""

    tags: list[str] = Field(
        default_factory=lambda: ["critical"], min_length=1,
        description="A request carrying any of these tags (body `tags`, `metadata.tags`, or its key's / team's metadata tags) is answered by OpenAI.",
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        for tag in values:
            # LiteLLM reads a leading ! or & as a routing operator, and "default" marks the untagged pool.
            if not re.fullmatch(r"[a-z0-9][a-z0-9_.:-]{0,62}", tag) or tag == "default":
                raise ValueError(f"{tag!r} is not a usable tag; allowed: lower-case letters, digits, _.:- (not 'default')")
        return values


class TrafficConfig(Section):
    self_hosted_percent: int = Field(ge=0, le=100, description="Share of requests answered self-hosted.")
    kill_switch: bool = Field(False, description="true: every request goes to OpenAI at once; shadow replays and reverse checks stop.")
    openai_models: list[OpenAIModelConfig] = Field(min_length=1, description="Model names clients use; each maps to the self-hosted model per the split.")
    fallback_to_openai: bool = Field(True, description="Send failed, timed-out or overloaded self-hosted requests to OpenAI.")
    openai_api_base: str = Field(
        "https://api.openai.com/v1", pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="OpenAI's base URL as the router reaches it (an egress proxy or a regional endpoint).",
    )
    per_key_rpm: int = Field(60, ge=1, description="Default requests per minute per client API key.")
    max_key_rpm: int = Field(600, ge=1, description="Upper bound a generated key may ask for.")
    fallback: FallbackConfig = Field(default_factory=FallbackConfig)
    shadow: ShadowConfig = Field(default_factory=ShadowConfig)
    critical: CriticalConfig = Field(default_factory=CriticalConfig)
    edge: EdgeConfig
    router: RouterConfig = Field(default_factory=RouterConfig)

    @model_validator(mode="after")
    def _limits(self) -> "TrafficConfig":
        if self.per_key_rpm > self.max_key_rpm:
            raise ValueError(f"perKeyRpm ({self.per_key_rpm}) is above maxKeyRpm ({self.max_key_rpm}); allowed: perKeyRpm <= maxKeyRpm")
        budget, read_timeout = self.worst_case_first_byte_seconds, self.edge.read_timeout_seconds
        if budget > FALLBACK_SHARE_OF_READ_TIMEOUT * read_timeout:
            raise CrossSectionError(
                "llm-platform:traffic.fallback",
                f"(numRetries + 1) x selfHostedTimeoutSeconds + openaiTimeoutSeconds is {budget} s, more than "
                f"{FALLBACK_SHARE_OF_READ_TIMEOUT:.0%} of edge.readTimeout ({read_timeout} s): the edge would cut the client "
                "before the fallback answers; allowed: shorter timeouts, fewer retries or a longer edge.readTimeout",
            )
        if self.self_hosted_percent == 100 and self.shadow.percent > 0:
            raise CrossSectionError(
                "llm-platform:traffic.shadow.percent",
                f"is {self.shadow.percent:g} while selfHostedPercent is 100: OpenAI answers only fallbacks, whose "
                "backend just failed; allowed: 0",
            )
        if self.self_hosted_percent == 0 and self.shadow.reverse_check.enabled:
            raise CrossSectionError(
                "llm-platform:traffic.shadow.reverseCheck.enabled",
                "is true while selfHostedPercent is 0: there are no self-hosted answers to check; allowed: false",
            )
        return self

    @property
    def worst_case_first_byte_seconds(self) -> int:
        """How long a client may wait for its first byte when vLLM hangs: every self-hosted try, then OpenAI."""
        return (self.fallback.num_retries + 1) * self.fallback.self_hosted_timeout_seconds + self.fallback.openai_timeout_seconds

    @property
    def effective_self_hosted_percent(self) -> int:
        return 0 if self.kill_switch else self.self_hosted_percent

    @property
    def effective_shadow_percent(self) -> float:
        return 0.0 if self.kill_switch else self.shadow.percent

    @property
    def effective_reverse_check_percent(self) -> float:
        reverse = self.shadow.reverse_check
        return reverse.percent if reverse.enabled and not self.kill_switch else 0.0


class GrafanaConfig(Section):
    storage_gib: int = Field(10, ge=1, le=200, description="Grafana's volume (users, annotations, UI state; dashboards are provisioned).")
    hostname: Optional[str] = Field(
        None, pattern=HOSTNAME,
        description="Serve Grafana through the edge on this host name (HTTPS, Grafana's own login, no anonymous access). "
                    "Unset: reachable inside the cluster only (kubectl port-forward).",
    )


class LokiConfig(Section):
    deployment_mode: Literal["Monolithic", "SimpleScalable"] = Field(
        "Monolithic",
        description="Monolithic: one Loki on a gp3 volume (dev, shadow). SimpleScalable: read, write and backend "
                    "targets on S3 buckets this stack creates (rollout, prod).",
    )
    retention_days: int = Field(14, ge=1, le=3650, description="Loki's compactor deletes log lines older than this.")
    bucket_expiration_days: int = Field(
        30, ge=2, le=3660,
        description="SimpleScalable: S3 lifecycle expiry of the log objects, a backstop behind retentionDays (must be longer).",
    )
    storage_gib: int = Field(20, ge=5, le=2000, description="Monolithic: the log volume; SimpleScalable: each write and backend volume (WAL, cache).")
    replicas: int = Field(3, ge=3, le=30, description="SimpleScalable: pods per target (read, write, backend); 3 or more for replication factor 3.")

    @model_validator(mode="after")
    def _expiry_after_retention(self) -> "LokiConfig":
        if self.bucket_expiration_days <= self.retention_days:
            raise ValueError(
                f"bucketExpirationDays ({self.bucket_expiration_days}) is not longer than retentionDays ({self.retention_days}); "
                "allowed: more days than retentionDays, so S3 never deletes what Loki still keeps"
            )
        return self


class AlertsConfig(Section):
    """Alert thresholds; the defaults are the migration plan's."""

    p99_latency_ms: int = Field(OBJECTIVE_LATENCY_P99_MS, ge=50, le=600000, description="vLLM end-to-end request latency, p99 over 5 minutes.")
    ttft_p95_ms: int = Field(OBJECTIVE_TTFT_P95_MS, ge=10, le=600000, description="vLLM time to first token, p95 over 5 minutes.")
    error_rate_percent: float = Field(OBJECTIVE_ERROR_RATE_PERCENT, gt=0, le=100, description="Share of router requests answered with a 5xx, over 5 minutes.")
    min_requests_per_second: Optional[float] = Field(
        None, gt=0,
        description="Throughput floor: fewer successful router answers per second than this for 15 minutes pages. "
                    "Set it where the phase serves users; unset: no floor.",
    )
    queue_depth: int = Field(500, ge=1, description="Requests waiting in vLLM, summed over replicas, for 5 minutes.")
    gpu_utilization_floor_percent: int = Field(50, ge=1, le=100, description="Average GPU utilisation below this over gpuIdleWindow: paying for idle GPUs.")
    gpu_idle_window: str = Field("6h", pattern=r"^[0-9]+h$", description="The long window of the GPU utilisation floor.")
    kv_cache_usage_percent: int = Field(95, ge=50, le=100, description="vLLM KV-cache usage, for 10 minutes.")
    preemptions_per_ten_minutes: int = Field(10, ge=1, description="vLLM preemptions in 10 minutes (KV cache too small for the load).")
    fallback_rate_percent: float = Field(OBJECTIVE_FALLBACK_RATE_PERCENT, gt=0, le=100, description="Share of router answers that came from the OpenAI fallback, over 15 minutes.")
    gpu_pod_pending_minutes: int = Field(10, ge=1, le=240, description="A GPU pod pending this long: no capacity or quota.")
    spot_interruptions_per_hour: int = Field(1, ge=1, description="Spot interruption warnings received in an hour.")
    openai_monthly_budget_usd: Optional[float] = Field(
        None, gt=0,
        description="OpenAI spend a month above which the projected spend alerts. Unset: the cost model's OpenAI bill "
                    "for the phase's load plus budget.headroomPercent; no alert where OpenAI answers nothing.",
    )
    storage_free_percent: int = Field(15, ge=1, le=90, description="Free space left on Prometheus, Alertmanager, Grafana and Loki volumes.")
    certificate_expiry_days: int = Field(14, ge=1, le=60, description="Days before a cert-manager certificate expires.")


class ObservabilityConfig(Section):
    prometheus_retention: str = Field("15d", pattern=r"^[0-9]+(h|d|w)$")
    prometheus_storage_gib: int = Field(50, ge=10, le=2000)
    runbook_url: str = Field(
        "https://git.example.com/platform/llm-platform/blob/main/docs/runbook.md",
        pattern=r"^https://[^\s#]+$",
        description="Where the team reads docs/runbook.md (your repository); every alert links to its section there.",
    )
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)
    loki: LokiConfig = Field(default_factory=LokiConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)


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
    traffic: TrafficConfig
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
    load: LoadConfig = Field(default_factory=LoadConfig)
    cost_model: CostModelConfig = Field(default_factory=CostModelConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    # Secrets: set with `pulumi config set --secret llm-platform:<key>`; never printed or written.
    openai_api_key: SecretStr = Field(description="OpenAI API key the router uses.")
    router_master_key: SecretStr = Field(description="LiteLLM master key (admin API, key generation); starts with sk-.")
    hf_token: Optional[SecretStr] = Field(None, description="Hugging Face token, for gated models.")
    grafana_admin_password: SecretStr = Field(description="Grafana's admin password (user admin); 16 characters or more.")

    @field_validator("grafana_admin_password")
    @classmethod
    def _grafana_password(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret != SECRET_PLACEHOLDER and len(secret) < GRAFANA_PASSWORD_MIN_LENGTH:
            # The length only: the value itself is never echoed.
            raise ValueError(f"has {len(secret)} characters; allowed: {GRAFANA_PASSWORD_MIN_LENGTH} or more (Grafana may be reachable through the edge)")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in AWS_REGIONS:
            raise ValueError(f"{value!r} is not an AWS region; allowed: a region such as us-east-1, eu-west-1")
        return value

    @model_validator(mode="after")
    def _availability(self) -> "StackConfig":
        # Phases where users depend on self-hosted answers need to survive a node or AZ loss.
        serves_users = self.traffic.self_hosted_percent > 0 and self.phase in ("rollout", "prod")
        if serves_users and self.serving.replicas.min < 2:
            raise CrossSectionError(
                "llm-platform:serving.replicas.min",
                f"is {self.serving.replicas.min} in phase {self.phase}; allowed: at least 2 (across zones)"
            )
        if serves_users and self.traffic.router.replicas < 2:
            raise CrossSectionError("llm-platform:traffic.router.replicas", f"is {self.traffic.router.replicas} in phase {self.phase}; allowed: at least 2")
        self._shadow_share_fits_the_phase()
        grafana_host = self.observability.grafana.hostname
        if grafana_host is not None and grafana_host == self.traffic.edge.hostname:
            raise CrossSectionError(
                "llm-platform:observability.grafana.hostname",
                f"is the API's host name ({grafana_host}); allowed: a name of its own, e.g. grafana.<your domain>",
            )
        prefix = zone_id_prefix(self.region)
        for zone_id in self.network.zone_ids or []:
            if not zone_id.startswith(prefix + "-"):
                raise CrossSectionError("llm-platform:network.zoneIds", f"{zone_id} is not a zone of {self.region}; allowed: IDs such as {prefix}-az1")
        if self.serving.model.tensor_parallel_size > self.gpu_pools.spot.max_gpus_per_node:
            raise CrossSectionError(
                "llm-platform:serving.model.tensorParallelSize",
                f"{self.serving.model.tensor_parallel_size} is above "
                f"gpuPools.spot.maxGpusPerNode ({self.gpu_pools.spot.max_gpus_per_node}); allowed: a replica fits on one node"
            )
        gpus_per_replica = self.serving.model.tensor_parallel_size
        for bound in ("min", "max"):
            replicas = getattr(self.serving.replicas, bound)
            if replicas * gpus_per_replica > self.gpu_pools.total_gpu_limit:
                raise CrossSectionError(
                    f"llm-platform:serving.replicas.{bound}",
                    f"{replicas} replicas of {gpus_per_replica} GPU(s) need {replicas * gpus_per_replica} GPUs, but the GPU "
                    f"pools' gpuLimit adds up to {self.gpu_pools.total_gpu_limit}; allowed: at most "
                    f"{self.gpu_pools.total_gpu_limit // gpus_per_replica} replicas, or raise gpuPools.*.gpuLimit",
                )
        reserved = self.gpu_pools.reserved
        for index, reservation in enumerate(reserved.capacity_reservations if reserved else []):
            if reservation.zone_id is None:
                continue
            key = f"llm-platform:gpuPools.reserved.capacityReservations[{index}].zoneId"
            if self.network.zone_ids is None:
                raise CrossSectionError(key, f"names {reservation.zone_id} but network.zoneIds is not set; allowed: pin network.zoneIds so the check can be made")
            if reservation.zone_id not in self.network.zone_ids:
                raise CrossSectionError(
                    key, f"{reservation.zone_id} is outside the stack's zones ({', '.join(self.network.zone_ids)}); "
                         "allowed: a reservation in one of network.zoneIds (nodes can only launch there)"
                )
        return self

    def _shadow_share_fits_the_phase(self) -> None:
        share, (low, high) = self.traffic.shadow.percent, SHADOW_PHASE_PERCENT
        if self.phase == "shadow" and not low <= share <= high:
            raise CrossSectionError(
                "llm-platform:traffic.shadow.percent",
                f"is {share:g} in phase shadow; allowed: {low:g} to {high:g} (the migration plan's shadow share)",
            )
        if self.phase in ("rollout", "prod") and share > SHADOW_PERCENT_WHILE_SERVING:
            raise CrossSectionError(
                "llm-platform:traffic.shadow.percent",
                f"is {share:g} in phase {self.phase}; allowed: at most {SHADOW_PERCENT_WHILE_SERVING:g} "
                "(the GPUs serve users first)",
            )

    @model_validator(mode="after")
    def _load_fits_context(self) -> "StackConfig":
        tokens = self.load.input_tokens_per_request + self.load.output_tokens_per_request
        if tokens > self.serving.model.max_model_len:
            raise CrossSectionError(
                "llm-platform:load.inputTokensPerRequest",
                f"input plus output tokens per request ({tokens}) exceed serving.model.maxModelLen "
                f"({self.serving.model.max_model_len}): vLLM would refuse such requests; allowed: at most maxModelLen together",
            )
        return self

    @model_validator(mode="after")
    def _promotion_window_within_retention(self) -> "StackConfig":
        window, retention = self.promotion.window, self.observability.prometheus_retention
        if duration_seconds(window) > duration_seconds(retention):
            raise CrossSectionError(
                "llm-platform:promotion.window",
                f"{window} is longer than observability.prometheusRetention ({retention}): Prometheus no longer holds "
                "the start of it; allowed: a window within the retention",
            )
        return self

    @property
    def cluster_name(self) -> str:
        return f"llm-platform-{self.stack}"


