"""The EKS control plane: API authentication, envelope encryption, logs and a restricted public endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    version: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Input[str]]
    public_subnet_ids: list[pulumi.Input[str]]
    public_access_cidrs: list[str]
    admin_principals: list[str]
    log_types: list[str]
    log_retention_days: int


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    kubeconfig_json: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        secrets_key = aws.kms.Key(
            f"{name}-secrets",
            description=f"Envelope encryption of Kubernetes Secrets in {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=child,
        )
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{args.cluster_name}-secrets", target_key_id=secrets_key.key_id, opts=child)
        # EKS writes control-plane logs to this group; created first, it has a retention (and the stack's tags)
        # instead of the never-expiring group EKS would make, and `pulumi destroy` removes it.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            opts=child,
        )

        access_entries = {
            f"admin-{index}": eks.AccessEntryArgs(
                principal_arn=arn,
                access_policies={
                    "cluster-admin": eks.AccessPolicyAssociationArgs(
                        policy_arn=CLUSTER_ADMIN_POLICY,
                        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    )
                },
            )
            for index, arn in enumerate(args.admin_principals)
        }

        # Add-ons are created by ClusterAddons at pinned versions, so pulumi-eks must not install its own copies.
        cluster = eks.Cluster(
            name,
            name=args.cluster_name,
            version=args.version,
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            public_subnet_ids=args.public_subnet_ids,
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=True,
            public_access_cidrs=args.public_access_cidrs,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries,
            encryption_config_key_arn=secrets_key.arn,
            enabled_cluster_log_types=args.log_types,
            # Every workload gets AWS credentials through EKS Pod Identity; no IRSA, so no OIDC provider.
            create_oidc_provider=False,
            # pulumi-eks defaults to EXTENDED support, which bills extra once a version leaves standard support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            skip_default_node_group=True,
            skip_default_security_groups=True,
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

        self.name = cluster.eks_cluster.name
        self.kubeconfig_json = pulumi.Output.secret(cluster.kubeconfig_json)
        self.cluster_security_group_id = cluster.cluster_security_group_id
        self.register_outputs({"name": self.name, "clusterSecurityGroupId": self.cluster_security_group_id})
