"""Offline plan: `python -m tools.plan --stack dev` (or `--stack all`: every stack in one process).

Runs the real program for ``Pulumi.<stack>.yaml`` in-process under mocks, with
no network, no AWS credentials and no Pulumi CLI. Prints a resource tree like
`pulumi preview` and writes ``build/plan/<stack>/``.

Exit status: 0 planned; 2 invalid config or stack name; 1 a mandatory policy failed.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable

from stackconfig import ConfigError, StackConfig, from_stack_file, known_stacks

from . import artifacts, policy
from .cost import report as cost_report
from .cost.model import check as check_cost
from .order import wave_lines
from .recorder import Recording, record

@dataclass(frozen=True)
class Report:
    """A report written beside resources.json as ``<name>.json``, and summarised in the printed plan.

    ``build`` takes the validated config and the recording and returns the file's content (JSON-able);
    ``summary`` turns that content into the lines the plan prints under the report's heading.
    """

    title: str
    build: Callable[[StackConfig, Recording], Any]
    summary: Callable[[Any], list[str]] = lambda content: []


# The policy pack adds "policy" (a list of violations; a mandatory one makes the plan exit 1) and the
# cost model adds "cost".
REPORTS: dict[str, Report] = {
    "policy": Report("Policies (policies/; mandatory failures fail the plan)", policy.build, policy.summary),
    "cost": Report(cost_report.TITLE, cost_report.build, cost_report.summary),
}


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every bad input
        print(f"plan: {message}; usage: python -m tools.plan [--stack NAME] [--out DIR] [--stacks-dir DIR] [--quiet]", file=sys.stderr)
        raise SystemExit(2)



def tree_lines(recording: Recording) -> list[str]:
    children: dict[str, list] = collections.defaultdict(list)
    roots = []
    for resource in recording.resources:
        (children[resource.parent] if resource.parent else roots).append(resource)
    lines: list[str] = []

    def walk(resource, depth: int) -> None:
        lines.append(f"{'    ' * depth}+ {resource.type:<52} {resource.name}")
        for child in children.get(resource.urn, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines


def counts_by_type(recording: Recording) -> collections.Counter:
    return collections.Counter(r.type for r in recording.resources if r.type != "pulumi:pulumi:Stack")


def run(stack: str, out_root: Path, quiet: bool = False, stacks_dir: Path | None = None) -> int:
    try:
        config = from_stack_file(stack, stacks_dir)
        check_cost(config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2

    started = time.perf_counter()
    recording = record(config)
    contents = {name: report.build(config, recording) for name, report in REPORTS.items()}
    reports = {f"{name}.json": content for name, content in contents.items()}
    out_dir = out_root / stack
    written = artifacts.write(recording, out_dir, reports)
    elapsed = time.perf_counter() - started

    if not quiet:
        print(f"Previewing stack '{stack}' (phase {config.phase}, {config.region}) offline, under mocks:\n")
        print("\n".join(tree_lines(recording)))
        counts = counts_by_type(recording)
        print("\nResources by type:")
        for resource_type, count in sorted(counts.items()):
            print(f"    {count:>4}  {resource_type}")
        print("\nCreation order (each wave starts once the waves above it are created and ready; "
              "`pulumi destroy` runs it bottom to top):")
        print("\n".join(wave_lines(recording)))
        print(f"\n{sum(counts.values())} resources to create; "
              f"{written['objects']} Kubernetes objects and {written['helm']} Helm releases in {out_dir / 'manifests'}")
        print("\nOutputs:")
        for key, value in sorted(recording.outputs.items()):
            print(f"    {key}: {value if isinstance(value, str) and len(value) < 100 else '(' + type(value).__name__ + ')'}")
        for name, report in REPORTS.items():
            print(f"\n{report.title} ({out_dir / (name + '.json')}):")
            for line in report.summary(contents[name]):
                print(f"    {line}")
        print(f"\nPlanned in {elapsed:.2f}s; files in {out_dir}")

    mandatory_failures = [
        v for v in reports.get("policy.json", []) if isinstance(v, dict) and v.get("level") == "mandatory"
    ]
    return 1 if mandatory_failures else 0


def run_all(out_root: Path, quiet: bool = False, stacks_dir: Path | None = None) -> int:
    """Every stack in one process: the imports are paid once. Exit status: the worst of the stacks' (2 > 1 > 0)."""
    statuses = {}
    for stack in known_stacks(stacks_dir):
        began = time.perf_counter()
        statuses[stack] = run(stack, out_root, quiet=True, stacks_dir=stacks_dir)
        if not quiet:
            print(f"{stack:<10} {OUTCOMES[statuses[stack]]:<28} {time.perf_counter() - began:5.2f}s  files in {out_root / stack}")
    worst = max(statuses.values(), key=lambda status: SEVERITY[status], default=0)
    if not quiet:
        print(f"{len(statuses)} stacks planned; `make plan STACK=<name>` prints one in full")
    return worst


OUTCOMES = {0: "planned", 1: "planned, mandatory policy failed", 2: "invalid config (see above)"}
SEVERITY = {0: 0, 1: 1, 2: 2}


def main(argv: list[str] | None = None) -> int:
    parser = _ArgumentParser(prog="python -m tools.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack to plan (Pulumi.<stack>.yaml), or all; default dev")
    parser.add_argument("--out", default="build/plan", type=Path, help="output root; default build/plan")
    parser.add_argument("--stacks-dir", type=Path, help="folder holding Pulumi.<stack>.yaml; default the project")
    parser.add_argument("--quiet", action="store_true", help="write the files, print nothing")
    args = parser.parse_args(argv)
    if args.stack == "all":
        return run_all(args.out, quiet=args.quiet, stacks_dir=args.stacks_dir)
    return run(args.stack, args.out, quiet=args.quiet, stacks_dir=args.stacks_dir)


if __name__ == "__main__":
    sys.exit(main())
