"""Prices and GPU hardware, as data, and the worst case a stack's GPU caps allow.

The tables live beside this module: ``ec2/<region>.yaml`` (EC2 on-demand prices, refreshed by `make prices`),
``prices.yaml`` (the other services, OpenAI, assumptions), ``hardware.yaml`` (GPUs per instance type). Nothing
here calls AWS. A price or instance type the tables lack is a config error naming the key to set.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from stackconfig import ConfigError, StackConfig
from stackconfig.model import GpuPoolConfig

DATA = Path(__file__).resolve().parent
EC2_PRICES = DATA / "ec2"


@dataclass(frozen=True)
class Gpu:
    key: str
    name: str
    memory_bandwidth_gbps: float
    source: str


@dataclass(frozen=True)
class InstanceType:
    name: str
    gpu: Gpu
    gpus: int
    gpu_memory_mib: int  # per GPU, as EC2 reports it
    vcpus: int
    memory_mib: int

    @property
    def family(self) -> str:
        return self.name.partition(".")[0]

    @property
    def gpu_memory_gib(self) -> float:
        return self.gpu_memory_mib / 1024


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@functools.cache
def price_table() -> dict[str, Any]:
    return _load(DATA / "prices.yaml")


@functools.cache
def hardware() -> dict[str, InstanceType]:
    table = _load(DATA / "hardware.yaml")
    gpus = {key: Gpu(key, row["name"], float(row["memoryBandwidthGBps"]), row["source"]) for key, row in table["gpus"].items()}
    return {
        name: InstanceType(name, gpus[row["gpu"]], row["gpus"], row["gpuMemoryMiB"], row["vcpus"], row["memoryMiB"])
        for name, row in table["instanceTypes"].items()
    }


@functools.cache
def ec2_price_file(region: str) -> Optional[dict[str, Any]]:
    path = EC2_PRICES / f"{region}.yaml"
    return _load(path) if path.is_file() else None


def hours_per_month() -> int:
    return int(price_table()["hoursPerMonth"])


FALLBACK_REGION = "us-east-1"


def ec2_table_region(config: StackConfig) -> str:
    """The region whose EC2 price table prices the stack: its own, or us-east-1 standing in where none is shipped
    (the estimate says so; `make prices REGION=...` writes the real one)."""
    return config.region if ec2_price_file(config.region) is not None else FALLBACK_REGION


def on_demand_hourly(config: StackConfig, instance_type: str) -> float:
    """USD per instance-hour on demand in the stack's region: config override first, then the price table."""
    overrides = config.cost_model.on_demand_hourly_usd
    if instance_type in overrides:
        return float(overrides[instance_type])
    region = ec2_table_region(config)
    price = ec2_price_file(region)["onDemandHourlyUsd"].get(instance_type)
    if price is None:
        raise ConfigError(
            "llm-platform:costModel.onDemandHourlyUsd",
            f"no on-demand price for {instance_type} in tools/cost/ec2/{region}.yaml; allowed: set "
            f"costModel.onDemandHourlyUsd.{instance_type}, or refresh the table with `make prices REGION={config.region}`",
        )
    return float(price)


def price_warnings(config: StackConfig) -> list[str]:
    if ec2_table_region(config) == config.region:
        return []
    return [f"no price tables for {config.region}: us-east-1 prices stand in (most regions cost more); run "
            f"`make prices REGION={config.region}` with AWS credentials, or set costModel.onDemandHourlyUsd"]


def pools(config: StackConfig) -> dict[str, GpuPoolConfig]:
    """The stack's GPU pools by config key (spot, reserved)."""
    found: dict[str, GpuPoolConfig] = {"spot": config.gpu_pools.spot}
    if config.gpu_pools.reserved is not None:
        found["reserved"] = config.gpu_pools.reserved
    return found


def pool_candidates(pool: GpuPoolConfig, pool_key: str) -> list[InstanceType]:
    """The GPU instance types a pool may launch, read as Karpenter reads its requirements (families, types, sizes
    and the GPU count per node), from the hardware table; a family or type the table lacks is a config error,
    since the worst case and the capacity plan could not be known."""
    known = hardware()
    families = {t.family for t in known.values()}
    key = f"llm-platform:gpuPools.{pool_key}"
    for family in pool.instance_families:
        if family not in families:
            raise ConfigError(
                f"{key}.instanceFamilies",
                f"{family} is not in the GPU hardware table (tools/cost/hardware.yaml); allowed: {', '.join(sorted(families))}",
            )
    for name in pool.instance_types:
        if name not in known:
            raise ConfigError(
                f"{key}.instanceTypes",
                f"{name} is not in the GPU hardware table (tools/cost/hardware.yaml); allowed: GPU instance types "
                f"of the families {', '.join(sorted(families))}",
            )
    candidates = [t for t in known.values() if pool.may_launch(t.name) and t.gpus <= pool.max_gpus_per_node]
    if not candidates:
        raise ConfigError(
            key,
            f"may launch no GPU instance type: instanceFamilies, instanceTypes, instanceSizes and maxGpusPerNode "
            f"({pool.max_gpus_per_node}) admit none together; allowed: requirements some type meets, e.g. g6e.xlarge",
        )
    return candidates


def on_demand_per_gpu_hour(config: StackConfig, instance_type: InstanceType) -> float:
    return on_demand_hourly(config, instance_type.name) / instance_type.gpus


def reserved_per_gpu_hour(config: StackConfig) -> float:
    """What the reserved pool's capacity bills per GPU-hour, at its dearest: a Capacity Block at the price config
    gives, an On-Demand Capacity Reservation at the on-demand price; reservations found by tags (types unknown) at
    the dearest type the pool may launch."""
    reserved = config.gpu_pools.reserved
    assert reserved is not None
    known = hardware()
    candidates = pool_candidates(reserved, "reserved")
    dearest_candidate = max(on_demand_per_gpu_hour(config, t) for t in candidates)
    rates = []
    for reservation in reserved.capacity_reservations:
        if reservation.instance_type is None:
            rates.append(reservation.hourly_price_usd / min(t.gpus for t in candidates)
                         if reservation.hourly_price_usd else dearest_candidate)
            continue
        instance = known[reservation.instance_type]  # the pool admits it (config validation), so the table has it
        hourly = reservation.hourly_price_usd or on_demand_hourly(config, instance.name)
        rates.append(hourly / instance.gpus)
    if reserved.capacity_reservation_tags:
        rates.append(dearest_candidate)
    return max(rates)


def max_monthly_gpu_spend(config: StackConfig) -> float:
    """USD a month if every GPU pool ran at its gpuLimit around the clock on the dearest instance type (per GPU) it
    may launch in the stack's region, at on-demand prices: spot can reach on-demand, an On-Demand Capacity
    Reservation bills on-demand whether used or not, a Capacity Block bills its purchase price where config gives it.

    This is what the GPU caps allow, not what the stack is expected to spend (see tools.cost.model); the budget
    must cover it. Raises ConfigError when a price or instance type is missing from the tables."""
    hours = hours_per_month()
    spot = config.gpu_pools.spot
    total = spot.gpu_limit * max(on_demand_per_gpu_hour(config, t) for t in pool_candidates(spot, "spot")) * hours
    if config.gpu_pools.reserved is not None:
        total += config.gpu_pools.reserved.gpu_limit * reserved_per_gpu_hour(config) * hours
    return round(total, 2)
