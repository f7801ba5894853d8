"""Times the offline plan of every stack, each in a fresh process as `make plan` runs it.

    python -m tools.bench            # prints one line per stack and the total
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

STACKS = ("dev", "shadow", "rollout", "prod")


def main() -> int:
    total = 0.0
    with tempfile.TemporaryDirectory() as out:
        for stack in STACKS:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "tools.plan", "--stack", stack, "--out", out, "--quiet"], check=True)
            elapsed = time.perf_counter() - started
            total += elapsed
            print(f"{stack:<8} {elapsed:6.2f}s")
    print(f"{'total':<8} {total:6.2f}s (budget 10 s on 2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
