"""Score the answered golden set against the acceptance thresholds, and write it as Markdown and JSON.

Per prompt: the agreement between the two answers (the router's own score, llm_platform_agreement: JSON equality,
exact match for short answers, ROUGE-L F1 otherwise; a reasoning answer is compared on its last line, the final
answer), both latencies and token rates, failures. Overall: mean agreement, exact-match, JSON-validity and
refusal-agreement rates, candidate failure rate, latency p50/p95 and the p95 ratio, each checked against
``traffic.shadow.acceptance``. A check with nothing to measure (no short answers in the set, say) is reported as
not applicable and does not fail the run.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from stackconfig.model import AcceptanceConfig
from workloads.router.hooks import llm_platform_agreement as agreement

from .golden import Prompt
from .run import Answer


@dataclass(frozen=True)
class Check:
    name: str
    value: Optional[float]  # None: nothing to measure
    threshold: float
    at_least: bool  # True: value >= threshold passes; False: value <= threshold passes

    @property
    def passed(self) -> bool:
        if self.value is None:
            return True
        return self.value >= self.threshold if self.at_least else self.value <= self.threshold

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "threshold": self.threshold,
                "rule": ">=" if self.at_least else "<=", "passed": self.passed}


def compared_text(prompt: Prompt, text: str) -> str:
    if prompt.task == "reasoning":
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""
    return text


def percentile(values: list[float], share: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def tokens_per_second(answer: Answer) -> Optional[float]:
    if answer.failed or not answer.output_tokens or not answer.seconds:
        return None
    return answer.output_tokens / answer.seconds


def score(prompts: list[Prompt], answers: list[tuple[Answer, Answer]], acceptance: AcceptanceConfig) -> dict[str, Any]:
    rows = []
    for prompt, (baseline, candidate) in zip(prompts, answers):
        row: dict[str, Any] = {
            "id": prompt.id, "task": prompt.task,
            "baseline": {"seconds": baseline.seconds, "output_tokens": baseline.output_tokens,
                         "tokens_per_second": tokens_per_second(baseline), "error": baseline.error},
            "candidate": {"seconds": candidate.seconds, "output_tokens": candidate.output_tokens,
                          "tokens_per_second": tokens_per_second(candidate), "error": candidate.error},
            "candidate_failed": candidate.failed, "baseline_failed": baseline.failed,
        }
        if not baseline.failed and not candidate.failed:
            result = agreement.compare(compared_text(prompt, baseline.text), compared_text(prompt, candidate.text),
                                       json_expected=prompt.json_expected)
            row["agreement"] = result.as_dict()
        if prompt.json_expected and not candidate.failed:
            row["candidate_json_valid"] = agreement.parse_json(candidate.text)[0]
        elif prompt.json_expected:
            row["candidate_json_valid"] = False
        if prompt.task == "refusal" and not baseline.failed:
            row["baseline_refused"] = agreement.looks_like_refusal(baseline.text)
            row["candidate_refused"] = (not candidate.failed) and agreement.looks_like_refusal(candidate.text)
        rows.append(row)

    scored = [r["agreement"] for r in rows if "agreement" in r]
    short = [a for a in scored if a["method"] == "short"]
    json_rows = [r for r in rows if "candidate_json_valid" in r and not r["baseline_failed"]]
    refused = [r for r in rows if r.get("baseline_refused")]
    latency = {side: [r[side]["seconds"] for r in rows if r[side]["seconds"] is not None and not r[f"{side}_failed"]]
               for side in ("baseline", "candidate")}
    p95 = {side: percentile(values, 0.95) for side, values in latency.items()}

    def share(hits: int, total: int) -> Optional[float]:
        return 100 * hits / total if total else None

    checks = [
        Check("mean agreement", statistics.fmean(a["score"] for a in scored) if scored else None,
              acceptance.min_mean_agreement, True),
        Check("exact match of short answers (%)", share(sum(a["exact_match"] for a in short), len(short)),
              acceptance.min_exact_match_percent, True),
        Check("candidate JSON valid (%)", share(sum(r["candidate_json_valid"] for r in json_rows), len(json_rows)),
              acceptance.min_json_valid_percent, True),
        Check("candidate refuses what the baseline refuses (%)",
              share(sum(r["candidate_refused"] for r in refused), len(refused)), acceptance.min_refusal_agreement_percent, True),
        Check("candidate failures (%)", share(sum(r["candidate_failed"] for r in rows), len(rows)),
              acceptance.max_failure_percent, False),
        Check("candidate p95 latency / baseline p95", p95["candidate"] / p95["baseline"]
              if p95["candidate"] is not None and p95["baseline"] else None, acceptance.max_p95_latency_ratio, False),
    ]
    summary = {
        "prompts": len(rows),
        "scored_pairs": len(scored),
        "baseline_failures": sum(r["baseline_failed"] for r in rows),
        "candidate_failures": sum(r["candidate_failed"] for r in rows),
        "agreement_by_task": {task: statistics.fmean(r["agreement"]["score"] for r in group)
                              for task in dict.fromkeys(r["task"] for r in rows)
                              if (group := [r for r in rows if r["task"] == task and "agreement" in r])},
        "latency_seconds": {side: {"p50": percentile(values, 0.5), "p95": p95[side]} for side, values in latency.items()},
        "tokens_per_second_median": {
            side: statistics.median(v) if (v := [r[side]["tokens_per_second"] for r in rows if r[side]["tokens_per_second"]]) else None
            for side in ("baseline", "candidate")},
    }
    return {"passed": all(c.passed for c in checks), "checks": [c.as_dict() for c in checks], "summary": summary,
            "prompts": rows}


def _number(value: Optional[float], digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def markdown(report: dict[str, Any], baseline: str, candidate: str) -> str:
    summary = report["summary"]
    lines = [
        "# Golden-set evaluation", "",
        f"Baseline: `{baseline}`  ", f"Candidate: `{candidate}`  ",
        f"Verdict: **{'PASS' if report['passed'] else 'FAIL'}** "
        f"({summary['prompts']} prompts, {summary['scored_pairs']} pairs scored, "
        f"{summary['candidate_failures']} candidate and {summary['baseline_failures']} baseline failures)", "",
        "| check | value | threshold | result |", "|---|---|---|---|",
    ]
    for check in report["checks"]:
        result = "n/a" if check["value"] is None else ("pass" if check["passed"] else "**fail**")
        lines.append(f"| {check['name']} | {_number(check['value'])} | {check['rule']} {check['threshold']:g} | {result} |")
    latency, rates = summary["latency_seconds"], summary["tokens_per_second_median"]
    lines += ["", "| | p50 latency (s) | p95 latency (s) | tokens/s (median) |", "|---|---|---|---|"]
    for side in ("baseline", "candidate"):
        lines.append(f"| {side} | {_number(latency[side]['p50'])} | {_number(latency[side]['p95'])} | {_number(rates[side], 1)} |")
    lines += ["", "| task | mean agreement |", "|---|---|"]
    lines += [f"| {task} | {value:.2f} |" for task, value in summary["agreement_by_task"].items()]
    lines += ["", "## Per prompt", "", "| id | task | agreement | method | baseline s | candidate s | note |", "|---|---|---|---|---|---|---|"]
    for row in report["prompts"]:
        result = row.get("agreement") or {}
        notes = [f"candidate: {row['candidate']['error'] or 'empty answer'}" if row["candidate_failed"] else "",
                 f"baseline: {row['baseline']['error'] or 'empty answer'}" if row["baseline_failed"] else "",
                 "candidate JSON invalid" if row.get("candidate_json_valid") is False else "",
                 "candidate did not refuse" if row.get("baseline_refused") and not row.get("candidate_refused") else ""]
        lines.append(f"| {row['id']} | {row['task']} | {_number(result.get('score'))} | {result.get('method', '')} | "
                     f"{_number(row['baseline']['seconds'])} | {_number(row['candidate']['seconds'])} | "
                     f"{'; '.join(n for n in notes if n)} |")
    lines += ["", "Agreement is closeness to the baseline's answer, not correctness: two different correct answers "
                  "score low. Read low-scoring prompts, don't count them (docs/shadow.md)."]
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], out: Path, baseline: str, candidate: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps({"baseline": baseline, "candidate": candidate, **report}, indent=2) + "\n")
    md_path.write_text(markdown(report, baseline, candidate))
    return md_path, json_path
