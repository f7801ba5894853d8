"""What a request may call and where it goes first: two LiteLLM pre-call hooks (see llm_platform_hooks).

``public_models_only``: LiteLLM accepts a deployment id or an internal group (``gpt-4o-mini-self-hosted``,
``gpt-4o-mini-openai``) as a model name, which would let any key bypass the split. Only the public names in
llm_platform.json pass; others get 400, whatever the key allows. A critical request (one carrying a critical tag,
from its body, its key or its team) for a self-hosted-only name gets 400 too: tag routing sends critical requests
to OpenAI, and that name has no OpenAI deployment. The request is marked critical for the shadow evaluation,
which leaves critical requests alone.

``readiness_gate``: while no self-hosted (vLLM) endpoint is ready, for example while a scaled-to-zero dev
stack wakes up, requests for a model group that has an OpenAI fallback group go straight there. Without it
each request first fails on the dead backend and waits out LiteLLM's retry back-off (seconds per request, for
the whole cold start: the self-hosted deployment of a self-hosted-only group is never cooled down). The router still counts every
request, so the autoscaler's wake trigger still fires.

It probes ``<SELF_HOSTED_API_BASE without /v1>/health`` in the background every PROBE_SECONDS; the Service
answers only once a vLLM pod is Ready. Reads nothing from requests but the model name; logs no content.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

PROBE_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 1.0
SETTINGS_FILE = "llm_platform.json"
# Set on a request's metadata by public_models_only; read by the shadow evaluation.
CRITICAL_MARK = "llm_platform_critical"
log = logging.getLogger("llm_platform_hooks")


def load_settings(directory: Path | None = None) -> dict[str, Any]:
    """llm_platform.json, rendered from the stack's config beside config.yaml."""
    return json.loads(((directory or Path(__file__).resolve().parent) / SETTINGS_FILE).read_text())


def request_metadata(data: dict[str, Any]) -> dict[str, Any]:
    """The proxy's metadata dict of a request (litellm_metadata on the routes that use it)."""
    key = "litellm_metadata" if isinstance(data.get("litellm_metadata"), dict) else "metadata"
    metadata = data.get(key)
    if not isinstance(metadata, dict):
        metadata = data[key] = {}
    return metadata


def request_tags(data: dict[str, Any]) -> set[str]:
    """The tags routing will see: the body's, the header's and the key's and team's, which the proxy has merged
    into the metadata by the time pre-call hooks run, and the body's top-level list."""
    tags: set[str] = set()
    for source in (request_metadata(data).get("tags"), data.get("tags")):
        if isinstance(source, (list, tuple)):
            tags.update(tag for tag in source if isinstance(tag, str))
    return tags


class PublicModelsOnly(CustomLogger):
    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__()
        self.public = list(settings["public_models"])
        self.self_hosted_only = set(settings["self_hosted_only_models"])
        self.critical_tags = set(settings["critical_tags"])

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        model = data.get("model")
        if not isinstance(model, str):
            return data
        if model not in self.public:
            raise HTTPException(status_code=400, detail={
                "error": f"model {model!r} is not served here; allowed: {', '.join(self.public)}"})
        critical = bool(request_tags(data) & self.critical_tags)
        request_metadata(data)[CRITICAL_MARK] = critical
        if critical and model in self.self_hosted_only:
            openai_names = [name for name in self.public if name not in self.self_hosted_only]
            raise HTTPException(status_code=400, detail={
                "error": f"model {model!r} is served self-hosted only, and critical requests are answered by OpenAI; "
                         f"allowed for critical requests: {', '.join(openai_names)}"})
        return data


def health_url(api_base: str) -> str | None:
    parts = urllib.parse.urlsplit(api_base)
    if not parts.scheme or not parts.netloc:
        return None
    path = parts.path.rstrip("/").removesuffix("/v1")
    return f"{parts.scheme}://{parts.netloc}{path}/health"


class ReadinessGate(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.health_url = health_url(os.environ.get("SELF_HOSTED_API_BASE", ""))
        self.ready: bool | None = None  # unknown until the first probe
        self._task: asyncio.Task | None = None

    async def probe(self, client: httpx.AsyncClient) -> None:
        try:
            ready = (await client.get(self.health_url)).status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready != self.ready:
            log.warning("self-hosted backend %s", "ready: routing resumes" if ready else "not ready: answering from OpenAI")
        self.ready = ready

    async def _probe_forever(self) -> None:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_SECONDS) as client:
            while True:
                await self.probe(client)
                await asyncio.sleep(PROBE_SECONDS)

    async def _ensure_probing(self) -> None:
        if self.health_url is None or self._task is not None:
            return
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_SECONDS) as client:
            await self.probe(client)  # the first request already knows
        self._task = asyncio.get_running_loop().create_task(self._probe_forever())

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        await self._ensure_probing()
        if self.ready is False:
            fallback = fallback_group(data.get("model"))
            if fallback is not None:
                data["model"] = fallback
        return data


def fallback_group(model: str | None) -> str | None:
    """The OpenAI group the router falls back to for ``model`` (router_settings.fallbacks), if any."""
    from litellm.proxy.proxy_server import llm_router

    for entry in (llm_router.fallbacks if llm_router else None) or []:
        if model in entry and entry[model]:
            return entry[model][0]
    return None


public_models_only = PublicModelsOnly(load_settings())
readiness_gate = ReadinessGate()
