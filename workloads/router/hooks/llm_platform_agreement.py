"""How far two answers to the same request agree: a cheap, deterministic text similarity, no model involved.

Used by the router's shadow evaluation (shipped in its ConfigMap, standard library only) and by `make eval`.

``compare(baseline, candidate, json_expected)`` gives a score from 0 to 1 and the method that produced it:

- ``json``: JSON was asked for and the baseline's answer parses: 1 when both parse to equal values, else the
  ROUGE-L F1 of their canonical forms (keys sorted); 0 when the candidate's does not parse.
- ``short``: the baseline's answer has at most SHORT_ANSWER_TOKENS tokens (a name, a number, yes/no): 1 on an
  exact match after normalisation (case, punctuation, spacing), else the ROUGE-L F1.
- ``rouge_l``: everything else: ROUGE-L F1 over word tokens, i.e. how much of both answers one longest common
  subsequence of words covers.

What the score cannot tell: two different correct answers (another wording, another valid example, another
order of steps) score low, and a fluent wrong answer that reuses the baseline's words scores high. It measures
closeness to the baseline, not correctness; read a low score as "look at these", never as "wrong".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional

SHORT_ANSWER_TOKENS = 8
# Longer answers are compared on their first tokens: enough to judge, and bounded work per pair.
MAX_TOKENS = 4096
_WORD = re.compile(r"\w+", re.UNICODE)
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL | re.IGNORECASE)
_REFUSAL = re.compile(
    r"\b(i can(?:not|'t|’t)|i(?: am|'m|’m) (?:not able|unable)|i won(?:'t|’t)|i will not|i must decline|"
    r"i(?: am|'m|’m) sorry, but|can(?:not|'t|’t) (?:help|assist|provide|comply))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Agreement:
    score: float
    method: str  # json, short or rouge_l
    exact_match: Optional[bool] = None  # short answers only
    baseline_json_valid: Optional[bool] = None  # when JSON was asked for
    candidate_json_valid: Optional[bool] = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())[:MAX_TOKENS]


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison-Dix / Crochemore et al.): O(len(a)) big-int
    steps of len(b) bits, so a 4096 x 4096 pair takes milliseconds instead of a 16-million-cell table."""
    if not a or not b:
        return 0
    positions: dict[str, int] = {}
    for index, token in enumerate(b):
        positions[token] = positions.get(token, 0) | (1 << index)
    full = (1 << len(b)) - 1
    row = full
    for token in a:
        matches = row & positions.get(token, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(b) - bin(row).count("1")


def rouge_l_f1(baseline: list[str], candidate: list[str]) -> float:
    if not baseline and not candidate:
        return 1.0
    common = lcs_length(baseline, candidate)
    if common == 0:
        return 0.0
    precision, recall = common / len(candidate), common / len(baseline)
    return 2 * precision * recall / (precision + recall)


def parse_json(text: str) -> tuple[bool, Any]:
    """(valid, value): the answer as JSON, allowing the Markdown code fence models like to add."""
    fenced = _FENCE.match(text)
    try:
        return True, json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return False, None


def looks_like_refusal(text: str) -> bool:
    """A declined request, by its usual English phrasings: a heuristic for the golden set's refusal prompts."""
    return bool(_REFUSAL.search(text[:400]))


def compare(baseline: str, candidate: str, json_expected: bool = False) -> Agreement:
    baseline, candidate = baseline or "", candidate or ""
    if json_expected:
        baseline_ok, baseline_value = parse_json(baseline)
        candidate_ok, candidate_value = parse_json(candidate)
        if baseline_ok:
            if not candidate_ok:
                score = 0.0
            elif baseline_value == candidate_value:
                score = 1.0
            else:
                score = rouge_l_f1(tokens(_canonical(baseline_value)), tokens(_canonical(candidate_value)))
            return Agreement(score, "json", baseline_json_valid=True, candidate_json_valid=candidate_ok)
        text = compare(baseline, candidate)
        return Agreement(text.score, text.method, text.exact_match, False, candidate_ok)
    baseline_tokens, candidate_tokens = tokens(baseline), tokens(candidate)
    if len(baseline_tokens) <= SHORT_ANSWER_TOKENS:
        exact = baseline_tokens == candidate_tokens
        return Agreement(1.0 if exact else rouge_l_f1(baseline_tokens, candidate_tokens), "short", exact_match=exact)
    return Agreement(rouge_l_f1(baseline_tokens, candidate_tokens), "rouge_l")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
