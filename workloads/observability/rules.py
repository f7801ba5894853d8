"""The platform's alert and recording rules: alert-rules.yaml with the stack's thresholds filled in."""

from __future__ import annotations

import copy
import functools
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic.alias_generators import to_camel

RULES_FILE = Path(__file__).with_name("alert-rules.yaml")
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class RuleParameters:
    """Every ${name} in alert-rules.yaml (camelCase there). None leaves out the rules that require it."""

    runbook_url: str  # docs/runbook.md as the team reads it; each alert links to its own section
    p99_latency_ms: int
    ttft_p95_ms: int
    error_rate_percent: float
    queue_depth: int
    kv_cache_usage_percent: int
    preemptions_per_ten_minutes: int
    fallback_rate_percent: float
    gpu_utilization_floor_percent: int
    gpu_idle_window: str
    gpu_pod_pending_minutes: int
    spot_interruptions_per_hour: int
    storage_free_percent: int
    certificate_expiry_days: int
    prometheus_retention: str
    serving_namespace: str
    vllm_deployment: str
    storage_namespaces: tuple[str, ...]
    vllm_min_replicas: Optional[int] = None  # None where vLLM may scale to zero
    min_requests_per_second: Optional[float] = None
    fallback_model_id_pattern: Optional[str] = None  # None where the router has no OpenAI fallback
    router_shares_state: Optional[bool] = None  # True where router replicas share limits through Valkey
    openai_monthly_budget_usd: Optional[float] = None  # None where OpenAI answers nothing
    # USD per node-hour by (instance type, capacity type), from the cost model's tables (tools/cost/live_prices.py).
    gpu_node_hourly_prices: tuple[tuple[str, str, float], ...] = ()

    def placeholders(self) -> dict[str, Optional[str]]:
        values: dict[str, Optional[str]] = {}
        for field in dataclasses.fields(self):
            if field.name == "gpu_node_hourly_prices":
                continue
            value = getattr(self, field.name)
            values[to_camel(field.name)] = None if value is None else _text(value)
        # Derived units: PromQL compares seconds and ratios.
        values["p99LatencySeconds"] = _text(self.p99_latency_ms / 1000)
        values["ttftP95Seconds"] = _text(self.ttft_p95_ms / 1000)
        values["errorRatio"] = _text(self.error_rate_percent / 100)
        values["fallbackRatio"] = _text(self.fallback_rate_percent / 100)
        values["kvCacheRatio"] = _text(self.kv_cache_usage_percent / 100)
        values["storageNamespaces"] = "|".join(self.storage_namespaces)
        return values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def runbook_anchor(alert: str) -> str:
    """The section of docs/runbook.md for an alert: its heading is the alert's name (GitHub's anchor rule)."""
    return alert.lower()


PRICE_METRIC = "llm_platform:gpu_instance_hourly_price_usd"
RECORDING_GROUP = "llm-platform.recording"


def price_rules(parameters: RuleParameters) -> list[dict[str, Any]]:
    """A constant series per (instance type, capacity type) the pools may launch: the price the Cost dashboard and
    llm_platform:gpu_nodes_hourly_usd multiply running nodes by."""
    return [
        {"record": PRICE_METRIC, "expr": f"vector({price:g})",
         "labels": {"instance_type": instance_type, "capacity_type": capacity_type}}
        for instance_type, capacity_type, price in sorted(parameters.gpu_node_hourly_prices)
    ]


@functools.cache
def _parsed(text: str) -> dict[str, Any]:
    """Parsed once a process for each content (the plan and the tests render every stack); callers copy it."""
    return yaml.safe_load(text)


def render_rule_groups(parameters: RuleParameters) -> list[dict[str, Any]]:
    """The rule groups for one stack, as Prometheus and promtool read them (``groups:`` in a rule file)."""
    values = parameters.placeholders()
    groups = copy.deepcopy(_parsed(RULES_FILE.read_text())["groups"])
    rendered = []
    for group in groups:
        # The prices open the recording group: rules of one group are evaluated in order, groups side by side, so
        # llm_platform:gpu_nodes_hourly_usd always finds this evaluation's prices.
        rules = price_rules(parameters) if group["name"] == RECORDING_GROUP else []
        for rule in group["rules"]:
            required = rule.pop("requires", [])
            unknown = [name for name in required if name not in values]
            if unknown:
                raise KeyError(f"{RULES_FILE.name}: {rule.get('alert')} requires unknown parameters {unknown}")
            if any(values[name] is None for name in required):
                continue
            rule = _fill(rule, values)
            if "alert" in rule:
                rule["annotations"]["runbook_url"] = f"{parameters.runbook_url}#{runbook_anchor(rule['alert'])}"
            rules.append(rule)
        if rules:
            rendered.append({**group, "rules": rules})
    return rendered


def _fill(node: Any, values: dict[str, Optional[str]]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(item, values) for key, item in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, str):
        def substitute(match: re.Match) -> str:
            value = values.get(match.group(1))
            if value is None:
                raise KeyError(f"{RULES_FILE.name}: ${{{match.group(1)}}} has no value for this stack")
            return value
        return _PLACEHOLDER.sub(substitute, node)
    return node


def alert_names(groups: list[dict[str, Any]]) -> list[str]:
    return [rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule]
