"""EKS managed add-ons at pinned versions.

Two groups, because of ordering on a real cluster: the node networking add-ons
must exist before any node can become Ready, while CoreDNS and the EBS CSI
driver run as Deployments and only turn ACTIVE once nodes exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .pod_identity import PodIdentityRole, PodIdentityRoleArgs

BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
AFTER_NODES = ("coredns", "aws-ebs-csi-driver")

EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


@dataclass(frozen=True)
class ClusterAddonsArgs:
    cluster_name: pulumi.Input[str]
    versions: dict[str, str]  # add-on name -> version, e.g. {"coredns": "v1.12.4-eksbuild.1"}
    names: tuple[str, ...] = field(default=BEFORE_NODES)


class ClusterAddons(pulumi.ComponentResource):
    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:ClusterAddons", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.addons: dict[str, aws.eks.Addon] = {}
        for addon in args.names:
            associations, permissions = None, []
            if addon == "aws-ebs-csi-driver":
                role = PodIdentityRole(
                    "ebs-csi",
                    PodIdentityRoleArgs(
                        cluster_name=args.cluster_name,
                        namespace="kube-system",
                        service_account="ebs-csi-controller-sa",
                        managed_policy_arns=[EBS_CSI_POLICY],
                        associate=False,
                    ),
                    opts=child,
                )
                associations = [
                    aws.eks.AddonPodIdentityAssociationArgs(role_arn=role.role_arn, service_account="ebs-csi-controller-sa")
                ]
                # The role with its policy attached, not only its ARN: the first volumes (Prometheus, Grafana) are
                # provisioned as soon as the driver runs.
                permissions = [role]
            # The VPC CNI enforces NetworkPolicies only when asked to; serving and the router rely on them.
            configuration = json.dumps({"enableNetworkPolicy": "true"}) if addon == "vpc-cni" else None
            self.addons[addon] = aws.eks.Addon(
                addon,
                cluster_name=args.cluster_name,
                addon_name=addon,
                addon_version=args.versions[addon],
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="PRESERVE",
                pod_identity_associations=associations,
                configuration_values=configuration,
                opts=pulumi.ResourceOptions(parent=self, depends_on=permissions),
            )
        self.register_outputs({})
