"""Writes a recording as the offline plan's files (see shared architecture: offline plan contract)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from .recorder import Recording, Registered

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"

# libyaml's emitter writes the same documents as the pure-Python one about ten times faster, and the
# manifests are most of the plan's time; PyYAML's wheels ship it, a source build may not.
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_YAML_DUMPER, sort_keys=False)


def is_kubernetes_object(resource: Registered) -> bool:
    return (
        resource.type.startswith("kubernetes:")
        and resource.type != HELM_RELEASE
        and "apiVersion" in resource.inputs
        and "kind" in resource.inputs
    )


def manifest(resource: Registered) -> dict[str, Any]:
    """The object as kubectl would see it: apiVersion and kind first, then the rest."""
    body = dict(resource.inputs)
    ordered = {"apiVersion": body.pop("apiVersion"), "kind": body.pop("kind")}
    body.pop("__defaults", None)
    ordered.update(body)
    return ordered


def helm_release(resource: Registered) -> dict[str, Any]:
    inputs = resource.inputs
    chart = inputs.get("chart", "")
    repository = (inputs.get("repositoryOpts") or {}).get("repo")
    if repository is None and chart.startswith("oci://"):
        repository, _, chart = chart.rpartition("/")
    return {
        "release": inputs.get("name", resource.name),
        "chart": chart,
        "repository": repository,
        "version": inputs.get("version"),
        "namespace": inputs.get("namespace", "default"),
        "values": inputs.get("values", {}),
    }


def _file_name(*parts: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", "-".join(p for p in parts if p).lower()).strip("-") + ".yaml"


def write(recording: Recording, out_dir: Path, reports: dict[str, Any]) -> dict[str, int]:
    """Write resources.json, manifests/ and one JSON file per report; returns file counts."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    manifests_dir = out_dir / "manifests"
    manifests_dir.mkdir(parents=True)

    resources = [
        {
            "urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent or None, "inputs": r.inputs,
            "dependencies": list(r.dependencies),
        }
        for r in recording.resources
    ]
    (out_dir / "resources.json").write_text(json.dumps(resources, indent=2, sort_keys=False) + "\n")
    (out_dir / "outputs.json").write_text(json.dumps(recording.outputs, indent=2, sort_keys=True) + "\n")

    counts = {"objects": 0, "helm": 0}
    for resource in recording.resources:
        if resource.type == HELM_RELEASE:
            release = helm_release(resource)
            path = manifests_dir / _file_name("helm", release["release"])
            path.write_text(_dump_yaml(release))
            counts["helm"] += 1
        elif is_kubernetes_object(resource):
            body = manifest(resource)
            metadata = body.get("metadata") or {}
            path = manifests_dir / _file_name(body["kind"], metadata.get("namespace", ""), metadata.get("name", resource.name))
            if path.exists():
                raise ValueError(f"two objects would be written to {path.name}")
            path.write_text(_dump_yaml(body))
            counts["objects"] += 1

    for file_name, content in reports.items():
        (out_dir / file_name).write_text(json.dumps(content, indent=2) + "\n")
    return counts
