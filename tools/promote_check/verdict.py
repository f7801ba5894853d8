"""From the criteria to a decision: the verdict line, the next step it is about, and the exit status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from stackconfig import StackConfig

from .criteria import FAIL, TOO_FEW, Result

SAFE, NOT_SAFE = 0, 1


def next_step(config: StackConfig) -> str:
    """The step this check is about, along the migration plan: dev, shadow, rollout's steps, prod."""
    share, steps = config.traffic.self_hosted_percent, config.promotion.rollout_steps
    if config.phase == "dev":
        return "dev → shadow"
    if config.phase == "shadow":
        return f"shadow → rollout {steps[0]} %"
    if config.phase == "rollout":
        later = [step for step in steps if step > share]
        return f"rollout {share} % → {later[0]} %" if later else f"rollout {share} % → prod"
    return f"prod at {share} % (the last phase)"


@dataclass(frozen=True)
class Verdict:
    line: str
    status: int


def decide(config: StackConfig, results: list[Result]) -> Verdict:
    failed = [r for r in results if r.status == FAIL]
    too_few = [r for r in results if r.status == TOO_FEW]
    if config.traffic.kill_switch:
        return Verdict("not safe: the kill switch is on (traffic.killSwitch); turn it off and judge the step on "
                       "traffic from after that", NOT_SAFE)
    if failed:
        return Verdict("not safe: " + "; ".join(r.shortfall for r in failed), NOT_SAFE)
    if too_few:
        missing = "; ".join(f"{r.name} has {r.samples:.0f} of {r.min_samples}" for r in too_few)
        return Verdict(f"too few samples to decide {next_step(config)}: {missing} (a longer --window, or wait)", NOT_SAFE)
    # prod has no next step: the gate is its health check.
    return Verdict(f"{next_step(config)}: {'healthy' if config.phase == 'prod' else 'safe'}", SAFE)


def report(config: StackConfig, results: list[Result], verdict: Verdict, url: str, window: str,
           at: Optional[float]) -> list[str]:
    """What the gate prints: what was asked, one line per criterion, the verdict."""
    ending = dt.datetime.fromtimestamp(at, dt.timezone.utc).isoformat(timespec="seconds") if at is not None else "now"
    header = (f"promote-check {config.stack} (phase {config.phase}, {config.traffic.self_hosted_percent} % self-hosted"
              f"{', kill switch on' if config.traffic.kill_switch else ''}): {url}, window {window} ending {ending}")
    return [header, *table(results), f"verdict: {verdict.line}"]


def table(results: list[Result]) -> list[str]:
    lines = [f"  {'criterion':<26} {'value':>10}  {'limit':<12} {'result':<16} {'samples':>16}  source"]
    for r in results:
        samples = "-" if r.status == "n/a" and not r.samples else f"{r.samples:.0f} (min {r.min_samples})"
        lines.append(f"  {r.name:<26} {r.shown(r.value):>10}  {r.bound:<12} {r.status:<16} {samples:>16}  {r.source}")
    return lines
