"""Synthetic metric histories for the promotion gate's tests, written as OpenMetrics for `promtool tsdb
create-blocks-from openmetrics`: what the router (LiteLLM 1.103.2's Prometheus callback, the names and labels of
/work/research/observability and of a live proxy) would have exported over a window of steady traffic.

Counts are deterministic: each scrape interval adds the same requests, split by share with the remainders carried,
so a history's error rates, fallback rate and latency quantiles are what its parameters say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# LiteLLM's default latency buckets (litellm/types/integrations/prometheus.py LATENCY_BUCKETS), as its exporter
# writes them.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 420.0, 600.0, math.inf)
# The shadow callback's buckets (workloads/router/hooks/llm_platform_shadow.py).
SHADOW_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0, math.inf)
SHADOW_TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, math.inf)
AGREEMENT_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0, math.inf)
MODEL = "gpt-4o-mini"
COMMON = {"hashed_api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b", "api_key_alias": "None",
          "team": "None", "team_alias": "None", "requested_model": MODEL}
DEPLOYMENTS = {
    "self-hosted": {"api_provider": "hosted_vllm", "model_id": f"{MODEL}-self-hosted", "litellm_model_name": "qwen2.5-7b-instruct"},
    "openai": {"api_provider": "openai", "model_id": f"{MODEL}-openai", "litellm_model_name": MODEL},
    "fallback": {"api_provider": "openai", "model_id": f"{MODEL}-openai-fallback", "litellm_model_name": MODEL,
                 "requested_model": f"{MODEL}-openai"},
}


def le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


@dataclass
class Series:
    name: str
    labels: dict[str, str]
    values: list[float] = field(default_factory=list)

    def key(self) -> str:
        inside = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.name}{{{inside}}}"


class Carry:
    """Whole counts per interval whose running total follows ``rate x intervals`` exactly."""

    def __init__(self) -> None:
        self.owed = 0.0

    def take(self, amount: float) -> int:
        self.owed += amount
        whole = int(self.owed)
        self.owed -= whole
        return whole


@dataclass
class RouterHistory:
    """Steady traffic through a split router. Latencies are (seconds, share) pairs: where answers fall."""

    start: float
    end: float
    step: float = 15.0
    requests_per_second: float = 4.0
    self_hosted_share: float = 0.25
    self_hosted_error_rate: float = 0.002
    openai_error_rate: float = 0.001
    fallback_share: float = 0.01  # of the self-hosted share, answered by the fallback group instead
    client_error_rate: float = 0.0005
    self_hosted_ttft: tuple[tuple[float, float], ...] = ((0.08, 0.9), (0.2, 0.08), (0.4, 0.02))
    self_hosted_latency: tuple[tuple[float, float], ...] = ((0.3, 0.95), (0.45, 0.045), (0.9, 0.005))
    streamed_share: float = 0.5
    shadow_share: float = 0.05  # of OpenAI's split answers, replayed to vLLM and compared
    shadow_error_rate: float = 0.002
    agreement: tuple[tuple[float, float], ...] = ((0.0, 0.03), (0.45, 0.5), (0.85, 0.47))  # (score, share of pairs)

    def openmetrics(self) -> str:
        series: dict[str, Series] = {}
        carries: dict[str, Carry] = {}
        totals: dict[str, float] = {}

        def add(name: str, labels: dict[str, str], amount: float) -> None:
            s = Series(name, labels)
            key = s.key()
            carry = carries.setdefault(key, Carry())
            totals[key] = totals.get(key, 0.0) + carry.take(amount)
            series.setdefault(key, s)

        def observe(name: str, labels: dict[str, str], count: float, spread: tuple[tuple[float, float], ...],
                    buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
            for bound in buckets:
                within = sum(share for seconds, share in spread if seconds <= bound)
                add(f"{name}_bucket", {**labels, "le": le(bound)}, count * within)
            add(f"{name}_count", labels, count)
            add(f"{name}_sum", labels, count * sum(seconds * share for seconds, share in spread))

        times = [self.start + i * self.step for i in range(int((self.end - self.start) // self.step) + 1)]
        lines: dict[str, list[str]] = {}
        for moment in times:
            requests = self.requests_per_second * self.step
            hosted_answers = requests * self.self_hosted_share * (1 - self.fallback_share)
            fallback_answers = requests * self.self_hosted_share * self.fallback_share
            openai_answers = requests - hosted_answers - fallback_answers
            for backend, answered, error_rate in (("self-hosted", hosted_answers, self.self_hosted_error_rate),
                                                  ("openai", openai_answers, self.openai_error_rate),
                                                  ("fallback", fallback_answers, 0.0)):
                labels = {**COMMON, **DEPLOYMENTS[backend]}
                attempts = answered / (1 - error_rate)
                add("litellm_deployment_total_requests_total", labels, attempts)
                add("litellm_deployment_success_responses_total", labels, answered)
                if error_rate:
                    add("litellm_deployment_failure_responses_total", {**labels, "exception_status": "500",
                        "exception_class": "Openai.InternalServerError"}, attempts - answered)
                proxy = {k: v for k, v in labels.items() if k != "litellm_model_name"}
                add("litellm_proxy_total_requests_metric_total", {**proxy, "status_code": "200"}, answered * (1 - self.client_error_rate))
                add("litellm_proxy_total_requests_metric_total", {**proxy, "status_code": "500"}, answered * self.client_error_rate)
            hosted = {**COMMON, **{k: v for k, v in DEPLOYMENTS["self-hosted"].items() if k != "litellm_model_name"},
                      "model": "qwen2.5-7b-instruct"}
            observe("litellm_llm_api_time_to_first_token_metric", hosted, hosted_answers * self.streamed_share, self.self_hosted_ttft)
            observe("litellm_request_total_latency_metric", hosted, hosted_answers, self.self_hosted_latency)
            replays = openai_answers * self.shadow_share
            pair = {"model": MODEL, "mode": "shadow"}
            add("llm_shadow_replays_total", {**pair, "backend": "self-hosted", "outcome": "ok"}, replays * (1 - self.shadow_error_rate))
            add("llm_shadow_replays_total", {**pair, "backend": "self-hosted", "outcome": "error"}, replays * self.shadow_error_rate)
            compared = replays * (1 - self.shadow_error_rate)
            side = {**pair, "backend": "self-hosted"}
            observe("llm_shadow_latency_seconds", side, compared, self.self_hosted_latency, SHADOW_LATENCY_BUCKETS)
            observe("llm_shadow_ttft_seconds", side, compared * self.streamed_share, self.self_hosted_ttft, SHADOW_TTFT_BUCKETS)
            observe("llm_shadow_agreement", {**pair, "method": "rouge_l"}, compared, self.agreement, AGREEMENT_BUCKETS)
            for key, value in totals.items():
                lines.setdefault(key, []).append(f"{key} {value:g} {moment:.3f}")
        return "".join("\n".join(samples) + "\n" for samples in lines.values()) + "# EOF\n"
