"""Turns raw stack config (a stack file, or what `pulumi up` passes in) into a StackConfig.

Two sources feed one parser:
- ``from_stack_file``: reads ``Pulumi.<stack>.yaml`` directly, for the offline plan.
  ``secure:`` values cannot be decrypted there and are never tried: each becomes a
  placeholder that the program treats as the secret it stands for.
- ``from_pulumi_runtime``: what the Pulumi engine hands the program on a real run.

Either way, bad input raises one ConfigError naming the key.
"""

from __future__ import annotations

import json
import re
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from .errors import ConfigError, CrossSectionError
from .model import SECRET_PLACEHOLDER, StackConfig

NAMESPACE = "llm-platform"
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# Config namespaces that belong to providers or the engine: allowed, not ours to check.
FOREIGN_NAMESPACES = ("aws", "kubernetes", "pulumi", "eks")


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def stack_file(stack: str, root: Path | None = None) -> Path:
    return (root or project_root()) / f"Pulumi.{stack}.yaml"


def known_stacks(root: Path | None = None) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (root or project_root()).glob("Pulumi.*.yaml"))


def from_stack_file(stack: str, root: Path | None = None) -> StackConfig:
    """Load and validate ``Pulumi.<stack>.yaml`` without the Pulumi CLI."""
    if not STACK_NAME.fullmatch(stack):
        raise ConfigError("stack", f"{stack!r} is not a valid stack name; allowed: lower-case letters, digits and '-'")
    path = stack_file(stack, root)
    if not path.is_file():
        allowed = ", ".join(known_stacks(root)) or "none found"
        raise ConfigError("stack", f"unknown stack {stack!r} (no {path.name}); allowed: {allowed}")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(path.name, f"is not valid YAML{where}; allowed: a mapping with a 'config:' key")
    if document is None:
        raise ConfigError(path.name, "is empty; allowed: a mapping with a 'config:' key")
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(f"{path.name}: config", "is missing or not a mapping; allowed: a mapping of namespaced keys")
    return parse(stack, document["config"])


def from_pulumi_runtime(stack: str) -> StackConfig:
    """Load and validate the config the Pulumi engine passed to this program."""
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse(stack, {key: _decode_engine_value(value) for key, value in raw.items()})


def _decode_engine_value(value: Any) -> Any:
    # The engine passes structured values as JSON text and scalars as plain text.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse(stack: str, raw: dict[str, Any]) -> StackConfig:
    """Validate namespaced config (``llm-platform:network`` ...) into a StackConfig."""
    ours: dict[str, Any] = {"stack": stack}
    for key, value in raw.items():
        namespace, sep, name = str(key).partition(":")
        if not sep:
            raise ConfigError(str(key), f"has no namespace; allowed: {NAMESPACE}:<key> or a provider's key such as aws:region")
        if namespace == "aws" and name == "region":
            ours["region"] = value
        elif namespace == NAMESPACE:
            if name in ("stack", "region"):
                raise ConfigError(str(key), f"is not set here; allowed: the stack name comes from the stack, the region from aws:region")
            ours[name] = value
        elif namespace not in FOREIGN_NAMESPACES:
            raise ConfigError(str(key), f"unknown namespace {namespace!r}; allowed: {NAMESPACE}, {', '.join(FOREIGN_NAMESPACES)}")
    if "region" not in ours:
        raise ConfigError("aws:region", "is missing; allowed: an AWS region such as us-east-1")
    ours = _secure_values_to_placeholders(ours)
    try:
        return StackConfig.model_validate(ours)
    except ValidationError as err:
        raise _first_error(err) from None


def _secure_values_to_placeholders(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {k: _secure_values_to_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secure_values_to_placeholders(v) for v in value]
    return value


# --- turning pydantic's errors into one line ---------------------------------


def _config_key(loc: tuple) -> str:
    if not loc:
        return f"{NAMESPACE}"
    head, rest = loc[0], loc[1:]
    key = "aws:region" if head == "region" else f"{NAMESPACE}:{head}"
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, list and dict)."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if origin in (list, dict, tuple):
        return _unwrap(typing.get_args(annotation)[-1])
    if isinstance(annotation, type):
        return [annotation]
    return []


def _model_at(loc: tuple) -> type | None:
    """The type found at ``loc`` (aliases or names), walking from StackConfig."""
    current: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field is None:
            return None
        candidates = _unwrap(field.annotation)
        current = next((c for c in candidates if issubclass(c, BaseModel)), candidates[0] if candidates else None)
    return current


def _allowed_keys(model: type | None) -> str:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return "none"
    return ", ".join(f.alias or name for name, f in model.model_fields.items() if name not in ("stack", "region"))


def _shown(value: Any, loc: tuple) -> str:
    if _model_at(loc) is SecretStr:
        return "(hidden: secret)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_error(err: ValidationError) -> ConfigError:
    error = err.errors(include_url=False)[0]
    loc, kind, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    got = error.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        return ConfigError(_config_key(loc), f"unknown key; allowed: {_allowed_keys(parent)}")
    if kind == "missing":
        return ConfigError(_config_key(loc), "is required but missing")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = {
            "greater_than_equal": f">= {ctx.get('ge')}", "greater_than": f"> {ctx.get('gt')}",
            "less_than_equal": f"<= {ctx.get('le')}", "less_than": f"< {ctx.get('lt')}",
        }[kind]
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is out of range; allowed: {bounds}")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is not a whole number; allowed: an integer")
    if kind in ("bool_type", "bool_parsing"):
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is not a boolean; allowed: true or false")
    if kind in ("float_type", "float_parsing"):
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is not a number")
    if kind in ("string_type",):
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is not a string")
    if kind in ("list_type",):
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is not a list; allowed: a YAML list")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is not a mapping; allowed keys: {_allowed_keys(_model_at(loc))}")
    if kind == "literal_error":
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} is not allowed; allowed: {ctx.get('expected')}")
    if kind == "string_pattern_mismatch":
        return ConfigError(_config_key(loc), f"{_shown(got, loc)} has the wrong form; allowed: matches {ctx.get('pattern')}")
    if kind in ("too_short", "string_too_short"):
        return ConfigError(_config_key(loc), "is empty; allowed: at least one entry")
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, CrossSectionError):
            return ConfigError(cause.key, str(cause))
        return ConfigError(_config_key(loc), str(cause or error["msg"]))
    return ConfigError(_config_key(loc), f"{error['msg']}")
