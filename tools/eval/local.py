"""`make eval-local`: the golden-set evaluation against two fake OpenAI-compatible backends on 127.0.0.1.

    python -m tools.eval.local [--candidate-answer TEXT] [--latency SECONDS] [-- extra tools.eval arguments]

Both fakes echo the prompt (so the candidate agrees and the run passes) unless --candidate-answer makes the
candidate answer something else (so it fails). The fakes are started here and stopped by process id.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tools.local_router import start_fake, stop

from .__main__ import main as evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.eval.local", description=__doc__.splitlines()[0])
    parser.add_argument("--candidate-answer", help="what the fake candidate answers to everything")
    # Long enough that a busy machine's jitter does not decide the p95 latency ratio.
    parser.add_argument("--latency", type=float, default=0.2, help="seconds each fake takes per answer")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="more tools.eval arguments, after --")
    args = parser.parse_args(argv)
    extra = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    with tempfile.TemporaryDirectory(prefix="eval-fakes-") as logs:
        started = []
        try:
            baseline = start_fake("baseline", Path(logs), latency=args.latency)
            started.append(baseline)
            options = {"answer": args.candidate_answer} if args.candidate_answer else {}
            candidate = start_fake("candidate", Path(logs), latency=args.latency, **options)
            started.append(candidate)
            return evaluate(["--baseline", f"{baseline.url}/v1", "--candidate", f"{candidate.url}/v1", *extra])
        finally:
            for process in started:
                stop(process)


if __name__ == "__main__":
    sys.exit(main())
