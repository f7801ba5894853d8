"""Shadow evaluation with the real LiteLLM proxy on the shadow stack's rendered router, fakes for OpenAI and vLLM.

Five routers run side by side: the stack as it ships (10 %); the same with vLLM unhealthy (unrelated answers, slow,
failing; every request sampled); the stack with the kill switch on (also the latency baseline); vLLM hung; and vLLM
down (no ready endpoint).
The measured figures are written to build/test-router/shadow.json.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.live_router.conftest import ROOT, stack_files, start_routers, with_shadow_settings
from tools import local_router
from tools.local_router import backend_requests, chat, metric_sum, metrics

SHARE_REQUESTS = 500
VLLM_SECONDS = 4.0  # the unhealthy vLLM's answer time: a client that waited for a replay would take this long
HUNG_TIMEOUT = 5  # replay timeout against the hung vLLM
UNRELATED = "Quarterly revenue rose eleven percent on strong cloud demand in the northern region."
MEASUREMENTS = ROOT / "build" / "test-router" / "shadow.json"
measured: dict[str, float] = {}


@pytest.fixture(scope="module")
def routers(tmp_path_factory):
    base = tmp_path_factory.mktemp("shadow")
    shipped = stack_files("shadow")
    fleet = start_routers(base, {
        "shipped": {"files": shipped},
        "unhealthy": {"files": with_shadow_settings(shipped, percent=100, max_concurrency=4),
                      "vllm": {"answer": UNRELATED, "latency": VLLM_SECONDS, "ttft": VLLM_SECONDS, "fail_rate": 0.3}},
        "kill-switch": {"files": stack_files("shadow", "traffic.killSwitch=true", work_dir=base / "kill")},
        "hung": {"files": with_shadow_settings(shipped, percent=100, timeout_seconds=HUNG_TIMEOUT, max_concurrency=5),
                 "vllm": {"latency": 60, "ttft": 60, "max_requests": 200}},
        "vllm-down": {"files": with_shadow_settings(shipped, percent=100), "vllm_running": False},
    })
    for router in fleet.values():  # LiteLLM's first call imports what it loads lazily: not part of any measurement
        assert chat(router.proxy.url, "gpt-4o-mini", "warm up")[0] == 200
    yield fleet
    for router in fleet.values():
        router.stop()
    MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
    MEASUREMENTS.write_text(json.dumps(measured, indent=2, sort_keys=True))


def prompt(index: int) -> str:
    if index % 5 == 0:
        return f"Capital city number {index}?"  # a short answer: compared by exact match
    return f"Question {index}: explain in a few sentences why the sky looks blue by day and red at sunset."


def settle(router: local_router.LocalRouter, timeout: float = 15) -> str:
    """The router's metrics once no replay is running."""
    deadline = time.monotonic() + timeout
    while True:
        text = metrics(router.proxy.url)
        if metric_sum(text, "llm_shadow_in_flight") == 0 or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def replays(text: str, outcome: str = "ok", mode: str = "shadow") -> float:
    return metric_sum(text, "llm_shadow_replays_total", model="gpt-4o-mini", mode=mode, outcome=outcome)


