"""Render a stack's router ConfigMap files (config.yaml, llm_platform.json, the hooks) without a full plan:

    python -m tools.router_files --stack prod --set traffic.killSwitch=true --out build/router/prod-kill-switch

``--set KEY=VALUE`` changes one key of ``Pulumi.<stack>.yaml`` under ``llm-platform:`` (VALUE is read as YAML) before
the config is validated, so the files are what that stack would deploy with that change. The real-LiteLLM tests use
it for variants the stack files do not ship (the kill switch on, the fallback off). Exit 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from stackconfig import ConfigError, from_stack_file, parse
from stackconfig.loader import NAMESPACE, project_root, stack_file
from workloads.router.deployment import router_files
from workloads.router.routing import hooks_settings, litellm_config


def set_dotted(raw: dict, dotted: str, value: object) -> None:
    key, *path = dotted.split(".")
    node = raw.setdefault(f"{NAMESPACE}:{key}", {}) if path else raw
    if not path:
        node[f"{NAMESPACE}:{key}"] = value
        return
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{NAMESPACE}:{dotted}", f"{part} is not a mapping; allowed: --set on a nested mapping key")
    node[path[-1]] = value


def render(stack: str, changes: list[str], root: Path | None = None) -> dict[str, str]:
    from_stack_file(stack, root)  # the stack exists and its file is valid as shipped
    raw = yaml.safe_load(stack_file(stack, root).read_text())["config"]
    for change in changes:
        dotted, sep, text = change.partition("=")
        if not sep or not dotted:
            raise ConfigError("--set", f"{change!r} has no '='; allowed: KEY=VALUE, e.g. traffic.killSwitch=true")
        set_dotted(raw, dotted, yaml.safe_load(text))
    cfg = parse(stack, raw)
    replicas = cfg.traffic.router.replicas
    return router_files(litellm_config(cfg.traffic, cfg.serving, use_redis=replicas > 1), hooks_settings(cfg.traffic, cfg.serving))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.router_files", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--set", dest="changes", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        files = render(args.stack, args.changes, project_root())
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
