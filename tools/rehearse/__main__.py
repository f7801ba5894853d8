"""python -m tools.rehearse --stack STACK [options]: see tools/rehearse/__init__.py. `make rehearse STACK=<stack>`."""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

from stackconfig import ConfigError, StackConfig, from_stack_file
from tools import local_prometheus, local_router
from tools.diff.planned import plan_quietly
from tools.local_router import MASTER_KEY, ROOT, Process
from tools.promote_check.criteria import FAIL, TOO_FEW, Routing, evaluate
from tools.promote_check.prometheus import Prometheus, PrometheusError
from tools.promote_check.verdict import decide, report

from .expect import FEWEST_TO_JUDGE, Check, Expected, equal_check, share_check
from .scrape import Growth, Snapshot, grown, histogram_grown, snapshot
from .traffic import Summary, drive
from .variants import stack_copy

USAGE = "python -m tools.rehearse --stack STACK [--requests N] [--clients N] [--vllm-latency S] ... (see --help)"
REQUEST_TIMEOUT = 60.0
SETTLE_SECONDS = 2.5  # two scrapes, and one probe of the router's readiness gate
FALLBACK_ID = "-openai-fallback"
MIN_PAIRS_TO_CHECK = 20  # fewer compared pairs say too little about the scoring to check it


class BadInput(Exception):
    pass


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise BadInput(f"{message}; usage: {USAGE}")


