"""Shadow evaluation: replay a sampled share of answered requests to the other backend and compare the two answers.

A LiteLLM success callback (see llm_platform_hooks). Two modes, both set in llm_platform.json from the stack config:

- ``shadow``: a request answered by the split's OpenAI deployment (model_info ``shadow_source``; not the fallback,
  not a critical request) is, with probability ``percent``, replayed to vLLM (SELF_HOSTED_API_BASE, the served
  model name);
- ``reverse``: a request answered by the split's self-hosted deployment (model_info ``reverse_check``) is, with
  probability ``reverse_check_percent``, also asked of OpenAI (OPENAI_API_BASE, the same model name), until the
  month's estimated cost reaches ``reverse_check_monthly_budget_usd``.

LiteLLM calls the hook once the client's answer is complete (a stream: after its last chunk). The hook only decides
and starts a task, so it never delays or changes that answer: the replay runs beside the proxy's work, with its own
HTTP client, its own timeout, at most ``max_concurrency`` at a time per process (beyond that a sampled request is
dropped, never queued), and pauses for BACKOFF_SECONDS after FAILURES_BEFORE_BACKOFF failures in a row (a saturated
or absent backend costs nothing more). A streamed request is replayed streamed, so both sides have a time to first
token. The kill switch renders both shares as 0 and removes the model_info marks: nothing is replayed.

Metrics on the router's /metrics (prometheus_client's registry, which LiteLLM serves; multiprocess-safe), labels
``model`` (the name the client called), ``mode`` (shadow or reverse), and as stated:

    llm_shadow_replays_total{backend, outcome}     replays by outcome: ok, error, timeout (backend: replayed to)
    llm_shadow_dropped_total{reason}               sampled but not replayed: concurrency, backend_unavailable, budget
    llm_shadow_latency_seconds{backend}            whole answer, both sides of every completed pair
    llm_shadow_ttft_seconds{backend}               time to first token, both sides of streamed pairs
    llm_shadow_output_tokens{backend}              completion tokens, both sides
    llm_shadow_agreement{method}                   agreement score (llm_platform_agreement): json, short, rouge_l
    llm_shadow_exact_match_total{match}            short answers: exact match or not
    llm_shadow_json_valid_total{backend, valid}    when JSON was asked for
    llm_shadow_in_flight                           replays running now
    llm_shadow_reverse_spend_usd_total             estimated OpenAI cost of reverse checks
    llm_shadow_samples_total{outcome}              pairs for the sample store: buffered, uploaded, dropped, error

Request and answer content never reaches a log line; with the sample store enabled, sampled pairs go to S3 only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Optional

import httpx
from litellm.integrations.custom_logger import CustomLogger
from prometheus_client import Counter, Gauge, Histogram

import llm_platform_agreement as agreement
import llm_platform_samples as samples
from llm_platform_gate import CRITICAL_MARK, load_settings, readiness_gate

log = logging.getLogger("llm_platform_shadow")

# What changes an answer is replayed; who asked (user, key, tags, metadata) and provider extras are not.
REPLAYED_PARAMS = (
    "messages", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty",
    "frequency_penalty", "response_format", "tools", "tool_choice", "logit_bias",
)
FAILURES_BEFORE_BACKOFF = 5
BACKOFF_SECONDS = 30.0
SPEND_KEY = "llm_platform:shadow:reverse_spend_usd:{month}"
SPEND_KEY_TTL_SECONDS = 40 * 24 * 3600

_PAIR = ["model", "mode"]
REPLAYS = Counter("llm_shadow_replays", "Shadow replays by outcome; backend is the one replayed to.", [*_PAIR, "backend", "outcome"])
DROPPED = Counter("llm_shadow_dropped", "Sampled requests not replayed, by reason.", [*_PAIR, "reason"])
LATENCY = Histogram("llm_shadow_latency_seconds", "Whole-answer latency of each backend in completed pairs.",
                    [*_PAIR, "backend"], buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300))
TTFT = Histogram("llm_shadow_ttft_seconds", "Time to first token of each backend in streamed pairs.",
                 [*_PAIR, "backend"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30))
OUTPUT_TOKENS = Histogram("llm_shadow_output_tokens", "Completion tokens of each backend in completed pairs.",
                          [*_PAIR, "backend"], buckets=(8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192))
AGREEMENT = Histogram("llm_shadow_agreement", "Agreement score of completed pairs (0 to 1), by method.",
                      [*_PAIR, "method"], buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0))
EXACT_MATCH = Counter("llm_shadow_exact_match", "Short-answer pairs by exact match.", [*_PAIR, "match"])
JSON_VALID = Counter("llm_shadow_json_valid", "Answers to JSON requests by validity.", [*_PAIR, "backend", "valid"])
IN_FLIGHT = Gauge("llm_shadow_in_flight", "Replays running now.", ["mode"], multiprocess_mode="livesum")
REVERSE_SPEND = Counter("llm_shadow_reverse_spend_usd", "Estimated OpenAI cost of reverse checks.", ["model"])
SAMPLES = Counter("llm_shadow_samples", "Pairs for the sample store by outcome.", ["outcome"])


@dataclass
class Answer:
    backend: str
    text: str
    latency: Optional[float]
    ttft: Optional[float]
    output_tokens: Optional[int]
    prompt_tokens: Optional[int] = None


@dataclass
class Pair:
    mode: str  # shadow: the client got OpenAI's answer, vLLM is asked; reverse: the other way round
    model: str
    request: dict[str, Any]
    stream: bool
    answered: Answer
    target_backend: str

    @property
    def json_expected(self) -> bool:
        response_format = self.request.get("response_format")
        return isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema")


class ReplayFailed(Exception):
    pass


class MonthlySpend:
    """Estimated reverse-check spend this calendar month (UTC). In the router's Valkey when it has one (every
    replica adds to one counter, which survives restarts); otherwise in this process (one replica)."""

    def __init__(self) -> None:
        self.local: dict[str, float] = {}
        self.redis = None
        if os.environ.get("REDIS_HOST"):
            import redis.asyncio as redis_asyncio  # in the LiteLLM image, for its own cache

            self.redis = redis_asyncio.Redis(
                host=os.environ["REDIS_HOST"], port=int(os.environ.get("REDIS_PORT", "6379")),
                password=os.environ.get("REDIS_PASSWORD") or None,
                ssl=os.environ.get("REDIS_SSL", "").lower() == "true", socket_timeout=2, socket_connect_timeout=2,
            )

    @staticmethod
    def key() -> str:
        return SPEND_KEY.format(month=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m"))

    async def total(self) -> float:
        if self.redis is None:
            return self.local.get(self.key(), 0.0)
        return float(await self.redis.get(self.key()) or 0.0)

    async def add(self, usd: float) -> None:
        key = self.key()
        if self.redis is None:
            self.local[key] = self.local.get(key, 0.0) + usd
            return
        await self.redis.incrbyfloat(key, usd)
        await self.redis.expire(key, SPEND_KEY_TTL_SECONDS)


def message_text(message: Any) -> str:
    """An answer's text; for a tool call, the calls themselves (what to compare when there is no text)."""
    if not isinstance(message, dict):
        return ""
    if isinstance(message.get("content"), str) and message["content"]:
        return message["content"]
    calls = message.get("tool_calls") or []
    return json.dumps([(c.get("function") or {}) for c in calls if isinstance(c, dict)], sort_keys=True) if calls else ""


