"""Dashboards: valid JSON with unique uids, loaded by Grafana's sidecar; every expression parses (promtool, the real
Prometheus parser) and uses only metrics the pinned versions export (tests/data/exported_metrics.txt) or that our
rules record."""

from __future__ import annotations

import json
import re
import subprocess

import promql_parser
import pytest
import yaml

from tests.conftest import ROOT
from workloads.observability.grafana import DASHBOARDS_DIR, dashboard_documents
from workloads.observability.rules import render_rule_groups

from .conftest import UNIT_TEST_PARAMETERS

EXPORTED = ROOT / "tests" / "data" / "exported_metrics.txt"
# Grafana's variables, as a query would run them.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "6h", "$__interval": "1m", "$model": ".*", "$node": ".*"}


def exported_metrics() -> set[str]:
    return {line.strip() for line in EXPORTED.read_text().splitlines() if line.strip() and not line.startswith(("#", "["))}


def recorded_metrics() -> set[str]:
    return {rule["record"] for group in render_rule_groups(UNIT_TEST_PARAMETERS) for rule in group["rules"] if "record" in rule}


def metric_names(node) -> set[str]:
    """The metric names a PromQL expression selects."""
    if isinstance(node, promql_parser.VectorSelector):
        return {node.name} if node.name else set()
    names: set[str] = set()
    for attribute in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, (str, int, float)):
            names |= metric_names(child)
    for argument in getattr(node, "args", None) or []:
        names |= metric_names(argument)
    return names


def expressions(kind: str) -> list[tuple[str, str, str]]:
    """(dashboard, panel, expression) for every target of the given data source type, variables substituted."""
    found = []
    for stem, document in dashboard_documents().items():
        for panel in document["panels"]:
            for target in panel["targets"]:
                if target["datasource"]["type"] != kind:
                    continue
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                found.append((stem, panel["title"], expr))
    return found


def test_five_dashboards_one_file_each_with_unique_uids_and_panel_ids():
    documents = dashboard_documents()
    assert set(documents) == {"serving", "gpu", "traffic", "cost", "shadow"}
    uids = [d["uid"] for d in documents.values()]
    assert len(set(uids)) == len(uids)
    for stem, document in documents.items():
        json.loads((DASHBOARDS_DIR / f"{stem}.json").read_text())
        ids = [p["id"] for p in document["panels"]]
        assert len(set(ids)) == len(ids) >= 8, stem
        if stem == "shadow":
            assert {"Agreement distribution", "Latency p50 and p95, both backends", "Self-hosted failure rate in replays"} \
                <= {p["title"] for p in document["panels"]}
        assert document["editable"] is False, "provisioned dashboards change in the repository, not in the UI"
        for panel in document["panels"]:
            assert panel["targets"] and panel["title"], (stem, panel.get("title"))
            assert panel["datasource"]["uid"] in ("prometheus", "loki"), (stem, panel["title"])


def test_every_prometheus_expression_parses_with_promtool(promtool, tmp_path):
    found = expressions("prometheus")
    assert len(found) >= 40
    rules = [{"record": f"dashboard:check_{index}", "expr": expr} for index, (_, _, expr) in enumerate(found)]
    path = tmp_path / "dashboards.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    check = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_metric_a_dashboard_or_rule_uses_is_exported_or_recorded():
    allowed = exported_metrics() | recorded_metrics()
    used = {}
    for stem, title, expr in expressions("prometheus"):
        for name in metric_names(promql_parser.parse(expr)):
            used.setdefault(name, f"{stem}: {title}")
    for group in render_rule_groups(UNIT_TEST_PARAMETERS):
        for rule in group["rules"]:
            for name in metric_names(promql_parser.parse(rule["expr"])):
                used.setdefault(name, f"rule {rule.get('alert') or rule.get('record')}")
    unknown = {name: where for name, where in used.items() if name not in allowed}
    assert not unknown, f"not exported by the pinned versions (or not listed with a source): {unknown}"
    assert len(used) >= 40


@pytest.mark.parametrize("gone", ["vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds", "keda_scaler_errors_total",
                                  "nginx_gateway_fabric_http_requests_total"])
def test_names_the_pinned_versions_dropped_are_not_listed(gone):
    assert gone not in exported_metrics()


def test_the_edge_status_panel_reads_the_access_log_from_loki():
    (query,) = [expr for stem, title, expr in expressions("loki") if stem == "traffic"]
    assert '{namespace="nginx-gateway", container="nginx"}' in query and "status" in query


def test_dashboards_ship_as_labelled_config_maps_in_the_platform_folder(any_plan):
    maps = [r.inputs for r in any_plan.of_type("kubernetes:core/v1:ConfigMap") if r.inputs["metadata"]["name"].startswith("dashboard-")]
    assert {m["metadata"]["name"] for m in maps} == {"dashboard-serving", "dashboard-gpu", "dashboard-traffic", "dashboard-cost",
                                                     "dashboard-shadow"}
    for config_map in maps:
        assert config_map["metadata"]["labels"] == {"grafana_dashboard": "1"}
        assert config_map["metadata"]["annotations"] == {"grafana_folder": "LLM platform"}
        (content,) = config_map["data"].values()
        assert json.loads(content)["uid"].startswith("llm-")
    sidecar = any_plan.helm("kube-prometheus-stack")["values"]["grafana"]["sidecar"]["dashboards"]
    assert sidecar["folderAnnotation"] == "grafana_folder" and sidecar["provider"]["foldersFromFilesStructure"] is True
