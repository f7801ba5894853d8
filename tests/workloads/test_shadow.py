"""Shadow evaluation wiring: from each stack file to what the router's hooks read, the kill switch, the sample store.

What the hooks then do with these values is proven against the real LiteLLM proxy in tests/live_router.
"""

from __future__ import annotations

import json

import pytest
import yaml

from stackconfig import parse
from tests.conftest import STACKS, Plan, plan_with, raw_config, set_dotted
from tools.order import Order
from workloads.router.routing import hooks_settings, litellm_config

NS = "llm-platform"


def router_files(plan: Plan) -> tuple[dict, dict]:
    """(config.yaml, llm_platform.json) of the router ConfigMap a plan deploys."""
    data = plan.k8s("ConfigMap", "llm-router-config")["data"]
    return yaml.safe_load(data["config.yaml"]), json.loads(data["llm_platform.json"])


def marked(config: dict, mark: str) -> list[str]:
    return [m["model_info"]["id"] for m in config["model_list"] if m["model_info"].get(mark)]


def rendered(stack: str, **traffic_changes) -> tuple[dict, dict]:
    raw = raw_config(stack)
    for dotted, value in traffic_changes.items():
        set_dotted(raw, f"{NS}:traffic.{dotted}", value)
    cfg = parse(stack, raw)
    return litellm_config(cfg.traffic, cfg.serving, use_redis=False), hooks_settings(cfg.traffic, cfg.serving)


@pytest.mark.parametrize("stack, percent, reverse", [("dev", 0, 0), ("shadow", 10, 0), ("rollout", 2, 0), ("prod", 2, 1)])
def test_each_stack_deploys_its_shadow_share(plans, stack, percent, reverse):
    config, settings = router_files(plans[stack])
    assert settings["shadow"]["percent"] == percent
    assert settings["shadow"]["reverse_check_percent"] == reverse
    assert settings["shadow"]["self_hosted_model"] == "qwen2.5-7b-instruct"
    # Only the split's OpenAI answers are replayed; only its self-hosted answers are reverse-checked.
    assert marked(config, "shadow_source") == (["gpt-4o-mini-openai"] if percent else [])
    assert marked(config, "reverse_check") == (["gpt-4o-mini-self-hosted"] if reverse else [])
    assert "llm_platform_hooks.shadow_evaluation" in config["litellm_settings"]["callbacks"]


def test_concurrency_timeout_and_reverse_budget_come_from_the_stack_files(plans):
    _, shadow = router_files(plans["shadow"])
    _, prod = router_files(plans["prod"])
    assert (shadow["shadow"]["max_concurrency"], shadow["shadow"]["timeout_seconds"]) == (8, 120)
    assert (prod["shadow"]["max_concurrency"], prod["shadow"]["reverse_check_monthly_budget_usd"]) == (4, 100)
    assert shadow["shadow"]["reverse_check_monthly_budget_usd"] == 0, "no budget where there is no reverse check"


def test_non_default_values_reach_the_hooks():
    config, settings = rendered("shadow", shadow={"percent": 7.5, "maxConcurrency": 3, "timeoutSeconds": 45})
    assert settings["shadow"] == {
        "percent": 7.5, "reverse_check_percent": 0.0, "reverse_check_monthly_budget_usd": 0.0,
        "self_hosted_model": "qwen2.5-7b-instruct", "max_concurrency": 3, "timeout_seconds": 45,
        "sample_store_percent": 0.0, "sample_store_flush_seconds": 60,
    }
    _, prod = rendered("prod", shadow={"percent": 0.5, "reverseCheck": {"enabled": True, "percent": 3, "monthlyBudgetUsd": 12.5}})
    assert (prod["shadow"]["percent"], prod["shadow"]["reverse_check_percent"]) == (0.5, 3)
    assert prod["shadow"]["reverse_check_monthly_budget_usd"] == 12.5


@pytest.mark.parametrize("stack", STACKS)
def test_the_kill_switch_stops_shadowing_and_reverse_checks(stack):
    config, settings = rendered(stack, killSwitch=True)
    assert (settings["shadow"]["percent"], settings["shadow"]["reverse_check_percent"]) == (0, 0)
    assert marked(config, "shadow_source") == [] and marked(config, "reverse_check") == []


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_mirrors_at_the_edge_and_vllm_grants_the_edge_nothing(plans, stack):
    plan = plans[stack]
    (rule,) = plan.k8s("HTTPRoute", "llm-api")["spec"]["rules"]
    assert "filters" not in rule
    assert [b["name"] for b in rule["backendRefs"]] == ["llm-router"]
    grants = plan.of_type("kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant")
    assert [g.inputs["metadata"]["namespace"] for g in grants] == ["llm-router"]


def test_no_stack_stores_samples_unless_asked(plans):
    for plan in plans.values():
        assert plan.of_type("llm-platform:infra:ShadowSamples") == []
        (container,) = plan.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]["containers"]
        assert "SHADOW_SAMPLES_BUCKET" not in {e["name"] for e in container["env"]}


# --- the optional sample store --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampled() -> Plan:
    return plan_with("shadow", {f"{NS}:traffic.shadow.sampleStore": {"enabled": True, "samplePercent": 25, "expireDays": 14}})


def test_stored_pairs_expire_and_the_bucket_is_private(sampled):
    (rules,) = [r.inputs["rules"] for r in sampled.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
                if r.name == "shadow-samples"]
    expiry = next(rule for rule in rules if rule["id"] == "expire")
    assert expiry["expiration"] == {"days": 14} and expiry["filter"] == {"prefix": ""}, "the bucket holds pairs only"
    (block,) = [r.inputs for r in sampled.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
                if r.name == "shadow-samples"]
    assert all(block[key] for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (encryption,) = [r.inputs for r in sampled.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration") if r.name == "shadow-samples"]
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"


def test_the_router_may_only_put_pairs_under_the_prefix(sampled):
    (policy,) = [json.loads(r.inputs["policy"]) for r in sampled.of_type("aws:iam/rolePolicy:RolePolicy")
                 if r.name.startswith("shadow-samples-writer")]
    (statement,) = policy["Statement"]
    assert statement["Action"] == "s3:PutObject" and statement["Resource"].endswith("/shadow-samples/*")
    (association,) = [r.inputs for r in sampled.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                      if r.name.startswith("shadow-samples")]
    assert (association["namespace"], association["serviceAccount"]) == ("llm-router", "llm-router")
    pod = sampled.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "llm-router"


def test_the_router_knows_where_to_store_and_starts_after_its_credentials(sampled):
    _, settings = router_files(sampled)
    assert settings["shadow"]["sample_store_percent"] == 25
    (container,) = sampled.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SHADOW_SAMPLES_PREFIX"] == "shadow-samples" and env["AWS_REGION"] == "us-east-1"
    assert env["SHADOW_SAMPLES_BUCKET"].startswith("shadow-samples")
    order = Order(sampled.recording)
    (deployment,) = [r for r in sampled.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "llm-router"]
    (association,) = [r for r in sampled.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                      if r.name.startswith("shadow-samples")]
    assert association.urn in order.waits_for(deployment.urn)
