"""The monthly cost of a stack, item by item, from its config, the capacity plan and the price tables.

AWS items (what the stack's budget sees) come first; the OpenAI bill for the requests the phase leaves to OpenAI
is kept apart, since a phase that splits traffic pays both. Everything is per month of 730 hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from infra.karpenter.node_pools import block_devices
from stackconfig import ConfigError, StackConfig

from .planner import CapacityPlan, gpu_requests_share, plan_capacity
from .prices import ec2_price_file, ec2_table_region, hours_per_month, max_monthly_gpu_spend, on_demand_hourly, price_table, price_warnings

# Request and answer sizes on the wire: ~4 bytes of UTF-8 per token, doubled by JSON and SSE framing, plus
# headers and TLS records. Used only for the small per-GB items (NAT, egress, NLB).
BYTES_PER_TOKEN_ON_WIRE = 8
BYTES_PER_REQUEST_OVERHEAD = 2048
# vllm/vllm-openai images are about 10 GB compressed; every new GPU node pulls one through NAT.
VLLM_IMAGE_GB = 10
# Kept by pulumi-eks: the cluster's secrets key; by CostAlarms: the alerts topic key.
KMS_KEYS = 2
DAYS_PER_MONTH = 730 / 24

CATEGORIES = ("control plane", "network", "load balancer", "system nodes", "GPU nodes", "storage", "database", "security")


@dataclass(frozen=True)
class Item:
    category: str
    name: str
    quantity: float
    unit: str
    unit_usd: float
    source: str
    gpu_dependent: bool = False  # varies with GPU node-hours: replaced by the caps' worst case in the budget floor

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_usd


@dataclass(frozen=True)
class OpenAIBill:
    requests: float
    usd_per_request: float
    models: list[str]
    source: str

    @property
    def monthly_usd(self) -> float:
        return self.requests * self.usd_per_request


@dataclass
class Estimate:
    config: StackConfig
    capacity: CapacityPlan
    items: list[Item]
    openai: OpenAIBill
    warnings: list[str] = field(default_factory=list)

    @property
    def aws_monthly_usd(self) -> float:
        return sum(item.monthly_usd for item in self.items)

    @property
    def phase_monthly_usd(self) -> float:
        """What the phase costs: the AWS stack plus the OpenAI bill for the requests it does not answer itself."""
        return self.aws_monthly_usd + self.openai.monthly_usd

    @property
    def all_openai_monthly_usd(self) -> float:
        return self.config.load.requests_per_month * self.openai.usd_per_request

    def by_category(self) -> dict[str, float]:
        totals = {category: 0.0 for category in CATEGORIES}
        for item in self.items:
            totals[item.category] += item.monthly_usd
        return totals



def service(config: StackConfig, key: str) -> tuple[float, str, str]:
    """(USD, unit, source) of a service price in the stack's region; us-east-1's where the table lacks the region."""
    services = price_table()["services"]
    region = config.region if config.region in services else "us-east-1"
    figure = services[region][key]
    source = figure["source"] if region == config.region else f"us-east-1 figure, no {config.region} row: {figure['source']}"
    return float(figure["usd"]), figure["unit"], source


def priced_service_row(config: StackConfig, key: str, name: str, config_key: str) -> tuple[float, str]:
    services = price_table()["services"]
    region = config.region if config.region in services else "us-east-1"
    table = services[region][key]
    if name not in table["prices"]:
        raise ConfigError(config_key, f"{name} has no price in tools/cost/prices.yaml ({key}); allowed: {', '.join(table['prices'])}")
    return float(table["prices"][name]), table["source"]


def openai_bill(config: StackConfig) -> OpenAIBill:
    """The OpenAI bill for the requests the phase sends there, spread evenly over traffic.openaiModels."""
    table = price_table()["openai"]
    load = config.load
    per_request = []
    for index, model in enumerate(config.traffic.openai_models):
        override = config.cost_model.openai_prices.get(model.name)
        if override is not None:
            prices = (override.input_per_million_usd, override.output_per_million_usd)
        elif model.name in table["models"]:
            row = table["models"][model.name]
            prices = (row["inputPerMillion"], row["outputPerMillion"])
        else:
            raise ConfigError(
                f"llm-platform:traffic.openaiModels[{index}].name",
                f"{model.name} has no price in tools/cost/prices.yaml; allowed: {', '.join(table['models'])}, or set "
                f"llm-platform:costModel.openaiPrices.{model.name} (inputPerMillionUsd, outputPerMillionUsd)",
            )
        per_request.append((load.input_tokens_per_request * prices[0] + load.output_tokens_per_request * prices[1]) / 1e6)
    answered_here = config.traffic.effective_self_hosted_percent / 100
    usd_per_request = sum(per_request) / len(per_request)
    # The shadow evaluation's reverse check asks OpenAI too for a share of the self-hosted answers, up to its budget.
    reverse_checks = min(load.requests_per_month * answered_here * config.traffic.effective_reverse_check_percent / 100,
                         config.traffic.shadow.reverse_check.monthly_budget_usd / usd_per_request)
    return OpenAIBill(
        requests=load.requests_per_month * (1 - answered_here) + reverse_checks,
        usd_per_request=usd_per_request,
        models=[m.name for m in config.traffic.openai_models],
        source=table["source"],
    )


def gp3_month(config: StackConfig, gib: float, iops: int = 3000, throughput: int = 125) -> tuple[float, str]:
    size, _, source = service(config, "ebsGp3GbMonth")
    iops_price, _, iops_source = service(config, "ebsGp3IopsMonth")
    throughput_price, _, _ = service(config, "ebsGp3ThroughputMonth")
    usd = gib * size + max(0, iops - 3000) * iops_price + max(0, throughput - 125) * throughput_price
    return usd, f"{source}; IOPS: {iops_source}"


def gpu_node_volumes_month(config: StackConfig) -> tuple[float, str, str]:
    """A GPU node's EBS volumes, as the EC2NodeClass declares them, per node-month."""
    total, source, parts = 0.0, "", []
    for device in block_devices(config.karpenter.ami_alias, config.karpenter.root_volume_gib):
        ebs = device["ebs"]
        gib = int(ebs["volumeSize"].removesuffix("Gi"))
        usd, source = gp3_month(config, gib, ebs.get("iops", 3000), ebs.get("throughput", 125))
        total += usd
        parts.append(f"{gib} GiB gp3, {ebs.get('iops', 3000)} IOPS, {ebs.get('throughput', 125)} MiB/s")
    return total, " + ".join(parts), source


