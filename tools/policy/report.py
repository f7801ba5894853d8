"""The plan's "policy" report: policy.json holds every violation; the printed table every policy's result."""

from __future__ import annotations

from typing import Any

from stackconfig import StackConfig

from ..recorder import Recording
from .runner import Outcome, evaluate


class PolicyResults(list):
    """policy.json's content (a list of violations), keeping each policy's outcome for the printed table."""

    def __init__(self, outcomes: list[Outcome]):
        super().__init__(v.as_json() for o in outcomes for v in o.violations)
        self.outcomes = outcomes


def build(config: StackConfig, recording: Recording) -> PolicyResults:
    return PolicyResults(evaluate(config, recording))


def summary(content: Any) -> list[str]:
    outcomes: list[Outcome] = getattr(content, "outcomes", [])
    width = max((len(o.policy) for o in outcomes), default=6)
    lines = [f"{'policy':<{width}}  {'level':<9}  {'checked':>7}  result"]
    for outcome in outcomes:
        checked = "stack" if outcome.stack_level and outcome.checked else str(outcome.checked)
        if not outcome.checked:
            result = "not applicable"
        elif outcome.violations:
            result = f"FAIL ({len(outcome.violations)})"
        else:
            result = "pass"
        lines.append(f"{outcome.policy:<{width}}  {outcome.level:<9}  {checked:>7}  {result}")
    for outcome in outcomes:
        for violation in outcome.violations:
            lines.append(f"{violation.level.upper()} {violation.policy}: {violation.message}")
    failed = sum(1 for o in outcomes if o.violations and o.level == "mandatory")
    lines.append(f"{len(outcomes)} policies; {failed} mandatory failing"
                 + ("; the plan fails" if failed else ""))
    return lines
