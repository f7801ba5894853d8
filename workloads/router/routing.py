"""The LiteLLM proxy's config.yaml, derived from the phase's traffic settings.

Clients keep sending the OpenAI model names they use today. Each such name is
a LiteLLM model group holding up to two deployments:

- the self-hosted vLLM model, with weight = the self-hosted share;
- the same OpenAI model, with weight = the rest.

LiteLLM's default routing (simple-shuffle) picks a deployment per request in
proportion to ``weight``. A second group, ``<name>-openai``, holds OpenAI
alone and is the fallback for the first: errors, timeouts and overload
(429/503) from vLLM are retried a bounded number of times, then sent there.
The kill switch empties the self-hosted side at once.

Critical traffic uses LiteLLM's tag routing (``enable_tag_filtering``): every
deployment that serves untagged requests carries the tag ``default``, and only
OpenAI deployments also carry the critical tags, so a request (or a key, or a
team) tagged ``critical`` can reach OpenAI only, in every phase. A tag that no
deployment carries (for spend tracking, say) leaves the request in the
``default`` pool.

Only the public model names may be called: LiteLLM accepts a deployment id or
an internal group (``gpt-4o-mini-self-hosted``, ``gpt-4o-mini-openai``) as a
model name, which would bypass the split. Generated keys get the public names
(``default_key_generate_params``), and the ``public_models_only`` hook refuses
any other name whatever the key allows.

``hooks_settings`` renders what the hooks shipped beside config.yaml read: the
public names, the critical tags, and the shadow evaluation (which deployments'
answers are replayed, to which model, how many at once).
"""

from __future__ import annotations

from typing import Any

from stackconfig.model import ServingConfig, TrafficConfig

OPENAI_KEY_ENV = "os.environ/OPENAI_API_KEY"
# Both upstreams come from the Deployment's environment, so one rendered config runs in the cluster, behind an
# egress proxy, and against local fakes (tests, `make rehearse`).
SELF_HOSTED_BASE_ENV = "os.environ/SELF_HOSTED_API_BASE"
OPENAI_BASE_ENV = "os.environ/OPENAI_API_BASE"
HOOKS_MODULE = "llm_platform_hooks"
# Deployments that serve untagged requests carry this LiteLLM tag; it keeps unknown tags in the normal pool.
DEFAULT_TAG = "default"
# Sampled pairs are written to S3 at least this often (or by 200).
SAMPLE_FLUSH_SECONDS = 60
# A deployment-level allowed_fails (model_info) no failure rate reaches: LiteLLM never cools the deployment down.
NEVER_COOL_DOWN = 1_000_000


# Deployment ids (the model_id label of the router's metrics) of the OpenAI deployments that answer fallbacks.
FALLBACK_ID_SUFFIX = "-openai-fallback"


def openai_fallback_group(model_name: str) -> str:
    return f"{model_name}-openai"


def fallback_deployment_ids(config: dict[str, Any]) -> list[str]:
    return [m["model_info"]["id"] for m in config["model_list"] if m["model_info"]["id"].endswith(FALLBACK_ID_SUFFIX)]


def public_models(traffic: TrafficConfig, serving: ServingConfig) -> list[str]:
    """The model names clients may call: the OpenAI names, and the self-hosted one while it serves."""
    names = [m.name for m in traffic.openai_models]
    if traffic.effective_self_hosted_percent > 0:
        names.append(serving.model.served_name)
    return names


