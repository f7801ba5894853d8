"""Writing a generated doc, or checking that the committed one is current (`--check`, used by tests and CI)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, command: str, argv: list[str]) -> int:
    if "--check" in argv:
        if not path.is_file() or path.read_text() != text:
            print(f"{path} is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0
