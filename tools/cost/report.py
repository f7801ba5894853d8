"""The plan's cost report: ``build/plan/<stack>/cost.json`` and the table `make plan` prints."""

from __future__ import annotations

from typing import Any, Optional

from stackconfig import StackConfig

from .model import (
    Estimate, assumptions, break_even_requests, estimate, expected_monthly_usd, monthly_budget_usd, worst_case_monthly_usd,
)
from .planner import CapacityPlan, Fit
from .prices import hours_per_month, max_monthly_gpu_spend

TITLE = "Monthly cost estimate"


def _money(value: float) -> float:
    return round(value, 2)


def _fit(fit: Fit) -> dict[str, Any]:
    return {
        "instanceType": fit.instance.name,
        "gpu": fit.instance.gpu.name,
        "gpuMemoryGib": round(fit.instance.gpu_memory_gib, 2),
        "memoryBandwidthGBps": fit.instance.gpu.memory_bandwidth_gbps,
        "weightsGibPerGpu": round(fit.weights_gib_per_gpu, 2),
        "usableGibPerGpu": round(fit.usable_gib_per_gpu, 2),
        "kvCacheGibPerGpu": round(fit.kv_gib_per_gpu, 2),
        "kvCacheTokens": fit.kv_tokens,
        "sequencesAtMaxModelLen": fit.sequences_at_max_len,
        "concurrentSequencesAtRequestLength": fit.batch,
        "decodeTokensPerSecondOneStream": round(fit.stream_tokens_per_second, 1),
        "decodeTokensPerSecondPerReplica": round(fit.replica_tokens_per_second, 1),
    }


def _capacity(config: StackConfig, plan: CapacityPlan) -> dict[str, Any]:
    load = plan.load
    return {
        "model": {"id": plan.spec.id, "paramsBillion": plan.spec.params_billion, "weightsGib": round(plan.weights_gib, 2),
                  "quantization": config.serving.model.quantization, "tensorParallelSize": config.serving.model.tensor_parallel_size,
                  "maxModelLen": config.serving.model.max_model_len, "source": plan.spec.source},
        "fits": [_fit(fit) for fit in sorted(plan.fits.values(), key=lambda f: f.instance.name)],
        "servedOn": {"reserved": plan.reserved_fit.instance.name if plan.reserved_fit else None,
                     "spot": plan.spot_fit.instance.name},
        "load": {
            "requestsOnVllmPerMonth": round(load.requests_per_month),
            "outputTokensOnVllmPerMonth": round(load.output_tokens_per_month),
            "activeHoursPerMonth": round(load.active_hours, 1),
            "averageOutputTokensPerSecond": round(load.average_demand_tps, 1),
            "peakOutputTokensPerSecond": round(load.peak_demand_tps, 1),
            "replicasAverage": {"reserved": load.average.reserved, "spot": load.average.spot},
            "replicasAtPeak": {"reserved": load.peak.reserved, "spot": load.peak.spot},
            "replicasOutsideActiveHours": {"reserved": load.idle.reserved, "spot": load.idle.spot},
            "peakUnservedTokensPerSecond": round(load.peak_unserved_tps, 1),
            "gpuHoursPerMonth": {
                "reserved": round(load.reserved_replica_hours * config.serving.model.tensor_parallel_size, 1),
                "spot": round(load.spot_replica_hours * config.serving.model.tensor_parallel_size, 1),
            },
        },
    }


def _per(total: float, count: float, unit: float) -> Optional[float]:
    return round(total / (count / unit), 4) if count else None


