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
    has_fallback_group: bool
    kill_switch: bool

    @classmethod
    def of(cls, config: StackConfig) -> "Routing":
        rendered = litellm_config(config.traffic, config.serving, use_redis=False)
        return cls(
            self_hosted_percent=float(config.traffic.effective_self_hosted_percent),
            has_fallback_group=bool(rendered["router_settings"]["fallbacks"]),
            kill_switch=config.traffic.kill_switch,
        )


def evaluate(config: StackConfig, prometheus: Prometheus, window: str) -> list[Result]:
    gate, routing = config.promotion, Routing.of(config)
    minimum = gate.min_samples
    total: Callable[[str], float] = lambda name: prometheus.total(promql(name, window))
    results: list[Result] = []

    def rate(name: str, failures: str, attempts: str, source: str, min_samples: int) -> Result:
        denominator = total(attempts)
        value = 100 * total(failures) / denominator if denominator > 0 else None
        return judged(name, value, gate.max_error_rate_percent, True, "%", denominator, min_samples, source)

    if routing.self_hosted_percent > 0:
        results.append(rate("self-hosted error rate", "self_hosted_failures", "self_hosted_attempts",
                            "router: failed / all attempts on vLLM", minimum.requests))
        ttft = Histogram.from_series(prometheus.query(promql("self_hosted_ttft_buckets", window)))
        results.append(judged("self-hosted TTFT p95", _ms(ttft.quantile(0.95)), gate.max_ttft_p95_ms, True, "ms",
                              ttft.count, minimum.latency, "router: streamed vLLM answers"))
        latency = Histogram.from_series(prometheus.query(promql("self_hosted_latency_buckets", window)))
        results.append(judged("self-hosted latency p99", _ms(latency.quantile(0.99)), gate.max_latency_p99_ms, True, "ms",
                              latency.count, minimum.latency, "router: vLLM answers, end to end"))
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
    return results


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else seconds * 1000
