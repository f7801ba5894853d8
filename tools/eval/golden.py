"""The golden set: prompts in JSONL, one object a line.

    {"id": "short-01", "task": "short", "messages": [...], "max_tokens": 16, "temperature": 0,
     "response_format": {"type": "json_object"}}          # response_format only where JSON is asked for

Tasks: short (a word or a number), reasoning (worked answer, final number on the last line), json, summary,
refusal (the baseline is expected to decline), classification, rewrite. The shipped set (golden_set.jsonl beside
this file) is the migration plan's "compare against OpenAI on 50-100 test cases"; add the failures you find.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).with_name("golden_set.jsonl")
TASKS = ("short", "reasoning", "json", "summary", "refusal", "classification", "rewrite")
# Request fields a prompt may set besides its messages; anything else is a typo.
PARAMS = ("max_tokens", "temperature", "top_p", "response_format", "stop", "seed")


class SetError(ValueError):
    """A golden set that cannot be used: names the file, the line and what is wrong."""


@dataclass(frozen=True)
class Prompt:
    id: str
    task: str
    messages: list[dict[str, Any]]
    params: dict[str, Any]

    @property
    def json_expected(self) -> bool:
        return (self.params.get("response_format") or {}).get("type") in ("json_object", "json_schema")


def load(path: Path = SHIPPED) -> list[Prompt]:
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise SetError(f"{path}: cannot be read ({err.strerror}); allowed: a JSONL file of prompts")
    prompts: list[Prompt] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except ValueError:
            raise SetError(f"{where}: not valid JSON; allowed: one JSON object per line")
        if not isinstance(item, dict):
            raise SetError(f"{where}: not a JSON object")
        unknown = set(item) - {"id", "task", "messages", *PARAMS}
        if unknown:
            raise SetError(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: id, task, messages, {', '.join(PARAMS)}")
        if not isinstance(item.get("id"), str) or not item["id"]:
            raise SetError(f"{where}: id is missing; allowed: a non-empty string")
        if item.get("task") not in TASKS:
            raise SetError(f"{where}: task {item.get('task')!r} is not known; allowed: {', '.join(TASKS)}")
        messages = item.get("messages")
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, dict) and m.get("role") in ("system", "user", "assistant") and isinstance(m.get("content"), str)
                for m in messages):
            raise SetError(f"{where}: messages must be a non-empty list of {{role, content}} objects")
        if any(p.id == item["id"] for p in prompts):
            raise SetError(f"{where}: id {item['id']!r} is used twice; allowed: unique ids")
        prompts.append(Prompt(item["id"], item["task"], messages, {k: item[k] for k in PARAMS if k in item}))
    if not prompts:
        raise SetError(f"{path}: holds no prompts")
    return prompts
