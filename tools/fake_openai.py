"""A fake OpenAI-compatible backend for tests and rehearsals: it stands in for OpenAI or for vLLM, on loopback only.

    python -m tools.fake_openai --name vllm --port 18001 [--latency 0.05] [--ttft 0.02] [--fail-rate 0.1]
                                [--answer "..."] [--wrong-rate 0.05] [--max-requests 2000] [--seed 1]

It answers POST /v1/chat/completions (JSON or SSE stream), GET /v1/models, GET /health, and GET /metrics
(Prometheus text: requests and failures by name). `--fail-rate` answers that share with 500; `--answer` sets
the text (the default echoes the last user message, so two fakes agree unless told otherwise); a request that
asks for JSON gets that text as {"answer": ...}. It serves at
most `--max-requests` requests, then stops on its own; it refuses to bind anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

LOOPBACK = "127.0.0.1"


# What a backend of poor answer quality says instead (--wrong-rate): shares no word with the echoed question.
UNRELATED_ANSWER = "Sorry, bananas are yellow because of carotenoids."


class FakeBackend:
    def __init__(self, name: str, latency: float, ttft: float, fail_rate: float, answer: str | None,
                 max_requests: int, seed: int, wrong_rate: float = 0.0):
        self.name, self.latency, self.ttft, self.fail_rate, self.answer = name, latency, ttft, fail_rate, answer
        self.wrong_rate = wrong_rate
        self.max_requests = max_requests
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.failures = 0
        self.server: ThreadingHTTPServer | None = None

    def count(self) -> tuple[int, bool]:
        """(request number, whether this one fails)."""
        with self.lock:
            self.requests += 1
            fail = self.random.random() < self.fail_rate
            self.failures += fail
            return self.requests, fail

    def answers_wrong(self) -> bool:
        with self.lock:
            return self.random.random() < self.wrong_rate

    def text_for(self, body: dict) -> str:
        if self.answer is not None:
            text = self.answer
        else:
            users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
            last = users[-1] if users else ""
            text = f"Answer: {last if isinstance(last, str) else json.dumps(last)}"
        # Asked for JSON (response_format json_object / json_schema): the same answer as a JSON object.
        if (body.get("response_format") or {}).get("type") in ("json_object", "json_schema"):
            return json.dumps({"answer": text})
        return text


def handler_for(backend: FakeBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _json(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path in ("/health", "/v1/health"):
                self._json(200, {"status": "ok"})
            elif self.path.startswith("/v1/models"):
                self._json(200, {"object": "list", "data": [{"id": backend.name, "object": "model", "owned_by": "fake"}]})
            elif self.path.startswith("/metrics"):
                text = (
                    "# TYPE fake_backend_requests_total counter\n"
                    f'fake_backend_requests_total{{backend="{backend.name}"}} {backend.requests}\n'
                    "# TYPE fake_backend_failures_total counter\n"
                    f'fake_backend_failures_total{{backend="{backend.name}"}} {backend.failures}\n'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.endswith("/chat/completions"):
                self._json(404, {"error": {"message": "not found"}})
                return
            number, fail = backend.count()
            if number >= backend.max_requests:
                threading.Thread(target=backend.server.shutdown, daemon=True).start()
            if fail:
                time.sleep(backend.ttft)
                self._json(500, {"error": {"message": f"{backend.name} failed on purpose", "type": "server_error"}})
                return
            text = UNRELATED_ANSWER if backend.answers_wrong() else backend.text_for(body)
            model = body.get("model", backend.name)
            created = int(time.time())
            completion_tokens = max(1, len(text.split()))
            usage = {"prompt_tokens": 10, "completion_tokens": completion_tokens, "total_tokens": 10 + completion_tokens}
            if body.get("stream"):
                self._stream(model, created, text, usage, body)
                return
            time.sleep(backend.latency)
            self._json(200, {
                "id": f"chatcmpl-{backend.name}-{number}", "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage,
            })

        def _stream(self, model: str, created: int, text: str, usage: dict, body: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            words = text.split(" ")
            time.sleep(backend.ttft)
            pause = max(0.0, backend.latency - backend.ttft) / max(1, len(words))
            for index, word in enumerate(words):
                delta = {"content": (word if index == 0 else " " + word)}
                if index == 0:
                    delta["role"] = "assistant"
                self._event({"id": f"chatcmpl-{backend.name}", "object": "chat.completion.chunk", "created": created,
                             "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                time.sleep(pause)
            final = {"id": f"chatcmpl-{backend.name}", "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            if (body.get("stream_options") or {}).get("include_usage"):
                final["usage"] = usage
            self._event(final)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _event(self, payload: dict) -> None:
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

    return Handler


def serve(backend: FakeBackend, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((LOOPBACK, port), handler_for(backend))
    server.daemon_threads = True
    backend.server = server
    return server


def running(backend: FakeBackend) -> contextlib.AbstractContextManager[str]:
    """Serve ``backend`` on a free loopback port from a thread of this process (tests); yields its base URL."""
    return in_thread(serve(backend, 0))


@contextlib.contextmanager
def in_thread(server: ThreadingHTTPServer) -> Iterator[str]:
    """Run a loopback test server from a thread of this process until the block ends; yields its base URL."""
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fake_openai", description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds for a whole answer")
    parser.add_argument("--ttft", type=float, default=0.02, help="seconds before the first streamed token")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--answer", default=None)
    parser.add_argument("--wrong-rate", type=float, default=0.0, help="share of answers replaced by an unrelated sentence")
    parser.add_argument("--max-requests", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for option, value in (("--fail-rate", args.fail_rate), ("--wrong-rate", args.wrong_rate)):
        if not 0 <= value <= 1:
            print(f"fake_openai: {option} is out of range; allowed: 0 to 1", file=sys.stderr)
            return 2
    backend = FakeBackend(args.name, args.latency, args.ttft, args.fail_rate, args.answer, args.max_requests, args.seed,
                          wrong_rate=args.wrong_rate)
    server = serve(backend, args.port)
    print(f"fake {args.name} on http://{LOOPBACK}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
