"""Copies of a stack file with a few keys changed, in a folder of their own (plan them with --stacks-dir)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stackconfig import from_stack_file
from stackconfig.loader import stack_file
from tools.router_files import set_dotted


def stack_copy(stack: str, directory: Path, changes: dict[str, Any]) -> Path:
    """``directory``/Pulumi.<stack>.yaml: the stack's file with dotted keys (traffic.killSwitch) set; validated."""
    document = yaml.safe_load(stack_file(stack).read_text())
    for dotted, value in changes.items():
        set_dotted(document["config"], dotted, value)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    from_stack_file(stack, directory)  # raises ConfigError if the change makes it invalid
    return path