def test_replays_the_configured_share_and_scores_identical_answers_1(routers):
    router = routers["shipped"]
    before_metrics = settle(router)
    before, replayed_before = backend_requests(router.backends["vllm"]), replays(before_metrics)
    scored_before = metric_sum(before_metrics, "llm_shadow_agreement_count")

    def ask(index: int):
        return index, chat(router.proxy.url, "gpt-4o-mini", prompt(index), stream=index % 2 == 0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, range(SHARE_REQUESTS)))
    for index, (status, body, _) in results:
        assert status == 200, body
        assert local_router.answered_by(body) == "openai"
        assert local_router.answer_text(body) == f"Answer: {prompt(index)}", "the client's answer is OpenAI's, unchanged"

    text = settle(router)
    replayed = replays(text) - replayed_before
    assert backend_requests(router.backends["vllm"]) - before == replayed, "every replay reached vLLM, nothing else did"
    expected, spread = SHARE_REQUESTS * 0.10, math.sqrt(SHARE_REQUESTS * 0.10 * 0.90)
    measured["replay_share_percent"] = 100 * replayed / SHARE_REQUESTS
    assert abs(replayed - expected) <= 4 * spread, f"{replayed} replays of {SHARE_REQUESTS}, expected {expected:.0f}"

    # Both fakes echo the question: every pair agrees fully, by word overlap or by exact match for short ones.
    scored = metric_sum(text, "llm_shadow_agreement_count", mode="shadow")
    assert scored - scored_before == replayed
    assert metric_sum(text, "llm_shadow_agreement_sum", mode="shadow") == scored, "every score is 1"
    assert metric_sum(text, "llm_shadow_agreement_bucket", le="0.99") == 0
    measured["agreement_identical_answers"] = metric_sum(text, "llm_shadow_agreement_sum") / scored
    assert metric_sum(text, "llm_shadow_exact_match_total", match="false") == 0


def test_exports_latency_ttft_and_tokens_for_both_backends(routers):
    text = settle(routers["shipped"])
    completed = replays(text)
    assert completed > 0
    for backend in ("openai", "self-hosted"):
        labels = {"model": "gpt-4o-mini", "mode": "shadow", "backend": backend}
        assert metric_sum(text, "llm_shadow_latency_seconds_count", **labels) == completed
        assert metric_sum(text, "llm_shadow_output_tokens_count", **labels) == completed
        assert metric_sum(text, "llm_shadow_output_tokens_sum", **labels) > 0
        # Half the requests were streamed: those pairs have a time to first token on both sides.
        assert 0 < metric_sum(text, "llm_shadow_ttft_seconds_count", **labels) < completed
    assert "llm_shadow_in_flight" in text
    assert metric_sum(text, "llm_shadow_dropped_total") == 0, "fast fakes: nothing dropped"


def test_critical_requests_are_never_replayed(routers):
    router = routers["shipped"]
    before = replays(settle(router))
    for index in range(60):
        extra = {"tags": ["critical"]} if index % 2 else {"metadata": {"tags": ["critical"]}}
        status, body, _ = chat(router.proxy.url, "gpt-4o-mini", prompt(index), **extra)
        assert status == 200 and local_router.answered_by(body) == "openai"
    # Sampled at 10 %, 60 eligible requests would leave none unreplayed with probability 0.9^60, about 0.2 %.
    assert replays(settle(router)) == before


@pytest.mark.parametrize("name", ["gpt-4o-mini-openai", "gpt-4o-mini-self-hosted", "gpt-4o-mini-openai-fallback",
                                  "qwen2.5-7b-instruct"])
def test_only_public_names_answer_in_shadow(routers, name):
    status, body, _ = chat(routers["shipped"].proxy.url, name, "hello")
    assert status == 400 and "is not served here" in body


def test_a_slow_failing_backend_with_other_answers_neither_changes_nor_delays_the_client(routers):
    unhealthy, baseline = routers["unhealthy"], routers["kill-switch"]
    with_shadow, without = [], []
    for index in range(40):
        stream = index % 4 == 0
        for router, latencies in ((unhealthy, with_shadow), (baseline, without)):
            status, body, seconds = chat(router.proxy.url, "gpt-4o-mini", prompt(index), stream=stream)
            assert status == 200 and local_router.answered_by(body) == "openai"
            assert local_router.answer_text(body) == f"Answer: {prompt(index)}"
            latencies.append(seconds)
    added = statistics.median(with_shadow) - statistics.median(without)
    measured["added_client_latency_median_seconds"] = added
    measured["client_latency_median_with_replays_seconds"] = statistics.median(with_shadow)
    measured["client_latency_median_without_seconds"] = statistics.median(without)
    assert added < 0.05, f"replays added {added * 1000:.0f} ms to the median client latency"
    assert max(with_shadow) < VLLM_SECONDS - 1, f"vLLM takes {VLLM_SECONDS:g} s to answer: no client waited for it"

    text = settle(unhealthy)
    ok, failed = replays(text), replays(text, "error")
    assert ok > 0 and failed > 0, "vLLM fails 30 % of the time: both outcomes are counted"
    assert metric_sum(text, "llm_shadow_dropped_total", reason="concurrency") > 0, "4 replays at a time, the rest dropped"
    # Unrelated answers share at most a few small words ("in the") with OpenAI's echo: every pair scores low.
    assert metric_sum(text, "llm_shadow_agreement_count") == ok
    assert metric_sum(text, "llm_shadow_agreement_bucket", le="0.2") == ok
    mean = metric_sum(text, "llm_shadow_agreement_sum") / ok
    measured["agreement_unrelated_answers"] = mean
    assert mean < 0.15


