"""Golden-set evaluation: `python -m tools.eval --baseline URL --candidate URL [--set FILE] [--stack NAME]`.

Runs every prompt of the set (default: tools/eval/golden_set.jsonl) against two OpenAI-compatible endpoints (URLs
ending in /v1: OpenAI or the router as baseline, vLLM or the router as candidate), a few at a time, and writes
report.md and report.json to --out. Acceptance thresholds are the stack's traffic.shadow.acceptance.

API keys come from the environment, never from the command line: EVAL_BASELINE_API_KEY and EVAL_CANDIDATE_API_KEY,
else EVAL_API_KEY, else (baseline only) OPENAI_API_KEY; an endpoint without one is called without a key (vLLM in the cluster).

Exit status: 0 the candidate meets the thresholds; 1 it does not; 2 bad input (arguments, set file, stack config)
or an endpoint that cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from stackconfig import ConfigError, from_stack_file
from stackconfig.loader import project_root

from . import golden, report
from .run import Endpoint, ask_all, reachable

URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def api_key(side: str) -> str | None:
    """The most specific key set for ``side``. OPENAI_API_KEY goes to the baseline only: the candidate is another
    party (vLLM, the router, a vendor) that must never see the OpenAI key."""
    names = (f"EVAL_{side.upper()}_API_KEY", "EVAL_API_KEY") + (("OPENAI_API_KEY",) if side == "baseline" else ())
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


class ArgumentError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage first)
        raise ArgumentError(f"eval: {message}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m tools.eval", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="OpenAI-compatible base URL, e.g. https://api.openai.com/v1")
    parser.add_argument("--candidate", required=True, help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1")
    parser.add_argument("--set", dest="set_file", type=Path, default=golden.SHIPPED, help="golden set (JSONL)")
    parser.add_argument("--stack", default="dev", help="stack whose traffic.shadow.acceptance thresholds apply")
    parser.add_argument("--stacks-dir", type=Path, default=None, help="where Pulumi.<stack>.yaml lives (default: the project)")
    parser.add_argument("--baseline-model", help="default: the stack's first traffic.openaiModels name")
    parser.add_argument("--candidate-model", help="default: the stack's serving.model.servedName")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight at once (1-32)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--out", type=Path, help="report directory (default build/eval/<UTC time>)")
    args = parser.parse_args(argv)
    for side in ("baseline", "candidate"):
        if not URL.match(getattr(args, side)):
            raise ArgumentError(f"eval: --{side} {getattr(args, side)!r} is not a URL; allowed: http(s)://host[:port]/v1")
    if not 1 <= args.concurrency <= 32:
        raise ArgumentError(f"eval: --concurrency {args.concurrency} is out of range; allowed: 1 to 32")
    if not 1 <= args.timeout <= 1800:
        raise ArgumentError(f"eval: --timeout {args.timeout:g} is out of range; allowed: 1 to 1800 seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        cfg = from_stack_file(args.stack, args.stacks_dir)
        prompts = golden.load(args.set_file)
    except (ArgumentError, ConfigError, golden.SetError) as err:
        print(err, file=sys.stderr)
        return 2
    baseline = Endpoint("baseline", args.baseline.rstrip("/"), args.baseline_model or cfg.traffic.openai_models[0].name,
                        api_key("baseline"))
    candidate = Endpoint("candidate", args.candidate.rstrip("/"), args.candidate_model or cfg.serving.model.served_name,
                         api_key("candidate"))
    for endpoint in (baseline, candidate):
        problem = reachable(endpoint)
        if problem is not None:
            print(f"eval: --{endpoint.name} {endpoint.base_url} cannot be reached ({problem})", file=sys.stderr)
            return 2

    out = args.out or project_root() / "build" / "eval" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"eval: --out {out} cannot be created ({err.strerror})", file=sys.stderr)
        return 2

    print(f"{len(prompts)} prompts: {baseline.model} at {baseline.base_url} vs {candidate.model} at {candidate.base_url}",
          file=sys.stderr)
    answers = ask_all(prompts, baseline, candidate, args.concurrency, args.timeout)
    if all(b.failed for b, _ in answers):
        print(f"eval: the baseline answered none of the prompts (first error: {answers[0][0].error}); "
              "check its URL, model and key", file=sys.stderr)
        return 2
    result = report.score(prompts, answers, cfg.traffic.shadow.acceptance)
    md_path, json_path = report.write(result, out, f"{baseline.model} @ {baseline.base_url}",
                                      f"{candidate.model} @ {candidate.base_url}")
    for check in result["checks"]:
        value = "n/a" if check["value"] is None else f"{check['value']:.2f}"
        verdict = "n/a" if check["value"] is None else ("pass" if check["passed"] else "FAIL")
        print(f"  {check['name']}: {value} ({check['rule']} {check['threshold']:g}) {verdict}")
    print(f"{'PASS' if result['passed'] else 'FAIL'}: {md_path} and {json_path.name}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
