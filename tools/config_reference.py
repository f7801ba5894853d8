"""Generates the config reference (every key, type, default, allowed values) from the StackConfig model.

    python -m tools.config_reference          # rewrite docs/config-reference.md
    python -m tools.config_reference --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from stackconfig.model import StackConfig

from .generated_doc import write_or_check

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "config-reference.md"
HEADER = """# Config reference

Generated from `stackconfig/model.py` by `python -m tools.config_reference`; a test fails when it is stale.

Every key lives under the `llm-platform:` namespace of `Pulumi.<stack>.yaml`, except the region (`aws:region`).
Nested keys are shown dotted; set them as YAML mappings. Unknown keys are rejected.

| key | type | default | allowed / meaning |
|---|---|---|---|
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (Union, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(names) + " (optional)"
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return "mapping of string to " + _type_name(typing.get_args(annotation)[1])
    if annotation is SecretStr:
        return "secret string (`pulumi config set --secret`)"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "see below" if type(value).model_fields else ""
    if value in (None, [], {}):
        return "none" if value is None else f"`{value}`"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump(by_alias=True, exclude_none=True) for v in value]
    return f"`{value}`"


def _constraints(field: FieldInfo) -> str:
    parts = []
    for meta in field.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "min items")):
            if getattr(meta, attr, None) is not None:
                parts.append(f"{sign} {getattr(meta, attr)}")
        if getattr(meta, "pattern", None):
            parts.append(f"matches `{meta.pattern}`")
    return "; ".join(parts)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in [annotation, *typing.get_args(annotation)]:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        if typing.get_origin(candidate) is list:
            inner = typing.get_args(candidate)[0]
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def rows(model: type[BaseModel], prefix: str) -> list[str]:
    lines = []
    for name, field in model.model_fields.items():
        if model is StackConfig and name in ("stack", "region"):
            continue
        key = f"{prefix}{field.alias or name}"
        meaning = "; ".join(p for p in (_constraints(field), field.description or "") if p)
        cells = [f"`{key}`", _type_name(field.annotation), _default(field), meaning]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        nested = _model_of(field.annotation)
        if nested is not None:
            suffix = "[]." if typing.get_origin(field.annotation) is list else "."
            lines.extend(rows(nested, key + suffix))
    return lines


def render() -> str:
    region = "| `aws:region` | string | **required** | an AWS region, e.g. `us-east-1` |"
    return HEADER + "\n".join([region, *rows(StackConfig, "llm-platform:")]) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(REFERENCE, render(), "python -m tools.config_reference", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
