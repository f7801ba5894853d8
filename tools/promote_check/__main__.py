"""python -m tools.promote_check --stack STACK --prometheus-url URL [--window DURATION] [--at TIME] [--stacks-dir DIR]

Exit status: 0 safe to take the next step; 1 not safe, or too few samples to decide; 2 bad input or Prometheus
unreachable (one line, no traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path
from typing import Optional

from stackconfig import ConfigError, from_stack_file
from stackconfig.model import duration_seconds

from .criteria import evaluate
from .prometheus import Prometheus, PrometheusError
from .verdict import decide, report

USAGE = "python -m tools.promote_check --stack STACK --prometheus-url URL [--window DURATION] [--at TIME] [--stacks-dir DIR]"


class BadInput(Exception):
    pass


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise BadInput(f"{message}; usage: {USAGE}")


def parse_time(text: Optional[str]) -> Optional[float]:
    """--at: Unix seconds or an RFC 3339 time with its offset (2026-11-27T18:00:00Z)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"--at {text!r} is not a time; allowed: Unix seconds or RFC 3339 such as 2026-11-27T18:00:00Z") from None
    if moment.tzinfo is None:
        raise BadInput(f"--at {text!r} has no UTC offset; allowed: RFC 3339 with Z or +hh:mm")
    return moment.timestamp()


def main(argv: Optional[list[str]] = None) -> int:
    parser = _ArgumentParser(prog="python -m tools.promote_check", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the stack whose next step is checked (Pulumi.<stack>.yaml)")
    parser.add_argument("--prometheus-url", required=True, help="Prometheus' base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--window", help="how far back to look (90s, 30m, 24h, 7d); default promotion.window")
    parser.add_argument("--at", help="judge the window that ends at this time (default now)")
    parser.add_argument("--stacks-dir", type=Path, help="folder holding Pulumi.<stack>.yaml; default the project")
    try:
        args = parser.parse_args(argv)
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", args.prometheus_url):
            raise BadInput(f"--prometheus-url {args.prometheus_url!r} is not a URL; allowed: http(s)://host[:port][/path]")
        config = from_stack_file(args.stack, args.stacks_dir)
        window = args.window or config.promotion.window
        try:
            duration_seconds(window)
        except ValueError as err:
            raise BadInput(f"--window: {err}") from None
        at = parse_time(args.at)
        prometheus = Prometheus(args.prometheus_url, at=at)
        results = evaluate(config, prometheus, window)
    except (BadInput, ConfigError, PrometheusError) as err:
        print(f"promote-check: {err}", file=sys.stderr)
        return 2

    verdict = decide(config, results)
    print("\n".join(report(config, results, verdict, args.prometheus_url, window, at)))
    return verdict.status


if __name__ == "__main__":
    sys.exit(main())
