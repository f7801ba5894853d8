"""The price tables and the worst case the GPU caps allow (max_monthly_gpu_spend), against hand-worked figures."""

from __future__ import annotations

from typing import Any

import pytest

from stackconfig import ConfigError, from_stack_file, parse
from tests.conftest import ROOT, STACKS, raw_config, set_dotted
from tools.cost.prices import hardware, max_monthly_gpu_spend, on_demand_hourly, pool_candidates, price_table

NS = "llm-platform"
HOURS = 730
# us-east-1 on-demand, tools/cost/ec2/us-east-1.yaml
G6E_XLARGE, G6E_4XLARGE, G6E_16XLARGE = 1.861, 3.00424, 7.57719


def config_with(stack: str, changes: dict[str, Any]):
    raw = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(raw, dotted, value)
    return parse(stack, raw)


# The spot pools admit g5, g6 and g6e in sizes xlarge to 4xlarge with one GPU per node: the dearest GPU-hour
# is g6e.4xlarge's. The reserved pools hold ODCRs for g6e.xlarge, billed on demand.
SHIPPED = {
    "dev": 2 * G6E_4XLARGE * HOURS,
    "shadow": 4 * G6E_4XLARGE * HOURS,
    "rollout": 6 * G6E_4XLARGE * HOURS + 2 * G6E_XLARGE * HOURS,
    "prod": 12 * G6E_4XLARGE * HOURS + 4 * G6E_XLARGE * HOURS,
}


@pytest.mark.parametrize("stack", STACKS)
def test_worst_case_of_the_shipped_stacks(stack):
    assert max_monthly_gpu_spend(from_stack_file(stack, ROOT)) == pytest.approx(SHIPPED[stack], abs=0.01)


def test_instance_sizes_bound_the_dearest_node():
    config = config_with("dev", {f"{NS}:gpuPools.spot.instanceSizes": ["xlarge"]})
    assert max_monthly_gpu_spend(config) == pytest.approx(2 * G6E_XLARGE * HOURS, abs=0.01)


def test_dearest_per_gpu_among_multi_gpu_nodes():
    # g6e.12xlarge has 4 GPUs at $10.49/h ($2.62 a GPU); the single-GPU g6e.16xlarge costs $7.58 a GPU-hour.
    config = config_with("dev", {f"{NS}:gpuPools.spot": {"instanceFamilies": ["g6e"], "maxGpusPerNode": 4, "gpuLimit": 4}})
    assert max_monthly_gpu_spend(config) == pytest.approx(4 * G6E_16XLARGE * HOURS, abs=0.01)


def test_eight_gpu_p5_nodes_priced_per_gpu():
    config = config_with("dev", {f"{NS}:gpuPools.spot": {"instanceFamilies": ["p5"], "maxGpusPerNode": 8, "gpuLimit": 8}})
    assert {t.name for t in pool_candidates(config.gpu_pools.spot, "spot")} == {"p5.4xlarge", "p5.48xlarge"}
    assert max_monthly_gpu_spend(config) == pytest.approx(8 * 55.04 / 8 * HOURS, abs=0.01)


def test_capacity_block_at_its_purchase_price():
    reservation = {"id": "cr-0a1b2c3d4e5f60718", "zoneId": "use1-az1", "instanceType": "g6e.xlarge", "hourlyPriceUsd": 1.2}
    config = config_with("rollout", {f"{NS}:gpuPools.reserved.capacityReservations": [reservation]})
    assert max_monthly_gpu_spend(config) == pytest.approx(6 * G6E_4XLARGE * HOURS + 2 * 1.2 * HOURS, abs=0.01)


def test_reservations_found_by_tags_count_at_the_dearest_type_the_pool_admits():
    reserved = {"instanceFamilies": ["g6e"], "instanceSizes": ["xlarge", "2xlarge"], "maxGpusPerNode": 1, "gpuLimit": 2,
                "capacityReservationTags": {"team": "ml"}}
    config = config_with("rollout", {f"{NS}:gpuPools.reserved": reserved})
    assert max_monthly_gpu_spend(config) == pytest.approx(6 * G6E_4XLARGE * HOURS + 2 * 2.24208 * HOURS, abs=0.01)


def test_a_family_the_hardware_table_lacks_is_a_config_error():
    config = config_with("dev", {f"{NS}:gpuPools.spot.instanceFamilies": ["g4ad", "g6"]})
    with pytest.raises(ConfigError) as err:
        max_monthly_gpu_spend(config)
    assert err.value.key == f"{NS}:gpuPools.spot.instanceFamilies"
    assert "g4ad" in str(err.value) and "g6e" in str(err.value)


def test_requirements_no_type_meets_are_a_config_error():
    config = config_with("dev", {f"{NS}:gpuPools.spot": {"instanceFamilies": ["p5"], "instanceSizes": ["xlarge"], "gpuLimit": 2}})
    with pytest.raises(ConfigError) as err:
        max_monthly_gpu_spend(config)
    assert err.value.key == f"{NS}:gpuPools.spot"


def test_a_region_without_a_table_is_priced_from_us_east_1_and_says_so():
    from tools.cost.model import estimate

    config = config_with("dev", {"aws:region": "eu-west-3"})
    assert max_monthly_gpu_spend(config) == pytest.approx(SHIPPED["dev"], abs=0.01)
    assert any("no price tables for eu-west-3" in w and "make prices REGION=eu-west-3" in w for w in estimate(config).warnings)
    # Prices given in config win over the table.
    candidates = [t.name for t in pool_candidates(config.gpu_pools.spot, "spot")]
    priced = config_with("dev", {"aws:region": "eu-west-3", f"{NS}:costModel.onDemandHourlyUsd": {n: 2.0 for n in candidates}})
    assert max_monthly_gpu_spend(priced) == pytest.approx(2 * 2.0 * HOURS)
    assert on_demand_hourly(config_with("dev", {f"{NS}:costModel.onDemandHourlyUsd": {"g6.xlarge": 0.7}}), "g6.xlarge") == 0.7


@pytest.mark.parametrize("bad", [{"g6e.xlarge": 0}, {"not a type": 1.0}])
def test_price_overrides_are_validated(bad):
    with pytest.raises(ConfigError) as err:
        config_with("dev", {f"{NS}:costModel.onDemandHourlyUsd": bad})
    assert err.value.key == f"{NS}:costModel.onDemandHourlyUsd"


def test_every_gpu_type_has_a_price_and_a_sourced_gpu():
    table = price_table()
    assert table["hoursPerMonth"] == HOURS
    for instance in hardware().values():
        assert instance.gpu.source and instance.gpu.memory_bandwidth_gbps > 0
        assert instance.gpus >= 1 and instance.gpu_memory_mib > 8 * 1024
    config = from_stack_file("dev", ROOT)
    for name in hardware():
        assert on_demand_hourly(config, name) > 0
    for name, figure in table["services"]["us-east-1"].items():
        assert figure["source"], name
