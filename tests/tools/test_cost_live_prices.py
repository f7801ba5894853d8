"""The live GPU prices Prometheus uses come from the cost model's tables and assumptions, per capacity type."""

from __future__ import annotations

import pytest

from stackconfig import from_stack_file, parse
from tests.conftest import ROOT, raw_config, set_dotted
from tools.cost.live_prices import gpu_node_hourly_prices
from tools.cost.prices import on_demand_hourly

from tests.workloads.observability.conftest import rule_groups


def test_prod_prices_spot_on_demand_fallback_and_reservations():
    config = from_stack_file("prod", ROOT)
    prices = gpu_node_hourly_prices(config)
    discount = config.cost_model.spot_discount_percent / 100
    g6e = on_demand_hourly(config, "g6e.xlarge")
    assert prices[("g6e.xlarge", "spot")] == pytest.approx(g6e * (1 - discount), abs=1e-4)
    assert prices[("g6e.xlarge", "on-demand")] == g6e, "the spot pool may fall back to on-demand in prod"
    assert prices[("g6e.xlarge", "reserved")] == g6e, "an On-Demand Capacity Reservation bills on-demand"
    assert {capacity for _, capacity in prices} == {"spot", "on-demand", "reserved"}
    assert ("g5.4xlarge", "spot") in prices and ("p5.48xlarge", "spot") not in prices, "only what the pools may launch"


def test_dev_has_spot_prices_only_and_a_capacity_block_bills_its_own_price(tmp_path):
    dev = gpu_node_hourly_prices(from_stack_file("dev", ROOT))
    assert {capacity for _, capacity in dev} == {"spot"}

    raw = raw_config("rollout")
    set_dotted(raw, "llm-platform:gpuPools.reserved.capacityReservations",
               [{"id": "cr-0a1b2c3d4e5f60718", "zoneId": "use1-az1", "instanceType": "g6e.xlarge", "hourlyPriceUsd": 1.25}])
    assert gpu_node_hourly_prices(parse("rollout", raw))[("g6e.xlarge", "reserved")] == 1.25


def test_each_stack_records_the_prices_its_pools_may_cost(any_plan):
    (recording,) = [g for g in rule_groups(any_plan) if g["name"] == "llm-platform.recording"]
    config = from_stack_file(any_plan.recording.stack, ROOT)
    expected = gpu_node_hourly_prices(config)
    prices = [r for r in recording["rules"] if r.get("record") == "llm_platform:gpu_instance_hourly_price_usd"]
    recorded = {(r["labels"]["instance_type"], r["labels"]["capacity_type"]): float(r["expr"][len("vector("):-1])
                for r in prices}
    assert recorded == pytest.approx(expected)
    # In the same group and before what multiplies by them: a group's rules run in order, groups side by side.
    first_user = next(i for i, r in enumerate(recording["rules"]) if r.get("record") == "llm_platform:gpu_nodes_hourly_usd")
    assert all(recording["rules"].index(rule) < first_user for rule in prices)