def content(config: StackConfig) -> dict[str, Any]:
    """cost.json: items, totals, unit costs, break-even, budget, the capacity plan and every assumption."""
    e: Estimate = estimate(config)
    load = config.load
    output_tokens = load.requests_per_month * load.output_tokens_per_request
    self_answered_tokens = output_tokens * config.traffic.effective_self_hosted_percent / 100
    break_even = break_even_requests(config)
    worst = worst_case_monthly_usd(e)
    budget = monthly_budget_usd(config)
    expected = expected_monthly_usd(config)
    return {
        "stack": config.stack,
        "phase": config.phase,
        "region": config.region,
        "currency": "USD",
        "hoursPerMonth": hours_per_month(),
        "items": [
            {"category": i.category, "item": i.name, "quantity": round(i.quantity, 4), "unit": i.unit,
             "unitUsd": round(i.unit_usd, 6), "monthlyUsd": _money(i.monthly_usd), "source": i.source}
            for i in e.items
        ],
        "totals": {
            "byCategory": {category: _money(usd) for category, usd in e.by_category().items()},
            "awsMonthlyUsd": _money(e.aws_monthly_usd),
            "openaiMonthlyUsd": _money(e.openai.monthly_usd),
            "phaseMonthlyUsd": _money(e.phase_monthly_usd),
            "allOpenaiMonthlyUsd": _money(e.all_openai_monthly_usd),
        },
        "unitCosts": {
            "perMillionOutputTokensUsd": _per(e.phase_monthly_usd, output_tokens, 1e6),
            "perThousandRequestsUsd": _per(e.phase_monthly_usd, load.requests_per_month, 1e3),
            "selfHostedPerMillionOutputTokensUsd": _per(e.aws_monthly_usd, self_answered_tokens, 1e6),
            "openaiOnlyPerMillionOutputTokensUsd": _per(e.all_openai_monthly_usd, output_tokens, 1e6),
            "openaiOnlyPerThousandRequestsUsd": _per(e.all_openai_monthly_usd, load.requests_per_month, 1e3),
        },
        "openai": {"models": e.openai.models, "requestsPerMonth": round(e.openai.requests),
                   "usdPerRequest": round(e.openai.usd_per_request, 8), "source": e.openai.source},
        "breakEven": {
            "requestsPerMonth": round(break_even) if break_even else None,
            "note": _break_even_note(config, break_even),
        },
        "budget": {
            "monthlyLimitUsd": budget,
            "source": "config (budget.monthlyLimitUsd)" if config.budget.monthly_limit_usd is not None
            else f"derived: the larger of the estimate plus {config.budget.headroom_percent} % and the worst case at the GPU caps",
            "estimateWithHeadroomUsd": _money(e.aws_monthly_usd * (1 + config.budget.headroom_percent / 100)),
            "spendAboveEstimateAlertUsd": expected if expected < budget else None,
            "worstCaseAtGpuCapsUsd": _money(worst),
            "maxMonthlyGpuSpendUsd": max_monthly_gpu_spend(config),
        },
        "capacity": _capacity(config, e.capacity),
        "assumptions": assumptions(config),
        "warnings": e.warnings + _budget_warnings(config, budget, worst, e) + _latency_objective_warnings(config, e.capacity),
    }


def _break_even_note(config: StackConfig, break_even: Optional[float]) -> str:
    share = config.traffic.effective_self_hosted_percent
    if share == 0:
        return "this phase answers nothing self-hosted: it pays for the GPUs and for OpenAI, and never breaks even"
    if break_even is None:
        return f"no volume up to 10 billion requests a month makes {share} % self-hosted cheaper than OpenAI alone"
    return (f"from this many requests a month, the phase ({share} % self-hosted, the rest on OpenAI) costs less than "
            "OpenAI alone, with replicas and GPU limits grown to the load")


def _budget_warnings(config: StackConfig, budget: float, worst: float, e: Estimate) -> list[str]:
    warnings = []
    if budget < worst:
        warnings.append(f"budget ${budget:,.0f} is below the ${worst:,.0f} the GPU caps allow: lower gpuPools.*.gpuLimit or "
                        "instanceSizes, or raise budget.monthlyLimitUsd")
    if budget < e.aws_monthly_usd:
        warnings.append(f"budget ${budget:,.0f} is below the estimate ${e.aws_monthly_usd:,.0f}")
    return warnings


def _latency_objective_warnings(config: StackConfig, plan: CapacityPlan) -> list[str]:
    """An end-to-end objective below the time an average answer takes to decode on the slowest GPU serving it can
    never be met: its alert would page all the time and the promotion gate would never pass."""
    served = [fit for fit in (plan.reserved_fit, plan.spot_fit) if fit is not None]
    slowest = min(served, key=lambda fit: fit.stream_tokens_per_second)
    tokens = config.load.output_tokens_per_request
    floor_ms = tokens / slowest.stream_tokens_per_second * 1000
    objectives = (("llm-platform:observability.alerts.p99LatencyMs", config.observability.alerts.p99_latency_ms),
                  ("llm-platform:promotion.maxLatencyP99Ms", config.promotion.max_latency_p99_ms))
    return [
        f"{key} ({value:,} ms) is below the decode time of an average answer: {tokens} tokens at most "
        f"{slowest.stream_tokens_per_second:.1f} tokens/s a stream on {slowest.instance.name} take at least "
        f"{floor_ms:,.0f} ms, so the end-to-end p99 cannot meet it; set it for your answers' length"
        for key, value in objectives if value < floor_ms
    ]


