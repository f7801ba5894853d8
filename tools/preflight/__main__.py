"""`make preflight STACK=name`: check an AWS account before a stack's first `pulumi up`.

    python -m tools.preflight --stack NAME [--account-stacks a,b] [--stacks-dir DIR]

Uses your AWS credentials (profile or AWS_* variables) and only reads. Other stacks that share the account and
region share its quotas: by default every Pulumi.<stack>.yaml in the same region is counted; --account-stacks
names them instead. Exit status: 0 every check passed (warnings allowed); 1 something to do first, listed; 2 bad
input or no credentials.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from stackconfig import ConfigError, from_stack_file, known_stacks
from tools.cost.model import check as check_cost

from .checks import FAIL, Aws, Result, run_checks


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every bad input
        print(f"preflight: {message}; usage: python -m tools.preflight --stack NAME [--account-stacks a,b] [--stacks-dir DIR]",
              file=sys.stderr)
        raise SystemExit(2)


def table(results: list[Result]) -> list[str]:
    width = max(len(r.check) for r in results)
    lines = [f"{'check':<{width}}  {'status':<6}  detail"]
    lines += [f"{r.check:<{width}}  {r.status:<6}  {r.detail}" for r in results]
    return lines


def main(argv: Optional[list[str]] = None, aws: Optional[Aws] = None) -> int:
    parser = _ArgumentParser(prog="python -m tools.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--account-stacks", default=None, help="stacks sharing the account and region (default: same region)")
    parser.add_argument("--stacks-dir", type=Path)
    args = parser.parse_args(argv)
    try:
        config = from_stack_file(args.stack, args.stacks_dir)
        check_cost(config)
        if args.account_stacks is None:
            others = [from_stack_file(name, args.stacks_dir) for name in known_stacks(args.stacks_dir) if name != config.stack]
            others = [other for other in others if other.region == config.region]
        else:
            others = [from_stack_file(name, args.stacks_dir) for name in args.account_stacks.split(",") if name and name != config.stack]
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    aws = aws or Aws.for_region(config.region)
    try:
        account = aws.sts.get_caller_identity()["Account"]
    except (NoCredentialsError, BotoCoreError, ClientError) as err:
        print(f"preflight: no usable AWS credentials ({err}); allowed: a profile or AWS_* variables for the stack's account",
              file=sys.stderr)
        return 2
    results = run_checks(aws, config, [config, *others])
    print(f"Preflight of stack '{config.stack}' in account {account}, {config.region} "
          f"(quotas shared with: {', '.join(o.stack for o in others) or 'no other stack'}):\n")
    print("\n".join(table(results)))
    failed = [r for r in results if r.status == FAIL]
    if not failed:
        print(f"\nAll {len(results)} checks passed.")
        return 0
    print(f"\n{len(failed)} of {len(results)} checks failed. Before `pulumi up`:")
    for result in failed:
        print(f"  - {result.check}: {result.fix}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
