"""The promotion gate without a Prometheus: histogram arithmetic, which criteria apply per phase, the verdict and
next step, and one-line exit-2 errors. tests/promotion runs it against a real Prometheus (make test-promote)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from stackconfig import parse
from tests.conftest import ROOT, raw_config, set_dotted
from tools.local_router import free_port
from tools.promote_check import __main__ as cli
from tools.promote_check.criteria import FAIL, NOT_APPLICABLE, PASS, TOO_FEW, QUERIES, evaluate, judged
from tools.promote_check.histogram import Histogram
from tools.promote_check.verdict import decide, next_step

NS = "llm-platform"


def config(stack: str, **changes):
    raw = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(raw, f"{NS}:{dotted}", value)
    return parse(stack, raw)


def histogram(*buckets: tuple[float, float]) -> Histogram:
    return Histogram.from_series([({"le": "+Inf" if math.isinf(le) else str(le)}, count) for le, count in buckets])


def test_quantiles_interpolate_inside_the_bucket_like_histogram_quantile():
    h = histogram((0.1, 50), (0.5, 90), (1.0, 100), (math.inf, 100))
    assert h.count == 100
    assert h.quantile(0.5) == pytest.approx(0.1)
    assert h.quantile(0.95) == pytest.approx(0.75)  # 5 of the 10 between 0.5 and 1
    assert h.quantile(0.25) == pytest.approx(0.05)  # the first bucket starts at 0


def test_a_quantile_in_the_inf_bucket_is_the_highest_finite_bound_and_no_data_is_none():
    assert histogram((0.5, 10), (1.0, 10), (math.inf, 20)).quantile(0.99) == 1.0
    assert histogram((0.5, 0), (math.inf, 0)).quantile(0.5) is None
    assert Histogram(()).quantile(0.5) is None


def test_share_below_a_score():
    h = histogram((0.1, 8), (0.2, 10), (1.0, 100), (math.inf, 100))
    assert h.fraction_below(0.1) == pytest.approx(0.08)
    assert h.fraction_below(0.15) == pytest.approx(0.09)
    assert h.fraction_below(0.0) == 0.0
    assert histogram((0.1, 0), (math.inf, 0)).fraction_below(0.1) is None


def test_buckets_written_twice_and_dented_by_increase_are_merged_and_evened():
    h = Histogram.from_series([({"le": "1"}, 3), ({"le": "1.0"}, 2), ({"le": "0.5"}, 6), ({"le": "+Inf"}, 9)])
    assert h.buckets == ((0.5, 6), (1.0, 6), (math.inf, 9))


class CannedPrometheus:
    """Answers the gate's named queries with fixed numbers; asserts it is asked nothing else."""

    def __init__(self, totals: dict[str, float], buckets: dict[str, list[tuple[float, float]]] | None = None):
        self.by_expr = {}
        self.asked: list[str] = []
        for name, value in totals.items():
            self.by_expr[QUERIES[name]] = [({}, value)]
        for name, pairs in (buckets or {}).items():
            self.by_expr[QUERIES[name]] = [({"le": "+Inf" if math.isinf(le) else str(le)}, n) for le, n in pairs]

    def query(self, expr: str):
        template = next(t for t in self.by_expr if t.replace("$window", "1h") == expr)
        self.asked.append(template)
        return self.by_expr[template]

    def total(self, expr: str) -> float:
        return sum(value for _, value in self.query(expr))


HEALTHY = {
    "self_hosted_attempts": 1000, "self_hosted_failures": 2, "openai_attempts": 3000, "openai_failures": 3,
    "client_requests": 4000, "client_server_errors": 1, "answers": 3999, "fallback_answers": 20,
}
FAST = {"self_hosted_ttft_buckets": [(0.1, 900), (0.5, 1000), (math.inf, 1000)],
        "self_hosted_latency_buckets": [(0.5, 990), (1.0, 1000), (math.inf, 1000)],
        # 300 pairs: 12 unrelated (score 0), the rest between 0.4 and 0.9 (median 0.65).
        "agreement_buckets": [(0.1, 12), (0.4, 12), (0.9, 300), (1.0, 300), (math.inf, 300)]}


