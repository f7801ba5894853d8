"""Karpenter's controller: node role, interruption queue and its EventBridge rules, Pod Identity, Helm releases."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from ..pod_identity import PodIdentityRole, PodIdentityRoleArgs, load_policy
from ..system_nodes import node_role

CHART_REPOSITORY = "oci://public.ecr.aws/karpenter"
NAMESPACE = "kube-system"  # API Priority and Fairness treats kube-system as critical
SERVICE_ACCOUNT = "karpenter"
INTERRUPTION_EVENTS = yaml.safe_load(Path(__file__).with_name("interruption-events.yaml").read_text())


@dataclass(frozen=True)
class KarpenterArgs:
    cluster_name: pulumi.Input[str]
    region: str
    version: str
    system_node_selector: dict[str, str]
    k8s_provider: k8s.Provider


class Karpenter(pulumi.ComponentResource):
    node_role_name: pulumi.Output[str]
    interruption_queue_name: pulumi.Output[str]
    crds: k8s.helm.v3.Release
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:Karpenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Nodes Karpenter launches join through an EC2_LINUX access entry (no aws-auth ConfigMap in API mode).
        nodes = node_role(f"{name}-node", self)
        aws.eks.AccessEntry(
            f"{name}-node", cluster_name=args.cluster_name, principal_arn=nodes.arn, type="EC2_LINUX", opts=child
        )

        # Messages are only useful while the instance still exists: five minutes is plenty.
        queue = aws.sqs.Queue(
            f"{name}-interruptions", message_retention_seconds=300, sqs_managed_sse_enabled=True, opts=child
        )
        aws.sqs.QueuePolicy(
            f"{name}-interruptions",
            queue_url=queue.id,
            policy=load_policy("interruption-queue.json", QueueArn=queue.arn),
            opts=child,
        )
        for rule_name, pattern in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{rule_name}",
                description=f"Karpenter interruption handling: {rule_name}",
                event_pattern=json.dumps(pattern),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{rule_name}",
                rule=rule.name,
                target_id="KarpenterInterruptionQueue",
                arn=queue.arn,
                opts=pulumi.ResourceOptions(parent=rule),
            )

        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        controller = PodIdentityRole(
            f"{name}-controller",
            PodIdentityRoleArgs(
                cluster_name=args.cluster_name,
                namespace=NAMESPACE,
                service_account=SERVICE_ACCOUNT,
                inline_policy=load_policy(
                    "karpenter-controller.json",
                    Partition=partition.partition,
                    Region=args.region,
                    AccountId=caller.account_id,
                    ClusterName=args.cluster_name,
                    NodeRoleArn=nodes.arn,
                    QueueArn=queue.arn,
                ),
            ),
            opts=child,
        )

        helm_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        # CRDs from their own chart: Helm installs a chart's crds/ once and never upgrades them.
        self.crds = k8s.helm.v3.Release(
            f"{name}-crd",
            name="karpenter-crd",
            chart=f"{CHART_REPOSITORY}/karpenter-crd",
            version=args.version,
            namespace=NAMESPACE,
            opts=helm_opts,
        )
        self.release = k8s.helm.v3.Release(
            name,
            name="karpenter",
            chart=f"{CHART_REPOSITORY}/karpenter",
            version=args.version,
            namespace=NAMESPACE,
            skip_crds=True,
            values={
                "settings": {
                    "clusterName": args.cluster_name,
                    "interruptionQueue": queue.name,
                    "featureGates": {"reservedCapacity": True},
                },
                "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
                "replicas": 2,
                "nodeSelector": {"kubernetes.io/os": "linux", **args.system_node_selector},
                "controller": {
                    # Pod Identity hands out credentials, not a region, and without one Karpenter asks IMDS, which
                    # pods on the system nodes cannot reach (hop limit 1): the controller would exit at start.
                    "env": [{"name": "AWS_REGION", "value": args.region}],
                    "resources": {
                        "requests": {"cpu": "1", "memory": "1Gi"},
                        "limits": {"cpu": "1", "memory": "1Gi"},
                    }
                },
                "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[self.crds, controller]),
        )

        self.node_role_name = nodes.name
        self.interruption_queue_name = queue.name
        self.register_outputs({"interruptionQueue": queue.name, "nodeRole": nodes.name})