def wire_gb(requests: float, tokens_per_request: float) -> float:
    return requests * (tokens_per_request * BYTES_PER_TOKEN_ON_WIRE + BYTES_PER_REQUEST_OVERHEAD) / 1e9


def _platform_items(config: StackConfig, capacity: CapacityPlan, openai: OpenAIBill) -> list[Item]:
    hours = hours_per_month()
    zones = config.network.zone_count
    load = config.load
    items: list[Item] = []

    def add(category: str, name: str, quantity: float, key: str, gpu_dependent: bool = False) -> None:
        usd, unit, source = service(config, key)
        items.append(Item(category, name, quantity, unit, usd, source, gpu_dependent))

    add("control plane", "EKS cluster (standard support)", hours, "eksClusterHour")
    log_gb = len(config.cluster.log_types) * config.cost_model.control_plane_log_gb_per_type
    add("control plane", f"control-plane logs ingested ({', '.join(config.cluster.log_types)})", log_gb, "cloudwatchLogsIngestGb")
    retention = config.cluster.log_retention_days
    add("control plane", f"control-plane logs stored ({retention} days' worth)", log_gb * retention / DAYS_PER_MONTH,
        "cloudwatchLogsStorageGbMonth")

    nat_gateways = zones if config.network.nat_gateways == "perAz" else 1
    add("network", f"NAT gateways ({config.network.nat_gateways})", nat_gateways * hours, "natGatewayHour")
    plan = capacity.load
    node_starts = _gpu_node_starts(config, capacity)
    pull_gb = VLLM_IMAGE_GB + (capacity.weights_gib * 1.074 if config.serving.weights_cache == "none" else 0)
    openai_gb = wire_gb(openai.requests, load.input_tokens_per_request + load.output_tokens_per_request)
    add("network", f"NAT data: OpenAI calls {openai_gb:,.1f} GB, {node_starts:,.0f} GPU node starts x {pull_gb:.0f} GB "
                   f"pulls, {config.cost_model.nat_data_gb_per_month:g} GB other",
        openai_gb + node_starts * pull_gb + config.cost_model.nat_data_gb_per_month, "natGatewayGb", gpu_dependent=False)
    add("network", "public IPv4 addresses (NAT, NLB)", (nat_gateways + zones) * hours, "publicIpv4Hour")
    endpoints = len(config.network.interface_endpoints)
    add("network", f"interface endpoints ({endpoints} x {zones} AZs)", endpoints * zones * hours, "interfaceEndpointAzHour")
    client_gb = wire_gb(load.requests_per_month, load.input_tokens_per_request + load.output_tokens_per_request)
    add("network", "data out to clients", wire_gb(load.requests_per_month, load.output_tokens_per_request), "internetEgressGb")

    add("load balancer", "NLB (edge)", hours, "nlbHour")
    # An NLCU is 1 GB processed, 800 new TCP flows/s or 100,000 active flows in an hour, whichever is largest.
    flows_per_second = load.requests_per_month / (hours * 3600)
    nlcu = max(client_gb / hours, flows_per_second / 800)
    add("load balancer", "NLB capacity units", nlcu * hours, "nlbLcuHour")

    system = config.system_nodes
    system_type = system.instance_types[0]
    items.append(Item("system nodes", f"{system.desired_size} x {system_type} on demand", system.desired_size * hours,
                      "instance-hour", on_demand_hourly(config, system_type), _ec2_source(config)))
    volume_usd, volume_source = gp3_month(config, system.disk_size_gib)
    items.append(Item("storage", f"system node volumes ({system.desired_size} x {system.disk_size_gib} GiB gp3)",
                      system.desired_size, "volume-month", volume_usd, volume_source))

    items += _gpu_items(config, capacity)
    node_hours = _gpu_node_hours(config, capacity)
    node_volume_usd, node_volume_spec, node_volume_source = gpu_node_volumes_month(config)
    items.append(Item("storage", f"GPU node volumes ({node_volume_spec})", node_hours / hours, "node-month",
                      node_volume_usd, node_volume_source, gpu_dependent=True))
    prometheus_usd, prometheus_source = gp3_month(config, config.observability.prometheus_storage_gib)
    items.append(Item("storage", f"Prometheus volume ({config.observability.prometheus_storage_gib} GiB gp3)", 1,
                      "volume-month", prometheus_usd, prometheus_source))
    if config.serving.weights_cache == "s3":
        add("storage", "model weights in S3", capacity.weights_gib * 1.074, "s3StandardGbMonth")

    store = config.traffic.router.store
    copies = 2 if store.db_multi_az else 1
    db_price, db_source = priced_service_row(config, "rdsPostgresInstanceHour", store.db_instance_class,
                                             "llm-platform:traffic.router.store.dbInstanceClass")
    items.append(Item("database", f"RDS PostgreSQL {store.db_instance_class}{' Multi-AZ' if store.db_multi_az else ''}",
                      copies * hours, "instance-hour", db_price, db_source))
    add("database", f"RDS gp3 storage ({store.db_allocated_storage_gib} GiB x {copies})",
        store.db_allocated_storage_gib * copies, "rdsGp3GbMonth")
    if config.traffic.router.replicas > 1:  # the router shares state through Valkey only with several replicas
        cache_price, cache_source = priced_service_row(config, "elasticacheValkeyNodeHour", store.cache_node_type,
                                                       "llm-platform:traffic.router.store.cacheNodeType")
        items.append(Item("database", f"ElastiCache Valkey 2 x {store.cache_node_type} (primary, replica)", 2 * hours,
                          "node-hour", cache_price, cache_source))
    add("security", "KMS keys (cluster secrets, alerts topic)", KMS_KEYS, "kmsKeyMonth")
    return items