def test_json_answers_are_compared_as_json(routers):
    router = routers["unhealthy"]
    for index in range(12):
        status, body, _ = chat(router.proxy.url, "gpt-4o-mini", f"List fact {index} as JSON.",
                               response_format={"type": "json_object"})
        assert status == 200 and json.loads(local_router.answer_text(body))
    text = settle(router)
    assert metric_sum(text, "llm_shadow_json_valid_total", backend="openai", valid="true") > 0
    assert metric_sum(text, "llm_shadow_json_valid_total", backend="self-hosted", valid="true") > 0
    assert metric_sum(text, "llm_shadow_agreement_count", method="json") > 0


def test_the_kill_switch_never_replays(routers):
    router = routers["kill-switch"]
    for index in range(60):
        status, body, _ = chat(router.proxy.url, "gpt-4o-mini", prompt(index), stream=index % 3 == 0)
        assert status == 200 and local_router.answered_by(body) == "openai"
    text = metrics(router.proxy.url)
    assert backend_requests(router.backends["vllm"]) == 0
    assert metric_sum(text, "llm_shadow_replays_total") == 0 and metric_sum(text, "llm_shadow_dropped_total") == 0


def test_no_replay_is_attempted_while_vllm_has_no_ready_endpoint(routers):
    """Scaled to zero or down: the readiness gate's probe already knows, so replays are dropped at once instead of
    failing five times before the back-off."""
    router = routers["vllm-down"]
    for index in range(20):
        status, body, _ = chat(router.proxy.url, "gpt-4o-mini", prompt(index), stream=index % 2 == 0)
        assert status == 200 and local_router.answered_by(body) == "openai"
    text = settle(router)
    assert metric_sum(text, "llm_shadow_replays_total") == 0, "no replay was attempted"
    assert metric_sum(text, "llm_shadow_dropped_total", reason="backend_unavailable") >= 20


def test_a_hung_backend_times_out_backs_off_and_costs_the_client_nothing(routers):
    router = routers["hung"]

    def ask(index: int) -> float:
        status, body, seconds = chat(router.proxy.url, "gpt-4o-mini", prompt(index), stream=index % 2 == 0)
        assert status == 200 and local_router.answered_by(body) == "openai"
        return seconds

    with ThreadPoolExecutor(max_workers=12) as pool:  # 12 sampled at once: 5 replay, the rest are dropped
        latencies = list(pool.map(ask, range(12)))
    deadline = time.monotonic() + HUNG_TIMEOUT + 10
    while replays(metrics(router.proxy.url), "timeout") < 5 and time.monotonic() < deadline:
        time.sleep(0.25)
    latencies += [ask(index) for index in range(10)]  # after 5 failures in a row, replays pause
    measured["client_latency_max_with_hung_vllm_seconds"] = max(latencies)
    assert max(latencies) < HUNG_TIMEOUT - 1, "no client waited for a replay"
    text = metrics(router.proxy.url)
    assert replays(text, "timeout") >= 5
    assert metric_sum(text, "llm_shadow_dropped_total", reason="concurrency") > 0
    assert metric_sum(text, "llm_shadow_dropped_total", reason="backend_unavailable") > 0, "paused after 5 failures"
    assert replays(text) == 0
