"""The promotion gate against a real Prometheus holding a passing and a failing history of the rollout stack."""

from __future__ import annotations

import re

from tools.promote_check import __main__ as promote_check
from tools.promote_check.histogram import Histogram
from tools.promote_check.prometheus import Prometheus


def run(loaded, capsys, history: str, *extra: str, stack: str = "rollout") -> tuple[int, str]:
    end = loaded.histories[history].end
    status = promote_check.main(["--stack", stack, "--prometheus-url", loaded.url, "--window", "1h", "--at", str(end), *extra])
    out = capsys.readouterr()
    return status, out.out + out.err


def row(output: str, criterion: str) -> str:
    return next(line for line in output.splitlines() if line.strip().startswith(criterion))


def test_the_passing_history_lets_rollout_go_from_25_to_50(loaded, capsys):
    status, output = run(loaded, capsys, "passing")
    assert status == 0, output
    assert output.splitlines()[-1] == "verdict: rollout 25 % → 50 %: safe"
    assert re.search(r"self-hosted error rate\s+0\.20 %\s+<= 1\.00 %\s+pass", output), output
    assert re.search(r"OpenAI error rate\s+0\.10 %", output), output
    # 1 % of the self-hosted quarter came from the fallback group: 0.25 % of all answers.
    assert re.search(r"fallback rate\s+0\.25 %\s+<= 5\.00 %\s+pass", output), output
    assert re.search(r"self-hosted latency p99\s+(4[5-9]\d) ms", output), output
    for criterion in ("self-hosted TTFT p95", "self-hosted latency p99", "client-visible 5xx rate"):
        assert " pass " in row(output, criterion), output
    # An hour at 4 requests/s, a quarter of them self-hosted: about 3,600 attempts behind the error rate.
    samples = int(re.search(r"(\d+) \(min 500\)", row(output, "self-hosted error rate")).group(1))
    assert 3400 <= samples <= 3700, output


def test_the_failing_history_is_not_safe_and_says_why(loaded, capsys):
    status, output = run(loaded, capsys, "failing")
    assert status == 1, output
    verdict = output.splitlines()[-1]
    ttft = float(re.search(r"self-hosted TTFT p95 (\d+) ms > 500 ms", verdict).group(1))
    assert 850 <= ttft <= 900, verdict  # a fifth of first tokens near 0.9 s: p95 inside the 0.5-1 s bucket
    assert re.search(r"self-hosted error rate (1\.9\d|2\.0\d) % > 1\.00 %", verdict), verdict
    assert verdict.startswith("verdict: not safe: ")
    # What did not fail is not blamed.
    assert "latency p99" not in verdict and "fallback" not in verdict and "OpenAI" not in verdict


def test_shadow_is_judged_on_its_replays_and_a_fifth_of_disagreeing_pairs_stops_it(loaded, capsys):
    status, output = run(loaded, capsys, "shadow", stack="shadow")
    assert status == 1, output
    assert "shadow replays" in row(output, "self-hosted TTFT p95") and " pass " in row(output, "self-hosted TTFT p95")
    assert "n/a" in row(output, "fallback rate")
    assert re.search(r"shadow agreement median\s+0\.4\d\s+>= 0\.35\s+pass", output), output
    assert re.search(r"verdict: not safe: answers scoring below 0\.1 (19\.\d\d|20\.\d\d) % > 10\.00 %$", output.strip()), output


def test_too_little_traffic_in_the_window_cannot_decide(loaded, capsys):
    status, output = run(loaded, capsys, "passing", "--window", "2m")
    assert status == 1, output
    assert "verdict: too few samples to decide rollout 25 % → 50 %" in output
    assert "too few samples" in row(output, "self-hosted TTFT p95")


def test_a_window_with_no_traffic_at_all_cannot_decide_either(loaded, capsys):
    start = loaded.histories["passing"].start
    status = promote_check.main(["--stack", "rollout", "--prometheus-url", loaded.url, "--window", "30m", "--at", str(start - 7200)])
    output = capsys.readouterr().out
    assert status == 1 and "too few samples" in output.splitlines()[-1], output


def test_the_quantiles_are_the_ones_prometheus_computes(loaded):
    """The gate reads buckets and interpolates itself (for the share below a score); it agrees with histogram_quantile."""
    prometheus = Prometheus(loaded.url, at=loaded.histories["failing"].end)
    selector = 'litellm_llm_api_time_to_first_token_metric_bucket{api_provider="hosted_vllm"}[1h]'
    histogram = Histogram.from_series(prometheus.query(f"sum by (le) (increase({selector}))"))
    for q in (0.5, 0.95, 0.99):
        expected = prometheus.total(f"histogram_quantile({q}, sum by (le) (increase({selector})))")
        assert abs(histogram.quantile(q) - expected) < 1e-9, q


def test_the_dev_stack_reads_the_same_history_without_an_openai_split(loaded, capsys):
    status, output = run(loaded, capsys, "passing", stack="dev")
    assert "n/a" in row(output, "OpenAI error rate"), output
    assert output.splitlines()[-1] == "verdict: dev → shadow: safe", output
    assert status == 0
