"""The alert rules: promtool accepts every stack's rules and the unit tests pass; thresholds and optional alerts
follow the stack's config; every alert says what it means and links to its runbook section."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, STACKS, raw_config, set_dotted
from workloads.observability.rules import alert_names, render_rule_groups, runbook_anchor

from .conftest import HERE, UNIT_TEST_PARAMETERS, alerts, rule_groups

UNIT_TESTS = sorted(HERE.glob("alert-rules-test*.yaml"))
RUNBOOK = ROOT / "docs" / "runbook.md"


def completed_unit_tests(groups: list[dict]) -> dict[str, dict]:
    """The unit test files with each expected alert's description and runbook_url taken from the rendered rule."""
    annotations = {rule["alert"]: rule["annotations"] for group in groups for rule in group["rules"] if "alert" in rule}
    files = {}
    for path in UNIT_TESTS:
        spec = yaml.safe_load(path.read_text())
        for test in spec["tests"]:
            for case in test.get("alert_rule_test", []):
                for expected in case["exp_alerts"]:
                    rendered = {k: v for k, v in annotations[case["alertname"]].items() if k != "summary"}
                    expected["exp_annotations"] = {**rendered, **expected["exp_annotations"]}
        files[path.name] = spec
    return files


def test_promtool_accepts_every_stacks_rules_and_the_unit_tests_pass(plans, promtool, tmp_path):
    groups = render_rule_groups(UNIT_TEST_PARAMETERS)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    for stack in STACKS:
        (tmp_path / f"rules-{stack}.yaml").write_text(yaml.safe_dump({"groups": rule_groups(plans[stack])}, sort_keys=False))
    for name, spec in completed_unit_tests(groups).items():
        (tmp_path / name).write_text(yaml.safe_dump(spec, sort_keys=False))

    check = subprocess.run([promtool, "check", "rules", "rules.yaml", *(f"rules-{s}.yaml" for s in STACKS)],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    # One promtool per file, side by side: the long-window file and the rest take about as long.
    runs = [subprocess.Popen([promtool, "test", "rules", path.name], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for path in UNIT_TESTS]
    for run in runs:
        output, _ = run.communicate(timeout=120)
        assert run.returncode == 0, output
        assert "SUCCESS" in output


def test_every_alert_has_a_case_that_fires_it_and_one_that_must_not():
    fires, quiet = set(), set()
    for path in UNIT_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (fires if case["exp_alerts"] else quiet).add(case["alertname"])
    names = set(alert_names(render_rule_groups(UNIT_TEST_PARAMETERS)))
    assert len(names) >= 19
    assert names - fires == set(), "alerts no unit test fires"
    assert names - quiet == set(), "alerts with no case where they must stay quiet"


def runbook_anchors() -> set[str]:
    """GitHub's anchors for the runbook's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{2,4} (.+)$", RUNBOOK.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_alert_has_severity_summary_description_and_its_runbook_section(any_plan):
    anchors = runbook_anchors()
    found = alerts(any_plan)
    assert len(found) >= 15
    for name, rule in found.items():
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), name
        assert rule["labels"]["component"], name
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], name
        url, _, anchor = annotations["runbook_url"].partition("#")
        assert url.endswith("/docs/runbook.md") and anchor == runbook_anchor(name), name
        assert anchor in anchors, f"docs/runbook.md has no section for {name}"
        assert "${" not in yaml.safe_dump(rule), f"{name} kept a placeholder"


def test_the_rules_are_one_prometheus_rule_the_stacks_prometheus_selects(any_plan):
    rule = any_plan.k8s("PrometheusRule", "llm-platform")
    assert rule["metadata"]["namespace"] == "monitoring"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"


@pytest.mark.parametrize("stack, present, absent", [
    # dev: vLLM may scale to zero, one router replica, OpenAI answers nothing but fallbacks, no users to floor.
    ("dev", {"OpenAIFallbackRateHigh", "GpuPodsPendingTooLong"},
     {"VllmReplicasBelowMinimum", "LlmThroughputBelowFloor", "RouterSharedRateLimitsDegraded", "OpenAISpendAboveBudgetShare"}),
    # shadow: OpenAI answers everything, so there is no fallback; its spend is watched.
    ("shadow", {"VllmReplicasBelowMinimum", "OpenAISpendAboveBudgetShare", "RouterSharedRateLimitsDegraded"},
     {"OpenAIFallbackRateHigh", "LlmThroughputBelowFloor"}),
    ("rollout", {"VllmReplicasBelowMinimum", "LlmThroughputBelowFloor", "OpenAIFallbackRateHigh", "OpenAISpendAboveBudgetShare"}, set()),
    ("prod", {"VllmReplicasBelowMinimum", "LlmThroughputBelowFloor", "OpenAIFallbackRateHigh", "OpenAISpendAboveBudgetShare"}, set()),
])
def test_which_alerts_a_phase_has(plans, stack, present, absent):
    names = set(alerts(plans[stack]))
    assert present <= names
    assert not absent & names


@pytest.mark.parametrize("stack", ["shadow", "rollout", "prod"])
def test_openai_budget_is_the_cost_models_openai_bill_plus_headroom(plans, stack):
    from stackconfig import from_stack_file
    from tools.cost.model import openai_bill

    config = from_stack_file(stack, ROOT)
    budget = round(openai_bill(config).monthly_usd * (1 + config.budget.headroom_percent / 100), 2)
    assert budget > 0
    expr = alerts(plans[stack])["OpenAISpendAboveBudgetShare"]["expr"]
    assert expr.rstrip().endswith(f"> {budget:g}")


def test_thresholds_come_from_config():
    from program import rule_parameters
    from stackconfig import parse

    raw = raw_config("prod")
    set_dotted(raw, "llm-platform:observability.alerts", {
        "p99LatencyMs": 2500, "ttftP95Ms": 750, "errorRatePercent": 0.5, "queueDepth": 200,
        "openaiMonthlyBudgetUsd": 900, "gpuPodPendingMinutes": 20})
    set_dotted(raw, "llm-platform:serving.replicas", {"min": 4, "max": 16})
    groups = render_rule_groups(rule_parameters(parse("prod", raw)))
    found = {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}
    assert "> 2.5\n" in found["VllmP99LatencyHigh"]["expr"]
    assert "> 0.75\n" in found["VllmTtftP95High"]["expr"]
    assert "> 0.005\n" in found["LlmErrorRateHigh"]["expr"]
    assert found["VllmQueueDepthHigh"]["expr"].endswith("> 200")
    assert found["OpenAISpendAboveBudgetShare"]["expr"].endswith("> 900")
    assert found["GpuPodsPendingTooLong"]["for"] == "20m"
    assert "< 4" in found["VllmReplicasBelowMinimum"]["expr"]


def test_a_rule_requiring_an_unknown_parameter_is_refused(monkeypatch, tmp_path):
    from workloads.observability import rules

    bad = tmp_path / "rules.yaml"
    bad.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"alert": "X", "requires": ["noSuchThing"], "expr": "up == 0", "labels": {}, "annotations": {}}]}]}))
    monkeypatch.setattr(rules, "RULES_FILE", bad)
    with pytest.raises(KeyError, match="noSuchThing"):
        rules.render_rule_groups(UNIT_TEST_PARAMETERS)
    # A placeholder whose value is unset, in a rule that does not declare it required: an error, not a hole.
    bad.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"alert": "Y", "expr": "up < ${minRequestsPerSecond}", "labels": {}, "annotations": {}}]}]}))
    with pytest.raises(KeyError, match="minRequestsPerSecond"):
        rules.render_rule_groups(dataclasses.replace(UNIT_TEST_PARAMETERS, min_requests_per_second=None))
