"""LiteLLM proxy hooks shipped with the router (loaded from the config directory, no image of our own).

``readiness_gate``: while no self-hosted (vLLM) endpoint is ready, for example while a scaled-to-zero dev
stack wakes up, requests for a model group that has an OpenAI fallback group go straight there. Without it
each request first fails on the dead backend and waits out LiteLLM's retry back-off (seconds per request, for
the whole cold start: a group with one deployment is never cooled down). The router still counts every
request, so the autoscaler's wake trigger still fires.

It probes ``<SELF_HOSTED_API_BASE without /v1>/health`` in the background every PROBE_SECONDS; the Service
answers only once a vLLM pod is Ready. Reads nothing from requests but the model name; logs no content.
"""

from __future__ import annotations

import asyncio
import logging
import os
import urllib.parse

import httpx
from litellm.integrations.custom_logger import CustomLogger

PROBE_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 1.0
log = logging.getLogger("llm_platform_hooks")


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


readiness_gate = ReadinessGate()
