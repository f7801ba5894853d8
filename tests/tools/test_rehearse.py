"""make rehearse's pieces without the proxy: expectations and their checks, the clients against a fake backend,
metric snapshots, stack copies and bad input. The whole rehearsal runs per stack in .ci/run (make rehearse)."""

from __future__ import annotations

import math
import sys

import pytest
import yaml

from stackconfig import ConfigError, from_stack_file
from tests.conftest import ROOT
from tools.fake_openai import FakeBackend, running
from tools.promote_check.criteria import Routing
from tools.rehearse import __main__ as cli
from tools.rehearse.expect import Expected, binomial_range, equal_check, share_check
from tools.rehearse.scrape import Growth, Snapshot, histogram_grown
from tools.rehearse.traffic import Summary, drive, percentile
from tools.rehearse.variants import stack_copy


def test_the_binomial_range_is_exact_and_tight():
    assert binomial_range(300, 0.0) == (0, 0) and binomial_range(300, 1.0) == (300, 300)
    low, high = binomial_range(300, 0.25)
    assert 45 <= low <= 52 and 98 <= high <= 105  # about 4 standard deviations (7.5) around 75
    assert binomial_range(15, 0.02) == (0, 4)  # 5 or more of 15 at 2 %: less likely than 1 in 10,000


def test_share_checks_pass_inside_the_range_and_fail_outside():
    assert share_check("vLLM answered", 74, 300, 25, "answers").passed
    assert not share_check("vLLM answered", 30, 300, 25, "answers").passed  # a 10 % split where 25 % was configured
    assert not share_check("vLLM answered", 1, 300, 0, "answers").passed  # anything at all at 0 %
    check = share_check("vLLM answered", 74, 300, 25, "answers")
    assert check.line.startswith("  PASS  vLLM answered: 74 of 300 answers (24.7 %); configured 25 %, so ")
    assert equal_check("client-visible errors", 2, 0).line == "  FAIL  client-visible errors: 2, expected 0"


@pytest.mark.parametrize("stack, minimums", [
    # 300 requests: a quarter of what each criterion should see; out of reach (301) where fewer than 12 are promised:
    # dev compares no answers, rollout's 2 % of 225 OpenAI answers and prod's replays and reverse checks give 3 or 4.
    ("dev", {"requests": 75, "latency": 37, "shadowPairs": 301}),
    ("shadow", {"requests": 7, "latency": 3, "shadowPairs": 7}),
    ("rollout", {"requests": 18, "latency": 9, "shadowPairs": 301}),
    ("prod", {"requests": 3, "latency": 35, "shadowPairs": 301}),
])
def test_gate_minimums_are_sized_to_the_rehearsal(stack, minimums):
    routing = Routing.of(from_stack_file(stack, ROOT))
    assert Expected.of(routing, 300).gate_minimums(routing) == minimums


@pytest.fixture
def backend():
    fake = FakeBackend("vllm", latency=0.02, ttft=0.01, fail_rate=0.0, answer=None, max_requests=1000, seed=3)
    with running(fake) as url:
        yield fake, url


def test_the_clients_stream_every_other_request_and_know_who_answered(backend):
    fake, url = backend
    outcomes = drive(url, "sk-any", "gpt-4o-mini", 12, 3, timeout=10)
    summary = Summary.of(outcomes)
    assert (summary.requests, summary.errors, summary.streamed, dict(summary.answered)) == (12, 0, 6, {"vllm": 12})
    assert all(o.ttft is not None and 0 < o.ttft <= o.seconds for o in outcomes if o.stream)
    assert all(o.ttft is None for o in outcomes if not o.stream)
    assert fake.requests == 12


def test_failed_requests_are_errors_without_a_backend(backend):
    fake, url = backend
    fake.fail_rate = 1.0
    summary = Summary.of(drive(url, "sk-any", "m", 4, 2, timeout=10))
    assert summary.errors == 4 and not summary.answered and summary.p95 is None