def summary(report: dict[str, Any]) -> list[str]:
    """The table `make plan` prints."""
    lines = [f"{'category':<14} {'item':<58} {'quantity':>10} {'unit':<22} {'$/unit':>9} {'$/month':>10}"]
    for item in report["items"]:
        name = item["item"] if len(item["item"]) <= 58 else item["item"][:55] + "..."
        unit = item["unit"] if len(item["unit"]) <= 22 else item["unit"][:21] + "~"
        lines.append(f"{item['category']:<14} {name:<58} {item['quantity']:>10,.1f} {unit:<22} "
                     f"{item['unitUsd']:>9.4f} {item['monthlyUsd']:>10,.2f}")
    totals, units = report["totals"], report["unitCosts"]
    openai = report["openai"]
    lines += [
        f"{'AWS total':<117}{totals['awsMonthlyUsd']:>10,.2f}",
        f"{'OpenAI for ' + format(openai['requestsPerMonth'], ',') + ' requests (' + ', '.join(openai['models']) + ')':<117}"
        f"{totals['openaiMonthlyUsd']:>10,.2f}",
        f"{'phase total':<117}{totals['phaseMonthlyUsd']:>10,.2f}",
        f"everything on OpenAI instead: ${totals['allOpenaiMonthlyUsd']:,.2f}/month",
        f"$ per 1M output tokens: {_usd(units['perMillionOutputTokensUsd'])} (OpenAI alone {_usd(units['openaiOnlyPerMillionOutputTokensUsd'])}); "
        f"$ per 1,000 requests: {_usd(units['perThousandRequestsUsd'])} (OpenAI alone {_usd(units['openaiOnlyPerThousandRequestsUsd'])})",
    ]
    break_even = report["breakEven"]["requestsPerMonth"]
    lines.append(f"break-even: {break_even:,} requests/month" if break_even else f"break-even: none ({report['breakEven']['note']})")
    budget = report["budget"]
    lines.append(f"budget: ${budget['monthlyLimitUsd']:,.0f}/month, {budget['source']} (estimate + headroom "
                 f"${budget['estimateWithHeadroomUsd']:,.0f}, worst case at the GPU caps ${budget['worstCaseAtGpuCapsUsd']:,.0f})")
    if budget["spendAboveEstimateAlertUsd"] is not None:
        lines.append(f"budget alerts on spend above the estimate: actual or forecast over ${budget['spendAboveEstimateAlertUsd']:,.0f}/month")
    capacity = report["capacity"]
    model, load = capacity["model"], capacity["load"]
    for pool, instance_type in capacity["servedOn"].items():
        if instance_type is None:
            continue
        fit = next(f for f in capacity["fits"] if f["instanceType"] == instance_type)
        lines.append(
            f"capacity ({pool}): {model['id']} on {instance_type} ({fit['gpu']}, {fit['gpuMemoryGib']} GiB): weights "
            f"{fit['weightsGibPerGpu']} GiB/GPU, KV cache {fit['kvCacheGibPerGpu']} GiB = {fit['sequencesAtMaxModelLen']} "
            f"sequences at {model['maxModelLen']:,} tokens, {fit['concurrentSequencesAtRequestLength']} at the request's "
            f"length; decode <= {fit['decodeTokensPerSecondOneStream']} tokens/s per stream, "
            f"{fit['decodeTokensPerSecondPerReplica']:,} per replica"
        )
    lines.append(
        f"load: {load['averageOutputTokensPerSecond']:,} output tokens/s on average, {load['peakOutputTokensPerSecond']:,} at peak -> "
        f"replicas {_replicas(load['replicasAverage'])} on average, {_replicas(load['replicasAtPeak'])} at peak; "
        f"GPU-hours/month reserved {load['gpuHoursPerMonth']['reserved']:,.0f}, spot {load['gpuHoursPerMonth']['spot']:,.0f}"
    )
    lines += [f"warning: {warning}" for warning in report["warnings"]]
    return lines


def _usd(value: Optional[float]) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _replicas(placement: dict[str, int]) -> str:
    return f"{placement['reserved'] + placement['spot']} ({placement['reserved']} reserved, {placement['spot']} spot)"


def build(config: StackConfig, recording: Any) -> dict[str, Any]:
    """The plan's Report.build: the recording is not needed, the estimate derives from config alone (so the budget
    the program declares can derive from it too)."""
    return content(config)
