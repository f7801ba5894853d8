"""Ask two OpenAI-compatible endpoints every prompt of the set, a bounded number at a time, with a progress bar."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, TextIO

from .golden import Prompt


@dataclass(frozen=True)
class Endpoint:
    name: str  # baseline or candidate
    base_url: str  # .../v1
    model: str
    api_key: Optional[str]


@dataclass
class Answer:
    text: str = ""
    seconds: Optional[float] = None
    output_tokens: Optional[int] = None
    error: Optional[str] = None  # what went wrong, never the content

    @property
    def failed(self) -> bool:
        return self.error is not None or not self.text.strip()


def reachable(endpoint: Endpoint, timeout: float = 10) -> Optional[str]:
    """None if the endpoint answers HTTP at all (any status: a 401 still means it is there), else why not."""
    request = urllib.request.Request(f"{endpoint.base_url}/models", headers=_headers(endpoint))
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError) as err:
        return str(getattr(err, "reason", err))


def ask(endpoint: Endpoint, prompt: Prompt, timeout: float) -> Answer:
    body = {"model": endpoint.model, "messages": prompt.messages, "stream": False, **prompt.params}
    request = urllib.request.Request(
        f"{endpoint.base_url}/chat/completions", data=json.dumps(body).encode(),
        headers={**_headers(endpoint), "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as err:
        return Answer(error=f"HTTP {err.code}")
    except (urllib.error.URLError, OSError, ValueError) as err:
        return Answer(error=type(getattr(err, "reason", err)).__name__)
    seconds = time.perf_counter() - started
    message = ((payload.get("choices") or [{}])[0]).get("message") or {}
    usage = payload.get("usage") or {}
    return Answer(text=message.get("content") or "", seconds=seconds, output_tokens=usage.get("completion_tokens"))


def ask_all(prompts: list[Prompt], baseline: Endpoint, candidate: Endpoint, concurrency: int, timeout: float,
            progress: TextIO = sys.stderr) -> list[tuple[Answer, Answer]]:
    bar = ProgressBar(len(prompts) * 2, progress)

    def one(job: tuple[int, Endpoint]) -> tuple[int, str, Answer]:
        index, endpoint = job
        answer = ask(endpoint, prompts[index], timeout)
        bar.advance()
        return index, endpoint.name, answer

    results: dict[tuple[int, str], Answer] = {}
    jobs = [(index, endpoint) for index in range(len(prompts)) for endpoint in (baseline, candidate)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for index, name, answer in pool.map(one, jobs):
            results[(index, name)] = answer
    bar.close()
    return [(results[(i, baseline.name)], results[(i, candidate.name)]) for i in range(len(prompts))]


def _headers(endpoint: Endpoint) -> dict[str, str]:
    return {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}


class ProgressBar:
    """``[#########-----------]  18/132`` on one line of a terminal; a line per 10 % elsewhere (CI logs)."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO):
        self.total, self.stream, self.done = total, stream, 0
        self.lock = threading.Lock()
        self.live = getattr(stream, "isatty", lambda: False)()
        self.last_tenth = -1

    def advance(self) -> None:
        with self.lock:
            self.done += 1
            filled = self.WIDTH * self.done // self.total
            text = f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.done:>4}/{self.total}"
            if self.live:
                self.stream.write("\r" + text)
            elif (tenth := 10 * self.done // self.total) != self.last_tenth:
                self.last_tenth = tenth
                self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
