"""The criteria the gate judges: which apply to the stack's phase, the PromQL behind each, and pass or fail."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Callable, Optional

import yaml

from stackconfig import StackConfig
from workloads.router.routing import litellm_config

from .histogram import Histogram
from .prometheus import Prometheus

QUERIES: dict[str, str] = yaml.safe_load(Path(__file__).with_name("queries.yaml").read_text())

PASS, FAIL, TOO_FEW, NOT_APPLICABLE = "pass", "fail", "too few samples", "n/a"


def promql(name: str, window: str) -> str:
    return Template(QUERIES[name]).substitute(window=window)


@dataclass(frozen=True)
class Result:
    name: str
    value: Optional[float]  # in the unit shown: percent, milliseconds or a score
    limit: float
    at_most: bool  # True: the value must not exceed the limit; False: it must reach it
    unit: str
    samples: float
    min_samples: int
    status: str
    source: str

    def shown(self, number: Optional[float]) -> str:
        if number is None:
            return "-"
        if self.unit == "%":
            return f"{number:.2f} %"
        if self.unit == "ms":
            return f"{number:.0f} ms"
        return f"{number:.2f}"

    @property
    def bound(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.shown(self.limit)}"

    @property
    def shortfall(self) -> str:
        """How a failed criterion misses, e.g. "self-hosted TTFT p95 820 ms > 500 ms"."""
        return f"{self.name} {self.shown(self.value)} {'>' if self.at_most else '<'} {self.shown(self.limit)}"


def judged(name: str, value: Optional[float], limit: float, at_most: bool, unit: str, samples: float,
           min_samples: int, source: str) -> Result:
    if value is None or samples < min_samples:
        status = TOO_FEW if min_samples > 0 else NOT_APPLICABLE
    else:
        status = PASS if (value <= limit if at_most else value >= limit) else FAIL
    return Result(name, value, limit, at_most, unit, samples, min_samples, status, source)


def not_applicable(name: str, limit: float, at_most: bool, unit: str, why: str) -> Result:
    return Result(name, None, limit, at_most, unit, 0.0, 0, NOT_APPLICABLE, why)


@dataclass(frozen=True)
class Routing:
    """What the stack's rendered router does, which decides the criteria that apply."""

    self_hosted_percent: float
    shadow_percent: float  # of OpenAI's split answers, replayed to vLLM
    reverse_check_percent: float  # of vLLM's split answers, also asked of OpenAI
    has_fallback_group: bool
    kill_switch: bool

    @classmethod
    def of(cls, config: StackConfig) -> "Routing":
        traffic = config.traffic
        rendered = litellm_config(traffic, config.serving, use_redis=False)
        return cls(
            self_hosted_percent=float(traffic.effective_self_hosted_percent),
            shadow_percent=traffic.effective_shadow_percent,
            reverse_check_percent=traffic.effective_reverse_check_percent,
            has_fallback_group=bool(rendered["router_settings"]["fallbacks"]),
            kill_switch=traffic.kill_switch,
        )

    @property
    def self_hosted_evidence(self) -> Optional[str]:
        """Where vLLM's behaviour shows: the answers it gives users, else the shadow replays, else nowhere."""
        if self.self_hosted_percent > 0:
            return "router"
        return "shadow" if self.shadow_percent > 0 else None

    @property
    def compares_answers(self) -> bool:
        return self.shadow_percent > 0 or self.reverse_check_percent > 0


@dataclass(frozen=True)
class Evidence:
    """The queries (queries.yaml) behind the self-hosted criteria, and what to call their source."""

    attempts: str
    failures: str
    ttft: str
    latency: str
    errors_from: str
    ttft_from: str
    latency_from: str


EVIDENCE = {
    "router": Evidence("self_hosted_attempts", "self_hosted_failures", "self_hosted_ttft_buckets",
                       "self_hosted_latency_buckets", "router: failed / all attempts on vLLM",
                       "router: streamed vLLM answers", "router: vLLM answers, end to end"),
    "shadow": Evidence("shadow_replays", "shadow_replay_failures", "shadow_ttft_buckets", "shadow_latency_buckets",
                       "shadow replays: errors and timeouts", "shadow replays of streamed requests",
                       "shadow replays, whole answer"),
}