def _ec2_source(config: StackConfig) -> str:
    region = ec2_table_region(config)
    source = ec2_price_file(region)["source"]
    return source if region == config.region else f"us-east-1 figure, no {config.region} table: {source}"


def _gpu_node_hours(config: StackConfig, capacity: CapacityPlan) -> float:
    plan = capacity.load
    reserved = plan.reserved_replica_hours / capacity.reserved_fit.replicas_per_node if capacity.reserved_fit else 0.0
    return reserved + plan.spot_replica_hours / capacity.spot_fit.replicas_per_node


def _gpu_node_starts(config: StackConfig, capacity: CapacityPlan) -> float:
    """New GPU nodes a month: the daily scale-up from the quiet hours to the peak, plus every running node once,
    as expireAfter (720 h by default) replaces nodes about monthly."""
    plan = capacity.load
    quiet = plan.idle.total if config.load.active_hours_per_day < 24 else plan.average.total
    per_node = capacity.spot_fit.replicas_per_node
    return DAYS_PER_MONTH * max(0, plan.peak.total - quiet) / per_node + plan.average.total / per_node


def _gpu_items(config: StackConfig, capacity: CapacityPlan) -> list[Item]:
    hours = hours_per_month()
    plan = capacity.load
    items = []
    source = _ec2_source(config)
    reserved = config.gpu_pools.reserved
    if reserved is not None and capacity.reserved_fit is not None:
        instance = capacity.reserved_fit.instance
        reservation = next((r for r in reserved.capacity_reservations if r.instance_type == instance.name), None)
        hourly = (reservation.hourly_price_usd if reservation and reservation.hourly_price_usd else None)
        kind = "Capacity Block at its price" if hourly else "ODCR at on-demand, used or not"
        hourly = hourly or on_demand_hourly(config, instance.name)
        nodes = reserved.gpu_limit / instance.gpus
        items.append(Item("GPU nodes", f"reserved: {nodes:g} x {instance.name} ({kind})", nodes * hours,
                          "instance-hour", hourly, source))
    spot = capacity.spot_fit.instance
    node_hours = plan.spot_replica_hours / capacity.spot_fit.replicas_per_node
    fallback = config.cost_model.on_demand_fallback_percent / 100 if config.gpu_pools.spot.on_demand_fallback else 0.0
    on_demand = on_demand_hourly(config, spot.name)
    discount = config.cost_model.spot_discount_percent
    items.append(Item("GPU nodes", f"spot: {spot.name} at {discount:g} % below on-demand", node_hours * (1 - fallback),
                      "instance-hour", on_demand * (1 - discount / 100),
                      f"{source}; discount: llm-platform:costModel.spotDiscountPercent", gpu_dependent=True))
    if fallback:
        items.append(Item("GPU nodes", f"on-demand fallback: {spot.name} ({fallback:.0%} of spot hours)", node_hours * fallback,
                          "instance-hour", on_demand, source, gpu_dependent=True))
    return items


