"""What each phase routes: the router's split, fallback and kill switch, from the real stack files."""

import pytest

from stackconfig import parse
from tests.conftest import raw_config, set_dotted
from workloads.router.routing import litellm_config, openai_fallback_group, self_hosted_share



def config_for(stack: str, **changes):
    raw = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(raw, f"llm-platform:traffic.{dotted}", value)
    cfg = parse(stack, raw)
    return litellm_config(cfg.traffic, cfg.serving, use_redis=cfg.traffic.router.replicas > 1)


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
                                          "api_base": "os.environ/OPENAI_API_BASE", "timeout": 120, "stream_timeout": 120}
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
    assert hosted["litellm_params"]["api_base"] == "os.environ/SELF_HOSTED_API_BASE"
    assert hosted["litellm_params"]["weight"] == 25


def test_shared_rate_limits_are_required_not_inferred():
    coordination = config_for("prod")["general_settings"]["coordination_redis"]
    assert coordination == {"host": "os.environ/REDIS_HOST", "port": "os.environ/REDIS_PORT",
                            "password": "os.environ/REDIS_PASSWORD", "ssl": True}
    assert "prometheus_system" in config_for("prod")["litellm_settings"]["service_callback"]
    assert "coordination_redis" not in config_for("dev")["general_settings"], "one replica keeps its counters itself"


def test_the_readiness_gate_hook_is_loaded_from_the_config_directory():
    assert config_for("dev")["litellm_settings"]["callbacks"] == ["prometheus", "llm_platform_hooks.readiness_gate"]


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


@pytest.mark.parametrize("stack", ["dev", "rollout", "prod"])
def test_the_kill_switch_in_a_stack_file_reaches_the_deployed_router(stack):
    """From Pulumi.<stack>.yaml to the ConfigMap the router reads: nothing self-hosted is left to route to."""
    import yaml

    from tests.conftest import plan_with

    plan = plan_with(stack, {"llm-platform:traffic.killSwitch": True})
    config = yaml.safe_load(plan.k8s("ConfigMap", "llm-router-config")["data"]["config.yaml"])
    assert self_hosted_share(config, "gpt-4o-mini") == 0
    assert {m["model_info"]["backend"] for m in config["model_list"]} == {"openai"}
    assert "hosted_vllm" not in yaml.safe_dump(config)
    # vLLM keeps running: switching back is one more `pulumi up`, with no cold start.
    assert plan.k8s("Deployment", "vllm")