def response_dict(response: Any) -> dict[str, Any]:
    if isinstance(response, dict):
        return response
    dump = getattr(response, "model_dump", None)
    return dump() if callable(dump) else {}


def seconds_between(start: Any, end: Any) -> Optional[float]:
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        return max(0.0, (end - start).total_seconds())
    if isinstance(start, (int, float)) and isinstance(end, (int, float)):
        return max(0.0, float(end) - float(start))
    return None


class ShadowEvaluation(CustomLogger):
    def __init__(self, settings: dict[str, Any], rng: Optional[random.Random] = None) -> None:
        super().__init__()
        shadow = settings["shadow"]
        self.percent = {"shadow": float(shadow["percent"]), "reverse": float(shadow["reverse_check_percent"])}
        self.budget_usd = float(shadow["reverse_check_monthly_budget_usd"])
        self.self_hosted_model = shadow["self_hosted_model"]
        self.max_concurrency = int(shadow["max_concurrency"])
        self.timeout = float(shadow["timeout_seconds"])
        self.sample_percent = float(shadow["sample_store_percent"])
        self.flush_seconds = float(shadow["sample_store_flush_seconds"])
        self.rng = rng or random.Random()
        self.in_flight = 0
        self.failures_in_a_row = {"shadow": 0, "reverse": 0}
        self.paused_until = {"shadow": 0.0, "reverse": 0.0}
        self.tasks: set[asyncio.Task] = set()
        self.client: Optional[httpx.AsyncClient] = None
        self.spend: Optional[MonthlySpend] = MonthlySpend() if self.percent["reverse"] > 0 else None
        self.unpriced: set[str] = set()  # models LiteLLM has no price for: their cost cannot be capped, so no checks
        self.store, self.upload = None, None
        if self.sample_percent > 0:
            configured = samples.from_environment(max_age_seconds=self.flush_seconds)
            if configured is None:
                log.warning("shadow sample store enabled but %s is not set: no pairs are stored", samples.BUCKET_ENV)
            else:
                self.store, self.upload = configured
        self.flusher: Optional[asyncio.Task] = None

    # --- deciding (inside LiteLLM's logging worker: quick, never awaits the replay) ---------------------------

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        try:
            pair = self.select(kwargs, response_obj, start_time, end_time)
            if pair is not None:
                self.launch(pair)
        except Exception as err:  # evaluation must never disturb the proxy's own logging
            log.warning("shadow evaluation skipped a request: %s", type(err).__name__)

    def select(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> Optional[Pair]:
        """The pair to complete for this answered request, if it is eligible and sampled."""
        litellm_params = kwargs.get("litellm_params") or {}
        model_info = litellm_params.get("model_info") or {}
        metadata = litellm_params.get("metadata") or {}
        if model_info.get("shadow_source"):
            mode, target = "shadow", "self-hosted"
        elif model_info.get("reverse_check"):
            mode, target = "reverse", "openai"
        else:
            return None
        if (kwargs.get("call_type") not in ("acompletion", "completion") or kwargs.get("cache_hit")
                or metadata.get(CRITICAL_MARK)):
            return None
        if self.percent[mode] <= 0 or self.rng.random() * 100 >= self.percent[mode]:
            return None
        body = (litellm_params.get("proxy_server_request") or {}).get("body") or {}
        request = {key: body[key] for key in REPLAYED_PARAMS if key in body}
        if not isinstance(request.get("messages"), list):
            return None
        request = json.loads(json.dumps(request))  # detached from the proxy's objects
        response = response_dict(response_obj)
        choices = response.get("choices") or [{}]
        usage = response.get("usage") or {}
        stream = bool(kwargs.get("stream"))
        started = kwargs.get("api_call_start_time") or start_time
        answered = Answer(
            backend="openai" if mode == "shadow" else "self-hosted",
            text=message_text(choices[0].get("message")),
            latency=seconds_between(started, end_time),
            ttft=seconds_between(started, kwargs.get("completion_start_time")) if stream else None,
            output_tokens=usage.get("completion_tokens"),
            prompt_tokens=usage.get("prompt_tokens"),
        )
        model = str(metadata.get("model_group") or body.get("model") or "unknown")
        return Pair(mode=mode, model=model, request=request, stream=stream, answered=answered, target_backend=target)

    def launch(self, pair: Pair) -> None:
        labels = (pair.model, pair.mode)
        if self.in_flight >= self.max_concurrency:
            DROPPED.labels(*labels, "concurrency").inc()
            return
        # vLLM known to have no ready endpoint (the readiness gate's probe), or paused after failures in a row.
        not_ready = pair.mode == "shadow" and readiness_gate.ready is False
        if not_ready or time.monotonic() < self.paused_until[pair.mode]:
            DROPPED.labels(*labels, "backend_unavailable").inc()
            return
        self.in_flight += 1
        IN_FLIGHT.labels(pair.mode).inc()
        task = asyncio.get_running_loop().create_task(self.complete(pair))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- replaying (a task of its own) --------------------------------------------------------------------------

    async def complete(self, pair: Pair) -> None:
        labels = (pair.model, pair.mode)
        try:
            if pair.mode == "reverse" and (pair.model in self.unpriced or not await self.within_budget(pair)):
                DROPPED.labels(*labels, "budget").inc()
                return
            try:
                replayed = await asyncio.wait_for(self.replay(pair), timeout=self.timeout)
            except asyncio.TimeoutError:
                self.failed(pair, "timeout")
                return
            except (httpx.HTTPError, ReplayFailed, ValueError):
                self.failed(pair, "error")
                return
            self.failures_in_a_row[pair.mode] = 0
            REPLAYS.labels(*labels, pair.target_backend, "ok").inc()
            if pair.mode == "reverse":
                await self.account(pair, replayed)
            self.record(pair, replayed)
        except Exception as err:
            log.warning("shadow evaluation failed on a pair: %s", type(err).__name__)
        finally:
            self.in_flight -= 1
            IN_FLIGHT.labels(pair.mode).dec()

    def failed(self, pair: Pair, outcome: str) -> None:
        REPLAYS.labels(pair.model, pair.mode, pair.target_backend, outcome).inc()
        self.failures_in_a_row[pair.mode] += 1
        if self.failures_in_a_row[pair.mode] >= FAILURES_BEFORE_BACKOFF:
            self.paused_until[pair.mode] = time.monotonic() + BACKOFF_SECONDS
            self.failures_in_a_row[pair.mode] = 0

    def http_client(self) -> httpx.AsyncClient:
        if self.client is None:
            self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=self.max_concurrency * 2))
        return self.client

    def target(self, pair: Pair) -> tuple[str, str, dict[str, str]]:
        """(URL, model, headers) of the backend the pair is completed on."""
        if pair.mode == "shadow":
            base, model, headers = os.environ["SELF_HOSTED_API_BASE"], self.self_hosted_model, {}
        else:
            base, model = os.environ["OPENAI_API_BASE"], pair.model
            headers = {"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"}
        return f"{base.rstrip('/')}/chat/completions", model, headers

    async def replay(self, pair: Pair) -> Answer:
        url, model, headers = self.target(pair)
        body = {**pair.request, "model": model, "stream": pair.stream}
        started = time.perf_counter()
        if not pair.stream:
            response = await self.http_client().post(url, json=body, headers=headers, timeout=self.timeout)
            if response.status_code >= 400:
                raise ReplayFailed(f"HTTP {response.status_code}")
            payload = response.json()
            usage = payload.get("usage") or {}
            return Answer(pair.target_backend, message_text(((payload.get("choices") or [{}])[0]).get("message")),
                          time.perf_counter() - started, None, usage.get("completion_tokens"), usage.get("prompt_tokens"))
        body["stream_options"] = {"include_usage": True}
        parts: list[str] = []
        first: Optional[float] = None
        usage: dict[str, Any] = {}
        async with self.http_client().stream("POST", url, json=body, headers=headers, timeout=self.timeout) as response:
            if response.status_code >= 400:
                raise ReplayFailed(f"HTTP {response.status_code}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if choice.get("index", 0) == 0 and content:
                        first = first if first is not None else time.perf_counter() - started
                        parts.append(content)
        return Answer(pair.target_backend, "".join(parts), time.perf_counter() - started, first,
                      usage.get("completion_tokens"), usage.get("prompt_tokens"))

    def record(self, pair: Pair, replayed: Answer) -> None:
        labels = (pair.model, pair.mode)
        # The client's backend and the replayed one, by role: baseline is OpenAI's answer in either mode.
        baseline, candidate = (pair.answered, replayed) if pair.mode == "shadow" else (replayed, pair.answered)
        result = agreement.compare(baseline.text, candidate.text, json_expected=pair.json_expected)
        AGREEMENT.labels(*labels, result.method).observe(result.score)
        if result.exact_match is not None:
            EXACT_MATCH.labels(*labels, str(result.exact_match).lower()).inc()
        for answer, valid in ((baseline, result.baseline_json_valid), (candidate, result.candidate_json_valid)):
            if valid is not None:
                JSON_VALID.labels(*labels, answer.backend, str(valid).lower()).inc()
        for answer in (baseline, candidate):
            if answer.latency is not None:
                LATENCY.labels(*labels, answer.backend).observe(answer.latency)
            if answer.ttft is not None:
                TTFT.labels(*labels, answer.backend).observe(answer.ttft)
            if answer.output_tokens is not None:
                OUTPUT_TOKENS.labels(*labels, answer.backend).observe(answer.output_tokens)
        if self.store is not None and self.rng.random() * 100 < self.sample_percent:
            self.keep_sample(pair, baseline, candidate, result)

    # --- reverse-check budget -----------------------------------------------------------------------------------

    async def within_budget(self, pair: Pair) -> bool:
        try:
            return await self.spend.total() < self.budget_usd
        except Exception as err:  # Valkey unreachable: without a count, spend nothing
            log.warning("reverse-check spend unknown (%s): skipping", type(err).__name__)
            return False

    async def account(self, pair: Pair, openai_answer: Answer) -> None:
        import litellm

        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=pair.model, custom_llm_provider="openai",
                prompt_tokens=openai_answer.prompt_tokens or 0, completion_tokens=openai_answer.output_tokens or 0,
            )
        except Exception:
            self.unpriced.add(pair.model)
            log.warning("no price for %s in LiteLLM's cost map: reverse checks for it stop", pair.model)
            return
        usd = float(prompt_cost) + float(completion_cost)
        REVERSE_SPEND.labels(pair.model).inc(usd)
        await self.spend.add(usd)

    # --- sample store -------------------------------------------------------------------------------------------

    def keep_sample(self, pair: Pair, baseline: Answer, candidate: Answer, result: agreement.Agreement) -> None:
        record = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "model": pair.model, "mode": pair.mode, "stream": pair.stream, "request": pair.request,
            "baseline": baseline.__dict__, "candidate": candidate.__dict__, "agreement": result.as_dict(),
        }
        SAMPLES.labels("buffered").inc()
        if not self.store.add(record):
            SAMPLES.labels("dropped").inc()  # the oldest buffered pair made room for this one
        if self.flusher is None:
            self.flusher = asyncio.get_running_loop().create_task(self.flush_forever())
        if self.store.due():
            task = asyncio.get_running_loop().create_task(self.flush())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def flush(self) -> None:
        while (batch := self.store.take_batch()) is not None:
            key, body, count = batch
            try:
                await asyncio.to_thread(self.upload, key, body)
                SAMPLES.labels("uploaded").inc(count)
            except Exception as err:
                SAMPLES.labels("error").inc(count)
                log.warning("shadow samples upload failed (%s): %d pairs dropped", type(err).__name__, count)

    async def flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds / 2)
            if self.store.due():
                await self.flush()


shadow_evaluation = ShadowEvaluation(load_settings())
