"""The stack facts policies receive as their policy config, derived from the stack's validated config.

The pack (``policies/__main__.py``) passes them as the PolicyPack's initial config from the config the
engine hands every policy pack; the offline plan passes the same dict from ``Pulumi.<stack>.yaml``.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Policy

from stackconfig import StackConfig
from tools.cost import max_monthly_gpu_spend

from .rules.base import MAX_GPU_SPEND, PHASE


def stack_facts(config: StackConfig) -> dict[str, Any]:
    """Raises ConfigError when the price tables cannot price the pools (tools.cost.check reports it first)."""
    return {PHASE: config.phase, MAX_GPU_SPEND: max_monthly_gpu_spend(config)}


def policy_config(config: StackConfig, policies: list[Policy]) -> dict[str, dict[str, Any]]:
    """Each policy's config: the facts its schema asks for."""
    facts = stack_facts(config)
    result: dict[str, dict[str, Any]] = {}
    for policy in policies:
        wanted = list(policy.config_schema.properties) if policy.config_schema else []
        if wanted:
            result[policy.name] = {name: facts[name] for name in wanted}
    return result


__all__ = ["policy_config", "stack_facts"]
