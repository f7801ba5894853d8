"""What a client sees while vLLM is down or hung, with the real LiteLLM proxy on the rendered configs."""

from __future__ import annotations

import time

from tools import local_router


def test_dev_answers_from_openai_at_once_while_vllm_wakes_and_returns_to_vllm(run_router):
    router = run_router("dev", vllm_running=False)
    # LiteLLM's first call loads what it imports lazily (about a second): pay it outside the measurement.
    assert local_router.chat(router.proxy.url, "gpt-4o-mini", "warm up")[0] == 200
    latencies = []
    for index in range(20):
        status, body, seconds = local_router.chat(router.proxy.url, "gpt-4o-mini", f"question {index}")
        assert status == 200, body
        assert local_router.answered_by(body) == "openai"
        latencies.append(seconds)
    assert max(latencies) < 1.0, f"each request should skip the sleeping backend, took up to {max(latencies):.2f} s"

    # Every one of them is counted where KEDA's wake trigger looks.
    text = local_router.metrics(router.proxy.url)
    assert local_router.metric_sum(text, "litellm_proxy_total_requests_metric_total") >= 20

    router.start_vllm()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status, body, _ = local_router.chat(router.proxy.url, "gpt-4o-mini", "are you awake")
        if local_router.answered_by(body) == "vllm":
            break
        time.sleep(0.5)
    assert local_router.answered_by(body) == "vllm", "once vLLM is ready, dev is served self-hosted again"


def test_a_hung_vllm_is_abandoned_within_the_budget(run_router):
    """Attempt timeouts and retries hold as configured: (retries + 1) x self-hosted timeout + OpenAI's answer."""
    self_hosted_timeout, retries = 2, 1

    def shorten(config: dict) -> None:
        for deployment in config["model_list"]:
            if deployment["model_info"]["backend"] == "self-hosted":
                deployment["litellm_params"].update(timeout=self_hosted_timeout, stream_timeout=self_hosted_timeout)
        config["router_settings"]["num_retries"] = retries

    router = run_router("dev", edit=shorten, vllm={"latency": 30, "ttft": 30, "max_requests": 50})
    status, body, seconds = local_router.chat(router.proxy.url, "gpt-4o-mini", "hello")
    assert status == 200 and local_router.answered_by(body) == "openai", body
    budget = (retries + 1) * self_hosted_timeout + 5  # the fake OpenAI answers in well under a second
    assert self_hosted_timeout <= seconds < budget, f"{seconds:.1f} s"
