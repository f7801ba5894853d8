"""The two plans a diff reads: FROM as it is, and TO's config planned under FROM's stack name."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stackconfig import StackConfig, from_stack_file
from stackconfig.loader import stack_file
from tools import plan


@dataclass(frozen=True)
class Planned:
    config: StackConfig
    directory: Path  # build/diff/.../<stack>/: resources.json, manifests/, cost.json, policy.json

    def read(self, name: str) -> Any:
        return json.loads((self.directory / name).read_text())

    def manifests(self) -> dict[str, dict[str, Any]]:
        return {path.name: yaml.safe_load(path.read_text()) for path in sorted((self.directory / "manifests").glob("*.yaml"))}


def plan_quietly(stack: str, out_root: Path, stacks_dir: Path | None) -> Path:
    """tools.plan's files for the stack under ``out_root``; a mandatory policy failure (status 1) still plans."""
    status = plan.run(stack, out_root, quiet=True, stacks_dir=stacks_dir)
    if status not in (0, 1):
        raise RuntimeError(f"planning {stack} failed with status {status}")
    return out_root


def plan_both(source: str, target: str, out_root: Path, stacks_dir: Path | None = None) -> tuple[Planned, Planned]:
    """Validate both stacks (ConfigError on bad input), then plan them into ``out_root``."""
    source_config = from_stack_file(source, stacks_dir)
    from_stack_file(target, stacks_dir)
    plan_quietly(source, out_root / source, stacks_dir)
    with tempfile.TemporaryDirectory(prefix="llm-platform-diff-") as scratch:
        # TO's file under FROM's name: the same stack with the other config.
        shutil.copyfile(stack_file(target, stacks_dir), Path(scratch) / f"Pulumi.{source}.yaml")
        target_config = from_stack_file(source, Path(scratch))
        plan_quietly(source, out_root / f"{target}-as-{source}", Path(scratch))
    return (Planned(source_config, out_root / source / source),
            Planned(target_config, out_root / f"{target}-as-{source}" / source))
