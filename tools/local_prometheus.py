"""A Prometheus of its own on 127.0.0.1, for `make rehearse` and the promotion gate's tests: the binary of Debian's
`prometheus` package (2.42 on bookworm), which tools/install_prom_tools.sh unpacks into .tools/bin without installing
the package (so no packaged service ever listens on 0.0.0.0:9090), started with a config and storage in a work
directory, listening on loopback only, stopped by process id. Standard library only, like tools.local_router.

Scrape targets live in a file_sd file (``targets.json``) that ``set_targets`` rewrites; Prometheus notices the
change within a second, so targets started later (a second router) are scraped without a restart.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .local_router import LOOPBACK, ROOT, Process, free_port, spawn, stop, wait_for

TARGETS_FILE = "targets.json"
TOOLS_DIR = ".tools/bin"


@dataclass(frozen=True)
class Target:
    url: str  # http://127.0.0.1:PORT
    metrics_path: str = "/metrics"
    labels: dict[str, str] = field(default_factory=dict)


def binary(name: str) -> str:
    """``name`` from PATH, else from .tools/bin (make rehearse and make test-promote put it there)."""
    found = shutil.which(name) or shutil.which(name, path=str(ROOT / TOOLS_DIR))
    if found is None:
        raise FileNotFoundError(f"{name} is missing: run `make test-promote` or tools/install_prom_tools.sh {TOOLS_DIR}")
    return found


def write_config(work_dir: Path, scrape_interval: str = "1s") -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "scrape_configs": [{
            "job_name": "rehearsal",
            "scrape_timeout": scrape_interval,
            "file_sd_configs": [{"files": [str(work_dir / TARGETS_FILE)], "refresh_interval": "1s"}],
        }],
    }
    (work_dir / TARGETS_FILE).write_text("[]\n")
    path = work_dir / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
    return path


def set_targets(work_dir: Path, targets: list[Target]) -> None:
    groups = [
        {"targets": [target.url.split("://", 1)[1]], "labels": {"__metrics_path__": target.metrics_path, **target.labels}}
        for target in targets
    ]
    staging = work_dir / (TARGETS_FILE + ".new")
    staging.write_text(json.dumps(groups, indent=2) + "\n")
    staging.replace(work_dir / TARGETS_FILE)  # atomic: Prometheus never reads half a file


def start(work_dir: Path, storage: Path | None = None, retention: str = "30d", scrape_interval: str = "1s",
          timeout: float = 30) -> Process:
    """Prometheus on a free loopback port; ``storage`` may already hold blocks (backfilled histories)."""
    config = write_config(work_dir, scrape_interval)
    storage = storage or work_dir / "data"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={storage}",
        f"--storage.tsdb.retention.time={retention}", f"--web.listen-address={LOOPBACK}:{port}",
        # Debian's default points at its packaged console files; nothing here serves consoles.
        "--web.console.templates=", "--web.console.libraries=",
    ]
    process = spawn("prometheus", command, {"PATH": "/usr/bin:/bin"}, work_dir / "prometheus.log",
                     f"http://{LOOPBACK}:{port}", cwd=work_dir)
    wait_for(f"{process.url}/-/ready", process, timeout=timeout)
    return process


def backfill(openmetrics: str, storage: Path, work_dir: Path) -> None:
    """Write a history (OpenMetrics text with timestamps, ending in `# EOF`) as TSDB blocks into ``storage``."""
    source = work_dir / "history.om"
    source.write_text(openmetrics)
    storage.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(source), str(storage)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"promtool could not backfill {source}: {result.stderr.strip() or result.stdout.strip()}")


__all__ = ["Target", "backfill", "set_targets", "start", "stop"]
