"""Runs the real program for one stack under mocks and records what it declares.

The recording keeps what the engine would see: every registered resource with
its parent and inputs (engine names, camelCase), secrets still marked as
secrets, and the stack outputs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from program import build_platform
from stackconfig import StackConfig

from .mocks import PlanMocks

PROJECT = "llm-platform"
SECRET = "[secret]"


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    parent: str
    inputs: dict[str, Any]
    provider: str = ""  # "<provider urn>::<id>" for custom resources
    ignore_changes: tuple[str, ...] = ()
    # The URNs the engine waits for before creating this resource, as the program sent them: explicit
    # depends_on (a component expanded to its children) plus the resources its input values came from.
    dependencies: tuple[str, ...] = ()
    custom: bool = True  # False for components: they create nothing and take no time
    remote: bool = False  # a component a provider builds (pulumi-eks Cluster, yaml/v2 ConfigFile)
    custom_timeouts: dict[str, str] = field(default_factory=dict)  # create/update/delete, where set


@dataclass
class Recording:
    stack: str
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


class _RecordingMonitor(runtime_mocks.MockMonitor):
    def __init__(self, mocks: PlanMocks, recording: Recording):
        super().__init__(mocks)
        self.recording = recording
        self._lock = threading.Lock()  # the SDK registers resources from a thread pool

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        self.mocks.start_registration(self.make_urn(request.parent, request.type, request.name))
        response = super().RegisterResource(request)
        inputs = {} if request.type == "pulumi:pulumi:Stack" else rpc.deserialize_properties(request.object)
        with self._lock:
            self._record(request, response, inputs)
        return response

    def _record(self, request, response, inputs: dict) -> None:
        if request.type == "pulumi:pulumi:Stack":
            # set_mocks registers a root stack of its own; the program's (run_in_stack) is the one that counts.
            self.recording.resources[:] = [r for r in self.recording.resources if r.urn != response.urn]
        self.recording.resources.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                inputs=redact(inputs),
                provider=request.provider,
                ignore_changes=tuple(request.ignoreChanges),
                dependencies=tuple(sorted(set(request.dependencies))),  # the SDK sends a set: keep files stable
                custom=request.custom,
                remote=request.remote,
                custom_timeouts={
                    key: value
                    for key in ("create", "update", "delete")
                    if (value := getattr(request.customTimeouts, key))
                },
            )
        )
        for child_type, child_name, state in self.mocks.remote_children():
            # Created inside the remote component's construct: finished before the component returns.
            self.recording.resources.append(
                Registered(
                    urn=self.make_urn(response.urn, child_type, child_name),
                    type=child_type,
                    name=child_name,
                    parent=response.urn,
                    inputs=redact(state),
                    # The component hands its providers down to what it builds.
                    provider=request.providers.get(child_type.split(":")[0], ""),
                    dependencies=tuple(sorted(set(request.dependencies))),  # the SDK sends a set: keep files stable
                )
            )

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        if request.urn.split("::")[-2] == "pulumi:pulumi:Stack":
            self.recording.outputs = redact(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)


def redact(value: Any) -> Any:
    """Secrets become "[secret]"; resource references become their URN."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            # Keep the shape around the secret: a Secret's stringData stays a mapping of its keys.
            inner = value.get("value")
            if isinstance(inner, dict) and rpc._special_sig_key not in inner:
                return {key: SECRET for key in inner}
            return SECRET
        if signature == rpc._special_resource_sig:
            return value.get("urn")
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format has only doubles; 2.0 GPUs was 2 in the program
    return value


def record(config: StackConfig) -> Recording:
    """Build the stack ``config`` describes, in-process, and return what it declared."""

    def program() -> None:
        for name, value in build_platform(config).items():
            pulumi.export(name, value)

    return record_program(config.stack, config.region, program)


def record_program(stack: str, region: str, program: Callable[[], None], preview: bool = False) -> Recording:
    """Run any Pulumi program function under the plan's mocks (tests use it for single components)."""
    recording = Recording(stack=stack)
    mocks = PlanMocks(region)
    monitor = _RecordingMonitor(mocks, recording)
    mocks.monitor = monitor
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    # set_mocks registers a finished root stack of its own; run_in_stack below makes the real one,
    # as the Pulumi language host does, so that exports become the stack's outputs.
    settings.ROOT.set(None)
    recording.resources.clear()
    _sync_await(run_in_stack(program))
    recording.resources[:] = _tree_order(recording.resources)
    return recording


def _tree_order(resources: list[Registered]) -> list[Registered]:
    """Parents before children, siblings by URN: the SDK registers from a thread pool, so the order
    of arrival differs from run to run, and the plan's files must not."""
    children: dict[str, list[Registered]] = {}
    for resource in resources:
        children.setdefault(resource.parent, []).append(resource)
    known = {resource.urn for resource in resources}
    ordered: list[Registered] = []

    def walk(parent: str) -> None:
        for child in sorted(children.get(parent, []), key=lambda r: r.urn):
            ordered.append(child)
            walk(child.urn)

    for parent in sorted(p for p in children if p not in known):  # roots: the stack (or a test's bare program)
        walk(parent)
    return ordered
