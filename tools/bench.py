"""Times the offline plan of all four stacks in one process (imports counted once, then each stack).

    python -m tools.bench
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

STACKS = ("dev", "shadow", "rollout", "prod")


def main() -> int:
    started = time.perf_counter()
    from tools import plan  # the imports (pulumi, providers) are a large part of a cold start

    imported = time.perf_counter() - started
    print(f"{'imports':<8} {imported:6.2f}s")
    with tempfile.TemporaryDirectory() as out:
        for stack in STACKS:
            begin = time.perf_counter()
            status = plan.run(stack, Path(out), quiet=True)
            print(f"{stack:<8} {time.perf_counter() - begin:6.2f}s  (exit {status})")
    total = time.perf_counter() - started
    print(f"{'total':<8} {total:6.2f}s (budget 10 s on 2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