def statuses(results) -> dict[str, str]:
    return {r.name: r.status for r in results}


def test_a_healthy_rollout_passes_every_criterion_and_may_take_the_next_step():
    cfg = config("rollout")
    results = evaluate(cfg, CannedPrometheus(HEALTHY, FAST), "1h")
    assert set(statuses(results).values()) == {PASS}
    by_name = {r.name: r for r in results}
    assert by_name["self-hosted error rate"].value == pytest.approx(0.2)
    assert by_name["fallback rate"].value == pytest.approx(100 * 20 / 3999)
    assert by_name["self-hosted TTFT p95"].value == pytest.approx(300)  # half of the last 100 between 0.1 and 0.5 s
    assert by_name["shadow agreement median"].value == pytest.approx(0.4 + 0.5 * (150 - 12) / 288)
    assert by_name["answers scoring below 0.1"].value == pytest.approx(4.0)
    verdict = decide(cfg, results)
    assert (verdict.line, verdict.status) == ("rollout 25 % → 50 %: safe", 0)


def test_a_slow_first_token_fails_with_the_figures():
    cfg = config("rollout")
    slow = {**FAST, "self_hosted_ttft_buckets": [(0.5, 800), (1.0, 1000), (math.inf, 1000)]}
    results = evaluate(cfg, CannedPrometheus(HEALTHY, slow), "1h")
    assert statuses(results)["self-hosted TTFT p95"] == FAIL
    verdict = decide(cfg, results)
    assert verdict.status == 1
    assert verdict.line == "not safe: self-hosted TTFT p95 875 ms > 500 ms"


def test_few_samples_decide_nothing_and_name_what_is_short():
    cfg = config("rollout")
    thin = {**HEALTHY, "self_hosted_attempts": 40, "self_hosted_failures": 0}
    results = evaluate(cfg, CannedPrometheus(thin, FAST), "1h")
    assert statuses(results)["self-hosted error rate"] == TOO_FEW
    verdict = decide(cfg, results)
    assert verdict.status == 1
    assert "too few samples to decide rollout 25 % → 50 %: self-hosted error rate has 40 of 500" in verdict.line


def test_a_failure_outranks_too_few_samples():
    cfg = config("rollout")
    results = evaluate(cfg, CannedPrometheus({**HEALTHY, "client_server_errors": 400, "self_hosted_attempts": 40,
                                              "self_hosted_failures": 0}, FAST), "1h")
    assert decide(cfg, results).line == "not safe: client-visible 5xx rate 10.00 % > 1.00 %"


def test_a_zero_minimum_judges_what_is_there_and_skips_what_is_not():
    assert judged("x", None, 1.0, True, "%", 0, 0, "").status == NOT_APPLICABLE
    assert judged("x", 2.0, 1.0, True, "%", 3, 0, "").status == FAIL
    assert judged("x", 0.5, 0.35, False, "", 3, 0, "").status == PASS


def test_the_shadow_phase_judges_vllm_on_its_replays_and_the_agreement():
    cfg = config("shadow")
    replays = {"client_requests": 4000, "client_server_errors": 0, "openai_attempts": 4000, "openai_failures": 0,
               "shadow_replays": 1000, "shadow_replay_failures": 20}
    canned = CannedPrometheus(replays, {"shadow_ttft_buckets": [(0.25, 570), (0.5, 600), (math.inf, 600)],
                                        "shadow_latency_buckets": [(1.0, 980), (math.inf, 980)],
                                        "agreement_buckets": [(0.1, 60), (0.5, 200), (1.0, 400), (math.inf, 400)]})
    results = {r.name: r for r in evaluate(cfg, canned, "1h")}
    assert results["self-hosted error rate"].value == pytest.approx(2.0)
    assert results["self-hosted error rate"].source.startswith("shadow replays")
    assert results["self-hosted TTFT p95"].status == PASS
    assert results["fallback rate"].status == NOT_APPLICABLE
    assert not any("self_hosted_" in asked for asked in canned.asked), "the router's vLLM metrics are empty in shadow"
    verdict = decide(cfg, list(results.values()))
    assert verdict.line == "not safe: self-hosted error rate 2.00 % > 1.00 %; answers scoring below 0.1 15.00 % > 10.00 %"