def estimate(config: StackConfig, capped: bool = True) -> Estimate:
    """The stack's monthly estimate; raises ConfigError naming the key on a config the model cannot plan."""
    capacity = plan_capacity(config, capped)
    openai = openai_bill(config)
    return Estimate(config, capacity, _platform_items(config, capacity, openai), openai,
                    price_warnings(config) + list(capacity.load.warnings))


def at_volume(config: StackConfig, requests_per_month: float) -> Estimate:
    """The estimate at another load, with replicas and GPU limits scaled as the load needs (for break-even and charts)."""
    load = config.load.model_copy(update={"requests_per_month": int(requests_per_month)})
    return estimate(config.model_copy(update={"load": load}), capped=False)


def break_even_requests(config: StackConfig) -> Optional[float]:
    """Requests a month from which the phase (AWS + its OpenAI share) costs no more than sending everything to
    OpenAI; None when no volume up to 10 billion a month gets there (or the phase answers nothing itself)."""
    if config.traffic.effective_self_hosted_percent == 0:
        return None

    def saves(volume: float) -> bool:
        e = at_volume(config, volume)
        return e.phase_monthly_usd <= e.all_openai_monthly_usd

    grid = [10 ** (3 + i / 8) for i in range(8 * 7 + 1)]  # 1,000 to 10 billion, 8 steps a decade
    previous = None
    for volume in grid:
        if saves(volume):
            if previous is None:
                return volume
            low, high = previous, volume
            for _ in range(30):
                middle = math.sqrt(low * high)
                low, high = (low, middle) if saves(middle) else (middle, high)
            return high
        previous = volume
    return None


def worst_case_monthly_usd(estimate_: Estimate) -> float:
    """The month the GPU caps allow: the platform as estimated, with every pool at its gpuLimit around the clock on
    its dearest type, on demand (tools.cost.prices.max_monthly_gpu_spend), and a node volume per GPU."""
    config = estimate_.config
    platform = sum(i.monthly_usd for i in estimate_.items if i.category != "GPU nodes" and not i.gpu_dependent)
    volume_usd, _, _ = gpu_node_volumes_month(config)
    return platform + max_monthly_gpu_spend(config) + config.gpu_pools.total_gpu_limit * volume_usd


def expected_monthly_usd(config: StackConfig) -> float:
    """What the stack should spend on AWS in a month: the estimate plus budget.headroomPercent, rounded up to $10.
    The budget announces spend above it even where its limit is higher."""
    return float(math.ceil(estimate(config).aws_monthly_usd * (1 + config.budget.headroom_percent / 100) / 10) * 10)


