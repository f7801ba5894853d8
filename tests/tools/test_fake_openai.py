"""The fake OpenAI-compatible backend that tests and rehearsals stand in for OpenAI and vLLM with."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tools.fake_openai import FakeBackend, running


@pytest.fixture
def fake():
    backend = FakeBackend("vllm", latency=0.0, ttft=0.0, fail_rate=0.0, answer=None, max_requests=100, seed=1)
    with running(backend) as url:
        yield backend, url


def post(url: str, body: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{url}/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_answers_like_openai_and_names_itself(fake):
    backend, url = fake
    status, raw = post(url, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]})
    body = json.loads(raw)
    assert status == 200 and body["id"].startswith("chatcmpl-vllm-")
    assert body["choices"][0]["message"]["content"] == "Answer: hello there"
    assert body["usage"]["completion_tokens"] == 3


def test_streams_server_sent_events_with_usage_when_asked(fake):
    _, url = fake
    status, raw = post(url, {"model": "m", "stream": True, "stream_options": {"include_usage": True},
                             "messages": [{"role": "user", "content": "a b"}]})
    events = [line[6:] for line in raw.decode().splitlines() if line.startswith("data: ")]
    assert status == 200 and events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Answer: a b"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


def test_fails_the_configured_share_and_counts_it(fake):
    backend, url = fake
    backend.fail_rate = 0.5
    statuses = [post(url, {"messages": [{"role": "user", "content": "x"}]})[0] for _ in range(40)]
    assert 10 <= statuses.count(500) <= 30 and set(statuses) == {200, 500}
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'fake_backend_requests_total{backend="vllm"} 40' in text
    assert f'fake_backend_failures_total{{backend="vllm"}} {statuses.count(500)}' in text


def test_refuses_a_fail_rate_out_of_range(capsys):
    from tools.fake_openai import main

    assert main(["--name", "x", "--port", "0", "--fail-rate", "2"]) == 2
    assert capsys.readouterr().err.strip() == "fake_openai: --fail-rate is out of range; allowed: 0 to 1"


def test_answers_the_configured_share_with_an_unrelated_sentence(fake):
    from tools.fake_openai import UNRELATED_ANSWER

    backend, url = fake
    backend.wrong_rate = 0.25
    answers = [json.loads(post(url, {"messages": [{"role": "user", "content": f"q {i}"}]})[1])["choices"][0]["message"]["content"]
               for i in range(60)]
    wrong = answers.count(UNRELATED_ANSWER)
    assert 5 <= wrong <= 25
    assert all(a == f"Answer: q {i}" for i, a in enumerate(answers) if a != UNRELATED_ANSWER)


def test_refuses_a_wrong_rate_out_of_range(capsys):
    from tools.fake_openai import main

    assert main(["--name", "x", "--port", "0", "--wrong-rate", "-0.1"]) == 2
    assert capsys.readouterr().err.strip() == "fake_openai: --wrong-rate is out of range; allowed: 0 to 1"
