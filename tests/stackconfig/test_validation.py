"""Every validation rule: bad input gives one line naming the key, exit status 2, no traceback, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackconfig import ConfigError, from_pulumi_runtime, parse
from tests.conftest import ROOT, engine_view, raw_config, set_dotted
from tools import plan

NS = "llm-platform"

# (rule, changes to Pulumi.dev.yaml's config, the key the message must name)
RULES = [
    ("unknown top-level key", {f"{NS}:netwerk": {"azCount": 2}}, f"{NS}:netwerk"),
    ("unknown nested key", {f"{NS}:network.azCuont": 2}, f"{NS}:network.azCuont"),
    ("unknown key in a list item", {f"{NS}:gpuPools.spot.disruptionBudgets": [{"nodes": "1", "maxNodes": 2}]},
     f"{NS}:gpuPools.spot.disruptionBudgets[0].maxNodes"),
    ("unknown namespace", {"acme:size": 3}, "acme:size"),
    ("key without namespace", {"size": 3}, "size"),
    ("count of the wrong type", {f"{NS}:network.azCount": "two"}, f"{NS}:network.azCount"),
    ("count given as text", {f"{NS}:systemNodes.maxSize": "4"}, f"{NS}:systemNodes.maxSize"),
    ("zero count", {f"{NS}:systemNodes.minSize": 0}, f"{NS}:systemNodes.minSize"),
    ("negative GPU limit", {f"{NS}:gpuPools.spot.gpuLimit": -1}, f"{NS}:gpuPools.spot.gpuLimit"),
    ("GPU limit 0 leaves no room for the replicas", {f"{NS}:gpuPools.spot.gpuLimit": 0}, f"{NS}:serving.replicas.max"),
    ("max replicas above the GPU limits", {f"{NS}:serving.replicas": {"min": 0, "max": 3}}, f"{NS}:serving.replicas.max"),
    ("zone ID malformed", {f"{NS}:network.zoneIds": ["us-east-1a", "us-east-1b"]}, f"{NS}:network.zoneIds"),
    ("zone ID listed twice", {f"{NS}:network.zoneIds": ["use1-az1", "use1-az1"]}, f"{NS}:network.zoneIds"),
    ("zone ID of another region", {f"{NS}:network.zoneIds": ["euw1-az1", "euw1-az2"]}, f"{NS}:network.zoneIds"),
    ("zone ID without a subnet slot", {f"{NS}:network.zoneIds": ["use1-az1", "use1-az8"]}, f"{NS}:network.zoneIds"),
    ("single zone ID", {f"{NS}:network": {"zoneIds": ["use1-az1"]}}, f"{NS}:network"),
    ("azCount disagrees with zoneIds", {f"{NS}:network.zoneIds": ["use1-az1", "use1-az2", "use1-az4"]}, f"{NS}:network"),
    ("too few AZs", {f"{NS}:network.azCount": 1}, f"{NS}:network.azCount"),
    ("share above 100", {f"{NS}:traffic.selfHostedPercent": 101}, f"{NS}:traffic.selfHostedPercent"),
    ("the edge mirror is gone", {f"{NS}:traffic.mirrorPercent": 10}, f"{NS}:traffic.mirrorPercent"),
    ("negative shadow share", {f"{NS}:traffic.shadow.percent": -1}, f"{NS}:traffic.shadow.percent"),
    ("shadow share while self-hosted answers everything", {f"{NS}:traffic.shadow.percent": 2}, f"{NS}:traffic.shadow.percent"),
    ("unknown shadow key", {f"{NS}:traffic.shadow.percnt": 5}, f"{NS}:traffic.shadow.percnt"),
    ("no replay concurrency", {f"{NS}:traffic.shadow.maxConcurrency": 0}, f"{NS}:traffic.shadow.maxConcurrency"),
    ("replay timeout too short", {f"{NS}:traffic.shadow.timeoutSeconds": 1}, f"{NS}:traffic.shadow.timeoutSeconds"),
    ("samples kept over 400 days", {f"{NS}:traffic.shadow.sampleStore.expireDays": 500}, f"{NS}:traffic.shadow.sampleStore.expireDays"),
    ("sample share zero", {f"{NS}:traffic.shadow.sampleStore.samplePercent": 0}, f"{NS}:traffic.shadow.sampleStore.samplePercent"),
    ("reverse-check share above 10", {f"{NS}:traffic.shadow.reverseCheck.percent": 20}, f"{NS}:traffic.shadow.reverseCheck.percent"),
    ("reverse-check budget zero", {f"{NS}:traffic.shadow.reverseCheck.monthlyBudgetUsd": 0},
     f"{NS}:traffic.shadow.reverseCheck.monthlyBudgetUsd"),
    ("agreement threshold above 1", {f"{NS}:traffic.shadow.acceptance.minMeanAgreement": 1.5},
     f"{NS}:traffic.shadow.acceptance.minMeanAgreement"),
    ("latency ratio zero", {f"{NS}:traffic.shadow.acceptance.maxP95LatencyRatio": 0},
     f"{NS}:traffic.shadow.acceptance.maxP95LatencyRatio"),
    ("critical tag 'default' (LiteLLM's untagged pool)", {f"{NS}:traffic.critical.tags": ["default"]}, f"{NS}:traffic.critical.tags"),
    ("critical tag with a routing operator", {f"{NS}:traffic.critical.tags": ["!critical"]}, f"{NS}:traffic.critical.tags"),
    ("no critical tags", {f"{NS}:traffic.critical.tags": []}, f"{NS}:traffic.critical.tags"),
    ("budget threshold out of range", {f"{NS}:budget.actualThresholdsPercent": [50, 2000]}, f"{NS}:budget.actualThresholdsPercent"),
    ("budget threshold repeated", {f"{NS}:budget.forecastThresholdsPercent": [100, 100]}, f"{NS}:budget"),
    ("more budget notifications than AWS takes", {f"{NS}:budget.actualThresholdsPercent": [10, 20, 30, 40, 50, 60, 70, 80]},
     f"{NS}:budget"),
    ("edge read timeout beyond the NLB's idle timeout", {f"{NS}:traffic.edge.readTimeout": "2h"}, f"{NS}:traffic.edge.readTimeout"),
    ("budget limit zero", {f"{NS}:budget.monthlyLimitUsd": 0}, f"{NS}:budget.monthlyLimitUsd"),
    ("kill switch not a boolean", {f"{NS}:traffic.killSwitch": "yes"}, f"{NS}:traffic.killSwitch"),
    ("invalid AWS region", {"aws:region": "us-moon-1"}, "aws:region"),
    ("missing AWS region", {"aws:region": None}, "aws:region"),
    ("unknown phase", {f"{NS}:phase": "staging"}, f"{NS}:phase"),
    ("missing required block", {f"{NS}:budget": None}, f"{NS}:budget"),
    ("unsupported EKS version", {f"{NS}:cluster.version": "1.20"}, f"{NS}:cluster.version"),
    ("VPC CIDR not a network", {f"{NS}:network.vpcCidr": "10.40.0.1/16"}, f"{NS}:network.vpcCidr"),
    ("VPC CIDR too small", {f"{NS}:network.vpcCidr": "10.40.0.0/24"}, f"{NS}:network.vpcCidr"),
    ("unknown NAT mode", {f"{NS}:network.natGateways": "two"}, f"{NS}:network.natGateways"),
    ("public endpoint CIDR invalid", {f"{NS}:cluster.publicAccessCidrs": ["everyone"]}, f"{NS}:cluster.publicAccessCidrs"),
    ("public endpoint CIDRs empty", {f"{NS}:cluster.publicAccessCidrs": []}, f"{NS}:cluster.publicAccessCidrs"),
    ("admin principal not an ARN", {f"{NS}:cluster.adminPrincipals": ["alice"]}, f"{NS}:cluster.adminPrincipals"),
    ("min above max", {f"{NS}:systemNodes.minSize": 5, f"{NS}:systemNodes.maxSize": 3}, f"{NS}:systemNodes"),
    ("desired outside min..max", {f"{NS}:systemNodes.desiredSize": 9}, f"{NS}:systemNodes"),
    ("reserved pool without reservations",
     {f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2}}, f"{NS}:gpuPools.reserved"),
    ("reserved pool not preferred over spot",
     {f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2, "weight": 5,
                                  "capacityReservations": [{"id": "cr-0a1b2c3d4e5f60718"}]}}, f"{NS}:gpuPools"),
    ("on-demand fallback on the reserved pool",
     {f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2, "onDemandFallback": True,
                                  "capacityReservations": [{"id": "cr-0a1b2c3d4e5f60718"}]}}, f"{NS}:gpuPools.reserved"),
    ("reservations on the spot pool", {f"{NS}:gpuPools.spot.capacityReservations": [{"id": "cr-0a1b2c3d4e5f60718"}]}, f"{NS}:gpuPools"),
    ("malformed reservation id",
     {f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2, "capacityReservations": [{"id": "res-1"}]}},
     f"{NS}:gpuPools.reserved.capacityReservations[0].id"),
    ("reservation of a type the pool does not launch",
     {f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2,
                                  "capacityReservations": [{"id": "cr-0a1b2c3d4e5f60718", "instanceType": "p5.48xlarge"}]}},
     f"{NS}:gpuPools.reserved"),
    ("reservation zone without pinned zones",
     {f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2,
                                  "capacityReservations": [{"id": "cr-0a1b2c3d4e5f60718", "zoneId": "use1-az1"}]}},
     f"{NS}:gpuPools.reserved.capacityReservations[0].zoneId"),
    ("reservation outside the stack's zones",
     {f"{NS}:network": {"zoneIds": ["use1-az1", "use1-az2"]},
      f"{NS}:gpuPools.reserved": {"instanceTypes": ["g6e.xlarge"], "gpuLimit": 2,
                                  "capacityReservations": [{"id": "cr-0a1b2c3d4e5f60718", "zoneId": "use1-az4"}]}},
     f"{NS}:gpuPools.reserved.capacityReservations[0].zoneId"),
    ("fallback slower than the edge lets a client wait",
     {f"{NS}:traffic.fallback": {"numRetries": 2, "selfHostedTimeoutSeconds": 150}}, f"{NS}:traffic.fallback"),
    ("fallback budget against a shorter edge read timeout",
     {f"{NS}:traffic.edge.readTimeout": "5m"}, f"{NS}:traffic.fallback"),
    ("promotion window malformed", {f"{NS}:promotion.window": "1 day"}, f"{NS}:promotion.window"),
    ("promotion window longer than Prometheus keeps", {f"{NS}:promotion.window": "30d"}, f"{NS}:promotion.window"),
    ("rollout steps not rising", {f"{NS}:promotion.rolloutSteps": [50, 25]}, f"{NS}:promotion.rolloutSteps"),
    ("rollout step of 100 %", {f"{NS}:promotion.rolloutSteps": [25, 100]}, f"{NS}:promotion.rolloutSteps"),
    ("negative sample minimum", {f"{NS}:promotion.minSamples.requests": -1}, f"{NS}:promotion.minSamples.requests"),
    ("error-rate ceiling above 100 %", {f"{NS}:promotion.maxErrorRatePercent": 150}, f"{NS}:promotion.maxErrorRatePercent"),
    ("agreement median above 1", {f"{NS}:promotion.minAgreementMedian": 1.5}, f"{NS}:promotion.minAgreementMedian"),
    ("not a GPU instance family", {f"{NS}:gpuPools.spot.instanceFamilies": ["m5"]}, f"{NS}:gpuPools.spot.instanceFamilies"),
    ("pool with no instances", {f"{NS}:gpuPools.spot.instanceFamilies": []}, f"{NS}:gpuPools.spot"),
    ("GPUs per node above 8", {f"{NS}:gpuPools.spot.maxGpusPerNode": 16}, f"{NS}:gpuPools.spot.maxGpusPerNode"),
    ("pool weight above 100", {f"{NS}:gpuPools.spot.weight": 101}, f"{NS}:gpuPools.spot.weight"),
    ("malformed duration", {f"{NS}:gpuPools.spot.consolidateAfter": "10 minutes"}, f"{NS}:gpuPools.spot.consolidateAfter"),
    ("budget schedule without duration",
     {f"{NS}:gpuPools.spot.disruptionBudgets": [{"nodes": "0", "schedule": "0 9 * * *"}]}, f"{NS}:gpuPools.spot.disruptionBudgets[0]"),
    ("disruption budget nodes malformed", {f"{NS}:gpuPools.spot.disruptionBudgets": [{"nodes": "half"}]},
     f"{NS}:gpuPools.spot.disruptionBudgets[0].nodes"),
    ("Karpenter older than 1.6", {f"{NS}:karpenter.version": "1.5.0"}, f"{NS}:karpenter.version"),
    ("AMI alias not pinned", {f"{NS}:karpenter.amiAlias": "al2023@latest"}, f"{NS}:karpenter.amiAlias"),
    ("invalid notification email", {f"{NS}:budget.notificationEmails": ["finops"]}, f"{NS}:budget.notificationEmails"),
    ("no notification email", {f"{NS}:budget.notificationEmails": []}, f"{NS}:budget.notificationEmails"),
    ("stack and region are not config keys", {f"{NS}:region": "eu-west-1"}, f"{NS}:region"),
    ("S3 would expire logs Loki still keeps", {f"{NS}:observability.loki": {"retentionDays": 30, "bucketExpirationDays": 30}},
     f"{NS}:observability.loki"),
    ("Loki mode not offered", {f"{NS}:observability.loki.deploymentMode": "Distributed"}, f"{NS}:observability.loki.deploymentMode"),
    ("Loki writers too few for three copies", {f"{NS}:observability.loki.replicas": 2}, f"{NS}:observability.loki.replicas"),
    ("Grafana admin password too short", {f"{NS}:grafanaAdminPassword": "admin123"}, f"{NS}:grafanaAdminPassword"),
    ("Grafana admin password missing", {f"{NS}:grafanaAdminPassword": None}, f"{NS}:grafanaAdminPassword"),
    ("Grafana host name malformed", {f"{NS}:observability.grafana.hostname": "Grafana!"}, f"{NS}:observability.grafana.hostname"),
    ("Grafana on the API's host name", {f"{NS}:observability.grafana.hostname": "llm.dev.example.com"},
     f"{NS}:observability.grafana.hostname"),
    ("runbook URL not https", {f"{NS}:observability.runbookUrl": "docs/runbook.md"}, f"{NS}:observability.runbookUrl"),
    ("GPU idle window not in hours", {f"{NS}:observability.alerts.gpuIdleWindow": "90m"}, f"{NS}:observability.alerts.gpuIdleWindow"),
    ("error-rate threshold above 100 %", {f"{NS}:observability.alerts.errorRatePercent": 120}, f"{NS}:observability.alerts.errorRatePercent"),
]


# Rules that hold in some phases only: (rule, stack it applies to, changes, key). Each is tried where it applies.
PHASE_RULES = [
    ("one vLLM replica while rollout serves users", "rollout", {f"{NS}:serving.replicas.min": 1}, f"{NS}:serving.replicas.min"),
    ("one vLLM replica while prod serves users", "prod", {f"{NS}:serving.replicas.min": 1}, f"{NS}:serving.replicas.min"),
    ("one router replica while rollout serves users", "rollout", {f"{NS}:traffic.router.replicas": 1}, f"{NS}:traffic.router.replicas"),
    ("prod replicas above reserved plus spot", "prod", {f"{NS}:serving.replicas.max": 17}, f"{NS}:serving.replicas.max"),
    ("prod minimum above the pools", "prod", {f"{NS}:gpuPools.spot.gpuLimit": 0, f"{NS}:gpuPools.reserved.gpuLimit": 2,
                                               f"{NS}:serving.replicas.max": 3}, f"{NS}:serving.replicas.min"),
    ("a replica wider than a node", "rollout", {f"{NS}:serving.model.tensorParallelSize": 2}, f"{NS}:serving.model.tensorParallelSize"),
    ("shadow phase below the migration plan's 5 %", "shadow", {f"{NS}:traffic.shadow.percent": 4}, f"{NS}:traffic.shadow.percent"),
    ("shadow phase without shadowing", "shadow", {f"{NS}:traffic.shadow.percent": 0}, f"{NS}:traffic.shadow.percent"),
    ("shadow phase above 10 %", "shadow", {f"{NS}:traffic.shadow.percent": 10.5}, f"{NS}:traffic.shadow.percent"),
    ("rollout replays above 5 %", "rollout", {f"{NS}:traffic.shadow.percent": 6}, f"{NS}:traffic.shadow.percent"),
    ("prod replays above 5 %", "prod", {f"{NS}:traffic.shadow.percent": 5.5}, f"{NS}:traffic.shadow.percent"),
    ("reverse check with nothing self-hosted", "shadow", {f"{NS}:traffic.shadow.reverseCheck.enabled": True},
     f"{NS}:traffic.shadow.reverseCheck.enabled"),
]

# Boundaries that are allowed: each plans.
ALLOWED = [
    ("shadow may run one replica (nobody depends on its answers)", "shadow", {f"{NS}:serving.replicas.min": 1}),
    ("rollout at 0 % self-hosted may run one replica", "rollout",
     {f"{NS}:traffic.selfHostedPercent": 0, f"{NS}:serving.replicas.min": 1, f"{NS}:traffic.router.replicas": 1}),
    ("prod with the spot pool stopped (gpuLimit 0) and replicas within the reservations", "prod",
     {f"{NS}:gpuPools.spot.gpuLimit": 0, f"{NS}:serving.replicas.max": 4}),
    ("replicas exactly at the GPU limits", "rollout", {f"{NS}:serving.replicas.max": 8}),
    ("a promotion window as long as Prometheus keeps data", "dev", {f"{NS}:promotion.window": "15d"}),
    ("no sample minimums (every criterion judged on what there is)", "rollout",
     {f"{NS}:promotion.minSamples": {"requests": 0, "latency": 0, "shadowPairs": 0}}),
    ("shadow phase at 5 %", "shadow", {f"{NS}:traffic.shadow.percent": 5}),
    ("shadow phase at 10 % with the kill switch on (it stops the replays)", "shadow",
     {f"{NS}:traffic.shadow.percent": 10, f"{NS}:traffic.killSwitch": True}),
    ("rollout at 5 % replays", "rollout", {f"{NS}:traffic.shadow.percent": 5}),
    ("prod without replays or reverse check", "prod",
     {f"{NS}:traffic.shadow.percent": 0, f"{NS}:traffic.shadow.reverseCheck.enabled": False}),
    ("S3 keeps logs one day longer than Loki", "rollout", {f"{NS}:observability.loki.bucketExpirationDays": 32}),
    ("a Grafana admin password of 16 characters", "dev", {f"{NS}:grafanaAdminPassword": "0123456789abcdef"}),
    ("fallback exactly at the edge's allowance", "dev",
     {f"{NS}:traffic.fallback": {"numRetries": 1, "selfHostedTimeoutSeconds": 180, "openaiTimeoutSeconds": 120}}),
]


def write_stack(directory: Path, config: dict, stack: str = "dev") -> None:
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))


def run_plan(tmp_path: Path, capsys, stack: str = "dev") -> tuple[int, str]:
    out = tmp_path / "out"
    status = plan.main(["--stack", stack, "--stacks-dir", str(tmp_path), "--out", str(out), "--quiet"])
    stderr = capsys.readouterr().err
    assert not out.exists(), "nothing may be written for bad input"
    return status, stderr


def assert_one_line_error(status: int, stderr: str, key: str) -> None:
    assert status == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith(f"config error: {key}"), lines[0]


@pytest.mark.parametrize("rule, changes, key", RULES, ids=[rule for rule, _, _ in RULES])
def test_rule(rule, changes, key, tmp_path, capsys):
    config = raw_config("dev")
    for dotted, value in changes.items():
        if value is None:
            top, _, rest = dotted.partition(".")
            assert not rest
            config.pop(top, None)
        else:
            set_dotted(config, dotted, value)
    write_stack(tmp_path, config)
    assert_one_line_error(*run_plan(tmp_path, capsys), key)


@pytest.mark.parametrize("rule, stack, changes, key", PHASE_RULES, ids=[rule for rule, *_ in PHASE_RULES])
def test_phase_rule(rule, stack, changes, key, tmp_path, capsys):
    config = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(config, dotted, value)
    write_stack(tmp_path, config, stack)
    assert_one_line_error(*run_plan(tmp_path, capsys, stack), key)


@pytest.mark.parametrize("rule, stack, changes", ALLOWED, ids=[rule for rule, *_ in ALLOWED])
def test_boundary_is_allowed(rule, stack, changes):
    config = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(config, dotted, value)
    parse(stack, config)  # raises ConfigError if refused


def test_unknown_stack(tmp_path, capsys):
    write_stack(tmp_path, raw_config("dev"))
    status, stderr = run_plan(tmp_path, capsys, stack="staging")
    assert_one_line_error(status, stderr, "stack")
    assert "allowed: dev" in stderr


def test_invalid_stack_name(tmp_path, capsys):
    status, stderr = run_plan(tmp_path, capsys, stack="Prod!")
    assert_one_line_error(status, stderr, "stack")


def test_empty_stack_file(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text("")
    status, stderr = run_plan(tmp_path, capsys)
    assert_one_line_error(status, stderr, "Pulumi.dev.yaml")
    assert "is empty" in stderr


def test_unparsable_stack_file(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: [us-east-1\n")
    status, stderr = run_plan(tmp_path, capsys)
    assert_one_line_error(status, stderr, "Pulumi.dev.yaml")
    assert "not valid YAML at line" in stderr


def test_stack_file_without_config_mapping(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text("config: [1, 2]\n")
    assert_one_line_error(*run_plan(tmp_path, capsys), "Pulumi.dev.yaml: config")


def test_bad_cli_argument_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        plan.main(["--stakc", "dev"])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err.strip().splitlines()
    assert len(stderr) == 1 and "unrecognized arguments: --stakc" in stderr[0]


def test_command_line_exit_status_and_no_traceback(tmp_path):
    """The real command, as make runs it: status 2, one line on stderr."""
    config = raw_config("dev")
    set_dotted(config, f"{NS}:network.azCount", 0)
    write_stack(tmp_path, config)
    result = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--stack", "dev", "--stacks-dir", str(tmp_path), "--out", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"config error: {NS}:network.azCount: 0 is out of range; allowed: >= 2"
    assert not (tmp_path / "o").exists()


def test_engine_config_is_validated_the_same_way(monkeypatch):
    """On `pulumi up` the engine passes config as text (JSON for objects); the same rules apply."""
    engine_config = engine_view("dev")
    traffic = json.loads(engine_config[f"{NS}:traffic"])
    engine_config[f"{NS}:traffic"] = json.dumps({**traffic, "killSwitch": "maybe"})
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(engine_config))
    with pytest.raises(ConfigError) as err:
        from_pulumi_runtime("dev")
    assert err.value.key == f"{NS}:traffic.killSwitch"


def test_engine_config_valid_stack_parses(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(engine_view("prod")))
    config = from_pulumi_runtime("prod")
    assert config.phase == "prod" and config.network.zone_ids == ["use1-az1", "use1-az2", "use1-az4"]
    assert config.openai_api_key.get_secret_value() == "decrypted-llm-platform:openaiApiKey"
