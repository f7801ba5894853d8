"""Runs a stack's rendered router on this machine: the real LiteLLM proxy, the config and hooks the plan wrote,
and fake backends on 127.0.0.1 in place of OpenAI and vLLM. It needs only the standard library and PyYAML,
so the router's own virtualenv (`make test-router`, `make rehearse`), which has no Pulumi, can use it.

Every process it starts is a child of the caller, is stopped by process id (`stop`), and listens on
loopback only. Nothing here reaches the network.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG_MAP_FILE = "configmap-llm-router-llm-router-config.yaml"
MASTER_KEY = "sk-local-master-key"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def rendered_router(plan_dir: Path, stack: str) -> dict[str, str]:
    """The router ConfigMap's files (config.yaml, the hooks module) as the stack's plan wrote them."""
    path = plan_dir / stack / "manifests" / CONFIG_MAP_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make plan STACK={stack}` first")
    return yaml.safe_load(path.read_text())["data"]


def write_router_dir(files: dict[str, str], dest: Path, edit: Callable[[dict], None] | None = None) -> Path:
    """Write the ConfigMap's files to ``dest``; ``edit`` may change config.yaml's content first (tests shorten timeouts)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if name == "config.yaml" and edit is not None:
            config = yaml.safe_load(text)
            edit(config)
            text = yaml.safe_dump(config, sort_keys=False)
        (dest / name).write_text(text)
    return dest / "config.yaml"


def without_shared_state(config: dict) -> None:
    """Drop the Valkey settings: one local proxy has no replicas to share rate-limit counters with."""
    config.get("general_settings", {}).pop("coordination_redis", None)
    for key in ("redis_host", "redis_port", "redis_password"):
        config.get("router_settings", {}).pop(key, None)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class LocalRouter:
    """A proxy and its fakes; `stop()` ends all of them. vLLM's port is fixed up front so it can come and go."""

    work_dir: Path
    vllm_port: int
    backends: dict[str, Process] = field(default_factory=dict)
    proxy: Process | None = None

    def start_vllm(self, **options: Any) -> Process:
        self.backends["vllm"] = start_fake("vllm", self.work_dir, port=self.vllm_port, **options)
        return self.backends["vllm"]

    def stop(self) -> None:
        for process in [*([self.proxy] if self.proxy else []), *self.backends.values()]:
            stop(process)


def start_router(files: dict[str, str], work_dir: Path, edit: Callable[[dict], None] | None = None,
                 vllm: dict[str, Any] | None = None, openai: dict[str, Any] | None = None, vllm_running: bool = True,
                 litellm: str | None = None, proxy_env: dict[str, str] | None = None) -> LocalRouter:
    """Fakes for OpenAI and (unless ``vllm_running`` is False) vLLM, then the proxy on the rendered files;
    ``proxy_env`` adds to the proxy's environment (what the router Deployment would set)."""
    config = write_router_dir(files, work_dir, edit)
    router = LocalRouter(work_dir=work_dir, vllm_port=free_port())
    try:
        router.backends["openai"] = start_fake("openai", work_dir, **(openai or {}))
        if vllm_running:
            router.start_vllm(**(vllm or {}))
        router.proxy = start_proxy(config, work_dir, f"http://{LOOPBACK}:{router.vllm_port}/v1",
                                   f"{router.backends['openai'].url}/v1", litellm=litellm, extra_env=proxy_env)
    except BaseException:
        router.stop()
        raise
    return router


def spawn(name: str, command: list[str], env: dict[str, str], log: Path, url: str, cwd: Path = ROOT) -> Process:
    handle = log.open("w")
    popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    return Process(name=name, popen=popen, url=url, log=log)


def start_fake(name: str, log_dir: Path, port: int | None = None, **options: Any) -> Process:
    """A fake OpenAI-compatible backend (tools.fake_openai); options: latency, ttft, fail_rate, answer, max_requests."""
    port = port or free_port()
    command = [sys.executable, "-m", "tools.fake_openai", "--name", name, "--port", str(port)]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    process = spawn(name, command, {**os.environ, "PYTHONPATH": str(ROOT)}, log_dir / f"fake-{name}.log",
                     f"http://{LOOPBACK}:{port}")
    wait_for(f"{process.url}/health", process, timeout=15)
    return process


def start_proxy(config_path: Path, log_dir: Path, self_hosted_base: str, openai_base: str,
                litellm: str | None = None, extra_env: dict[str, str] | None = None, timeout: float = 90) -> Process:
    """The real LiteLLM proxy on a free loopback port, with the upstreams the router Deployment would give it."""
    port = free_port()
    litellm = litellm or str(Path(sys.executable).with_name("litellm"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "DATABASE_URL", "OPENAI_"))},
        "SELF_HOSTED_API_BASE": self_hosted_base,
        "OPENAI_API_BASE": openai_base,
        "OPENAI_API_KEY": "sk-fake-openai-key",
        "LITELLM_MASTER_KEY": MASTER_KEY,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "NO_PROXY": "*",
        **(extra_env or {}),
    }
    command = [litellm, "--config", str(config_path), "--host", LOOPBACK, "--port", str(port), "--num_workers", "1"]
    process = spawn("litellm", command, env, log_dir / "litellm.log", f"http://{LOOPBACK}:{port}", cwd=config_path.parent)
    wait_for(f"{process.url}/health/liveliness", process, timeout=timeout)
    return process


def wait_for(url: str, process: Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode}; see {process.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    stop(process)
    raise TimeoutError(f"{process.name} did not answer {url} within {timeout:.0f} s; see {process.log}")


def stop(process: Process) -> None:
    """Stop by process id: SIGTERM to its process group, SIGKILL if it lingers."""
    if process.popen.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.popen.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.popen.wait(timeout=5)


def chat(proxy_url: str, model: str, content: str, key: str = MASTER_KEY, stream: bool = False,
         timeout: float = 60, headers: dict[str, str] | None = None, **extra: Any) -> tuple[int, dict | str, float]:
    """One chat completion through the proxy: (HTTP status, JSON body or streamed text, seconds taken)."""
    body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream, **extra}
    request = urllib.request.Request(
        f"{proxy_url}/v1/chat/completions", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **(headers or {})},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), time.perf_counter() - started
    elapsed = time.perf_counter() - started
    if stream:
        return status, raw, elapsed
    return status, json.loads(raw), elapsed


def answered_by(body: dict | str) -> str:
    """Which fake answered: they name themselves in the completion id (chatcmpl-<name>-<n>), streamed or not."""
    if isinstance(body, str):
        first = next(line for line in body.splitlines() if line.startswith("data: {"))
        body = json.loads(first[len("data: "):])
    return body["id"].split("-")[1]


def answer_text(body: dict | str) -> str:
    """The answer's text, from a completion or from a stream's chunks."""
    if isinstance(body, dict):
        return body["choices"][0]["message"]["content"]
    parts = []
    for line in body.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[len("data: "):]).get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
    return "".join(parts)


def backend_requests(process: Process) -> int:
    """How many chat requests a fake has received (its own /metrics)."""
    with urllib.request.urlopen(f"{process.url}/metrics", timeout=5) as response:
        return int(metric_sum(response.read().decode(), "fake_backend_requests_total"))


def metrics(proxy_url: str) -> str:
    with urllib.request.urlopen(f"{proxy_url}/metrics/", timeout=10) as response:
        return response.read().decode()


def metric_sum(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels`` (Prometheus text format)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{key}="{wanted}"' in head for key, wanted in labels.items()):
            total += float(value)
    return total
