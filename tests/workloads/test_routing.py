"""What each phase routes: the router's split, fallback and kill switch, from the real stack files."""

import pytest

from stackconfig import parse
from tests.conftest import raw_config, set_dotted
from workloads.router.routing import litellm_config, openai_fallback_group, self_hosted_share

VLLM = "http://vllm.llm-serving.svc.cluster.local:8000/v1"


def config_for(stack: str, **changes):
    raw = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(raw, f"llm-platform:traffic.{dotted}", value)
    cfg = parse(stack, raw)
    return litellm_config(cfg.traffic, cfg.serving, VLLM, use_redis=cfg.traffic.router.replicas > 1)


@pytest.mark.parametrize("stack, share", [("dev", 100), ("shadow", 0), ("rollout", 25), ("prod", 95)])
def test_who_answers_per_phase(stack, share):
    assert self_hosted_share(config_for(stack), "gpt-4o-mini") == share


@pytest.mark.parametrize("share", [25, 50, 75])
def test_one_value_moves_the_share(share):
    assert self_hosted_share(config_for("rollout", selfHostedPercent=share), "gpt-4o-mini") == share


@pytest.mark.parametrize("stack", ["dev", "shadow", "rollout", "prod"])
def test_kill_switch_sends_everything_to_openai(stack):
    config = config_for(stack, killSwitch=True)
    assert self_hosted_share(config, "gpt-4o-mini") == 0
    backends = {m["model_info"]["backend"] for m in config["model_list"]}
    assert backends == {"openai"}
    assert all("hosted_vllm" not in m["litellm_params"]["model"] for m in config["model_list"])


@pytest.mark.parametrize("stack", ["dev", "rollout", "prod"])
def test_fallback_to_openai_when_self_hosted_serves(stack):
    config = config_for(stack)
    assert config["router_settings"]["fallbacks"] == [{"gpt-4o-mini": [openai_fallback_group("gpt-4o-mini")]}]
    (fallback,) = [m for m in config["model_list"] if m["model_name"] == "gpt-4o-mini-openai"]
    assert fallback["litellm_params"] == {"model": "openai/gpt-4o-mini", "api_key": "os.environ/OPENAI_API_KEY",
                                          "timeout": 120, "stream_timeout": 120}
    assert 0 < config["router_settings"]["num_retries"] <= 5, "retries are bounded"


def test_attempt_timeouts_come_from_config_and_only_the_router_retries():
    config = config_for("rollout", fallback={"numRetries": 2, "selfHostedTimeoutSeconds": 45, "openaiTimeoutSeconds": 70})
    (hosted,) = [m for m in config["model_list"] if m["model_info"]["id"] == "gpt-4o-mini-self-hosted"]
    assert (hosted["litellm_params"]["timeout"], hosted["litellm_params"]["stream_timeout"]) == (45, 45)
    assert hosted["litellm_params"]["max_retries"] == 0, "the OpenAI client inside LiteLLM must not retry on its own"
    (fallback,) = [m for m in config["model_list"] if m["model_name"] == "gpt-4o-mini-openai"]
    assert fallback["litellm_params"]["timeout"] == 70
    assert config["router_settings"]["num_retries"] == 2
    assert config["litellm_settings"]["request_timeout"] == 3 * 45 + 70


def test_shadow_router_answers_from_openai_only():
    config = config_for("shadow")
    group = [m for m in config["model_list"] if m["model_name"] == "gpt-4o-mini"]
    assert [m["litellm_params"]["model"] for m in group] == ["openai/gpt-4o-mini"]
    assert config["router_settings"]["fallbacks"] == []


def test_self_hosted_deployment_points_at_vllm_with_the_served_name():
    config = config_for("rollout")
    (hosted,) = [m for m in config["model_list"] if m["model_name"] == "gpt-4o-mini" and m["model_info"]["backend"] == "self-hosted"]
    assert hosted["litellm_params"]["model"] == "hosted_vllm/qwen2.5-7b-instruct"
    assert hosted["litellm_params"]["api_base"] == VLLM
    assert hosted["litellm_params"]["weight"] == 25


def test_per_key_limits_and_metrics():
    config = config_for("prod")
    settings = config["litellm_settings"]
    assert settings["default_key_generate_params"] == {"rpm_limit": 60}
    assert "prometheus" in settings["callbacks"]
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert config["router_settings"]["redis_host"] == "os.environ/REDIS_HOST"


def test_no_secret_values_in_router_config():
    text = repr(config_for("prod"))
    assert "placeholder" not in text and "[secret]" not in text


@pytest.mark.parametrize("stack, share", [("dev", 100), ("shadow", 0), ("rollout", 25), ("prod", 95)])
def test_planned_router_config_carries_the_split(plans, stack, share):
    """The ConfigMap the stack actually deploys routes the phase's share."""
    import yaml

    config_map = plans[stack].k8s("ConfigMap", "llm-router-config")
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert self_hosted_share(config, "gpt-4o-mini") == share
