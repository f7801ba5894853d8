"""AWS Load Balancer Controller: provisions the NLB in front of the NGINX data plane."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.pod_identity import PodIdentityRole, PodIdentityRoleArgs, load_policy

from ..monitoring import SCRAPE_LABELS
from .args import EdgeArgs
from .common import node_selector

CHART = "aws-load-balancer-controller"
CHART_VERSION = "3.5.0"
CHART_REPOSITORY = "https://aws.github.io/eks-charts"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"


def load_balancer_controller(name: str, args: EdgeArgs, parent: pulumi.Resource) -> k8s.helm.v3.Release:
    role = PodIdentityRole(
        f"{name}-lbc",
        PodIdentityRoleArgs(
            cluster_name=args.cluster_name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            inline_policy=load_policy("aws-load-balancer-controller.json"),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return k8s.helm.v3.Release(
        f"{name}-lbc",
        name=CHART,
        chart=CHART,
        version=CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
        namespace=NAMESPACE,
        values={
            "clusterName": args.cluster_name,
            # Explicit region and VPC: the controller would otherwise ask IMDS, which pods cannot reach (hop limit 1).
            "region": args.region,
            "vpcId": args.vpc_id,
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
            "replicaCount": 2,
            "podDisruptionBudget": {"maxUnavailable": 1},
            # The NLB bills to the stack like everything else.
            "defaultTags": dict(args.cost_tags),
            "nodeSelector": node_selector(args),
            # Reconcile and AWS API metrics; the chart creates the metrics Service only with this on.
            "serviceMonitor": {"enabled": True, "additionalLabels": dict(SCRAPE_LABELS)},
        },
        # The association must exist before the pods start, or they run without AWS credentials.
        opts=pulumi.ResourceOptions(parent=parent, provider=args.k8s_provider, depends_on=[role]),
    )
