"""Tests against the real LiteLLM proxy (the image's version, from the package index) and fakes on 127.0.0.1.

They run in the router's own virtualenv (`make test-router`), on the router config each stack's plan
rendered into build/plan/<stack>/manifests/; `make test-router` plans every stack first. Variants a stack file
does not ship (the kill switch on, say) are rendered from that file with one key changed, by the same code,
through the main virtualenv's `python -m tools.router_files`.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tools import local_router

ROOT = local_router.ROOT
PLAN_DIR = ROOT / "build" / "plan"
MAIN_PYTHON = Path(os.environ.get("LLM_PLATFORM_PYTHON", ROOT / ".venv" / "bin" / "python"))
TEST_KEYS = Path(__file__).with_name("llm_platform_test_keys.py")


def stack_files(stack: str, *changes: str, work_dir: Path | None = None) -> dict[str, str]:
    """The router ConfigMap's files a stack deploys; with ``changes`` (KEY=VALUE), those of the changed stack file."""
    if not changes:
        return local_router.rendered_router(PLAN_DIR, stack)
    assert work_dir is not None
    out = work_dir / "rendered"
    command = [str(MAIN_PYTHON), "-m", "tools.router_files", "--stack", stack, "--out", str(out)]
    for change in changes:
        command += ["--set", change]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=120)
    return {path.name: path.read_text() for path in out.iterdir()}


def with_shadow_settings(files: dict[str, str], **changes: Any) -> dict[str, str]:
    """The same files with llm_platform.json's shadow settings changed (tests shorten timeouts, replay everything)."""
    settings = json.loads(files["llm_platform.json"])
    settings["shadow"].update(changes)
    return {**files, "llm_platform.json": json.dumps(settings)}


def with_test_keys(files: dict[str, str]) -> dict[str, str]:
    """Add the test keys (llm_platform_test_keys.py) as the proxy's key lookup; see that module."""
    return {**files, TEST_KEYS.name: TEST_KEYS.read_text()}


def use_test_keys(config: dict) -> None:
    config["general_settings"]["custom_auth"] = "llm_platform_test_keys.user_api_key_auth"
    # Apply the checks a database key gets: common checks, and the key's model allowlist (the post-auth checks).
    config["general_settings"]["custom_auth_run_common_checks"] = True
    config["litellm_settings"]["enable_post_custom_auth_checks"] = True


def start_routers(base: Path, specs: dict[str, dict[str, Any]]) -> dict[str, local_router.LocalRouter]:
    """Start several routers at once (LiteLLM takes ~12 s to start): name -> start_router keyword arguments, with
    ``files`` and an optional ``edit`` of config.yaml (Valkey settings are always dropped)."""

    def start(name: str, spec: dict[str, Any]) -> local_router.LocalRouter:
        spec = dict(spec)
        edit = spec.pop("edit", None)

        def edited(config: dict) -> None:
            local_router.without_shared_state(config)
            if edit is not None:
                edit(config)

        return local_router.start_router(spec.pop("files"), base / name, edited, **spec)

    started: dict[str, local_router.LocalRouter] = {}
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        futures = {name: pool.submit(start, name, spec) for name, spec in specs.items()}
        errors = []
        for name, future in futures.items():
            try:
                started[name] = future.result()
            except Exception as err:  # stop what did start, then report
                errors.append(err)
    if errors:
        for router in started.values():
            router.stop()
        raise errors[0]
    return started


@pytest.fixture
def run_router(tmp_path: Path) -> Iterator[Callable[..., local_router.LocalRouter]]:
    """Start a stack's rendered router (without Valkey) and fakes; all of it is stopped at the end, by pid."""
    started: list[local_router.LocalRouter] = []

    def run(stack: str, edit: Callable[[dict], None] | None = None, **options) -> local_router.LocalRouter:
        router = start_routers(tmp_path, {stack: {"files": stack_files(stack), "edit": edit, **options}})[stack]
        started.append(router)
        return router

    yield run
    for router in started:
        router.stop()
