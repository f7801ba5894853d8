"""Runs the policy pack on an offline recording, with the argument objects the engine's analyzer builds.

What the analyzer hands a policy, and how the recording stands in for it:
- resource policies get each resource's inputs (``unknown_checking_proxy``, as the SDK wraps them), its
  options, its provider (type, inputs, URN, name) and the policy's config;
- stack policies get every resource with its parent, dependencies and provider; the engine passes
  outputs there, the recording has inputs (outputs of a planned resource are its inputs plus what the
  cloud computes), and no per-property dependencies (``policies.rules.graph.refers_to`` falls back to
  the dependencies);
- resources a remote component builds inside its provider (pulumi-eks's ``aws:eks/cluster:Cluster``)
  are known offline only by the outputs the mocks answered, not by inputs: resource policies skip them
  and check the component's own inputs instead, which a real preview cannot see (there the provider
  registers the component without inputs, and the child with its real ones).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError  # the SDK's own signal for args.not_applicable()
from pulumi_policy.proxy import unknown_checking_proxy

from policies.facts import policy_config
from policies.rules import POLICIES
from stackconfig import StackConfig

from ..recorder import PROJECT, Recording, Registered

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message}


@dataclass
class Outcome:
    """One policy's result on one stack: how many resources it judged, and what it found."""

    policy: str
    level: str
    stack_level: bool
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)


def _seconds(duration: str) -> float:
    """A Go duration as the engine sends custom timeouts ("1h30m", "10m", "90s")."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(ms|h|m|s)", duration or ""))


class _Engine:
    """Builds the SDK's argument objects from one recording; each resource's once, shared by every policy (the
    SDK's proxies copy what they wrap, and policies only read)."""

    def __init__(self, recording: Recording):
        self.recording = recording
        self.by_urn = {r.urn: r for r in recording.resources}
        self.stack_urn = next((r.urn for r in recording.resources if r.type == STACK_TYPE), "")
        # Per engine, so nothing outlives the recording.
        self.props = functools.cache(self._props)
        self.options = functools.cache(self._options)
        self.provider = functools.cache(self._provider)

    def _props(self, urn: str) -> Any:
        return unknown_checking_proxy(self.by_urn[urn].inputs)

    def _options(self, urn: str) -> PolicyResourceOptions:
        resource = self.by_urn[urn]
        timeouts = resource.custom_timeouts
        return PolicyResourceOptions(
            protect=False,
            ignore_changes=list(resource.ignore_changes),
            delete_before_replace=None,
            aliases=[],
            custom_timeouts=PolicyCustomTimeouts(*(_seconds(timeouts.get(k, "")) for k in ("create", "update", "delete"))),
            additional_secret_outputs=[],
            parent=resource.parent or None,
        )

    def _provider(self, urn: str) -> PolicyProviderResource | None:
        resource = self.by_urn[urn]
        if resource.type == STACK_TYPE or resource.type.startswith("pulumi:providers:"):
            return None
        if resource.provider:
            found = self.by_urn.get(resource.provider.rsplit("::", 1)[0])
            if found is not None:
                return PolicyProviderResource(found.type, self.props(found.urn), found.urn, found.name)
        if not resource.custom:
            return None  # components have no provider
        # The engine's default provider for the package, which the mocks do not register.
        package = resource.type.split(":", 1)[0]
        urn = f"urn:pulumi:{self.recording.stack}::{PROJECT}::pulumi:providers:{package}::default"
        return PolicyProviderResource(f"pulumi:providers:{package}", unknown_checking_proxy({}), urn, "default")

    def built_by_remote_component(self, resource: Registered) -> bool:
        parent = self.by_urn.get(resource.parent)
        return parent is not None and parent.remote

    def resource_args(self, resource: Registered, config: dict[str, Any] | None) -> ResourceValidationArgs:
        return ResourceValidationArgs(
            resource.type,
            self.props(resource.urn),
            resource.urn,
            resource.name,
            self.options(resource.urn),
            self.provider(resource.urn),
            config,
        )

    @functools.cached_property
    def stack_resources(self) -> list[PolicyResource]:
        resources = {
            r.urn: PolicyResource(
                r.type, self.props(r.urn), r.urn, r.name, self.options(r.urn),
                self.provider(r.urn), None, [], {},
            )
            for r in self.recording.resources
        }
        for r in self.recording.resources:
            resources[r.urn].parent = resources.get(r.parent)
            resources[r.urn].dependencies = [resources[d] for d in r.dependencies if d in resources]
        return list(resources.values())


def _reporter(outcome: Outcome, urn_of_resource: str | None, stack_urn: str):
    """The engine's report_violation: resource policies always report on their resource, stack policies on
    the URN they name (or the stack)."""

    def report(message: str, urn: str | None = None) -> None:
        where = urn_of_resource or urn or stack_urn
        outcome.violations.append(Violation(outcome.policy, outcome.level, where, message))

    return report


def run_validation(policy: Policy, args: Any, report) -> bool:
    """Run one validation; False when the policy declared itself not applicable."""
    try:
        result = policy.validate(args, report)
        if inspect.isawaitable(result):
            asyncio.run(result)
    except _NotApplicableError:
        return False
    return True


def evaluate(config: StackConfig, recording: Recording, policies: list[Policy] | None = None) -> list[Outcome]:
    """Every policy on the stack ``recording`` holds, with the facts ``config`` gives them."""
    policies = POLICIES if policies is None else policies
    engine = _Engine(recording)
    configs = policy_config(config, policies)
    outcomes = []
    for policy in policies:
        level = policy.enforcement_level.value if policy.enforcement_level else "advisory"
        outcome = Outcome(policy.name, level, isinstance(policy, StackValidationPolicy))
        if isinstance(policy, ResourceValidationPolicy):
            for resource in recording.resources:
                if engine.built_by_remote_component(resource):
                    continue
                args = engine.resource_args(resource, configs.get(policy.name))
                if run_validation(policy, args, _reporter(outcome, resource.urn, engine.stack_urn)):
                    outcome.checked += 1
        else:
            args = StackValidationArgs(engine.stack_resources, configs.get(policy.name))
            if run_validation(policy, args, _reporter(outcome, None, engine.stack_urn)):
                outcome.checked += 1
        outcomes.append(outcome)
    return outcomes
