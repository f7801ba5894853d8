"""Tests against the real LiteLLM proxy (the image's version, from the package index) and fakes on 127.0.0.1.

They run in the router's own virtualenv (`make test-router`), on the router config each stack's plan
rendered into build/plan/<stack>/manifests/; `make test-router` plans every stack first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from tools import local_router

PLAN_DIR = local_router.ROOT / "build" / "plan"


@pytest.fixture
def run_router(tmp_path: Path) -> Iterator[Callable[..., local_router.LocalRouter]]:
    """Start a stack's rendered router (without Valkey) and fakes; all of it is stopped at the end, by pid."""
    started: list[local_router.LocalRouter] = []

    def run(stack: str, edit: Callable[[dict], None] | None = None, **options) -> local_router.LocalRouter:
        def edited(config: dict) -> None:
            local_router.without_shared_state(config)
            if edit is not None:
                edit(config)

        router = local_router.start_router(local_router.rendered_router(PLAN_DIR, stack), tmp_path / stack, edited, **options)
        started.append(router)
        return router

    yield run
    for router in started:
        router.stop()