def test_percentiles_are_nearest_rank():
    assert percentile([0.1 * i for i in range(1, 101)], 95) == pytest.approx(9.5)
    assert percentile([], 95) is None


METRICS_BEFORE = """# HELP x
llm_shadow_replays_total{model="gpt-4o-mini",mode="shadow",backend="self-hosted",outcome="ok"} 3.0
llm_shadow_agreement_bucket{le="0.1",method="short",mode="shadow",model="m"} 1.0
llm_shadow_agreement_bucket{le="1.0",method="short",mode="shadow",model="m"} 3.0
llm_shadow_agreement_bucket{le="+Inf",method="short",mode="shadow",model="m"} 3.0
"""
METRICS_AFTER = """llm_shadow_replays_total{model="gpt-4o-mini",mode="shadow",backend="self-hosted",outcome="ok"} 10.0
llm_shadow_replays_total{model="gpt-4o-mini",mode="shadow",backend="self-hosted",outcome="error"} 2.0
llm_shadow_agreement_bucket{le="0.1",method="short",mode="shadow",model="m"} 2.0
llm_shadow_agreement_bucket{le="1.0",method="short",mode="shadow",model="m"} 12.0
llm_shadow_agreement_bucket{le="+Inf",method="short",mode="shadow",model="m"} 12.0
llm_shadow_agreement_bucket{le="0.1",method="rouge_l",mode="reverse",model="m"} 0.0
llm_shadow_agreement_bucket{le="1.0",method="rouge_l",mode="reverse",model="m"} 2.0
llm_shadow_agreement_bucket{le="+Inf",method="rouge_l",mode="reverse",model="m"} 2.0
"""


def test_snapshots_count_what_a_scenario_added():
    before, after = Snapshot.parse(METRICS_BEFORE), Snapshot.parse(METRICS_AFTER)
    growth = Growth(before, after)
    assert growth("llm_shadow_replays_total") == 9
    assert growth("llm_shadow_replays_total", outcome="ok") == 7
    assert growth("llm_shadow_replays_total", lambda labels: labels["outcome"] != "ok") == 2
    pairs = histogram_grown(before, after, "llm_shadow_agreement")
    assert pairs.count == 11 and pairs.fraction_below(0.1) == pytest.approx(1 / 11)
    assert math.isinf(pairs.buckets[-1][0])


def test_a_stack_copy_changes_only_the_keys_asked_and_stays_valid(tmp_path):
    path = stack_copy("rollout", tmp_path, {"traffic.killSwitch": True, "promotion.minSamples": {"requests": 3}})
    copy = from_stack_file("rollout", tmp_path)
    assert copy.traffic.kill_switch and copy.promotion.min_samples.requests == 3
    original = yaml.safe_load((ROOT / "Pulumi.rollout.yaml").read_text())["config"]
    changed = yaml.safe_load(path.read_text())["config"]
    assert {k: v for k, v in changed.items() if k not in ("llm-platform:traffic", "llm-platform:promotion")} == \
        {k: v for k, v in original.items() if k not in ("llm-platform:traffic", "llm-platform:promotion")}
    with pytest.raises(ConfigError):
        stack_copy("rollout", tmp_path / "bad", {"traffic.selfHostedPercent": 120})


@pytest.mark.parametrize("args, message", [
    (["--stack", "staging"], "config error: stack: unknown stack 'staging'"),
    (["--stack", "rollout", "--requests", "5"], "--requests 5 is out of range; allowed: 20 to 2000"),
    (["--stack", "rollout", "--vllm-wrong-rate", "1.5"], "--vllm-wrong-rate 1.5 is out of range"),
    (["--stack", "rollout", "--litellm", "/nonexistent/litellm"], "--litellm /nonexistent/litellm does not exist"),
    (["--requests", "50"], "the following arguments are required: --stack"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    if "--litellm" not in args:  # any file will do where the proxy is not the point (a clean machine has no .venv-router yet)
        args = [*args, "--litellm", sys.executable]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rehearse: ") and message in err and err.count("\n") == 1, err
