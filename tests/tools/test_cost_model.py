"""The cost model: totals are the sum of the items, items follow what the program declares, break-even and the
budget follow their definitions and the migration plan's example."""

from __future__ import annotations

import math

import pytest

from stackconfig import ConfigError, from_stack_file
from tests.conftest import ROOT, STACKS, raw_config, set_dotted
from tests.stackconfig.test_validation import assert_one_line_error, run_plan, write_stack
from tests.tools.test_cost_prices import config_with
from tools.cost.model import at_volume, break_even_requests, estimate, monthly_budget_usd, openai_bill, worst_case_monthly_usd
from tools.cost.prices import max_monthly_gpu_spend
from tools.cost.report import content, summary

NS = "llm-platform"


@pytest.fixture(scope="module")
def reports():
    return {stack: content(from_stack_file(stack, ROOT)) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_totals_are_the_sum_of_the_items(reports, stack):
    report = reports[stack]
    items = report["items"]
    totals = report["totals"]
    assert totals["awsMonthlyUsd"] == pytest.approx(sum(i["monthlyUsd"] for i in items), abs=0.01 * len(items))
    assert sum(totals["byCategory"].values()) == pytest.approx(totals["awsMonthlyUsd"], abs=0.05)
    assert totals["phaseMonthlyUsd"] == pytest.approx(totals["awsMonthlyUsd"] + totals["openaiMonthlyUsd"], abs=0.01)
    for item in items:
        assert item["monthlyUsd"] == pytest.approx(item["quantity"] * item["unitUsd"], abs=0.01)
        assert item["source"], item["item"]
    assert all(a["source"] for a in report["assumptions"])


def test_items_follow_what_the_program_declares(plans):
    """The estimate reads config, so the budget can derive from it; these checks keep it honest against the plan."""
    for stack, plan in plans.items():
        items = {i.name: i for i in estimate(from_stack_file(stack, ROOT)).items}
        nat = next(i for name, i in items.items() if name.startswith("NAT gateways"))
        assert nat.quantity == len(plan.of_type("aws:ec2/natGateway:NatGateway")) * 730, stack
        interface = [r for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if r.inputs.get("vpcEndpointType") == "Interface"]
        endpoints = next(i for name, i in items.items() if name.startswith("interface endpoints"))
        assert endpoints.quantity == sum(len(r.inputs["subnetIds"]) for r in interface) * 730, stack
        keys = next(i for name, i in items.items() if name.startswith("KMS keys"))
        assert keys.quantity == len(plan.of_type("aws:kms/key:Key")), stack
        db = plan.one("aws:rds/instance:Instance").inputs
        assert any(db["instanceClass"] in name for name in items), stack
        caches = plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
        assert bool(caches) == any(name.startswith("ElastiCache") for name in items), stack
        (pool_class,) = [r.inputs for r in plan.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")]
        size = pool_class["spec"]["blockDeviceMappings"][-1]["ebs"]["volumeSize"]
        assert any(f"({size.removesuffix('Gi')} GiB gp3" in name for name in items), stack


def test_budget_reaches_the_alarm(plans):
    for stack, plan in plans.items():
        budget = plan.one("aws:budgets/budget:Budget").inputs
        assert budget["limitAmount"] == f"{monthly_budget_usd(from_stack_file(stack, ROOT)):.2f}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_budget_never_falls_below_what_the_gpu_caps_allow(stack):
    config = from_stack_file(stack, ROOT)
    assert monthly_budget_usd(config) >= max_monthly_gpu_spend(config)
    assert monthly_budget_usd(config) >= worst_case_monthly_usd(estimate(config))


def test_derived_budget_by_hand():
    # dev sets no budget; its GPU caps (2 GPUs up to g6e.4xlarge on demand, $4,386) dwarf the estimate, so the budget
    # is the worst case: platform + $4,386.19 + 2 GPU node volumes, rounded up to $100.
    config = from_stack_file("dev", ROOT)
    e = estimate(config)
    assert config.budget.monthly_limit_usd is None
    platform = sum(i.monthly_usd for i in e.items if i.category != "GPU nodes" and not i.gpu_dependent)
    worst = platform + 2 * 3.00424 * 730 + 2 * 46.0
    assert worst > 1.2 * e.aws_monthly_usd
    assert monthly_budget_usd(config) == math.ceil(worst / 100) * 100
    # With caps that allow little more than the estimate, the estimate plus headroom sets it.
    tight = config_with("dev", {f"{NS}:gpuPools.spot": {"instanceFamilies": ["g6"], "instanceSizes": ["2xlarge"], "gpuLimit": 2},
                                f"{NS}:serving.replicas": {"min": 2, "max": 2}, f"{NS}:budget.headroomPercent": 100})
    tight_estimate = estimate(tight)
    assert 2 * tight_estimate.aws_monthly_usd > worst_case_monthly_usd(tight_estimate)
    assert monthly_budget_usd(tight) == math.ceil(2 * tight_estimate.aws_monthly_usd / 100) * 100
    # A stack's own budget wins.
    assert monthly_budget_usd(from_stack_file("prod", ROOT)) == 40000


def test_break_even_of_the_migration_plans_example_by_hand():
    # The migration plan's load: 1M requests a month, 200-token answers (and 500-token prompts), here on prod
    # (95 % self-hosted) replacing gpt-4o ($2.50 / $10 per 1M tokens): $0.00325 a request on OpenAI.
    config = config_with("prod", {f"{NS}:traffic.openaiModels": [{"name": "gpt-4o"}]})
    e = estimate(config)
    assert e.openai.usd_per_request == pytest.approx((500 * 2.50 + 200 * 10.0) / 1e6)
    assert e.all_openai_monthly_usd == pytest.approx(3250.0)
    # At 1M requests the stack (its reserved GPUs, paid anyway) costs more than OpenAI alone: no saving yet.
    assert e.phase_monthly_usd > e.all_openai_monthly_usd
    # Until the reservations fill, AWS costs F + v x V (v: egress, NLB and NAT bytes); the phase saves
    # 0.95 x $0.00325 on every request, less the reverse check that asks OpenAI again for 1 % of the self-hosted
    # answers (its $100 budget is not reached at this volume): break-even V = F / (0.95 x 0.99 x 0.00325 - v).
    f_plus_v = at_volume(config, 1e6).aws_monthly_usd
    v = (at_volume(config, 2e6).aws_monthly_usd - f_plus_v) / 1e6
    fixed = f_plus_v - v * 1e6
    expected = fixed / (0.95 * 0.99 * 0.00325 - v)
    assert expected == pytest.approx(2.243e6, rel=0.002)  # $6,841 of platform and reserved GPUs a month
    assert break_even_requests(config) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("stack", ["dev", "rollout", "prod"])
def test_break_even_is_where_the_costs_cross(stack):
    config = from_stack_file(stack, ROOT)
    volume = break_even_requests(config)
    assert volume is not None
    at, below = at_volume(config, volume), at_volume(config, volume * 0.99)
    assert at.phase_monthly_usd <= at.all_openai_monthly_usd
    assert below.phase_monthly_usd > below.all_openai_monthly_usd


def test_rollout_pays_for_both_and_shadow_never_breaks_even(reports):
    rollout, shadow = reports["rollout"], reports["shadow"]
    # rollout answers 25 %: OpenAI still bills the other 75 %.
    assert rollout["openai"]["requestsPerMonth"] == 750_000
    assert rollout["totals"]["openaiMonthlyUsd"] == pytest.approx(0.75 * rollout["totals"]["allOpenaiMonthlyUsd"], abs=0.01)
    # shadow answers nothing itself and still runs the GPUs for the replayed share.
    assert shadow["totals"]["openaiMonthlyUsd"] == shadow["totals"]["allOpenaiMonthlyUsd"]
    assert shadow["breakEven"]["requestsPerMonth"] is None and "never breaks even" in shadow["breakEven"]["note"]
    # A smaller self-hosted share needs more volume to pay off the same kind of platform.
    assert rollout["breakEven"]["requestsPerMonth"] > reports["prod"]["breakEven"]["requestsPerMonth"]


def test_unit_costs(reports):
    prod = reports["prod"]
    units, totals = prod["unitCosts"], prod["totals"]
    assert units["perMillionOutputTokensUsd"] == pytest.approx(totals["phaseMonthlyUsd"] / 200, abs=1e-3)  # 200M tokens
    assert units["perThousandRequestsUsd"] == pytest.approx(totals["phaseMonthlyUsd"] / 1000, abs=1e-3)
    assert units["openaiOnlyPerMillionOutputTokensUsd"] == pytest.approx(195.0 / 200, abs=1e-4)
    assert reports["shadow"]["unitCosts"]["selfHostedPerMillionOutputTokensUsd"] is None


def test_spot_and_fallback_hours():
    # 10M requests on dev: 2 spot replicas around the clock (the caps), at 40 % below g6.2xlarge's $0.9776
    # (the smallest L4 node that holds the vLLM pod's 18 GiB).
    e = estimate(config_with("dev", {f"{NS}:load": {"requestsPerMonth": 10_000_000}}))
    (spot,) = [i for i in e.items if i.name.startswith("spot:")]
    assert spot.quantity == 2 * 730 and spot.unit_usd == pytest.approx(0.9776 * 0.6)
    assert not [i for i in e.items if i.name.startswith("on-demand fallback")]
    fallback = estimate(config_with("dev", {f"{NS}:load": {"requestsPerMonth": 10_000_000},
                                            f"{NS}:gpuPools.spot.onDemandFallback": True}))
    hours = {i.name.split(":")[0]: i.quantity for i in fallback.items if i.category == "GPU nodes"}
    assert hours == {"spot": pytest.approx(0.9 * 2 * 730), "on-demand fallback": pytest.approx(0.1 * 2 * 730)}


def test_openai_prices_from_config_or_a_config_error():
    with pytest.raises(ConfigError) as err:
        estimate(config_with("dev", {f"{NS}:traffic.openaiModels": [{"name": "gpt-4o-mini"}, {"name": "acme-llm"}]}))
    assert err.value.key == f"{NS}:traffic.openaiModels[1].name"
    priced = estimate(config_with("dev", {
        f"{NS}:traffic.openaiModels": [{"name": "gpt-4o-mini"}, {"name": "acme-llm"}],
        f"{NS}:costModel.openaiPrices": {"acme-llm": {"inputPerMillionUsd": 1.0, "outputPerMillionUsd": 4.0}},
    }))
    # Requests spread evenly over the two names.
    assert priced.openai.usd_per_request == pytest.approx(((500 * 0.15 + 200 * 0.6) + (500 * 1.0 + 200 * 4.0)) / 2e6)


def test_an_unpriced_database_class_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        estimate(config_with("prod", {f"{NS}:traffic.router.store.dbInstanceClass": "db.x9.huge"}))
    assert err.value.key == f"{NS}:traffic.router.store.dbInstanceClass"


def test_summary_prints_the_table_and_the_verdicts(reports):
    lines = summary(reports["rollout"])
    text = "\n".join(lines)
    assert lines[0].split()[:2] == ["category", "item"]
    assert "AWS total" in text and "phase total" in text and "$ per 1M output tokens" in text
    assert "break-even: 75," in text and "budget: $17,100/month, derived" in text
    assert "capacity (reserved): Qwen/Qwen2.5-7B-Instruct on g6e.xlarge" in text
    assert "capacity (spot): Qwen/Qwen2.5-7B-Instruct on g6.2xlarge" in text


# Bounds of the config the cost model reads: one line naming the key, exit 2, through the plan's command line.
COST_RULES = [
    ("peak below the average", {f"{NS}:load.peakHourFactor": 0.5}, f"{NS}:load.peakHourFactor"),
    ("more than 24 active hours", {f"{NS}:load.activeHoursPerDay": 25}, f"{NS}:load.activeHoursPerDay"),
    ("negative request volume", {f"{NS}:load.requestsPerMonth": -1}, f"{NS}:load.requestsPerMonth"),
    ("efficiency above the roofline", {f"{NS}:costModel.decodeEfficiency": 1.5}, f"{NS}:costModel.decodeEfficiency"),
    ("spot discount of 99 %", {f"{NS}:costModel.spotDiscountPercent": 99}, f"{NS}:costModel.spotDiscountPercent"),
    ("negative OpenAI price", {f"{NS}:costModel.openaiPrices": {"gpt-4o-mini": {"inputPerMillionUsd": -1, "outputPerMillionUsd": 1}}},
     f"{NS}:costModel.openaiPrices.gpt-4o-mini.inputPerMillionUsd"),
    ("negative budget headroom", {f"{NS}:budget.headroomPercent": -5}, f"{NS}:budget.headroomPercent"),
    ("embedding larger than the model", {f"{NS}:serving.model.architecture": {"paramsBillion": 1, "embeddingParamsBillion": 2,
                                                                               "layers": 2, "kvHeads": 2, "headDim": 64}},
     f"{NS}:serving.model.architecture"),
    ("free Capacity Block", {f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2, "capacityReservations": [
        {"id": "cr-0a1b2c3d4e5f60718", "hourlyPriceUsd": 0}]}}, f"{NS}:gpuPools.reserved.capacityReservations[0].hourlyPriceUsd"),
    ("a 70B model downloaded into vLLM's cache volume", {f"{NS}:serving.weightsCache": "none",
                                                          f"{NS}:serving.model.id": "meta-llama/Llama-3.1-70B-Instruct"},
     f"{NS}:serving.weightsCache"),
    ("an OpenAI model without a price", {f"{NS}:traffic.openaiModels": [{"name": "acme-llm"}]}, f"{NS}:traffic.openaiModels[0].name"),
]


@pytest.mark.parametrize("rule, changes, key", COST_RULES, ids=[rule for rule, _, _ in COST_RULES])
def test_cost_rule(rule, changes, key, tmp_path, capsys):
    config = raw_config("dev")
    for dotted, value in changes.items():
        set_dotted(config, dotted, value)
    write_stack(tmp_path, config)
    assert_one_line_error(*run_plan(tmp_path, capsys), key)


def test_a_model_that_fits_the_cache_volume_may_be_downloaded_by_each_replica():
    config = config_with("dev", {f"{NS}:serving.weightsCache": "none"})  # 14.2 GiB of Qwen2.5-7B in 50 GiB
    assert estimate(config).capacity.weights_gib < 45


def test_the_reverse_check_is_billed_up_to_its_budget():
    """prod's reverse check asks OpenAI again for a share of the self-hosted answers: on the bill, never above its cap."""
    off = openai_bill(config_with("prod", {f"{NS}:traffic.shadow.reverseCheck.enabled": False}))
    small = openai_bill(config_with("prod", {f"{NS}:traffic.shadow.reverseCheck": {"enabled": True, "percent": 1, "monthlyBudgetUsd": 1000}}))
    capped = openai_bill(config_with("prod", {f"{NS}:traffic.shadow.reverseCheck": {"enabled": True, "percent": 10, "monthlyBudgetUsd": 5}}))
    assert small.requests - off.requests == pytest.approx(1_000_000 * 0.95 * 0.01)
    assert (capped.requests - off.requests) * capped.usd_per_request == pytest.approx(5)
    killed = openai_bill(config_with("prod", {f"{NS}:traffic.killSwitch": True}))
    assert killed.requests == 1_000_000, "the kill switch stops reverse checks: OpenAI answers each request once"


def test_an_end_to_end_objective_shorter_than_decoding_an_answer_is_reported(reports):
    """200 tokens at the L4's per-stream bound (g6.2xlarge, the spot pools' vLLM node) take about 20 s: a 1,000 ms
    end-to-end p99 (the migration plan's figure) would page all the time and never let a promotion pass."""
    assert all(not any("p99" in w for w in report["warnings"]) for report in reports.values())
    tight = content(config_with("rollout", {f"{NS}:observability.alerts.p99LatencyMs": 1000,
                                            f"{NS}:promotion.maxLatencyP99Ms": 15000}))
    (l4,) = [fit for fit in tight["capacity"]["fits"] if fit["instanceType"] == "g6.2xlarge"]
    floor = 200 / l4["decodeTokensPerSecondOneStream"] * 1000
    assert 15000 < floor < 30000
    alert, gate = [w for w in tight["warnings"] if "p99" in w]
    assert alert.startswith(f"{NS}:observability.alerts.p99LatencyMs (1,000 ms) is below the decode time")
    assert gate.startswith(f"{NS}:promotion.maxLatencyP99Ms (15,000 ms) is below the decode time")
    stated = float(alert.split("take at least ")[1].split(" ms")[0].replace(",", ""))
    assert stated == pytest.approx(floor, rel=0.01) and "on g6.2xlarge" in alert  # the report rounds tokens/s
    short_answers = content(config_with("rollout", {f"{NS}:load.outputTokensPerRequest": 20,
                                                    f"{NS}:observability.alerts.p99LatencyMs": 5000}))
    assert not any("p99" in w for w in short_answers["warnings"]), "20-token answers decode in about 2 s"
