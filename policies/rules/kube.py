"""Kubernetes objects as policies see them: pod templates, containers, tolerations, Helm releases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .base import kubernetes_kind
from .props import get, is_map, items, scan

GPU_RESOURCE = "nvidia.com/gpu"
# Workload kinds and where their pod spec sits.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_KINDS = tuple(POD_SPEC_PATHS)
# Long-running workloads that answer requests: these need probes, and replicas plus a PDB from rollout on.
SERVING_KINDS = ("Deployment", "StatefulSet")
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")


def workload_kind(resource_type: str) -> str:
    group, kind = kubernetes_kind(resource_type)
    return kind if kind in POD_SPEC_PATHS and group in ("", "apps", "batch") else ""


def pod_spec(kind: str, props: Any) -> Any:
    return get(props, *POD_SPEC_PATHS[kind])


def pod_labels(kind: str, props: Any) -> dict[str, str]:
    path = ("metadata", "labels") if kind == "Pod" else (*POD_SPEC_PATHS[kind][:-1], "metadata", "labels")
    labels = get(props, *path)
    return dict(labels) if is_map(labels) else {}


def object_name(props: Any) -> str:
    namespace = get(props, "metadata", "namespace")
    name = get(props, "metadata", "name", default="?")
    return f"{namespace}/{name}" if namespace else str(name)


def containers(spec: Any) -> Iterator[tuple[str, Any]]:
    """(section, container) for every container, init container and ephemeral container."""
    for section in ("initContainers", "containers", "ephemeralContainers"):
        for container in items(get(spec, section)):
            yield section, container


def gpu_count(container: Any) -> float:
    """GPUs a container asks for (limits, where the device plugin reads them; else requests)."""
    for kind in ("limits", "requests"):
        value = get(container, "resources", kind, GPU_RESOURCE)
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                return 0.0
    return 0.0


def tolerates(spec: Any, key: str, effect: str) -> bool:
    for toleration in items(get(spec, "tolerations")):
        operator = get(toleration, "operator", default="Equal")
        key_matches = get(toleration, "key") == key or (operator == "Exists" and get(toleration, "key") in (None, ""))
        effect_matches = get(toleration, "effect") in (None, "", effect)
        value_matches = operator == "Exists" or get(toleration, "value") in (None, "")
        if key_matches and effect_matches and value_matches:
            return True
    return False


IMAGE = re.compile(r"^(?P<name>[^@]+?)(:(?P<tag>[\w][\w.-]{0,127}))?(@(?P<digest>sha256:[0-9a-f]{64}))?$")


def image_problem(image: Any) -> str:
    """Why an image reference is not pinned ("" when it is): no tag or digest, or the `latest` tag."""
    if not isinstance(image, str) or not image:
        return "has no image"
    match = IMAGE.match(image)
    # A registry port ("host:5000/repo") is not a tag: a tag never holds a "/".
    if match is None:
        return f"{image!r} is not an image reference"
    tag, digest = match.group("tag"), match.group("digest")
    if digest:
        return ""
    if not tag:
        return f"{image!r} has no tag or digest"
    if tag == "latest":
        return f"{image!r} uses the moving tag 'latest'"
    return ""


# --- Helm releases --------------------------------------------------------------------------------


def chart_name(props: Any) -> str:
    """The chart's own name, wherever the release names it (oci://host/repo/name, repo/name, name)."""
    chart = str(get(props, "chart", default=""))
    return chart.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]


def chart_source(props: Any) -> str:
    chart = str(get(props, "chart", default=""))
    repo = get(props, "repositoryOpts", "repo", default="")
    return f"{repo}/{chart}" if repo else chart


def release_name(props: Any) -> str:
    return str(get(props, "name", default=chart_name(props)))


def helm_images(values: Any) -> Iterator[tuple[str, str]]:
    """(values path, image reference) for the images a release's values set explicitly.

    Charts take images as ``image: repo:tag`` or ``image: {repository, tag, digest}``; where the values
    leave the tag out, the chart's own pinned default applies, so only what the values set is judged.
    """
    for path, value in scan(values):
        if not path or path[-1] != "image":
            continue
        where = ".".join(str(p) for p in path)
        if isinstance(value, str):
            yield where, value
        elif is_map(value) and (get(value, "tag") is not None or get(value, "digest") is not None):
            repository = get(value, "repository", default=get(value, "image", default="<chart default>"))
            registry = get(value, "registry")
            reference = f"{registry}/{repository}" if registry else str(repository)
            tag = get(value, "tag")
            digest = get(value, "digest")
            yield where, reference + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
