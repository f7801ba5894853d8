"""Shipped example values that must not reach a real deployment.

The stack files carry documentation IP ranges, example account ids, example.com names and made-up
reservation ids, so that `make plan` runs on any laptop. The offline plan accepts them; the Pulumi
program refuses to `pulumi up` while any is left, naming every key to set (a preview only warns).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit
from pathlib import Path
from typing import Any, Iterator

import yaml
from pydantic import SecretStr

from .model import StackConfig

_DATA = yaml.safe_load(Path(__file__).with_name("placeholders.yaml").read_text())
_DOC_NETWORKS = [ipaddress.ip_network(cidr) for cidr in _DATA["documentationCidrs"]]
_ACCOUNT = re.compile(r"(?<![0-9])(" + "|".join(_DATA["exampleAccountIds"]) + r")(?![0-9])")
_DOMAIN = re.compile(r"(^|[.@])(" + "|".join(re.escape(d) for d in _DATA["exampleDomains"]) + r")$")
_EXACT = set(_DATA["exampleHostedZoneIds"]) | set(_DATA["exampleCapacityReservationIds"])


def _why(value: str) -> str | None:
    if value in _EXACT:
        return "an example id"
    if _ACCOUNT.search(value):
        return "an example account id"
    host = urlsplit(value).hostname if value.startswith("https://") else None
    if _DOMAIN.search((host or value).lower()):
        return "an example domain"
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    if any(network.version == doc.version and network.subnet_of(doc) for doc in _DOC_NETWORKS):
        return "a documentation address range"
    return None


def _strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, f"{key}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{key}[{index}]")
    elif isinstance(value, str):
        yield key, value


def find_placeholders(config: StackConfig) -> list[str]:
    """``key (value: why)`` for every config value that still holds a shipped example; secrets are not read."""
    found = []
    for field_name, field in StackConfig.model_fields.items():
        if field.annotation in (SecretStr, SecretStr | None) or field_name in ("stack", "region"):
            continue
        value = getattr(config, field_name)
        dumped = value.model_dump(by_alias=True, mode="json") if hasattr(value, "model_dump") else value
        for key, text in _strings(dumped, f"llm-platform:{field.alias or field_name}"):
            why = _why(text)
            if why:
                found.append(f"{key} ({text}: {why})")
    return found


def deploy_gate(config: StackConfig) -> str | None:
    """The one line a real deployment stops with while shipped examples are left, else None."""
    found = find_placeholders(config)
    if not found:
        return None
    return f"config error: replace the shipped example values before deploying for real: {'; '.join(found)}"
