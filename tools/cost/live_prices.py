"""The hourly price of every GPU node a stack's pools may launch, by instance type and Karpenter capacity type, from
the same tables and assumptions as the cost estimate: what Prometheus multiplies the running nodes by (the Cost
dashboard's live $/hour, workloads/observability/alert-rules.yaml)."""

from __future__ import annotations

from stackconfig import StackConfig

from .prices import on_demand_hourly, pool_candidates

SPOT, ON_DEMAND, RESERVED = "spot", "on-demand", "reserved"  # karpenter.sh/capacity-type values


def gpu_node_hourly_prices(config: StackConfig) -> dict[tuple[str, str], float]:
    """USD per node-hour by (instance type, capacity type): spot at the cost model's discount below on-demand,
    on-demand where the spot pool may fall back, reserved at the reservation's price (a Capacity Block's, where
    config gives it) or on-demand (an On-Demand Capacity Reservation bills on-demand)."""
    prices: dict[tuple[str, str], float] = {}
    spot = config.gpu_pools.spot
    discount = config.cost_model.spot_discount_percent / 100
    for instance in pool_candidates(spot, "spot"):
        on_demand = on_demand_hourly(config, instance.name)
        prices[(instance.name, SPOT)] = round(on_demand * (1 - discount), 4)
        if spot.on_demand_fallback:
            prices[(instance.name, ON_DEMAND)] = on_demand
    reserved = config.gpu_pools.reserved
    if reserved is not None:
        for instance in pool_candidates(reserved, "reserved"):
            prices[(instance.name, RESERVED)] = on_demand_hourly(config, instance.name)
        for reservation in reserved.capacity_reservations:
            if reservation.instance_type and reservation.hourly_price_usd:
                prices[(reservation.instance_type, RESERVED)] = reservation.hourly_price_usd
    return prices
