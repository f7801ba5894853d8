"""Shared fixtures: plans of the real stack files, and stack files with one value changed."""

from __future__ import annotations

import copy
import fcntl
import functools
import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from stackconfig import StackConfig, from_stack_file, parse
from tools import plan as plan_command
from tools import recorder
from tools.recorder import Recording, Registered, record_program

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "shadow", "rollout", "prod")


_RECORDINGS: dict[str, Recording] = {}
# Under pytest-xdist the workers share recordings through files here (set by _share_recordings_between_workers),
# so that a config is recorded once per run rather than once per worker.
_SHARED_DIR: Path | None = None


def _config_key(config: StackConfig) -> str:
    """Everything the program reads, secrets included (two configs that differ only in a secret differ here)."""
    reveal = lambda value: value.get_secret_value() if isinstance(value, SecretStr) else str(value)  # noqa: E731
    return json.dumps(config.model_dump(mode="python"), default=reveal, sort_keys=True)


def record(config: StackConfig) -> Recording:
    """The program is deterministic in its config: record each distinct config once per test session."""
    key = _config_key(config)
    if key not in _RECORDINGS:
        _RECORDINGS[key] = _shared_recording(key, config) if _SHARED_DIR else recorder.record(config)
    return _RECORDINGS[key]


def _shared_recording(key: str, config: StackConfig) -> Recording:
    path = _SHARED_DIR / hashlib.sha256(key.encode()).hexdigest()
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a worker that wants the same config waits for the one recording it
        if path.exists():
            return pickle.loads(path.read_bytes())
        recording = recorder.record(config)
        path.with_suffix(".tmp").write_bytes(pickle.dumps(recording))
        path.with_suffix(".tmp").rename(path)
        return recording


@pytest.fixture(scope="session", autouse=True)
def _share_recordings_between_workers(tmp_path_factory, worker_id):
    global _SHARED_DIR
    if worker_id != "master":
        _SHARED_DIR = tmp_path_factory.getbasetemp().parent / "recordings"  # the run's root, shared by its workers
        _SHARED_DIR.mkdir(exist_ok=True)
    yield
    _SHARED_DIR = None


@pytest.fixture(autouse=True)
def _plans_share_recordings(request, monkeypatch):
    """The plan command records through the session's cache too, except in tests marked ``fresh_recording``
    (those that check what a recording itself does, e.g. that it never opens a connection)."""
    if request.node.get_closest_marker("fresh_recording") is None:
        monkeypatch.setattr(plan_command, "record", record)


def planned(stack: str) -> Recording:
    return record(from_stack_file(stack, ROOT))


class Plan:
    """Query helpers over one recording."""

    def __init__(self, recording: Recording):
        self.recording = recording

    def of_type(self, resource_type: str) -> list[Registered]:
        return [r for r in self.recording.resources if r.type == resource_type]

    def one(self, resource_type: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(resource_type) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {resource_type} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def k8s(self, kind: str, name: str) -> dict[str, Any]:
        found = [
            r.inputs for r in self.recording.resources
            if r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind
            and (r.inputs.get("metadata") or {}).get("name") == name
        ]
        assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
        return found[0]

    def helm(self, release: str) -> dict[str, Any]:
        found = [r.inputs for r in self.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("name") == release]
        assert len(found) == 1, f"expected one Helm release {release}, found {len(found)}"
        return found[0]


@pytest.fixture(scope="session", params=STACKS)
def any_plan(request) -> Plan:
    return Plan(planned(request.param))


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return {stack: Plan(planned(stack)) for stack in STACKS}


def stack_document(stack: str = "dev") -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def raw_config(stack: str = "dev") -> dict[str, Any]:
    return copy.deepcopy(stack_document(stack)["config"])


def engine_view(stack: str) -> dict[str, str]:
    """Config as the engine hands it over on `pulumi up`: decrypted secrets, objects as JSON text."""
    import json

    config = raw_config(stack)
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = f"decrypted-{key}"
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def plan_with(stack: str, changes: dict[str, Any]) -> Plan:
    """Plan a stack after setting dotted keys (``llm-platform:traffic.selfHostedPercent``) to new values."""
    raw = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(raw, dotted, value)
    return Plan(record(parse(stack, raw)))


def set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    key, *path = dotted.split(".")
    if not path:
        raw[key] = value
        return
    node = raw.setdefault(key, {})
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def plan_of(build, stack: str = "test", region: str = "us-east-1") -> Plan:
    """Plan a single component: ``build`` declares resources (it runs inside a Pulumi program)."""
    return Plan(record_program(stack, region, build))


def k8s_test_provider():
    """A Kubernetes provider for component tests (call inside ``build``)."""
    import pulumi_kubernetes as k8s

    return k8s.Provider("test-k8s", kubeconfig="{}")
