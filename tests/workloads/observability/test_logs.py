"""Logs per phase: one Loki on a volume in dev and shadow, SimpleScalable on private S3 buckets (Pod Identity, no keys,
lifecycle expiry) in rollout and prod; retention from config; Alloy (never Promtail) ships every pod's logs."""

from __future__ import annotations

import json

import pytest

from tests.conftest import plan_with
from tools.order import Order


def loki(plan) -> dict:
    return plan.helm("loki")["values"]


def log_buckets(plan) -> dict[str, dict[str, dict]]:
    """Bucket name -> resource type -> inputs, for Loki's buckets."""
    found: dict[str, dict[str, dict]] = {}
    for resource in plan.recording.resources:
        if resource.type.startswith("aws:s3/") and resource.name.startswith("observability-logs-"):
            found.setdefault(resource.name, {})[resource.type.split(":")[-1]] = resource.inputs
    return found


@pytest.mark.parametrize("stack, days", [("dev", 7), ("shadow", 14)])
def test_dev_and_shadow_run_one_loki_on_a_volume(plans, stack, days):
    values = loki(plans[stack])
    assert values["deploymentMode"] == "Monolithic"
    assert values["singleBinary"]["replicas"] == 1
    assert all(values[t]["replicas"] == 0 for t in ("read", "write", "backend")), "the chart refuses both modes at once"
    assert values["singleBinary"]["persistence"]["storageClass"] == "gp3"
    config = values["loki"]
    assert config["storage"] == {"type": "filesystem"}
    assert config["commonConfig"]["replication_factor"] == 1, "one Loki cannot reach a quorum of three"
    assert config["limits_config"]["retention_period"] == f"{days * 24}h"
    assert config["compactor"] == {"retention_enabled": True, "delete_request_store": "filesystem"}
    assert not log_buckets(plans[stack]), "no S3 buckets for a Loki on a volume"


@pytest.mark.parametrize("stack, days, expiry", [("rollout", 31, 45), ("prod", 90, 100)])
def test_rollout_and_prod_run_simple_scalable_loki_on_s3(plans, stack, days, expiry):
    plan = plans[stack]
    values = loki(plan)
    assert values["deploymentMode"] == "SimpleScalable"
    assert values["singleBinary"]["replicas"] == 0
    assert all(values[t]["replicas"] == 3 for t in ("read", "write", "backend"))
    config = values["loki"]
    assert config["commonConfig"]["replication_factor"] == 3
    assert config["limits_config"]["retention_period"] == f"{days * 24}h"
    assert config["compactor"]["delete_request_store"] == "s3"
    assert config["schemaConfig"]["configs"][0]["object_store"] == "s3"
    storage = config["storage"]
    assert storage["type"] == "s3" and storage["s3"] == {"region": "us-east-1"}, "no keys: Pod Identity"
    buckets = log_buckets(plan)
    assert set(buckets) == {"observability-logs-chunks", "observability-logs-ruler"}
    assert storage["bucketNames"]["chunks"].startswith("observability-logs-chunks")
    assert storage["bucketNames"]["ruler"].startswith("observability-logs-ruler")
    for name, parts in buckets.items():
        block = parts["BucketPublicAccessBlock"]
        assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")), name
        (rule,) = parts["BucketServerSideEncryptionConfiguration"]["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert parts["Bucket"]["forceDestroy"] is False
    expirations = [r["expiration"]["days"] for r in buckets["observability-logs-chunks"]["BucketLifecycleConfiguration"]["rules"] if r.get("expiration")]
    assert expirations == [expiry]
    assert not any(r.get("expiration") for r in buckets["observability-logs-ruler"]["BucketLifecycleConfiguration"]["rules"]), \
        "rule groups are configuration: they never expire"


def test_loki_reaches_its_buckets_through_pod_identity_and_only_them(plans):
    plan = plans["prod"]
    association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "observability-logs-loki").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("logging", "loki")
    assert loki(plan)["serviceAccount"] == {"create": True, "name": "loki"}
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "observability-logs-loki-inline").inputs["policy"])
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert all(r.startswith(("arn:aws:s3:::observability-logs-chunks", "arn:aws:s3:::observability-logs-ruler")) for r in resources)
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    order = Order(plan.recording)
    release = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "loki"][0]
    assert plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "observability-logs-loki").urn in order.waits_for(release.urn)


def test_retention_and_expiry_follow_config():
    plan = plan_with("rollout", {"llm-platform:observability.loki": {"deploymentMode": "SimpleScalable", "retentionDays": 60,
                                                                      "bucketExpirationDays": 75}})
    assert loki(plan)["loki"]["limits_config"]["retention_period"] == "1440h"
    rules = log_buckets(plan)["observability-logs-chunks"]["BucketLifecycleConfiguration"]["rules"]
    assert [r["expiration"]["days"] for r in rules if r.get("expiration")] == [75]


def test_loki_skips_what_does_not_fit_or_is_unpinned(any_plan):
    values = loki(any_plan)
    release = any_plan.helm("loki")
    assert (release["chart"], release["version"], release["repositoryOpts"]["repo"]) == (
        "loki", "18.11.0", "https://grafana-community.github.io/helm-charts")
    assert values["test"]["enabled"] is False, "the chart's test image is tagged latest"
    assert values["chunksCache"]["enabled"] is False and values["resultsCache"]["enabled"] is False
    assert values["minio"]["enabled"] is False
    assert values["loki"]["auth_enabled"] is False


def test_alloy_ships_every_pods_logs_to_loki(any_plan):
    release = any_plan.helm("alloy")
    assert (release["chart"], release["version"], release["repositoryOpts"]["repo"]) == (
        "alloy", "1.11.1", "https://grafana.github.io/helm-charts")
    values = release["values"]
    assert values["controller"]["type"] == "daemonset"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["controller"]["tolerations"]
    config = values["alloy"]["configMap"]["content"]
    assert 'url = "http://loki-gateway.logging.svc.cluster.local/loki/api/v1/push"' in config
    assert f'cluster = "llm-platform-{any_plan.recording.stack}"' in config
    assert "loki.source.kubernetes" in config and "${" not in config
    assert values["alloy"]["enableReporting"] is False
    (rule,) = values["rbac"]["rules"]
    assert set(rule["resources"]) == {"pods", "pods/log", "namespaces"}, "no Secrets, no ConfigMaps"
    assert values["rbac"]["clusterRules"] == []
    assert not any("promtail" in r.inputs.get("chart", "") for r in any_plan.of_type("kubernetes:helm.sh/v3:Release"))
