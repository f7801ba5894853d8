"""promtool and amtool for the observability tests: `make test` puts them on PATH (tools/install_prom_tools.sh)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import Plan
from workloads.observability.rules import RuleParameters

HERE = Path(__file__).resolve().parent
# The thresholds the promtool unit tests (alert-rules-test*.yaml) are written for: the defaults, every optional alert on.
UNIT_TEST_PARAMETERS = RuleParameters(
    runbook_url="https://git.example.com/platform/llm-platform/blob/main/docs/runbook.md",
    p99_latency_ms=1000, ttft_p95_ms=500, error_rate_percent=1.0, queue_depth=500, kv_cache_usage_percent=95,
    preemptions_per_ten_minutes=10, fallback_rate_percent=5.0, gpu_utilization_floor_percent=50, gpu_idle_window="6h",
    gpu_pod_pending_minutes=10, spot_interruptions_per_hour=1, storage_free_percent=15, certificate_expiry_days=14,
    prometheus_retention="15d", serving_namespace="llm-serving", vllm_deployment="vllm",
    storage_namespaces=("monitoring", "logging"), vllm_min_replicas=2, min_requests_per_second=0.5,
    fallback_model_id_pattern=".+-openai-fallback", router_shares_state=True, openai_monthly_budget_usd=2000.0,
    gpu_node_hourly_prices=(("g6e.xlarge", "spot", 1.1166), ("g6e.xlarge", "reserved", 1.861)),
)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: run `make test` (it unpacks {name} from Debian's packages into .tools/bin)")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return tool("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return tool("amtool")


def rule_groups(plan: Plan) -> list[dict]:
    return plan.k8s("PrometheusRule", "llm-platform")["spec"]["groups"]


def alerts(plan: Plan) -> dict[str, dict]:
    return {rule["alert"]: rule for group in rule_groups(plan) for rule in group["rules"] if "alert" in rule}
