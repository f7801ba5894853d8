"""Classic Prometheus histograms read as cumulative buckets: quantiles the way PromQL's histogram_quantile computes
them (prometheus/prometheus promql/quantile.go, bucketQuantile, v2.42 to v3.x), and the share of observations
below a value under the same assumption (linear within a bucket). Prometheus 2.42 has no function for the latter on
classic histograms (histogram_fraction works on native ones only), so the gate computes both from one bucket query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Histogram:
    buckets: tuple[tuple[float, float], ...]  # (upper bound "le", cumulative count), +Inf last

    @classmethod
    def from_series(cls, series: list[tuple[dict[str, str], float]]) -> "Histogram":
        """From a `sum by (le) (...)` query: one sample per bucket bound."""
        merged: dict[float, float] = {}
        for labels, value in series:
            bound = float(labels["le"])
            merged[bound] = merged.get(bound, 0.0) + value
        buckets: list[tuple[float, float]] = []
        highest = 0.0
        for bound in sorted(merged):
            highest = max(highest, merged[bound])  # increase() across scrapes can dent monotonicity; PromQL evens it too
            buckets.append((bound, highest))
        return cls(tuple(buckets))

    @property
    def count(self) -> float:
        if not self.buckets or not math.isinf(self.buckets[-1][0]):
            return 0.0
        return self.buckets[-1][1]

    def quantile(self, q: float) -> Optional[float]:
        """histogram_quantile(q): None where PromQL gives NaN (no observations, no +Inf bucket)."""
        if len(self.buckets) < 2 or self.count <= 0:
            return None
        rank = q * self.count
        index = next(i for i, (_, cumulative) in enumerate(self.buckets) if cumulative >= rank)
        if index == len(self.buckets) - 1:
            return self.buckets[-2][0]
        upper, cumulative = self.buckets[index]
        if index == 0 and upper <= 0:
            return upper
        lower, before = (self.buckets[index - 1] if index > 0 else (0.0, 0.0))
        in_bucket = cumulative - before
        return lower + (upper - lower) * ((rank - before) / in_bucket if in_bucket else 0.0)

    def fraction_below(self, value: float) -> Optional[float]:
        """Share of observations below ``value``, interpolating linearly inside its bucket."""
        if self.count <= 0:
            return None
        lower, before = 0.0, 0.0
        for upper, cumulative in self.buckets:
            if math.isinf(upper):
                break
            if value <= upper:
                width = upper - lower
                inside = (cumulative - before) * ((value - lower) / width if width > 0 else 1.0)
                return (before + max(0.0, inside)) / self.count
            lower, before = upper, cumulative
        return before / self.count
