"""python -m tools.diff --from STACK --to STACK [--out DIR] [--stacks-dir DIR]

Plans both (TO's config under FROM's stack name, see tools/diff) and prints what the promotion changes: traffic,
GPU capacity, resources added, removed and changed (with the changed input keys), and the monthly cost.
Exit status: 0; 2 on an unknown stack or invalid config (one line).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

from stackconfig import ConfigError

from . import compare
from .planned import Planned, plan_both

USAGE = "python -m tools.diff --from STACK --to STACK [--out DIR] [--stacks-dir DIR]"


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        print(f"diff: {message}; usage: {USAGE}", file=sys.stderr)
        raise SystemExit(2)


def table(title: str, names: tuple[str, str], rows: list[compare.Row]) -> list[str]:
    width = max([len(what) for what, _, _ in rows] + [24]) + 2
    column = max([len(before) for _, before, _ in rows] + [len(names[0]), 20]) + 2
    lines = [f"{title:<{width}}  {names[0]:<{column}}{names[1]}"]
    for what, before, after in rows:
        mark = "*" if before != after else " "
        lines.append(f"{mark} {what:<{width}}{before:<{column}}{after}")
    return lines


def money(value: Optional[float]) -> str:
    return compare.ABSENT if value is None else f"{value:,.2f}"


def cost_lines(names: tuple[str, str], source: Planned, target: Planned) -> list[str]:
    lines = [f"{'Monthly cost (USD, tools/cost)':<30}{names[0]:>14}{names[1]:>14}{'change':>14}"]
    for what, before, after in compare.cost(source.read("cost.json"), target.read("cost.json")):
        delta = "" if before is None or after is None else f"{after - before:+,.2f}"
        lines.append(f"  {what:<28}{money(before):>14}{money(after):>14}{delta:>14}")
    return lines


def resource_lines(source: Planned, target: Planned) -> list[str]:
    diff = compare.resources(source.read("resources.json"), target.read("resources.json"))
    lines = [f"Resources: {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed "
             f"({diff.counts[0]} → {diff.counts[1]})"]
    lines += [f"  + {kind:<58} {name}" for kind, name in diff.added]
    lines += [f"  - {kind:<58} {name}" for kind, name in diff.removed]
    relabelled = [c for c in diff.changed if c.labels_only and not c.replacing]
    replaced = [c for c in diff.changed if c.replacing]
    for change in diff.changed:
        if change.replacing:
            lines.append(f"  +-{change.type:<59} {change.name}: replaced for {', '.join(change.replacing)}"
                         + (f"; also {', '.join(p for p in change.paths if p not in change.replacing)}"
                            if len(change.replacing) < len(change.paths) else ""))
        elif not change.labels_only:
            lines.append(f"  ~ {change.type:<58} {change.name}: {', '.join(change.paths)}")
    if relabelled:
        keys = sorted({path.rsplit('.', 1)[-1] for c in relabelled for path in c.paths})
        lines.append(f"  ~ labels or tags only ({', '.join(keys)}): {compare.label_summary(relabelled)}")
    if replaced:
        lines.append(f"  {len(replaced)} replaced (+-), not updated in place: {compare.label_summary(replaced)}; what "
                     "depends on them is replaced or disrupted too (a new VPC means a new cluster): review before `pulumi up`")
    return lines


def policy_line(source: Planned, target: Planned) -> str:
    def counts(planned: Planned) -> str:
        levels = [v.get("level") for v in planned.read("policy.json")]
        return f"{levels.count('mandatory')} mandatory, {levels.count('advisory')} advisory"
    return f"Policy violations: {counts(source)} → {counts(target)}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = _ArgumentParser(prog="python -m tools.diff", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True, help="the stack whose config is deployed now")
    parser.add_argument("--to", dest="target", required=True, help="the stack whose config it would take")
    parser.add_argument("--out", type=Path, default=Path("build/diff"), help="where both plans are written; default build/diff")
    parser.add_argument("--stacks-dir", type=Path, help="folder holding Pulumi.<stack>.yaml; default the project")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        source, target = plan_both(args.source, args.target, args.out, args.stacks_dir)
    except ConfigError as err:
        print(f"diff: {err}", file=sys.stderr)
        return 2
    names = (args.source, args.target)
    print(f"{args.source} → {args.target}: {args.target}'s config planned as stack {args.source} "
          f"(what `pulumi up -s {args.source}` would change with it), {time.perf_counter() - started:.1f} s; plans in {args.out}\n")
    print("\n".join(table("Traffic", names, compare.side_by_side(compare.traffic(source.config), compare.traffic(target.config)))))
    print()
    print("\n".join(table("GPU capacity", names, compare.side_by_side(compare.capacity(source.manifests()),
                                                                          compare.capacity(target.manifests())))))
    print()
    print("\n".join(resource_lines(source, target)))
    print()
    print("\n".join(cost_lines(names, source, target)))
    print()
    print(policy_line(source, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
