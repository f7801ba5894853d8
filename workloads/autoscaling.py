"""KEDA: scales workloads on Prometheus queries (queue depth, KV-cache use) instead of CPU."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .monitoring import SCRAPE_LABELS

CHART_REPOSITORY = "https://kedacore.github.io/charts"
NAMESPACE = "keda"
RELEASE_NAME = "keda"
# 2.21.0 is reported to fix CVE-2026-77524 (keda-operator leaks its token through a Vault TriggerAuthentication) but
# cannot be read here; see docs/versions.md for the exposure and the upgrade path.
CHART_VERSION = "2.20.2"


@dataclass(frozen=True)
class KedaArgs:
    k8s_provider: k8s.Provider
    system_node_selector: dict[str, str]
    version: str = CHART_VERSION
    # Install after these (the monitoring release): the chart renders ServiceMonitors, and Helm fails on
    # a kind whose CRD is not there yet.
    depends_on: Sequence[pulumi.Resource] = ()


class Keda(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:Keda", name, None, opts)

        # Metrics of the operator (scaling loops, scaler errors) and of the metrics API server (what the HPA
        # is served); keys checked against kedacore/charts keda/values.yaml at v2.20.2.
        service_monitor = {"enabled": True, "additionalLabels": dict(SCRAPE_LABELS)}
        self.release = k8s.helm.v3.Release(
            name,
            name=RELEASE_NAME,
            chart="keda",
            version=args.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=NAMESPACE,
            create_namespace=True,
            values={
                # One selector for the operator, the metrics server and the webhooks: they are controllers,
                # so they run on the always-on CPU nodes (the chart adds kubernetes.io/os itself).
                "nodeSelector": dict(args.system_node_selector),
                # Explicit, though the chart's default: no namespace admin gets rights on keda.sh objects (the way
                # into CVE-2026-77524 on <= 2.20.2 is creating a TriggerAuthentication).
                "rbac": {"aggregateToDefaultRoles": False},
                "prometheus": {
                    "operator": {"enabled": True, "serviceMonitor": service_monitor},
                    "metricServer": {"enabled": True, "serviceMonitor": service_monitor},
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=list(args.depends_on)),
        )

        self.register_outputs({"release": self.release.name})
