"""The rehearsal's clients: a bounded number of chat completions through the router, a few at a time, streamed
and not, each recorded with who answered, its status, time to first token (streams) and total time."""

from __future__ import annotations

import json
import math
import statistics
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional

from tools.local_router import answered_by

# Short questions (the shadow evaluation compares them by exact match) and longer requests (ROUGE-L).
PROMPTS = (
    "What is {n} plus {n}?",
    "Name the capital of country number {n}.",
    "Summarise in two sentences why request {n} of the rehearsal matters to the platform team, and what they "
    "should check before moving the next share of traffic to the self-hosted model.",
    "Explain step by step how a router splits traffic between two backends, using request {n} as the example.",
)


@dataclass(frozen=True)
class Outcome:
    status: int
    backend: Optional[str]  # the fake that answered ("openai", "vllm"); None when the request failed
    stream: bool
    seconds: float
    ttft: Optional[float]  # streams: time to the first chunk with content


def send(url: str, key: str, model: str, prompt: str, stream: bool, timeout: float,
         extra: Optional[dict[str, Any]] = None) -> Outcome:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream, **(extra or {})}
    request = urllib.request.Request(f"{url}/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if not stream:
                answer = json.loads(response.read())
                return Outcome(response.status, answered_by(answer), False, time.perf_counter() - started, None)
            backend, first = None, None
            for raw in response:  # server-sent events, one line at a time
                line = raw.decode().strip()
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[len("data: "):])
                backend = backend or answered_by(chunk)
                if first is None and any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or []):
                    first = time.perf_counter() - started
            return Outcome(response.status, backend, True, time.perf_counter() - started, first)
    except urllib.error.HTTPError as err:
        err.read()
        return Outcome(err.code, None, stream, time.perf_counter() - started, None)
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return Outcome(599, None, stream, time.perf_counter() - started, None)  # no answer at all


def drive(url: str, key: str, model: str, count: int, clients: int, timeout: float,
          extra: Optional[dict[str, Any]] = None) -> list[Outcome]:
    """``count`` requests from ``clients`` concurrent clients; every other one streamed."""
    def one(index: int) -> Outcome:
        return send(url, key, model, PROMPTS[index % len(PROMPTS)].format(n=index), stream=index % 2 == 1,
                    timeout=timeout, extra=extra)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one, range(count)))


def percentile(values: list[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Summary:
    requests: int
    answered: Counter  # backend -> answers
    errors: int
    streamed: int
    p50: Optional[float]
    p95: Optional[float]
    ttft_p95: Optional[float]

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> "Summary":
        ok = [o for o in outcomes if o.status == 200 and o.backend]
        seconds = [o.seconds for o in ok]
        return cls(
            requests=len(outcomes),
            answered=Counter(o.backend for o in ok),
            errors=sum(1 for o in outcomes if o.status != 200),
            streamed=sum(1 for o in outcomes if o.stream),
            p50=statistics.median(seconds) if seconds else None,
            p95=percentile(seconds, 95),
            ttft_p95=percentile([o.ttft for o in ok if o.ttft is not None], 95),
        )

    def latency(self) -> str:
        def ms(value: Optional[float]) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"
        return f"p50 {ms(self.p50)}, p95 {ms(self.p95)}; streamed first token p95 {ms(self.ttft_p95)}"
