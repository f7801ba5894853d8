"""What a phase should do with the rehearsal's traffic, and the checks that compare it with what happened."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from tools.promote_check.criteria import Routing

# A share check fails only when the count is this unlikely under the configured share (each side): for a correctly
# configured phase, less than once in 5,000 runs by chance; a wrong share (10 % where 25 % is configured) at once.
TAIL = 1e-4
# Fewer samples than this (expected) and the rehearsal does not ask the gate to judge a criterion.
FEWEST_TO_JUDGE = 12


@dataclass(frozen=True)
class Check:
    passed: Optional[bool]  # None: a figure to read, not a check
    text: str

    @property
    def line(self) -> str:
        return f"  {'info' if self.passed is None else 'PASS' if self.passed else 'FAIL'}  {self.text}"


def binomial_range(n: int, p: float, tail: float = TAIL) -> tuple[int, int]:
    """The counts out of ``n`` a share ``p`` gives, both tails of probability ``tail`` cut off (exact)."""
    if p <= 0:
        return 0, 0
    if p >= 1:
        return n, n
    probabilities = [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
    low, below = 0, 0.0
    while below + probabilities[low] <= tail:
        below += probabilities[low]
        low += 1
    high, above = n, 0.0
    while above + probabilities[high] <= tail:
        above += probabilities[high]
        high -= 1
    return low, high


def share_check(what: str, hits: int, n: int, percent: float, of: str) -> Check:
    """``hits`` of ``n`` against a configured share (percent)."""
    low, high = binomial_range(n, percent / 100)
    observed = f"{hits} of {n} {of}" + (f" ({100 * hits / n:.1f} %)" if n else "")
    expected = f"{low}" if low == high else f"{low} to {high}"
    return Check(low <= hits <= high, f"{what}: {observed}; configured {percent:g} %, so {expected} expected")


def equal_check(what: str, value: int, expected: int, detail: str = "") -> Check:
    return Check(value == expected, f"{what}: {value}" + ("" if value == expected else f", expected {expected}") + detail)


@dataclass(frozen=True)
class Expected:
    """Counts the rehearsal's split traffic should produce, by the phase's routing."""

    requests: int
    self_hosted: float
    openai: float
    shadow_pairs: float
    streamed_share: float = 0.5

    @classmethod
    def of(cls, routing: Routing, requests: int) -> "Expected":
        hosted = requests * routing.self_hosted_percent / 100
        openai = requests - hosted
        pairs = openai * routing.shadow_percent / 100 + hosted * routing.reverse_check_percent / 100
        return cls(requests, hosted, openai, pairs)

    @property
    def out_of_reach(self) -> int:
        """A sample minimum the rehearsal's traffic never reaches."""
        return self.requests + 1

    def gate_minimums(self, routing: Routing) -> dict[str, int]:
        """promotion.minSamples sized to the rehearsal: a quarter of what each criterion should get. Where the phase's
        shares promise fewer than FEWEST_TO_JUDGE, the minimum is out of reach: a handful of samples would decide by
        chance, so the gate answers "too few samples" there, as it would on a quiet day."""
        def quarter(expected: float) -> int:
            return int(expected // 4) if expected >= FEWEST_TO_JUDGE else self.out_of_reach

        evidence = routing.self_hosted_evidence
        replays = self.openai * routing.shadow_percent / 100
        vllm = {"router": self.self_hosted, "shadow": replays}.get(evidence or "")
        openai = self.openai if routing.self_hosted_percent < 100 else None
        return {
            "requests": quarter(min(n for n in (vllm, openai, self.requests) if n is not None)),
            "latency": quarter(vllm * self.streamed_share) if vllm is not None else self.out_of_reach,
            "shadowPairs": quarter(self.shadow_pairs),
        }
