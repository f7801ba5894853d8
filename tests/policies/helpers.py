"""Run one policy on hand-made resources, with the argument objects the engine's analyzer builds."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from tools.policy import run_validation

STACK = "test"
TAGS = {"Project": "llm-platform", "CostCenter": "ml", "llm-platform/stack": STACK, "llm-platform/phase": "dev"}


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::llm-platform::{resource_type}::{name}"


def options(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def aws_provider(tags: dict[str, str] | None = None) -> PolicyProviderResource:
    props = {"region": "us-east-1", "defaultTags": json.dumps({"tags": TAGS if tags is None else tags})}
    return PolicyProviderResource("pulumi:providers:aws", unknown_checking_proxy(props), urn("pulumi:providers:aws", "aws"), "aws")


def k8s_provider() -> PolicyProviderResource:
    return PolicyProviderResource("pulumi:providers:kubernetes", unknown_checking_proxy({}), urn("pulumi:providers:kubernetes", "eks"), "eks")


def default_provider(resource_type: str) -> PolicyProviderResource | None:
    if resource_type.startswith("aws:"):
        return aws_provider()
    if resource_type.startswith("kubernetes:"):
        return k8s_provider()
    return None


def check(policy: Policy, resource_type: str, props: dict[str, Any], name: str = "subject",
          provider: PolicyProviderResource | None | str = "default", config: dict[str, Any] | None = None) -> list[str] | None:
    """The messages ``policy`` reports for one resource, or None when it is not applicable."""
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type, unknown_checking_proxy(props), urn(resource_type, name), name, options(),
        default_provider(resource_type) if provider == "default" else provider, config,
    )
    applicable = run_validation(policy, args, lambda message, urn=None: found.append(message))
    return found if applicable else None


class Stack:
    """Resources for a stack policy, built up like a program declares them."""

    def __init__(self) -> None:
        self.resources: list[PolicyResource] = []

    def add(self, resource_type: str, props: dict[str, Any], name: str, parent: PolicyResource | None = None,
            depends_on: tuple[PolicyResource, ...] = (), custom: bool = True) -> PolicyResource:
        resource = PolicyResource(
            resource_type, unknown_checking_proxy(props), urn(resource_type, name), name,
            options(parent.urn if parent else None),
            default_provider(resource_type) if custom else None, parent, list(depends_on), {},
        )
        self.resources.append(resource)
        return resource

    def check(self, policy: Policy, config: dict[str, Any] | None = None) -> list[tuple[str, str]] | None:
        """(message, urn) of each violation, or None when the policy is not applicable."""
        found: list[tuple[str, str]] = []
        args = StackValidationArgs(self.resources, config)
        applicable = run_validation(policy, args, lambda message, urn=None: found.append((message, urn or "")))
        return found if applicable else None
