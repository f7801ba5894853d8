"""Every pin, where it comes from and what is newer: `make versions` (python -m tools.versions).

    python -m tools.versions            # the table, then which Python packages are behind on the package index
    python -m tools.versions --offline  # the table only
    python -m tools.versions --write    # regenerate docs/versions.md (a test fails when it is stale)

The pinned versions are read from the code; what is known about them (source, newer releases, why not taken)
is data in tools/versions.yaml. Asking the package index may fail (no network): it then says so and exits 0.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTES = Path(__file__).with_name("versions.yaml")
DOC = ROOT / "docs" / "versions.md"
REQUIREMENTS = ("requirements.txt", "requirements-router.txt")
# A tool's own virtualenv, frozen whole so that its results repeat: only the tool itself is a pin of this project.
TOOL_REQUIREMENTS = {"requirements-checkov.txt": ("checkov",)}
# Releases on the package index worth watching besides the requirements: the router image's and vLLM's.
INDEX_WATCH = {"litellm": "litellm", "vllm": "vllm"}


def _tag(image: str) -> str:
    return image.split("@")[0].rsplit(":", 1)[1]


def code_pins() -> dict[str, str]:
    """What the program pins today, by component (the keys of tools/versions.yaml)."""
    from infra import router_store
    from stackconfig.model import KarpenterConfig, RouterConfig, ServingConfig, WeightsSyncConfig
    from workloads import autoscaling, gpu_operator, monitoring
    from workloads.edge import cert_manager, gateway_api, load_balancer_controller, nginx_gateway
    from workloads.observability import logs

    return {
        "karpenter": KarpenterConfig.model_fields["version"].default,
        "karpenter-ami": KarpenterConfig.model_fields["ami_alias"].default,
        "gpu-operator": gpu_operator.CHART_VERSION,
        "vllm": _tag(ServingConfig.model_fields["image"].default),
        "nginx-gateway-fabric": nginx_gateway.CHART_VERSION,
        "gateway-api": gateway_api.GATEWAY_API_VERSION,
        "aws-load-balancer-controller": load_balancer_controller.CHART_VERSION,
        "cert-manager": cert_manager.CHART_VERSION,
        "keda": autoscaling.CHART_VERSION,
        "kube-prometheus-stack": monitoring.CHART_VERSION,
        "loki": logs.LOKI_CHART_VERSION,
        "alloy": logs.ALLOY_CHART_VERSION,
        "litellm": _tag(RouterConfig.model_fields["image"].default),
        "weights-sync-image": _tag(WeightsSyncConfig.model_fields["image"].default),
        "postgres": router_store.POSTGRES_VERSION,
        "valkey": router_store.VALKEY_VERSION,
        "eks-addons": "per cluster version",
    }


def python_pins() -> dict[str, tuple[str, str]]:
    """package -> (pinned version, requirements file)."""
    pins: dict[str, tuple[str, str]] = {}
    for file_name in (*REQUIREMENTS, *TOOL_REQUIREMENTS):
        for line in (ROOT / file_name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                name = re.sub(r"\[.*\]", "", name).strip().lower()
                if file_name not in TOOL_REQUIREMENTS or name in TOOL_REQUIREMENTS[file_name]:
                    pins[name] = (version.strip(), file_name)
    return pins


def notes() -> dict:
    return yaml.safe_load(NOTES.read_text())


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ") or "—"


def render() -> str:
    data = notes()
    lines = [
        "# Versions",
        "",
        f"Generated from the code's pins and `tools/versions.yaml` by `python -m tools.versions --write`; checked "
        f"upstream on {data['checked']}. `make versions` prints this table and asks the package index which Python",
        "packages are behind. \"Readable\" is the newest release whose values, CRDs, flags or release notes could be read;",
        "\"reported\" releases are only named by third-party files and are not taken.",
        "",
        "| component | pinned | source | newest readable | reported | decision |",
        "|---|---|---|---|---|---|",
    ]
    for entry in data["components"].values():
        lines.append("| " + " | ".join(_cell(entry.get(key, "")) for key in
                                       ("title", "pinned", "source", "newest_readable", "reported", "decision")) + " |")
    lines += ["", "## Python packages", "", "| package | pinned | file |", "|---|---|---|"]
    for name, (version, file_name) in sorted(python_pins().items()):
        lines.append(f"| {name} | {version} | `{file_name}` |")
    lines += ["", "## Advisories", ""]
    for advisory in data["advisories"]:
        lines += [
            f"### {advisory['id']} ({advisory['component']})",
            "",
            f"- **Severity:** {advisory['severity']}",
            f"- **Affected:** {advisory['affected']}",
            f"- **Exposure here:** {advisory['exposure']}",
            f"- **What to do:** {advisory['action']}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def newest_on_index(package: str, timeout: float = 20) -> str | None:
    """The newest release the package index offers (pip's own configuration), or None when it cannot be asked."""
    try:
        result = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package, "--disable-pip-version-check"],
                                capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(rf"^{re.escape(package)} \(([^)]+)\)", result.stdout, re.IGNORECASE | re.MULTILINE)
    return match.group(1) if result.returncode == 0 and match else None


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in re.split(r"[.+-]", version.lstrip("v")))


def index_report() -> list[str]:
    pins = {name: version for name, (version, _) in python_pins().items()}
    kept = {package: component for component, package in INDEX_WATCH.items()}
    pins.update({package: code_pins()[component].lstrip("v") for component, package in INDEX_WATCH.items()})
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        newest = dict(zip(pins, pool.map(newest_on_index, pins)))
    if all(version is None for version in newest.values()):
        return ["package index unreachable: nothing checked, the table above stands"]
    lines = []
    for package, pinned in sorted(pins.items()):
        found = newest[package]
        if found is None:
            state, found = "not answered", "?"
        elif _version_key(found) <= _version_key(pinned):
            state = "current"
        else:
            state = f"behind (kept: see {kept[package]} above)" if package in kept else "behind"
        lines.append(f"{package:<20} {pinned:<14} newest {found:<14} {state}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.versions", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate docs/versions.md")
    parser.add_argument("--offline", action="store_true", help="do not ask the package index")
    args = parser.parse_args(argv)
    if args.write:
        DOC.write_text(render())
        print(f"wrote {DOC}")
        return 0
    print(render())
    if not args.offline:
        print("Package index:")
        for line in index_report():
            print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