def monthly_budget_usd(config: StackConfig) -> float:
    """The AWS Budget's limit: the stack's own, or the estimate plus budget.headroomPercent, raised to the worst case
    at the GPU caps when that is higher (a budget below what the caps allow would be a cap that is not one), and
    rounded up to $100."""
    if config.budget.monthly_limit_usd is not None:
        return config.budget.monthly_limit_usd
    estimate_ = estimate(config)
    wanted = max(estimate_.aws_monthly_usd * (1 + config.budget.headroom_percent / 100), worst_case_monthly_usd(estimate_))
    return float(math.ceil(wanted / 100) * 100)


def assumptions(config: StackConfig) -> list[dict[str, Any]]:
    """Every assumption behind the estimate, with its value and where it comes from."""
    table = price_table()
    sources = table["assumptionSources"]
    cost = config.cost_model
    load = config.load
    return [
        {"name": "hours per month", "value": hours_per_month(), "source": "AWS pricing convention (8,760 / 12)"},
        {"name": "requests per month", "value": load.requests_per_month, "source": "llm-platform:load.requestsPerMonth"},
        {"name": "input / output tokens per request", "value": [load.input_tokens_per_request, load.output_tokens_per_request],
         "source": "llm-platform:load.inputTokensPerRequest / outputTokensPerRequest"},
        {"name": "peak-hour factor", "value": load.peak_hour_factor, "source": "llm-platform:load.peakHourFactor"},
        {"name": "active hours per day", "value": load.active_hours_per_day, "source": "llm-platform:load.activeHoursPerDay"},
        {"name": "share of requests on vLLM (answered + shadow replays)", "value": round(gpu_requests_share(config), 4),
         "source": "llm-platform:traffic.selfHostedPercent, shadow.percent, killSwitch"},
        {"name": "spot discount (%)", "value": cost.spot_discount_percent,
         "source": f"llm-platform:costModel.spotDiscountPercent; default from {sources['spotDiscountPercent']}"},
        {"name": "on-demand share of spot-pool hours (%)",
         "value": cost.on_demand_fallback_percent if config.gpu_pools.spot.on_demand_fallback else 0,
         "source": "llm-platform:costModel.onDemandFallbackPercent, when gpuPools.spot.onDemandFallback is on"},
        {"name": "decode efficiency (share of the bandwidth roofline)", "value": cost.decode_efficiency,
         "source": f"llm-platform:costModel.decodeEfficiency; {sources['decodeEfficiency']}"},
        {"name": "GPU memory overhead per GPU (GiB)", "value": cost.runtime_overhead_gib, "source": "llm-platform:costModel.runtimeOverheadGib"},
        {"name": "reserved capacity", "value": "the reserved pool's gpuLimit, billed around the clock",
         "source": "an ODCR bills on-demand whether used or not; a Capacity Block its purchase price (capacityReservations[].hourlyPriceUsd)"},
        {"name": "spot instance type", "value": "the cheapest per replica the spot pool may launch",
         "source": "Karpenter launches the cheapest type that fits the pod"},
        {"name": "bytes per token on the wire", "value": BYTES_PER_TOKEN_ON_WIRE, "source": "about 4 bytes of text a token, doubled by JSON/SSE framing"},
        {"name": "vLLM image pulled per new GPU node (GB)", "value": VLLM_IMAGE_GB, "source": "vllm/vllm-openai compressed size, estimated"},
        {"name": "NAT data besides OpenAI and image pulls (GB)", "value": cost.nat_data_gb_per_month, "source": "llm-platform:costModel.natDataGbPerMonth"},
        {"name": "control-plane logs per type (GB/month)", "value": cost.control_plane_log_gb_per_type,
         "source": "llm-platform:costModel.controlPlaneLogGbPerType"},
        {"name": "not counted", "value": "SQS interruption queue, EventBridge, Cost Anomaly Detection, AWS Budgets, Route 53 queries, cross-AZ traffic",
         "source": "within free tiers or below a dollar a month at this load"},
    ]


def check(config: StackConfig) -> None:
    """Raise ConfigError, naming the key, when the cost model cannot plan the stack: the model does not fit a GPU the
    pools may launch, or a price or instance type is missing from the tables. Entry points call it right after
    validating the config, so nothing is declared for a stack that cannot run."""
    estimate(config)
    max_monthly_gpu_spend(config)
