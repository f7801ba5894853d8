"""A real Prometheus (Debian's package's binary, unpacked into .tools/bin) on 127.0.0.1, loaded with backfilled histories.

`make test-promote` runs these; the histories are written with promtool, Prometheus is started once for the module
and stopped by process id at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tools import local_prometheus

from .history import RouterHistory

HOUR = 3600.0


@dataclass(frozen=True)
class Loaded:
    url: str
    histories: dict[str, RouterHistory]


def histories(now: float) -> dict[str, RouterHistory]:
    # Whole minutes, so each window's end lies on a sample.
    base = now - now % 60 - 8 * HOUR
    return {
        # The migration plan's objectives met: 0.2 % self-hosted errors, TTFT p95 under 500 ms, p99 under 1 s.
        "passing": RouterHistory(start=base, end=base + 2 * HOUR),
        # Slow first tokens (a fifth of them near 0.9 s: p95 about 875 ms) and vLLM failing 2 % of its attempts.
        "failing": RouterHistory(start=base + 2.5 * HOUR, end=base + 4.5 * HOUR, self_hosted_error_rate=0.02,
                                 self_hosted_ttft=((0.1, 0.8), (0.9, 0.2))),
        # The shadow phase: OpenAI answers everything, a tenth is replayed to vLLM; a fifth of the pairs disagree.
        "shadow": RouterHistory(start=base + 5 * HOUR, end=base + 7 * HOUR, self_hosted_share=0.0, shadow_share=0.1,
                                agreement=((0.0, 0.2), (0.45, 0.4), (0.85, 0.4))),
    }


@pytest.fixture(scope="package")
def loaded(tmp_path_factory) -> Iterator[Loaded]:
    work = tmp_path_factory.mktemp("prometheus")
    storage = work / "data"
    loaded_histories = histories(time.time())
    text = "".join(h.openmetrics().removesuffix("# EOF\n") for h in loaded_histories.values()) + "# EOF\n"
    local_prometheus.backfill(text, storage, work)
    process = local_prometheus.start(work, storage=storage, retention="30d")
    try:
        yield Loaded(process.url, loaded_histories)
    finally:
        local_prometheus.stop(process)