def arguments(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = _ArgumentParser(prog="python -m tools.rehearse", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--requests", type=int, default=300, help="split traffic, 20 to 2000 (default 300)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients, 1 to 32 (default 4)")
    parser.add_argument("--failure-requests", type=int, default=40, help="while vLLM fails (default 40)")
    parser.add_argument("--kill-switch-requests", type=int, default=40, help="through the kill-switch router (default 40)")
    parser.add_argument("--critical-requests", type=int, default=20, help="tagged critical (default 20)")
    for backend, latency, ttft in (("vllm", 0.08, 0.03), ("openai", 0.12, 0.05)):
        parser.add_argument(f"--{backend}-latency", type=float, default=latency, help=f"seconds per answer (default {latency})")
        parser.add_argument(f"--{backend}-ttft", type=float, default=ttft, help=f"seconds to a stream's first token (default {ttft})")
    parser.add_argument("--vllm-fail-rate", type=float, default=0.0, help="share of vLLM answers that are 500s (default 0)")
    parser.add_argument("--vllm-wrong-rate", type=float, default=0.01,
                        help="share of vLLM answers unrelated to the question: its answer quality (default 0.01)")
    parser.add_argument("--litellm", type=Path, default=ROOT / ".venv-router" / "bin" / "litellm",
                        help="the LiteLLM proxy (default .venv-router/bin/litellm, built by make rehearse)")
    parser.add_argument("--work", type=Path, help="logs and rendered files (default build/rehearse/<stack>)")
    args = parser.parse_args(argv)
    bounds = {"--requests": (args.requests, 20, 2000), "--clients": (args.clients, 1, 32),
              "--failure-requests": (args.failure_requests, 1, 500), "--kill-switch-requests": (args.kill_switch_requests, 1, 500),
              "--critical-requests": (args.critical_requests, 0, 500),
              "--vllm-fail-rate": (args.vllm_fail_rate, 0, 1), "--vllm-wrong-rate": (args.vllm_wrong_rate, 0, 1)}
    for backend in ("vllm", "openai"):
        bounds[f"--{backend}-latency"] = (getattr(args, f"{backend}_latency"), 0, 30)
        bounds[f"--{backend}-ttft"] = (getattr(args, f"{backend}_ttft"), 0, 30)
    for option, (value, low, high) in bounds.items():
        if not low <= value <= high:
            raise BadInput(f"{option} {value} is out of range; allowed: {low} to {high}")
    args.litellm = args.litellm.resolve()  # the proxy runs from its config's folder
    if not args.litellm.is_file():
        raise BadInput(f"--litellm {args.litellm} does not exist; allowed: the proxy of .venv-router (make rehearse builds it)")
    return args


class Rehearsal:
    """Everything one rehearsal starts, so that all of it is stopped, by process id, whatever happens."""

    def __init__(self, args: argparse.Namespace, config: StackConfig, work: Path):
        self.args, self.config, self.work = args, config, work
        self.routing = Routing.of(config)
        self.model = config.traffic.openai_models[0].name
        self.processes: list[Process] = []
        self.checks: list[Check] = []
        self.vllm_port = local_router.free_port()

    # --- processes ---------------------------------------------------------------------------------------------

    def fake(self, name: str, **options: Any) -> Process:
        process = local_router.start_fake(name, self.work, **options)
        self.processes.append(process)
        return process

    def vllm_options(self, fail_rate: float) -> dict[str, Any]:
        a = self.args
        return {"port": self.vllm_port, "latency": a.vllm_latency, "ttft": a.vllm_ttft, "fail_rate": fail_rate,
                "wrong_rate": a.vllm_wrong_rate, "max_requests": 100_000}

    def restart_vllm(self, fail_rate: float) -> Process:
        local_router.stop(self.vllm)
        self.processes.remove(self.vllm)
        self.vllm = self.fake("vllm", **self.vllm_options(fail_rate))
        time.sleep(SETTLE_SECONDS)  # the readiness gate sees the new process before traffic resumes
        return self.vllm

    def start(self, plans: dict[str, Path]) -> None:
        a = self.args
        self.openai = self.fake("openai", latency=a.openai_latency, ttft=a.openai_ttft, max_requests=100_000)
        self.vllm = self.fake("vllm", **self.vllm_options(a.vllm_fail_rate))
        self.prometheus = local_prometheus.start(self.work / "prometheus")
        self.processes.append(self.prometheus)

        def proxy(role: str) -> Process:
            files = local_router.rendered_router(plans[role], self.config.stack)
            config = local_router.write_router_dir(files, self.work / role, local_router.without_shared_state)
            process = local_router.start_proxy(config, self.work / role, f"http://{local_router.LOOPBACK}:{self.vllm_port}/v1",
                                               f"{self.openai.url}/v1", litellm=str(a.litellm))
            self.processes.append(process)  # at once, so that stop() finds it whatever happens next
            return process

        with ThreadPoolExecutor(max_workers=2) as pool:  # the two proxies start side by side (15 s or so each)
            futures = {role: pool.submit(proxy, role) for role in plans}
        failures = []
        for role, future in futures.items():
            try:
                setattr(self, role.replace("-", "_"), future.result())
            except Exception as err:  # the other one is stopped with the rest
                failures.append(f"{role}: {err}")
        if failures:
            raise RuntimeError("; ".join(failures))
        local_prometheus.set_targets(self.work / "prometheus", [
            local_prometheus.Target(self.router.url, "/metrics/", {"role": "router"}),
            local_prometheus.Target(self.router_kill_switch.url, "/metrics/", {"role": "router-kill-switch"}),
            local_prometheus.Target(self.openai.url, "/metrics", {"role": "openai"}),
            local_prometheus.Target(self.vllm.url, "/metrics", {"role": "vllm"}),
        ])
        self.wait_for_scrapes(4)

    def wait_for_scrapes(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{self.prometheus.url}/api/v1/targets?state=active", timeout=5) as response:
                targets = json.load(response)["data"]["activeTargets"]
            if sum(1 for t in targets if t["health"] == "up") >= count:
                return
            time.sleep(0.5)
        raise TimeoutError(f"Prometheus did not scrape all {count} targets within {timeout:.0f} s; see {self.work / 'prometheus'}")

    def stop(self) -> list[int]:
        pids = []
        for process in reversed(self.processes):
            local_router.stop(process)
            pids.append(process.pid)
        self.processes.clear()
        return pids

    # --- measuring ---------------------------------------------------------------------------------------------

    def snapshots(self) -> dict[str, Snapshot]:
        return {"router": snapshot(f"{self.router.url}/metrics/"), "vllm": snapshot(f"{self.vllm.url}/metrics"),
                "openai": snapshot(f"{self.openai.url}/metrics")}

    def settle(self) -> None:
        """Wait for replays started by the last answers, then for two scrapes."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and snapshot(f"{self.router.url}/metrics/").total("llm_shadow_in_flight") > 0:
            time.sleep(0.2)
        time.sleep(SETTLE_SECONDS)

    def report(self, title: str, checks: list[Check]) -> None:
        print(title)
        for check in checks:
            print(check.line)
        self.checks += checks
        sys.stdout.flush()

    # --- scenarios ---------------------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """LiteLLM loads what it imports lazily on its first calls; pay that before anything is measured."""
        drive(self.router.url, MASTER_KEY, self.model, 8, 2, REQUEST_TIMEOUT)
        drive(self.router_kill_switch.url, MASTER_KEY, self.model, 4, 2, REQUEST_TIMEOUT)
        self.settle()

    def split(self) -> tuple[float, float, Summary]:
        a, routing, t = self.args, self.routing, self.config.traffic
        before, started = self.snapshots(), time.time()
        outcomes = drive(self.router.url, MASTER_KEY, self.model, a.requests, a.clients, REQUEST_TIMEOUT)
        self.settle()
        ended, after = time.time(), self.snapshots()
        summary = Summary.of(outcomes)
        answers = summary.requests - summary.errors
        vllm, openai = summary.answered["vllm"], summary.answered["openai"]
        router = Growth(before["router"], after["router"])
        shadow = router("llm_shadow_replays_total", mode="shadow") + router("llm_shadow_dropped_total", mode="shadow")
        reverse = router("llm_shadow_replays_total", mode="reverse") + router("llm_shadow_dropped_total", mode="reverse")
        checks = [
            share_check("vLLM answered", vllm, answers, routing.self_hosted_percent, "answers"),
            equal_check("client-visible errors", summary.errors, 0),
            share_check("shadow replays (sampled after OpenAI's answer)", shadow, openai, routing.shadow_percent, "OpenAI answers"),
        ]
        if t.shadow.reverse_check.enabled or reverse:
            checks.append(share_check("reverse checks (vLLM's answers also asked of OpenAI)", reverse, vllm,
                                      routing.reverse_check_percent, "vLLM answers"))
        if a.vllm_fail_rate == 0:
            # The fakes' own counts: vLLM got its answers and the replays, OpenAI its answers and the reverse checks.
            checks.append(equal_check("requests the vLLM fake received", grown(before["vllm"], after["vllm"], "fake_backend_requests_total"),
                                      vllm + router("llm_shadow_replays_total", mode="shadow"), " (its answers plus the replays)"))
            checks.append(equal_check("requests the OpenAI fake received", grown(before["openai"], after["openai"], "fake_backend_requests_total"),
                                      openai + router("llm_shadow_replays_total", mode="reverse"), " (its answers plus the reverse checks)"))
        checks += self.agreement(before["router"], after["router"])
        checks.append(Check(None, f"client latency: {summary.latency()}"))
        self.report(f"\nsplit: {a.requests} requests from {a.clients} clients, {summary.streamed} streamed, "
                    f"{ended - started:.1f} s", checks)
        return started, ended, summary

    def agreement(self, before: Snapshot, after: Snapshot) -> list[Check]:
        gate = self.config.promotion
        histogram = histogram_grown(before, after, "llm_shadow_agreement")
        pairs = round(histogram.count)
        if not pairs:
            expected = "none expected" if not self.routing.compares_answers else "too few requests for the shadow share"
            return [Check(None, f"shadow agreement: no pairs compared ({expected})")]
        median, below = histogram.quantile(0.5), histogram.fraction_below(gate.low_agreement_score)
        figures = Check(None, f"shadow agreement over {pairs} pairs: median {median:.2f} (gate: >= {gate.min_agreement_median:g}), "
                              f"{100 * below:.1f} % below {gate.low_agreement_score:g} (gate: <= {gate.max_low_agreement_percent:g} %)")
        if pairs < MIN_PAIRS_TO_CHECK:
            return [figures]
        # The vLLM fake answers --vllm-wrong-rate of its requests with an unrelated sentence (score 0): the measured
        # share of disagreeing pairs must be that rate.
        low = round(below * histogram.count)
        return [figures, share_check("pairs scoring below the threshold", low, pairs, 100 * self.args.vllm_wrong_rate,
                                     "pairs (the vLLM fake's wrong answers)")]

    def critical(self) -> None:
        a = self.args
        if not a.critical_requests:
            return
        before = self.snapshots()
        outcomes = drive(self.router.url, MASTER_KEY, self.model, a.critical_requests, a.clients, REQUEST_TIMEOUT,
                         extra={"tags": [self.config.traffic.critical.tags[0]]})
        self.settle()
        after, summary = self.snapshots(), Summary.of(outcomes)
        self.report(f"\ncritical: {a.critical_requests} requests tagged {self.config.traffic.critical.tags[0]!r}", [
            equal_check("answered by OpenAI", summary.answered["openai"], a.critical_requests),
            equal_check("replayed to vLLM", grown(before["router"], after["router"], "llm_shadow_replays_total"), 0),
        ])

    def vllm_failing(self) -> None:
        a, routing = self.args, self.routing
        self.restart_vllm(fail_rate=1.0)
        before = self.snapshots()
        outcomes = drive(self.router.url, MASTER_KEY, self.model, a.failure_requests, a.clients, REQUEST_TIMEOUT)
        self.settle()
        after, summary = self.snapshots(), Summary.of(outcomes)
        router = Growth(before["router"], after["router"])
        fallback_answers = router("litellm_proxy_total_requests_metric_total", lambda labels: labels.get("model_id", "").endswith(FALLBACK_ID),
                                  status_code="200")
        failed_attempts = router("litellm_deployment_failure_responses_total", api_provider="hosted_vllm")
        checks: list[Check] = []
        rescued = routing.has_fallback_group or routing.self_hosted_percent < 100
        if routing.self_hosted_percent == 0 or rescued:
            checks.append(equal_check("client-visible errors", summary.errors, 0,
                                      "" if routing.self_hosted_percent == 0 else " (retries and fallback answer from OpenAI)"))
            checks.append(equal_check("answered by OpenAI", summary.answered["openai"], a.failure_requests))
        else:
            checks.append(equal_check("client-visible errors (no fallback configured)", summary.errors, a.failure_requests))
        if routing.self_hosted_percent > 0:
            checks.append(Check(None, f"failed attempts on vLLM: {failed_attempts}; answers from the fallback group: "
                                      f"{fallback_answers}" + ("" if routing.self_hosted_percent == 100 else
                                      "; the rest by the split's OpenAI side, after a retry or while vLLM cooled down")))
        if routing.shadow_percent > 0 or routing.reverse_check_percent > 0:
            compared = router("llm_shadow_replays_total", mode="shadow", outcome="ok")
            failed = router("llm_shadow_replays_total", mode="shadow") - compared
            dropped = router("llm_shadow_dropped_total", reason="backend_unavailable")
            checks.append(equal_check("replays compared while vLLM fails", compared, 0,
                                      f" ({failed} failed, {dropped} not sent during the back-off)"))
        checks.append(Check(None, f"client latency: {summary.latency()}"))
        self.report(f"\nvLLM failing (every request answered 500): {a.failure_requests} requests", checks)
        self.restart_vllm(fail_rate=a.vllm_fail_rate)

    def kill_switch(self) -> None:
        a = self.args
        before = self.snapshots()
        outcomes = drive(self.router_kill_switch.url, MASTER_KEY, self.model, a.kill_switch_requests, a.clients, REQUEST_TIMEOUT)
        time.sleep(SETTLE_SECONDS)
        after, summary = self.snapshots(), Summary.of(outcomes)
        self.report(f"\nkill switch on (a second router, planned from a copy of Pulumi.{self.config.stack}.yaml with "
                    f"traffic.killSwitch: true): {a.kill_switch_requests} requests", [
            equal_check("answered by OpenAI", summary.answered["openai"], a.kill_switch_requests),
            equal_check("client-visible errors", summary.errors, 0),
            equal_check("requests reaching vLLM (split, replays, reverse checks)",
                        grown(before["vllm"], after["vllm"], "fake_backend_requests_total"), 0),
        ])

    def promote_check(self, gate_dir: Path, started: float, ended: float, expected: Expected) -> None:
        """The promotion gate on the split's window, with the stack's thresholds and minimums sized to the split."""
        window = f"{math.ceil(ended - started)}s"
        gate = from_stack_file(self.config.stack, gate_dir)
        results = evaluate(gate, Prometheus(self.prometheus.url, at=ended), window)
        verdict = decide(gate, results)
        minimums = gate.promotion.min_samples
        print(f"\npromote-check on the split's window in the rehearsal's Prometheus (the stack's limits; sample minimums "
              f"a quarter of what the split should give: requests {minimums.requests}, latency {minimums.latency}, "
              f"shadow pairs {minimums.shadow_pairs}; {expected.out_of_reach} where it promises fewer than {FEWEST_TO_JUDGE}):")
        for line in report(gate, results, verdict, self.prometheus.url, window, ended):
            print(f"  | {line}")
        failed = [r.name for r in results if r.status == FAIL]
        unexpected = [r.name for r in results if r.status == TOO_FEW and r.min_samples != expected.out_of_reach]
        beyond = [r.name for r in results if r.status == TOO_FEW and r.min_samples == expected.out_of_reach]
        if self.config.traffic.kill_switch:
            check = Check(None, "the stack's kill switch is on: there is no step to judge")
        elif failed or unexpected:
            check = Check(False, "promote-check: " + "; ".join(
                [f"{name} fails" for name in failed] + [f"{name} has too few samples" for name in unexpected]))
        else:
            check = Check(True, f"promote-check: no criterion fails (exit {verdict.status})" +
                          (f"; too few samples at this traffic, as expected, for: {', '.join(beyond)}" if beyond else ""))
        self.report("", [check])


def rehearse(args: argparse.Namespace) -> int:
    started = time.monotonic()
    config = from_stack_file(args.stack)
    work = (args.work or ROOT / "build" / "rehearse" / args.stack).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    routing = Routing.of(config)
    expected = Expected.of(routing, args.requests)
    plans = {
        "router": plan_quietly(args.stack, ROOT / "build" / "plan", None),
        "router-kill-switch": plan_quietly(args.stack, work / "kill-switch-plan",
                                       stack_copy(args.stack, work / "kill-switch-stack", {"traffic.killSwitch": True}).parent),
    }
    gate_dir = stack_copy(args.stack, work / "gate-stack", {"promotion.minSamples": expected.gate_minimums(routing)}).parent
    rehearsal = Rehearsal(args, config, work)
    print(f"rehearse {args.stack} (phase {config.phase}: {routing.self_hosted_percent:g} % self-hosted, shadow "
          f"{routing.shadow_percent:g} %, reverse check {routing.reverse_check_percent:g} %, fallback group "
          f"{'yes' if routing.has_fallback_group else 'no'}): planned in {time.monotonic() - started:.0f} s; logs in {work}")
    try:
        rehearsal.start(plans)
        print(f"started on 127.0.0.1: LiteLLM proxy {rehearsal.router.url} (the plan's config and hooks), a second one with "
              f"the kill switch {rehearsal.router_kill_switch.url}, fake OpenAI {rehearsal.openai.url}, fake vLLM "
              f"{rehearsal.vllm.url}, Prometheus {rehearsal.prometheus.url} scraping them every second "
              f"({time.monotonic() - started:.0f} s)")
        rehearsal.warm_up()
        split_start, split_end, _ = rehearsal.split()
        rehearsal.critical()
        rehearsal.vllm_failing()
        rehearsal.kill_switch()
        rehearsal.promote_check(gate_dir, split_start, split_end, expected)
    except (RuntimeError, OSError, PrometheusError) as err:  # a process that would not start or answer: its log says why
        rehearsal.checks.append(Check(False, f"the rehearsal stopped: {err}"))
        print(f"rehearse: {err}", file=sys.stderr)
    finally:
        pids = rehearsal.stop()
        print(f"\nstopped {len(pids)} processes by pid ({', '.join(map(str, pids))})")
    failed = [c for c in rehearsal.checks if c.passed is False]
    passed = [c for c in rehearsal.checks if c.passed]
    verdict = "behaves as configured" if not failed else "does not behave as configured"
    print(f"rehearse {args.stack}: {verdict}; {len(passed)} checks passed, {len(failed)} failed, in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def main(argv: Optional[list[str]] = None) -> int:
    # `kill` or a CI timeout: unwind, so that every process started is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        args = arguments(argv)
        from_stack_file(args.stack)
    except (BadInput, ConfigError) as err:
        print(f"rehearse: {err}", file=sys.stderr)
        return 2
    return rehearse(args)


if __name__ == "__main__":
    sys.exit(main())
