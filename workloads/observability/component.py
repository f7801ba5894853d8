"""What the platform adds once the monitoring release (and its CRDs) is up: rules, dashboards, logs, scrape targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from infra.log_storage import LogStorage, LogStorageArgs
from stackconfig.model import LokiConfig

from ..monitoring import NAMESPACE as MONITORING_NAMESPACE
from ..monitoring import SCRAPE_LABELS, STORAGE_CLASS
from ..pod_access import service_monitor
from .grafana import dashboard_config_maps
from .logs import (
    ALLOY_CHART_REPOSITORY, ALLOY_CHART_VERSION, ALLOY_RELEASE, LOKI_CHART_REPOSITORY, LOKI_CHART_VERSION, LOKI_RELEASE,
    LOKI_SERVICE_ACCOUNT, NAMESPACE as LOGGING_NAMESPACE, LokiStorage, alloy_values, loki_values,
)
from .rules import RuleParameters, render_rule_groups

RULES_NAME = "llm-platform"
# Karpenter's chart renders its ServiceMonitor only if the CRD exists when it installs, and Karpenter installs before
# Prometheus; its Service (kube-system/karpenter, port http-metrics) is there either way.
KARPENTER_NAMESPACE = "kube-system"
KARPENTER_SERVICE_LABELS = {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}


@dataclass(frozen=True)
class ObservabilityArgs:
    k8s_provider: k8s.Provider
    cluster_name: pulumi.Input[str]  # for Pod Identity
    cluster_label: str  # the `cluster` label on every log line
    region: str
    system_node_selector: dict[str, str]
    loki: LokiConfig
    rules: RuleParameters
    dashboards: dict[str, dict[str, Any]]  # file stem -> dashboard JSON


class Observability(pulumi.ComponentResource):
    loki_release: k8s.helm.v3.Release
    log_storage: Optional[LogStorage]

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:Observability", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        node_selector = {"kubernetes.io/os": "linux", **args.system_node_selector}

        k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": RULES_NAME, "namespace": MONITORING_NAMESPACE, "labels": dict(SCRAPE_LABELS)},
            spec={"groups": render_rule_groups(args.rules)},
            opts=k8s_opts,
        )
        dashboard_config_maps(f"{name}-dashboard", MONITORING_NAMESPACE, k8s_opts, args.dashboards)
        service_monitor(
            f"{name}-karpenter-metrics", name="karpenter", namespace=KARPENTER_NAMESPACE,
            service_labels=KARPENTER_SERVICE_LABELS, port_name="http-metrics", interval="30s", opts=k8s_opts,
        )

        # Declared, not left to Helm: `pulumi destroy` then waits for Loki's volumes to go with the namespace.
        namespace = k8s.core.v1.Namespace(f"{name}-logging", metadata={"name": LOGGING_NAMESPACE}, opts=k8s_opts)
        loki_waits_for: list[pulumi.Resource] = [namespace]
        s3: Optional[LokiStorage] = None
        self.log_storage = None
        if args.loki.deployment_mode == "SimpleScalable":
            # Its Pod Identity association is among its children: Loki's pods start with credentials.
            self.log_storage = LogStorage(
                f"{name}-logs",
                LogStorageArgs(cluster_name=args.cluster_name, namespace=LOGGING_NAMESPACE,
                               service_account=LOKI_SERVICE_ACCOUNT, expiration_days=args.loki.bucket_expiration_days),
                opts=pulumi.ResourceOptions(parent=self),
            )
            s3 = LokiStorage(args.region, self.log_storage.chunks_bucket, self.log_storage.ruler_bucket)
            loki_waits_for.append(self.log_storage)
        self.loki_release = k8s.helm.v3.Release(
            f"{name}-loki",
            name=LOKI_RELEASE,
            chart="loki",
            version=LOKI_CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=LOKI_CHART_REPOSITORY),
            namespace=LOGGING_NAMESPACE,
            values=loki_values(args.loki, node_selector, STORAGE_CLASS, SCRAPE_LABELS, s3),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=loki_waits_for),
        )
        k8s.helm.v3.Release(
            f"{name}-alloy",
            name=ALLOY_RELEASE,
            chart="alloy",
            version=ALLOY_CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=ALLOY_CHART_REPOSITORY),
            namespace=LOGGING_NAMESPACE,
            values=alloy_values(args.cluster_label, SCRAPE_LABELS),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[namespace, self.loki_release]),
        )
        self.register_outputs({"lokiRelease": self.loki_release.name})
