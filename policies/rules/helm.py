"""Helm and retired components: every release pins an exact chart version; nothing retired is installed."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .base import MANDATORY, resource_policy
from .kube import HELM_TYPES, chart_name, chart_source, containers, helm_images, object_name, pod_spec, release_name, workload_kind
from .props import get

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")
# Components that reached end of life: kubernetes/ingress-nginx (retired March 2026) and Promtail (end of
# life; Grafana Alloy replaces it). F5 NGINX's own controller ("nginx-ingress") is maintained and allowed.
RETIRED_CHARTS = {
    "ingress-nginx": "kubernetes/ingress-nginx was retired in March 2026: use NGINX Gateway Fabric (the edge here)",
    "promtail": "Promtail reached end of life: collect logs with Grafana Alloy",
}
RETIRED_IMAGES = {
    "ingress-nginx/controller": RETIRED_CHARTS["ingress-nginx"],
    "grafana/promtail": RETIRED_CHARTS["promtail"],
}


def _release(args: ResourceValidationArgs) -> bool:
    """A real preview shows a v4 Chart component without inputs (its provider registers it)."""
    if not list(args.props):
        args.not_applicable("the chart component carries no inputs here; its rendered objects are checked")
    return True


def _pinned_chart(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _release(args)
    version = get(args.props, "version")
    if version is None or not EXACT_VERSION.match(str(version)):
        shown = "no version" if version is None else f"version {version!r}"
        report(f"Helm release {release_name(args.props)} ({chart_source(args.props)}) has {shown}; set version to the "
               "exact chart release you checked the values against (e.g. 1.14.1), never a range or the newest")


helm_pinned_chart = resource_policy(
    "helm-pinned-chart-version",
    "Every Helm release pins an exact chart version.",
    MANDATORY,
    HELM_TYPES,
    _pinned_chart,
    "Set the release's version to an exact chart version (no ranges, no empty version).",
)


def _repository(image: str) -> str:
    """registry/path/name without tag or digest."""
    head, _, last = image.split("@", 1)[0].rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def _retired_image(image: str) -> str:
    repository = _repository(image)
    for retired, why in RETIRED_IMAGES.items():
        if repository == retired or repository.endswith("/" + retired):
            return why
    return ""


def _no_retired(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in HELM_TYPES:
        _release(args)
        chart = chart_name(args.props)
        if chart in RETIRED_CHARTS:
            report(f"Helm release {release_name(args.props)} installs the retired chart {chart_source(args.props)}; "
                   f"{RETIRED_CHARTS[chart]}")
        for path, image in helm_images(get(args.props, "values")):
            why = _retired_image(image)
            if why:
                report(f"Helm release {release_name(args.props)}: values {path} runs {image}; {why}")
        return
    kind = workload_kind(args.resource_type)
    for _, container in containers(pod_spec(kind, args.props)):
        image = str(get(container, "image", default=""))
        why = _retired_image(image)
        if why:
            report(f"{kind} {object_name(args.props)} runs {image}; {why}")


no_retired_components = resource_policy(
    "no-retired-components",
    "No retired components: neither kubernetes/ingress-nginx nor Promtail, as a chart or as an image.",
    MANDATORY,
    lambda t: t in HELM_TYPES or bool(workload_kind(t)),
    _no_retired,
    "Replace ingress-nginx with NGINX Gateway Fabric and Promtail with Grafana Alloy.",
)

POLICIES = [helm_pinned_chart, no_retired_components]
