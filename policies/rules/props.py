"""Reading resource properties the way the policy SDK hands them over.

The SDK wraps props in read-only proxies (``Mapping``/``Sequence``, not ``dict``/``list``) that raise
``UnknownValueError`` when a value is not known yet during a preview. Resource policies let that error
reach the SDK, which reports "can't run policy during preview" instead of guessing; generic scans
(Helm values) skip unknown leaves, since an unknown value cannot be judged either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

__all__ = ["UNKNOWN", "UnknownValueError", "get", "is_list", "is_map", "items", "known_items", "peek", "scan", "tags_of_provider", "truthy"]

# What ``peek`` answers for a value the engine does not know yet (it will be known at `up`).
UNKNOWN = type("Unknown", (), {"__repr__": lambda self: "<unknown during preview>"})()


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """``value[path[0]][path[1]]...``, or ``default`` where a key or index is missing."""
    for part in path:
        if isinstance(part, int):
            if not is_list(value) or not -len(value) <= part < len(value):
                return default
        elif not is_map(value) or part not in value:
            return default
        value = value[part]
        if value is None:
            return default
    return value


def peek(value: Any, *path: str | int) -> Any:
    """Like ``get``, but a value unknown during a preview is ``UNKNOWN`` instead of an error.

    For checks that only need to know a value will be set (a KMS key ARN of a key created in the same
    update is unknown at preview, yet certainly set).
    """
    for part in path:
        if isinstance(part, int):
            if not is_list(value) or not -len(value) <= part < len(value):
                return None
        elif not is_map(value) or part not in list(value):
            return None
        try:
            value = value[part]
        except UnknownValueError:
            return UNKNOWN
        if value is None:
            return None
    return value


def items(value: Any) -> list[Any]:
    """The entries of a list (an absent or non-list value has none)."""
    return list(value) if is_list(value) else []


def known_items(value: Any) -> list[Any]:
    """The entries of a list that are known at preview: for comparing against literals such as 0.0.0.0/0,
    where an entry computed from another resource (a VPC's CIDR) is not the literal either way."""
    if not is_list(value):
        return []
    found = []
    for index in range(len(value)):
        try:
            found.append(value[index])
        except UnknownValueError:
            continue
    return found


def truthy(value: Any) -> bool:
    """Booleans as the engine may send them: provider inputs arrive as the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def scan(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) below ``value``, depth first; values unknown during a preview are skipped."""
    yield path, value
    if is_map(value):
        keys: Sequence[Any] = list(value)
    elif is_list(value):
        keys = range(len(value))
    else:
        return
    for key in keys:
        try:
            child = value[key]
        except UnknownValueError:
            continue
        yield from scan(child, (*path, key))


def tags_of_provider(provider_props: Any) -> dict[str, str]:
    """The default tags an aws provider adds to every resource it manages.

    Provider inputs reach the engine as strings: ``defaultTags`` is JSON text (``{"tags": {...}}``).
    """
    raw = get(provider_props, "defaultTags")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    tags = get(raw, "tags")
    return {str(k): str(v) for k, v in tags.items()} if is_map(tags) else {}
