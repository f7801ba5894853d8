"""How a policy of this pack is declared: its level, what it applies to, what it tells you to change.

Every policy is a plain pulumi_policy ``ResourceValidationPolicy`` or ``StackValidationPolicy``, so the
same objects run under `pulumi preview --policy-pack policies` and in the offline plan. Resource policies
name the resource types they check; for every other resource they call ``args.not_applicable`` (the
engine's policy summary then counts them as not applicable rather than passed).

Facts about the stack that no single resource carries (its migration phase, the maximum GPU spend the
price table implies) reach a policy as its policy config: ``policies/__main__.py`` derives them from the
stack's own config (the one the engine hands every policy pack), the offline plan from the validated
``StackConfig``; see ``policies/facts.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

PHASES = ("dev", "shadow", "rollout", "prod")
# Phases where users depend on self-hosted answers (docs/architecture.md): production-grade rules apply.
SERVING_PHASES = ("rollout", "prod")

PHASE = "phase"
MAX_GPU_SPEND = "maxMonthlyGpuSpendUsd"
FACT_SCHEMAS: dict[str, dict[str, Any]] = {
    PHASE: {"type": "string", "enum": list(PHASES), "description": "The stack's migration phase (llm-platform:phase)."},
    MAX_GPU_SPEND: {
        "type": "number",
        "minimum": 0,
        "description": "USD per month if every GPU pool ran at its limit around the clock (tools/cost/prices.py).",
    },
}


def _schema(facts: Iterable[str]) -> PolicyConfigSchema | None:
    facts = list(facts)
    if not facts:
        return None
    return PolicyConfigSchema(properties={name: FACT_SCHEMAS[name] for name in facts}, required=facts)


def _metadata(name: str, description: str, level: EnforcementLevel, remediation: str, facts: Iterable[str]) -> dict:
    return {"name": name, "description": description, "enforcement_level": level, "config_schema": _schema(facts),
            "remediation_steps": remediation}


def fact(args: ResourceValidationArgs | StackValidationArgs, name: str) -> Any:
    """A stack fact from the policy's config; its schema makes the engine refuse to run without it."""
    config = args.get_config()
    if name not in config:
        raise KeyError(f"policy config lacks {name!r}: run the pack through policies/__main__.py or the offline plan")
    return config[name]


def resource_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    types: Iterable[str] | Callable[[str], bool],
    validate: Callable[[ResourceValidationArgs, ReportViolation], None],
    remediation: str,
    facts: Iterable[str] = (),
) -> ResourceValidationPolicy:
    """A policy on single resources of the given types (a type list, or a predicate on the type token)."""
    applies: Callable[[str], bool] = types if callable(types) else frozenset(types).__contains__

    def checked(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not applies(args.resource_type):
            args.not_applicable(f"{name} does not check {args.resource_type}")
        validate(args, report_violation)

    return ResourceValidationPolicy(validate=checked, **_metadata(name, description, level, remediation, facts))


def stack_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    validate: Callable[[StackValidationArgs, ReportViolation], None],
    remediation: str,
    facts: Iterable[str] = (),
) -> StackValidationPolicy:
    return StackValidationPolicy(validate=validate, **_metadata(name, description, level, remediation, facts))


def kubernetes_kind(resource_type: str) -> tuple[str, str]:
    """(API group, kind) of a ``kubernetes:<group>/<version>:<Kind>`` type token; group "" is core."""
    if not resource_type.startswith("kubernetes:") or resource_type.count(":") != 2:
        return "", ""
    _, api_version, kind = resource_type.split(":")
    group, _, _ = api_version.rpartition("/")
    return ("" if group == "core" else group), kind


def is_kind(*kinds: str, group: str | None = None) -> Callable[[str], bool]:
    """A type predicate for Kubernetes objects of these kinds (any API version)."""

    def applies(resource_type: str) -> bool:
        found_group, kind = kubernetes_kind(resource_type)
        return kind in kinds and (group is None or found_group == group)

    return applies