def test_low_agreement_fails_the_median():
    cfg = config("rollout")
    poor = {**FAST, "agreement_buckets": [(0.1, 20), (0.2, 250), (1.0, 300), (math.inf, 300)]}
    results = evaluate(cfg, CannedPrometheus(HEALTHY, poor), "1h")
    assert decide(cfg, results).line.startswith("not safe: shadow agreement median 0.16 < 0.35")


def test_dev_sends_openai_nothing_but_fallbacks_so_its_error_rate_does_not_apply():
    cfg = config("dev")
    results = evaluate(cfg, CannedPrometheus({**HEALTHY, "openai_attempts": 0, "openai_failures": 0}, FAST), "1h")
    assert statuses(results)["OpenAI error rate"] == NOT_APPLICABLE
    assert decide(cfg, results).line == "dev → shadow: safe"


def test_the_kill_switch_is_never_safe_and_self_hosted_criteria_do_not_apply():
    cfg = config("prod", **{"traffic.killSwitch": True})
    results = evaluate(cfg, CannedPrometheus(HEALTHY, FAST), "1h")
    assert statuses(results)["self-hosted TTFT p95"] == NOT_APPLICABLE
    assert statuses(results)["fallback rate"] == NOT_APPLICABLE
    assert statuses(results)["shadow agreement median"] == NOT_APPLICABLE
    verdict = decide(cfg, results)
    assert verdict.status == 1 and "kill switch is on" in verdict.line


@pytest.mark.parametrize("stack, changes, step", [
    ("dev", {}, "dev → shadow"),
    ("shadow", {}, "shadow → rollout 25 %"),
    ("rollout", {}, "rollout 25 % → 50 %"),
    ("rollout", {"traffic.selfHostedPercent": 50}, "rollout 50 % → 75 %"),
    ("rollout", {"traffic.selfHostedPercent": 30}, "rollout 30 % → 50 %"),
    ("rollout", {"traffic.selfHostedPercent": 75}, "rollout 75 % → prod"),
    ("rollout", {"promotion.rolloutSteps": [10, 25, 40, 60, 80]}, "rollout 25 % → 40 %"),
    ("prod", {}, "prod at 95 % (the last phase)"),
])
def test_the_next_step_follows_the_migration_plan(stack, changes, step):
    assert next_step(config(stack, **changes)) == step


@pytest.mark.parametrize("args, message", [
    (["--stack", "staging", "--prometheus-url", "http://127.0.0.1:9090"], "config error: stack: unknown stack 'staging'"),
    (["--stack", "rollout", "--prometheus-url", "127.0.0.1:9090"], "--prometheus-url '127.0.0.1:9090' is not a URL"),
    (["--stack", "rollout", "--prometheus-url", "http://127.0.0.1:9090", "--window", "1 day"], "--window: '1 day' is not a duration"),
    (["--stack", "rollout", "--prometheus-url", "http://127.0.0.1:9090", "--at", "yesterday"], "--at 'yesterday' is not a time"),
    (["--stack", "rollout", "--prometheus-url", "http://127.0.0.1:9090", "--at", "2026-11-27T18:00:00"], "has no UTC offset"),
    (["--stack", "rollout"], "the following arguments are required: --prometheus-url"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("promote-check: ") and message in err, err


def test_an_unreachable_prometheus_is_exit_2_without_a_traceback():
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = subprocess.run([sys.executable, "-m", "tools.promote_check", "--stack", "rollout", "--prometheus-url", closed],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"promote-check: cannot reach Prometheus at {closed}") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_prod_has_no_next_step_and_a_good_day_reads_healthy():
    cfg = config("prod")
    verdict = decide(cfg, evaluate(cfg, CannedPrometheus(HEALTHY, FAST), "1h"))
    assert (verdict.line, verdict.status) == ("prod at 95 % (the last phase): healthy", 0)
