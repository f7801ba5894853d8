"""An IAM role that one Kubernetes service account assumes through EKS Pod Identity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_aws as aws

POLICY_DIR = Path(__file__).with_name("policies")

# Pod Identity needs sts:TagSession besides AssumeRole: the agent tags sessions with cluster, namespace and pod.
_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
)


def load_policy(file_name: str, **substitutions: pulumi.Input[str]) -> pulumi.Output[str]:
    """A policy document from infra/policies/, with its ${Name} placeholders filled in."""
    template = (POLICY_DIR / file_name).read_text()

    def fill(values: dict[str, str]) -> str:
        text = template
        for key, value in values.items():
            text = text.replace("${" + key + "}", value)
        return json.dumps(json.loads(text))

    return pulumi.Output.all(**substitutions).apply(lambda values: fill(dict(values or {})))


@dataclass(frozen=True)
class PodIdentityRoleArgs:
    cluster_name: pulumi.Input[str]
    namespace: str
    service_account: str
    managed_policy_arns: list[str] = field(default_factory=list)
    inline_policy: Optional[pulumi.Input[str]] = None
    # Add-ons managed by EKS take the role in their own pod_identity_associations instead.
    associate: bool = True


class PodIdentityRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:PodIdentityRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(name, assume_role_policy=_TRUST_POLICY, opts=child)
        for index, arn in enumerate(args.managed_policy_arns):
            aws.iam.RolePolicyAttachment(f"{name}-managed-{index}", role=role.name, policy_arn=arn, opts=child)
        if args.inline_policy is not None:
            aws.iam.RolePolicy(f"{name}-inline", role=role.id, policy=args.inline_policy, opts=child)
        if args.associate:
            aws.eks.PodIdentityAssociation(
                name,
                cluster_name=args.cluster_name,
                namespace=args.namespace,
                service_account=args.service_account,
                role_arn=role.arn,
                opts=child,
            )
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"roleArn": self.role_arn})
