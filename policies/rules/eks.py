"""EKS control plane: Secrets envelope encryption, control-plane logs, no world-open endpoint, supported version.

A real preview sees the cluster as pulumi-eks builds it: the ``aws:eks/cluster:Cluster`` inside the
``eks:index:Cluster`` component, with its real inputs (the component itself is registered by its provider
without inputs). The offline plan sees the component's inputs, and only the mocked outputs of the child.
Each check reads whichever of the two carries the settings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import ReportViolation, ResourceValidationArgs

from .base import MANDATORY, PHASE, SERVING_PHASES, fact, resource_policy
from .props import UNKNOWN, get, is_list, is_map, items, known_items, peek

EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_COMPONENT = "eks:index:Cluster"
CLUSTER_TYPES = (EKS_CLUSTER, EKS_COMPONENT)
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")
OPEN = {"0.0.0.0/0", "::/0"}
STANDARD_SUPPORT_ENDS: dict[str, datetime.date | None] = {
    str(version): end
    for version, end in yaml.safe_load(
        (Path(__file__).with_name("data") / "eks_versions.yaml").read_text()
    )["standardSupportEnds"].items()
}


def today() -> datetime.date:
    return datetime.date.today()


@dataclass(frozen=True)
class ClusterSettings:
    name: str
    encrypts_secrets: bool
    log_types: list[str]
    public_endpoint: bool
    public_cidrs: list[str]
    version: Any


def settings(args: ResourceValidationArgs) -> ClusterSettings:
    props = args.props
    if args.resource_type == EKS_COMPONENT:
        if not list(props):
            # How a real preview sees the component: its provider registers it without inputs.
            args.not_applicable("the component carries no inputs here; its aws:eks/cluster:Cluster child is checked")
        public = get(props, "endpointPublicAccess")
        return ClusterSettings(
            name=str(get(props, "name", default=args.name)),
            encrypts_secrets=peek(props, "encryptionConfigKeyArn") not in (None, ""),
            log_types=[str(t) for t in items(get(props, "enabledClusterLogTypes"))],
            public_endpoint=public is not False,  # pulumi-eks defaults to a public endpoint
            public_cidrs=[str(c) for c in known_items(get(props, "publicAccessCidrs"))] or ["0.0.0.0/0"],
            version=get(props, "version"),
        )
    config = peek(props, "encryptionConfig")
    entries = items(config) if is_list(config) else [config] if is_map(config) else []
    # pulumi-eks derives the whole block from the key ARN, so before the key exists it is unknown as a
    # whole: it is set, to the one thing pulumi-eks encrypts (secrets).
    encrypts = config is UNKNOWN or any(
        "secrets" in [str(r) for r in items(get(entry, "resources"))] and peek(entry, "provider", "keyArn") not in (None, "")
        for entry in entries
    )
    vpc = get(props, "vpcConfig")
    return ClusterSettings(
        name=str(get(props, "name", default=args.name)),
        encrypts_secrets=encrypts,
        log_types=[str(t) for t in items(get(props, "enabledClusterLogTypes"))],
        public_endpoint=get(vpc, "endpointPublicAccess") is not False,  # the EKS API default is public
        public_cidrs=[str(c) for c in known_items(get(vpc, "publicAccessCidrs"))] or ["0.0.0.0/0"],
        version=get(props, "version"),
    )


def _secrets_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cluster = settings(args)
    if not cluster.encrypts_secrets:
        report(f"EKS cluster {cluster.name} does not envelope-encrypt Kubernetes Secrets; give it a customer-managed "
               "KMS key (pulumi-eks encryptionConfigKeyArn / encryptionConfig {resources: [secrets], provider.keyArn}) "
               "with key rotation on")


eks_secrets_encryption = resource_policy(
    "eks-secrets-encryption",
    "EKS envelope-encrypts Kubernetes Secrets with a KMS key.",
    MANDATORY,
    CLUSTER_TYPES,
    _secrets_encryption,
    "Create a KMS key with rotation and pass its ARN as the cluster's encryption config for 'secrets'.",
)


def _control_plane_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cluster = settings(args)
    missing = [t for t in REQUIRED_LOG_TYPES if t not in cluster.log_types]
    if missing:
        report(f"EKS cluster {cluster.name} does not send the {', '.join(missing)} control-plane logs to CloudWatch; "
               f"add them to enabledClusterLogTypes (config llm-platform:cluster.logTypes): without audit and "
               "authenticator logs nobody can tell who changed what")


eks_control_plane_logging = resource_policy(
    "eks-control-plane-logging",
    "EKS sends at least the api, audit and authenticator control-plane logs to CloudWatch.",
    MANDATORY,
    CLUSTER_TYPES,
    _control_plane_logs,
    "Set enabledClusterLogTypes to include api, audit and authenticator (config llm-platform:cluster.logTypes).",
)


def _private_endpoint(args: ResourceValidationArgs, report: ReportViolation) -> None:
    phase = fact(args, PHASE)
    if phase not in SERVING_PHASES:
        args.not_applicable(f"phase {phase} may reach its API endpoint from anywhere")
    cluster = settings(args)
    open_to = sorted(OPEN & set(cluster.public_cidrs))
    if cluster.public_endpoint and open_to:
        report(f"EKS cluster {cluster.name} exposes its public API endpoint to {', '.join(open_to)} in phase {phase}; "
               "restrict publicAccessCidrs to your admin and CI networks (config llm-platform:cluster."
               "publicAccessCidrs) or turn the public endpoint off")


eks_no_open_endpoint = resource_policy(
    "eks-no-open-public-endpoint",
    "From rollout on, the EKS public API endpoint is not open to 0.0.0.0/0.",
    MANDATORY,
    CLUSTER_TYPES,
    _private_endpoint,
    "Set publicAccessCidrs (config llm-platform:cluster.publicAccessCidrs) to specific CIDRs, or make the endpoint private.",
    facts=(PHASE,),
)


def _supported_version(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cluster = settings(args)
    known = ", ".join(v for v, end in STANDARD_SUPPORT_ENDS.items() if end is None or end >= today())
    if cluster.version is UNKNOWN or cluster.version is None:
        report(f"EKS cluster {cluster.name} does not pin its Kubernetes version; set version to one of {known} so an "
               "update never upgrades the control plane by surprise")
        return
    version = str(cluster.version)
    if version not in STANDARD_SUPPORT_ENDS:
        report(f"EKS cluster {cluster.name} runs Kubernetes {version}, which this pack does not know to be in EKS "
               f"standard support; use one of {known} (config llm-platform:cluster.version)")
        return
    ends = STANDARD_SUPPORT_ENDS[version]
    if ends is not None and ends < today():
        report(f"EKS cluster {cluster.name} runs Kubernetes {version}, whose standard support ended on {ends}; "
               f"upgrade to one of {known} (config llm-platform:cluster.version) before EKS upgrades it for you")


eks_supported_version = resource_policy(
    "eks-supported-version",
    "EKS runs a pinned Kubernetes version that is still in standard support.",
    MANDATORY,
    CLUSTER_TYPES,
    _supported_version,
    "Set llm-platform:cluster.version to a version in standard support (policies/rules/data/eks_versions.yaml).",
)

POLICIES = [eks_secrets_encryption, eks_control_plane_logging, eks_no_open_endpoint, eks_supported_version]
