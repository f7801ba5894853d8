"""The system node group: on-demand CPU nodes for Karpenter, CoreDNS, the edge, the router and monitoring."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .pod_identity import load_policy

NODE_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)


def node_role(name: str, parent: pulumi.Resource) -> aws.iam.Role:
    """An EC2 node role with the policies every EKS node needs."""
    role = aws.iam.Role(
        name,
        assume_role_policy=load_policy("ec2-trust.json"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    for index, arn in enumerate(NODE_MANAGED_POLICIES):
        aws.iam.RolePolicyAttachment(
            f"{name}-{index}", role=role.name, policy_arn=arn, opts=pulumi.ResourceOptions(parent=role)
        )
    return role


@dataclass(frozen=True)
class SystemNodeGroupArgs:
    cluster_name: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    instance_types: list[str]
    min_size: int
    max_size: int
    desired_size: int
    disk_size_gib: int
    labels: dict[str, str]
    # The provider's default tags stop at the launch template: instances and volumes the node group launches
    # from it only carry what its tag specifications say, and they are what bills.
    tags: dict[str, str] = field(default_factory=dict)


class SystemNodeGroup(pulumi.ComponentResource):
    node_group: aws.eks.NodeGroup

    def __init__(self, name: str, args: SystemNodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:SystemNodeGroup", name, None, opts)
        role = node_role(f"{name}-node", self)
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=dict(args.tags))
                for kind in ("instance", "volume", "network-interface")
            ],
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.disk_size_gib, volume_type="gp3", encrypted="true", delete_on_termination="true"
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.node_group = aws.eks.NodeGroup(
            name,
            cluster_name=args.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=args.subnet_ids,
            instance_types=args.instance_types,
            capacity_type="ON_DEMAND",
            ami_type="AL2023_x86_64_STANDARD",
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.min_size, max_size=args.max_size, desired_size=args.desired_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=launch_template.id, version=launch_template.latest_version.apply(str)),
            labels=args.labels,
            # desiredSize belongs to whatever scales the group once it exists; Pulumi only sets it at creation.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["scalingConfig.desiredSize"]),
        )
        self.register_outputs({"nodeGroupName": self.node_group.node_group_name})
