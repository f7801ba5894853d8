"""The comparisons a diff prints: traffic, GPU capacity, resources and cost, each as rows (what, from, to)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from stackconfig import StackConfig
from tools.promote_check.criteria import Routing

Row = tuple[str, str, str]
ABSENT = "-"
CAPACITY_TYPE = "karpenter.sh/capacity-type"
GPU = "nvidia.com/gpu"


def traffic(config: StackConfig) -> dict[str, str]:
    t = config.traffic
    routing = Routing.of(config)
    fallback = t.fallback
    return {
        "phase": config.phase,
        "self-hosted share": f"{t.effective_self_hosted_percent} %" + (" (kill switch)" if t.kill_switch else ""),
        "shadow share": f"{t.effective_shadow_percent:g} % of OpenAI's answers replayed to vLLM",
        "reverse check": (f"{t.effective_reverse_check_percent:g} % of vLLM's answers also asked of OpenAI "
                          f"(up to {t.shadow.reverse_check.monthly_budget_usd:g} USD a month)"
                          if t.effective_reverse_check_percent else "off"),
        "critical tags (OpenAI only)": ", ".join(t.critical.tags),
        "fallback to OpenAI": (
            f"on: {fallback.num_retries} {'retry' if fallback.num_retries == 1 else 'retries'}, then OpenAI "
            f"(vLLM {fallback.self_hosted_timeout_seconds} s, "
            f"OpenAI {fallback.openai_timeout_seconds} s a try)" if routing.has_fallback_group else "off"
        ),
        "kill switch": "on" if t.kill_switch else "off",
        "client model names": ", ".join(m.name for m in t.openai_models),
        "per-key limit": f"{t.per_key_rpm} rpm (keys may ask up to {t.max_key_rpm})",
    }


def _requirement(pool: dict[str, Any], key: str) -> Optional[list[str]]:
    for requirement in pool["spec"]["template"]["spec"].get("requirements", []):
        if requirement["key"] == key and requirement["operator"] == "In":
            return [str(v) for v in requirement["values"]]
    return None


def capacity(manifests: dict[str, dict[str, Any]]) -> dict[str, str]:
    """GPU node pools (Karpenter NodePools) and the vLLM replica range, from the plan's manifests."""
    rows: dict[str, str] = {}
    pools = sorted((body for body in manifests.values() if body.get("kind") == "NodePool"), key=lambda b: b["metadata"]["name"])
    for body in pools:
        pool = body["metadata"]["name"]
        instances = (_requirement(body, "node.kubernetes.io/instance-type")
                     or _requirement(body, "karpenter.k8s.aws/instance-family") or [])
        sizes = _requirement(body, "karpenter.k8s.aws/instance-size")
        rows[f"{pool}: GPU cap"] = str(body["spec"].get("limits", {}).get(GPU, "none"))
        rows[f"{pool}: capacity types"] = ", ".join(_requirement(body, CAPACITY_TYPE) or ["any"])
        rows[f"{pool}: instances"] = ", ".join(instances) + (f" ({', '.join(sizes)})" if sizes else "")
        rows[f"{pool}: weight"] = str(body["spec"].get("weight", ABSENT))
    for body in manifests.values():
        terms = body["spec"].get("capacityReservationSelectorTerms") if body.get("kind") == "EC2NodeClass" else None
        if terms:
            rows["capacity reservations"] = ", ".join(t.get("id") or f"tags {t.get('tags')}" for t in terms)
        if body.get("kind") == "ScaledObject" and body["spec"].get("scaleTargetRef", {}).get("name") == "vllm":
            rows["vLLM replicas"] = f"{body['spec']['minReplicaCount']} to {body['spec']['maxReplicaCount']}"
    return rows


def side_by_side(before: dict[str, str], after: dict[str, str]) -> list[Row]:
    """Rows in FROM's order; a key only TO has follows the key TO lists before it."""
    keys = list(before)
    previous: Optional[str] = None
    for key in after:
        if key not in keys:
            keys.insert(keys.index(previous) + 1 if previous is not None else 0, key)
        previous = key
    return [(key, before.get(key, ABSENT), after.get(key, ABSENT)) for key in keys]


# --- resources ---------------------------------------------------------------------------------------------------


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the inputs that differ; mappings are followed, anything else (lists, text) compared whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in list(before) + [k for k in after if k not in before]:
            paths += changed_paths(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else str(key))
        return paths
    return [] if before == after else [prefix]


def is_label_or_tag(path: str) -> bool:
    parts = path.split(".")
    return any(part in ("labels", "tags", "defaultTags", "tagSpecifications") or part.startswith("tagSpecification_")
               for part in parts)


REPLACEMENTS = yaml.safe_load((Path(__file__).with_name("replacements.yaml")).read_text())


def replacing_keys(resource_type: str) -> list[str]:
    keys = list(REPLACEMENTS["byType"].get(resource_type, []))
    if resource_type.startswith("kubernetes:") and resource_type != "kubernetes:helm.sh/v3:Release":
        keys += REPLACEMENTS["kubernetesObjects"]
    return keys


@dataclass(frozen=True)
class Change:
    type: str
    name: str
    paths: tuple[str, ...]

    @property
    def labels_only(self) -> bool:
        return all(is_label_or_tag(path) for path in self.paths)

    @property
    def replacing(self) -> tuple[str, ...]:
        """The changed inputs that make `pulumi up` replace the resource rather than update it."""
        keys = replacing_keys(self.type)
        return tuple(path for path in self.paths if any(path == key or path.startswith(key + ".") for key in keys))


@dataclass(frozen=True)
class ResourceDiff:
    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    changed: list[Change]
    counts: tuple[int, int]


def resources(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> ResourceDiff:
    old = {(r["type"], r["name"]): r for r in before}
    new = {(r["type"], r["name"]): r for r in after}
    changed = []
    for key in sorted(old.keys() & new.keys()):
        paths = changed_paths(old[key]["inputs"], new[key]["inputs"])
        if paths:
            changed.append(Change(key[0], key[1], tuple(paths)))
    return ResourceDiff(sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys()), changed, (len(old), len(new)))


def short_type(resource_type: str) -> str:
    package, _, kind = resource_type.rpartition(":")
    return f"{kind} provider" if package == "pulumi:providers" else kind


def label_summary(changes: Iterable[Change]) -> str:
    kinds = Counter(short_type(c.type) for c in changes)
    return ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))


# --- cost --------------------------------------------------------------------------------------------------------


def cost(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Optional[float], Optional[float]]]:
    """Monthly USD figures of the two cost.json files: totals, the categories that differ, budget and caps."""
    rows: list[tuple[str, Optional[float], Optional[float]]] = [
        ("phase total (AWS + OpenAI)", before["totals"]["phaseMonthlyUsd"], after["totals"]["phaseMonthlyUsd"]),
        ("AWS", before["totals"]["awsMonthlyUsd"], after["totals"]["awsMonthlyUsd"]),
        ("OpenAI", before["totals"]["openaiMonthlyUsd"], after["totals"]["openaiMonthlyUsd"]),
    ]
    old, new = before["totals"]["byCategory"], after["totals"]["byCategory"]
    for category in list(old) + [c for c in new if c not in old]:
        if old.get(category) != new.get(category):
            rows.append((f"  {category}", old.get(category), new.get(category)))
    rows += [
        ("budget limit", before["budget"]["monthlyLimitUsd"], after["budget"]["monthlyLimitUsd"]),
        ("worst case at the GPU caps", before["budget"]["worstCaseAtGpuCapsUsd"], after["budget"]["worstCaseAtGpuCapsUsd"]),
    ]
    return rows