def evaluate(config: StackConfig, prometheus: Prometheus, window: str) -> list[Result]:
    gate, routing = config.promotion, Routing.of(config)
    minimum = gate.min_samples
    total: Callable[[str], float] = lambda name: prometheus.total(promql(name, window))
    results: list[Result] = []

    def rate(name: str, failures: str, attempts: str, source: str, min_samples: int) -> Result:
        denominator = total(attempts)
        value = 100 * total(failures) / denominator if denominator > 0 else None
        return judged(name, value, gate.max_error_rate_percent, True, "%", denominator, min_samples, source)

    evidence = routing.self_hosted_evidence
    if evidence is not None:
        source = EVIDENCE[evidence]
        results.append(rate("self-hosted error rate", source.failures, source.attempts, source.errors_from, minimum.requests))
        ttft = Histogram.from_series(prometheus.query(promql(source.ttft, window)))
        results.append(judged("self-hosted TTFT p95", _ms(ttft.quantile(0.95)), gate.max_ttft_p95_ms, True, "ms",
                              ttft.count, minimum.latency, source.ttft_from))
        latency = Histogram.from_series(prometheus.query(promql(source.latency, window)))
        results.append(judged("self-hosted latency p99", _ms(latency.quantile(0.99)), gate.max_latency_p99_ms, True, "ms",
                              latency.count, minimum.latency, source.latency_from))
    else:
        why = "the kill switch is on" if routing.kill_switch else "nothing is routed to vLLM in this phase"
        results += [
            not_applicable("self-hosted error rate", gate.max_error_rate_percent, True, "%", why),
            not_applicable("self-hosted TTFT p95", gate.max_ttft_p95_ms, True, "ms", why),
            not_applicable("self-hosted latency p99", gate.max_latency_p99_ms, True, "ms", why),
        ]

    if routing.self_hosted_percent < 100:
        results.append(rate("OpenAI error rate", "openai_failures", "openai_attempts",
                            "router: failed / all attempts on OpenAI", minimum.requests))
    else:
        results.append(not_applicable("OpenAI error rate", gate.max_error_rate_percent, True, "%",
                                      "OpenAI answers only fallbacks in this phase"))
    results.append(rate("client-visible 5xx rate", "client_server_errors", "client_requests",
                        "router: 5xx answers / client requests", minimum.requests))

    if routing.has_fallback_group:
        answers = total("answers")
        value = 100 * total("fallback_answers") / answers if answers > 0 else None
        results.append(judged("fallback rate", value, gate.max_fallback_rate_percent, True, "%", answers,
                              minimum.requests, "router: answers by the OpenAI fallback group"))
    else:
        results.append(not_applicable("fallback rate", gate.max_fallback_rate_percent, True, "%",
                                      "the phase has no fallback group"))

    median_name, low_name = "shadow agreement median", f"answers scoring below {gate.low_agreement_score:g}"
    if routing.compares_answers:
        agreement = Histogram.from_series(prometheus.query(promql("agreement_buckets", window)))
        below = agreement.fraction_below(gate.low_agreement_score)
        results.append(judged(median_name, agreement.quantile(0.5), gate.min_agreement_median, False, "score",
                              agreement.count, minimum.shadow_pairs, "shadow pairs (llm_shadow_agreement)"))
        results.append(judged(low_name, None if below is None else 100 * below, gate.max_low_agreement_percent, True, "%",
                              agreement.count, minimum.shadow_pairs, "shadow pairs (llm_shadow_agreement)"))
    else:
        why = "the kill switch is on" if routing.kill_switch else "no answers are compared in this phase"
        results += [not_applicable(median_name, gate.min_agreement_median, False, "score", why),
                    not_applicable(low_name, gate.max_low_agreement_percent, True, "%", why)]
    return results


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else seconds * 1000
