"""Known vulnerabilities of pinned components, closed by policy until the fixed releases can be taken.

Each policy names its advisory; docs/versions.md has the exposure and the upgrade path.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .base import MANDATORY, resource_policy
from .kube import containers, object_name, pod_spec, workload_kind
from .props import get

# CVE-2026-77524 (KEDA <= 2.20.2): keda-operator hands its own token to the Vault a TriggerAuthentication names.
KEDA_AUTHENTICATIONS = (
    "kubernetes:keda.sh/v1alpha1:TriggerAuthentication",
    "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication",
)
# LiteLLM releases whose images or packages were replaced by malicious ones (March and October 2026), the digest
# the compromised v1.107.0 index had, and the moving tags that pointed at it during the incident.
COMPROMISED_LITELLM_TAGS = ("v1.82.7", "v1.82.8", "v1.107.0", "1.82.7", "1.82.8", "1.107.0",
                            "latest", "main-latest", "main-stable")
COMPROMISED_LITELLM_DIGESTS = ("sha256:1bbcb1443bc962e45f5aad53fe3d2c30600e0379715fb6c664cdd3ac126c339e",)


def _no_trigger_authentication(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = args.resource_type.rsplit(":", 1)[1]
    report(f"{kind} {object_name(args.props)}: the pinned KEDA (2.20.2) leaks its operator token through "
           "TriggerAuthentications (CVE-2026-77524) and the platform needs none; remove it, or upgrade KEDA to 2.21.0 "
           "and give it an explicit token audience")


def _litellm_problem(image: object) -> str:
    if not isinstance(image, str) or "berriai/litellm" not in image:
        return ""
    name, _, digest = image.partition("@")
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
    if digest in COMPROMISED_LITELLM_DIGESTS:
        return f"{image} is the compromised LiteLLM v1.107.0 image"
    if tag in COMPROMISED_LITELLM_TAGS:
        return f"{image} uses the tag {tag}, compromised or moving during the LiteLLM incidents of 2026"
    return ""


def _no_compromised_litellm(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = pod_spec(workload_kind(args.resource_type), args.props)
    for section, container in containers(spec):
        problem = _litellm_problem(get(container, "image"))
        if problem:
            report(f"{workload_kind(args.resource_type)} {object_name(args.props)} ({section}): {problem}; pin a "
                   "release outside 1.82.7, 1.82.8 and 1.107.0 by tag and digest (traffic.router.image)")


no_trigger_authentication = resource_policy(
    "keda-no-trigger-authentication",
    "No KEDA TriggerAuthentication or ClusterTriggerAuthentication while KEDA is at 2.20.2 (CVE-2026-77524).",
    MANDATORY,
    KEDA_AUTHENTICATIONS,
    _no_trigger_authentication,
    "Scale on the platform's Prometheus without authentication objects, or upgrade KEDA to 2.21.0 first.",
)

no_compromised_litellm = resource_policy(
    "no-compromised-litellm",
    "The router never runs a LiteLLM release that was compromised, nor a tag that moved to one.",
    MANDATORY,
    lambda resource_type: bool(workload_kind(resource_type)),
    _no_compromised_litellm,
    "Pin traffic.router.image to a safe release by tag and digest.",
)

POLICIES = [no_trigger_authentication, no_compromised_litellm]