def hooks_settings(traffic: TrafficConfig, serving: ServingConfig) -> dict[str, Any]:
    """What the hooks modules in the router's ConfigMap read (llm_platform.json)."""
    shadow = traffic.shadow
    reverse_percent = traffic.effective_reverse_check_percent
    store = shadow.sample_store
    return {
        "public_models": public_models(traffic, serving),
        "self_hosted_only_models": [serving.model.served_name] if traffic.effective_self_hosted_percent > 0 else [],
        "critical_tags": list(traffic.critical.tags),
        "shadow": {
            "percent": traffic.effective_shadow_percent,
            "reverse_check_percent": reverse_percent,
            "reverse_check_monthly_budget_usd": shadow.reverse_check.monthly_budget_usd if reverse_percent else 0.0,
            "self_hosted_model": serving.model.served_name,
            "max_concurrency": shadow.max_concurrency,
            "timeout_seconds": shadow.timeout_seconds,
            "sample_store_percent": store.sample_percent if store.enabled else 0.0,
            "sample_store_flush_seconds": SAMPLE_FLUSH_SECONDS,
        },
    }


def litellm_config(traffic: TrafficConfig, serving: ServingConfig, use_redis: bool) -> dict[str, Any]:
    share = traffic.effective_self_hosted_percent
    waking_needs_fallback = serving.replicas.min == 0 and serving.autoscaling.while_waking == "fallback"
    fallback_enabled = share > 0 and (traffic.fallback_to_openai or waking_needs_fallback)

    fallback = traffic.fallback
    # Fresh lists per deployment below: shared ones would come out of yaml.safe_dump as anchors.
    openai_tags = (DEFAULT_TAG, *traffic.critical.tags)
    shadowed = traffic.effective_shadow_percent > 0
    reverse_checked = traffic.effective_reverse_check_percent > 0
    self_hosted_params = {
        "model": f"hosted_vllm/{serving.model.served_name}",
        "api_base": SELF_HOSTED_BASE_ENV,
        # For a stream, stream_timeout bounds the wait for the first chunk; every try is counted by num_retries alone
        # (the OpenAI client inside LiteLLM would otherwise retry connection errors on its own, with backoff).
        "timeout": fallback.self_hosted_timeout_seconds,
        "stream_timeout": fallback.self_hosted_timeout_seconds,
        "max_retries": 0,
    }
    model_list: list[dict[str, Any]] = []
    fallbacks: list[dict[str, list[str]]] = []
    for openai_model in traffic.openai_models:
        name = openai_model.name
        openai_params = {
            "model": f"openai/{name}",
            "api_key": OPENAI_KEY_ENV,
            "api_base": OPENAI_BASE_ENV,
            "timeout": fallback.openai_timeout_seconds,
            "stream_timeout": fallback.openai_timeout_seconds,
        }
        if share > 0:
            model_list.append({
                "model_name": name,
                "litellm_params": {**self_hosted_params, "weight": share, "tags": [DEFAULT_TAG]},
                "model_info": {
                    "id": f"{name}-self-hosted", "backend": "self-hosted",
                    # The reverse check asks OpenAI too for a share of these answers (llm_platform_shadow).
                    **({"reverse_check": True} if reverse_checked else {}),
                    # Alone in the untagged pool: never cooled down, as when it was alone in its group, so a cooldown
                    # cannot hand untagged requests to the critical-only OpenAI deployment beside it.
                    **({"allowed_fails": NEVER_COOL_DOWN} if share == 100 else {}),
                },
            })
        # Critical requests need an OpenAI deployment in every group, also where the split sends it nothing: there
        # it carries only the critical tags, so untagged requests never reach it.
        model_list.append({
            "model_name": name,
            "litellm_params": {**openai_params, "weight": 100 - share, "tags": list(openai_tags)} if share < 100
            else {**openai_params, "tags": list(traffic.critical.tags)},
            # Its answers are the ones shadow evaluation replays to self-hosted (llm_platform_shadow).
            "model_info": {"id": f"{name}-openai", "backend": "openai", **({"shadow_source": True} if shadowed else {})},
        })
        if fallback_enabled:
            model_list.append({
                "model_name": openai_fallback_group(name),
                "litellm_params": {**openai_params, "tags": list(openai_tags)},
                "model_info": {"id": f"{name}{FALLBACK_ID_SUFFIX}", "backend": "openai"},
            })
            fallbacks.append({name: [openai_fallback_group(name)]})

    # The self-hosted model by its own name too, for clients that opt in explicitly (internal testers). A critical
    # request for it is refused by the public_models_only hook: it would have to be answered self-hosted.
    if share > 0:
        model_list.append({
            "model_name": serving.model.served_name,
            "litellm_params": {**self_hosted_params, "tags": [DEFAULT_TAG]},
            "model_info": {"id": f"{serving.model.served_name}-direct", "backend": "self-hosted"},
        })

    router_settings: dict[str, Any] = {
        "routing_strategy": "simple-shuffle",
        "num_retries": fallback.num_retries,
        "timeout": fallback.openai_timeout_seconds,
        "allowed_fails": fallback.allowed_fails,
        "cooldown_time": fallback.cooldown_seconds,
        "fallbacks": fallbacks,
        # Critical tags route to OpenAI deployments only; see the module docstring.
        "enable_tag_filtering": True,
    }
    general_settings: dict[str, Any] = {
        "master_key": "os.environ/LITELLM_MASTER_KEY",
        "database_url": "os.environ/DATABASE_URL",
        "proxy_batch_write_at": 10,
    }
    if use_redis:
        # Cooldowns shared by every router replica.
        router_settings.update({
            "redis_host": "os.environ/REDIS_HOST",
            "redis_port": "os.environ/REDIS_PORT",
            "redis_password": "os.environ/REDIS_PASSWORD",
        })
        # Per-key rate limits and spend counters shared by every replica. Named explicitly, not inferred from
        # REDIS_*: LiteLLM then treats an unreachable Valkey as an error (logs, litellm_redis_* metrics) instead of
        # quietly counting per pod; the Deployment's init container refuses to start a replica without it.
        general_settings["coordination_redis"] = {
            "host": "os.environ/REDIS_HOST", "port": "os.environ/REDIS_PORT",
            "password": "os.environ/REDIS_PASSWORD", "ssl": True,
        }

    return {
        "model_list": model_list,
        "router_settings": router_settings,
        "litellm_settings": {
            # Order matters: the model-name check runs before the readiness gate rewrites a name to the fallback group.
            "callbacks": ["prometheus", f"{HOOKS_MODULE}.public_models_only", f"{HOOKS_MODULE}.readiness_gate",
                          f"{HOOKS_MODULE}.shadow_evaluation"],
            # Redis and database health as metrics (litellm_redis_*), for the alerts.
            "service_callback": ["prometheus_system"],
            # rate_limit_category and rate_limit_type on failed requests: the router's own per-key rejections
            # (litellm_rate_limit) apart from OpenAI's 429s (vendor_rate_limit), for the Traffic dashboard.
            "prometheus_emit_rate_limit_labels": True,
            # Scraped from inside the cluster only; the NetworkPolicy limits who reaches :4000.
            "require_auth_for_metrics_endpoint": False,
            "drop_params": True,
            "request_timeout": traffic.worst_case_first_byte_seconds,
            # A key generated without a model list may call the public names only, never a deployment id.
            "default_key_generate_params": {"rpm_limit": traffic.per_key_rpm, "models": public_models(traffic, serving)},
            "upperbound_key_generate_params": {"rpm_limit": traffic.max_key_rpm},
        },
        "general_settings": general_settings,
    }


def self_hosted_share(config: dict[str, Any], model_name: str) -> float:
    """The share of untagged ``model_name`` requests the config sends self-hosted (0 to 100): what the split does.

    Untagged requests see only the deployments tagged ``default`` (LiteLLM tag routing)."""
    group = [m for m in config["model_list"]
             if m["model_name"] == model_name and DEFAULT_TAG in m["litellm_params"].get("tags", [])]
    total = sum(m["litellm_params"].get("weight", 1) for m in group)
    hosted = sum(m["litellm_params"].get("weight", 1) for m in group if m["model_info"]["backend"] == "self-hosted")
    return 100 * hosted / total if total else 0.0
