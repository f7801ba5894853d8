"""Counters and histograms read straight from a /metrics page (Prometheus text format), before and after a
scenario, so each scenario's figures are exact counts of its own traffic."""

from __future__ import annotations

import re
import urllib.request
from dataclasses import dataclass
from typing import Callable

from tools.promote_check.histogram import Histogram

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Match = Callable[[dict[str, str]], bool]


@dataclass(frozen=True)
class Snapshot:
    samples: tuple[tuple[str, dict[str, str], float], ...]

    @classmethod
    def parse(cls, text: str) -> "Snapshot":
        samples = []
        for line in text.splitlines():
            found = _SAMPLE.match(line)
            if found and not line.startswith("#"):
                samples.append((found.group(1), dict(_LABEL.findall(found.group(2) or "")), float(found.group(3))))
        return cls(tuple(samples))

    def total(self, name: str, where: Match = lambda labels: True, **labels: str) -> float:
        return sum(value for sample, have, value in self.samples
                   if sample == name and all(have.get(k) == v for k, v in labels.items()) and where(have))

    def buckets(self, name: str, **labels: str) -> dict[str, float]:
        found: dict[str, float] = {}
        for sample, have, value in self.samples:
            if sample == f"{name}_bucket" and all(have.get(k) == v for k, v in labels.items()):
                found[have["le"]] = found.get(have["le"], 0.0) + value
        return found


def snapshot(url: str) -> Snapshot:
    with urllib.request.urlopen(url, timeout=10) as response:
        return Snapshot.parse(response.read().decode())


def grown(before: Snapshot, after: Snapshot, name: str, where: Match = lambda labels: True, **labels: str) -> int:
    return round(after.total(name, where, **labels) - before.total(name, where, **labels))


@dataclass(frozen=True)
class Growth:
    """How much each counter of one /metrics page grew between two snapshots."""

    before: Snapshot
    after: Snapshot

    def __call__(self, name: str, where: Match = lambda labels: True, **labels: str) -> int:
        return grown(self.before, self.after, name, where, **labels)


def histogram_grown(before: Snapshot, after: Snapshot, name: str, **labels: str) -> Histogram:
    old, new = before.buckets(name, **labels), after.buckets(name, **labels)
    return Histogram.from_series([({"le": le}, value - old.get(le, 0.0)) for le, value in new.items()])
