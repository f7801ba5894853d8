"""Creation order: custom resources wait for their definitions; Karpenter's objects wait for its controller.

Both read what the engine knows about each resource (dependencies, parent, provider) through WaitGraph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs

from .base import MANDATORY, kubernetes_kind, stack_policy
from .graph import WaitGraph
from .kube import HELM_TYPES, chart_name, object_name, release_name
from .props import get, items, truthy

SOURCES = yaml.safe_load((Path(__file__).with_name("data") / "crd_sources.yaml").read_text())
CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
MANIFEST_TYPES = ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup")
KARPENTER_GROUPS = ("karpenter.sh", "karpenter.k8s.aws")
KARPENTER_CHART = "karpenter"


def is_custom_resource(resource_type: str) -> bool:
    group, kind = kubernetes_kind(resource_type)
    return bool(kind) and group not in SOURCES["builtinGroups"] and group not in SOURCES["pulumiGroups"]


def _switch_on(values: Any, switches: list[str], default: bool) -> bool:
    found = [get(values, *path.split(".")) for path in switches]
    set_values = [v for v in found if v is not None]
    return any(truthy(v) for v in set_values) if set_values else default


def defined_groups(resource: PolicyResource) -> set[str]:
    """The API groups whose CRDs this resource installs."""
    props = resource.props
    if kubernetes_kind(resource.resource_type) == CRD:
        return {str(get(props, "spec", "group", default=""))}
    if resource.resource_type in HELM_TYPES:
        chart = SOURCES["charts"].get(chart_name(props))
        if chart is None:
            return set()
        if chart["ships"] == "crdsDir" and truthy(get(props, "skipCrds")):
            return set()
        if "switch" in chart and not _switch_on(get(props, "values"), chart["switch"], chart["default"]):
            return set()
        return set(chart["groups"])
    if resource.resource_type in MANIFEST_TYPES:
        files = [str(f) for f in [get(props, "file"), *items(get(props, "files"))] if f]
        return {group for group, prefix in SOURCES["manifests"].items() if any(f.startswith(prefix) for f in files)}
    return set()


def _label(resource: PolicyResource) -> str:
    if resource.resource_type in HELM_TYPES:
        return f"Helm release {release_name(resource.props)}"
    group, kind = kubernetes_kind(resource.resource_type)
    name = object_name(resource.props) if get(resource.props, "metadata") is not None else resource.name
    return f"{kind or resource.resource_type} {name}"


def _definitions_first(args: StackValidationArgs, report: ReportViolation) -> None:
    custom = [r for r in args.resources if is_custom_resource(r.resource_type)]
    if not custom:
        args.not_applicable("no custom resources in this stack")
    definers: dict[str, list[PolicyResource]] = {}
    for resource in args.resources:
        for group in defined_groups(resource):
            definers.setdefault(group, []).append(resource)
    graph = WaitGraph(args.resources)
    for resource in custom:
        group, kind = kubernetes_kind(resource.resource_type)
        sources = definers.get(group, [])
        if not sources:
            report(f"{_label(resource)} is a {group} custom resource, but nothing in this stack installs the {group} "
                   "CRDs; install them (chart or CRD manifest) in this stack, or record where they come from in "
                   "policies/rules/data/crd_sources.yaml", resource.urn)
            continue
        before = graph.waits_for(resource.urn)
        if not any(graph.nodes_of(source.urn) & before for source in sources):
            names = ", ".join(sorted(_label(s) for s in sources))
            report(f"{_label(resource)} does not wait for {names}, which defines {group}; the API server rejects it "
                   "until the CRD exists: add a depends_on on the CRD's release or manifest", resource.urn)


definitions_first = stack_policy(
    "custom-resources-after-definitions",
    "Every custom resource waits for the chart or manifest that installs its CRD.",
    MANDATORY,
    _definitions_first,
    "Add depends_on from the custom resource (or its component) to the Helm release/manifest that installs its CRD.",
)


def _karpenter_after_controller(args: StackValidationArgs, report: ReportViolation) -> None:
    controllers = [
        r for r in args.resources
        if r.resource_type in HELM_TYPES and chart_name(r.props) == KARPENTER_CHART
    ]
    objects = [r for r in args.resources if kubernetes_kind(r.resource_type)[0] in KARPENTER_GROUPS]
    if not controllers or not objects:
        args.not_applicable("no Karpenter controller release with NodePools or EC2NodeClasses in this stack")
    graph = WaitGraph(args.resources)
    for resource in objects:
        before = graph.waits_for(resource.urn)
        if not any(graph.nodes_of(c.urn) & before for c in controllers):
            report(f"{_label(resource)} does not wait for the Karpenter controller ({_label(controllers[0])}); "
                   "`pulumi destroy` may then remove the controller first, and the finalizers it alone removes "
                   "(karpenter.k8s.aws/termination, karpenter.sh/termination) leave the object stuck and its GPU "
                   "instances running: make the GPU pools depend on the controller release", resource.urn)


karpenter_after_controller = stack_policy(
    "karpenter-objects-after-controller",
    "NodePools and EC2NodeClasses wait for the Karpenter controller, so destroy removes them while it still runs.",
    MANDATORY,
    _karpenter_after_controller,
    "Add the Karpenter controller Helm release to the GPU pools' depends_on.",
)

POLICIES = [definitions_first, karpenter_after_controller]
