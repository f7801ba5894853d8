"""What each phase routes: the router's split, fallback and kill switch, from the real stack files."""

import pytest

from stackconfig import parse
from tests.conftest import raw_config, set_dotted
from workloads.router.routing import hooks_settings, litellm_config, openai_fallback_group, self_hosted_share



def parsed(stack: str, **changes):
    raw = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(raw, f"llm-platform:traffic.{dotted}", value)
    return parse(stack, raw)


def config_for(stack: str, **changes):
    cfg = parsed(stack, **changes)
    return litellm_config(cfg.traffic, cfg.serving, use_redis=cfg.traffic.router.replicas > 1)


def settings_for(stack: str, **changes):
    cfg = parsed(stack, **changes)
    return hooks_settings(cfg.traffic, cfg.serving)


def group(config: dict, name: str) -> list[dict]:
    return [m for m in config["model_list"] if m["model_name"] == name]


def untagged_pool(config: dict, name: str) -> list[dict]:
    """What LiteLLM's tag routing offers a request without tags: the group's deployments tagged default."""
    return [m for m in group(config, name) if "default" in m["litellm_params"]["tags"]]


def tagged_pool(config: dict, name: str, tags: set[str]) -> list[dict]:
    """What it offers a request carrying ``tags``: the deployments sharing one of them."""
    return [m for m in group(config, name) if tags & set(m["litellm_params"]["tags"])]


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
                                          "api_base": "os.environ/OPENAI_API_BASE", "timeout": 120, "stream_timeout": 120,
                                          "tags": ["default", "critical"]}
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


def test_the_hooks_are_loaded_from_the_config_directory_name_check_first():
    """The model-name check must see the name the client sent, before the readiness gate rewrites it."""
    assert config_for("dev")["litellm_settings"]["callbacks"] == [
        "prometheus", "llm_platform_hooks.public_models_only", "llm_platform_hooks.readiness_gate",
        "llm_platform_hooks.shadow_evaluation"]


def test_per_key_limits_and_metrics():
    config = config_for("prod")
    settings = config["litellm_settings"]
    assert settings["default_key_generate_params"] == {"rpm_limit": 60, "models": ["gpt-4o-mini", "qwen2.5-7b-instruct"]}
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


# --- critical traffic and public names ------------------------------------------------------------------------


PHASES = ["dev", "shadow", "rollout", "prod"]


@pytest.mark.parametrize("kill_switch", [False, True])
@pytest.mark.parametrize("stack", PHASES)
def test_critical_requests_can_only_reach_openai(stack, kill_switch):
    config = config_for(stack, killSwitch=kill_switch)
    assert config["router_settings"]["enable_tag_filtering"] is True
    pool = tagged_pool(config, "gpt-4o-mini", {"critical"})
    assert pool, f"{stack}: no deployment takes a critical request"
    assert {m["model_info"]["backend"] for m in pool} == {"openai"}
    for fallback in config["router_settings"]["fallbacks"]:
        for target in next(iter(fallback.values())):
            assert {m["model_info"]["backend"] for m in tagged_pool(config, target, {"critical"})} == {"openai"}
    assert not [m for m in config["model_list"] if m["model_info"]["backend"] == "self-hosted"
                and "critical" in m["litellm_params"]["tags"]]


def test_critical_tags_come_from_config():
    config = config_for("rollout", critical={"tags": ["legal", "vip"]})
    assert {m["model_info"]["backend"] for m in tagged_pool(config, "gpt-4o-mini", {"vip"})} == {"openai"}
    assert {m["model_info"]["backend"] for m in tagged_pool(config, "gpt-4o-mini", {"legal"})} == {"openai"}
    assert tagged_pool(config, "gpt-4o-mini", {"critical"}) == [], "the default tag is replaced, not added to"
    assert settings_for("rollout", critical={"tags": ["legal", "vip"]})["critical_tags"] == ["legal", "vip"]


def test_where_self_hosted_answers_everything_the_critical_deployment_never_takes_untagged_requests():
    config = config_for("dev")
    (hosted,) = untagged_pool(config, "gpt-4o-mini")
    assert hosted["model_info"]["backend"] == "self-hosted"
    (openai,) = tagged_pool(config, "gpt-4o-mini", {"critical"})
    assert openai["litellm_params"]["tags"] == ["critical"] and "weight" not in openai["litellm_params"]
    # With two deployments LiteLLM could cool vLLM down and hand untagged requests to OpenAI: it never does here.
    assert hosted["model_info"]["allowed_fails"] >= 1_000_000
    assert "allowed_fails" not in group(config_for("rollout"), "gpt-4o-mini")[0]["model_info"], \
        "where the split has an OpenAI side, vLLM cools down as usual"


@pytest.mark.parametrize("stack, public", [
    ("dev", ["gpt-4o-mini", "qwen2.5-7b-instruct"]), ("shadow", ["gpt-4o-mini"]),
    ("rollout", ["gpt-4o-mini", "qwen2.5-7b-instruct"]), ("prod", ["gpt-4o-mini", "qwen2.5-7b-instruct"]),
])
def test_keys_and_requests_get_the_public_names_only(stack, public):
    config, settings = config_for(stack), settings_for(stack)
    assert settings["public_models"] == public
    assert config["litellm_settings"]["default_key_generate_params"]["models"] == public
    internal = {"gpt-4o-mini-self-hosted", "gpt-4o-mini-openai", "gpt-4o-mini-openai-fallback", "qwen2.5-7b-instruct-direct"}
    assert internal & {m["model_info"]["id"] for m in config["model_list"]}
    assert not internal & set(public)


@pytest.mark.parametrize("stack", PHASES)
def test_the_self_hosted_name_disappears_under_the_kill_switch(stack):
    assert settings_for(stack, killSwitch=True)["public_models"] == ["gpt-4o-mini"]
    assert settings_for(stack, killSwitch=True)["self_hosted_only_models"] == []
    assert config_for(stack, killSwitch=True)["litellm_settings"]["default_key_generate_params"]["models"] == ["gpt-4o-mini"]


def test_unknown_tags_stay_in_the_untagged_pool():
    """Tags used for spend tracking must not change who answers: every split deployment carries 'default'."""
    config = config_for("rollout")
    assert {m["model_info"]["id"] for m in untagged_pool(config, "gpt-4o-mini")} == {
        "gpt-4o-mini-self-hosted", "gpt-4o-mini-openai"}
    assert self_hosted_share(config, "gpt-4o-mini") == 25


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
