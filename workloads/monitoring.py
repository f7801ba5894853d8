"""The cluster's one Prometheus, Alertmanager and Grafana: kube-prometheus-stack, and the encrypted gp3 StorageClass
their volumes use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .observability.alerting import AlertingArgs, alertmanager_values
from .observability.grafana import GrafanaArgs, admin_secret, grafana_values

CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
CHART_VERSION = "88.5.3"
NAMESPACE = "monitoring"
# Fixed by docs/architecture.md ("Metrics"): the release name is in every Service name, so KEDA triggers,
# dashboards and alert rules all find Prometheus at PROMETHEUS_URL.
RELEASE_NAME = "kube-prometheus-stack"
PROMETHEUS_URL = f"http://{RELEASE_NAME}-prometheus.{NAMESPACE}.svc:9090"
# Prometheus picks up every ServiceMonitor (selectors are open); the label says which stack it is for.
SCRAPE_LABELS = {"release": RELEASE_NAME}
STORAGE_CLASS = "gp3"


@dataclass(frozen=True)
class MonitoringArgs:
    k8s_provider: k8s.Provider
    system_node_selector: dict[str, str]
    retention: str  # Prometheus duration, e.g. "15d"
    storage_gib: int
    grafana: GrafanaArgs
    alerting: AlertingArgs
    # Volumes the EBS CSI driver creates bill like any other; the provider's default tags never reach them.
    cost_tags: dict[str, str] = field(default_factory=dict)


class Monitoring(pulumi.ComponentResource):
    prometheus_url: str
    storage_class: k8s.storage.v1.StorageClass
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:Monitoring", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)

        # The EBS CSI add-on installs the driver but no StorageClass for it; gp3 is cheaper than gp2 at the
        # same size and its IOPS do not depend on size. WaitForFirstConsumer creates the volume in the AZ the
        # pod is scheduled to (EBS volumes are zonal).
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={"name": STORAGE_CLASS},
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", **volume_tag_parameters(args.cost_tags)},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,  # storage_gib can grow with a config change, without losing data
            opts=k8s_opts,
        )

        # Declared, not left to Helm: on `pulumi destroy` its deletion waits until Prometheus's volume claim is
        # gone, while the EBS CSI driver (which this component waits for) is still there to delete the volume.
        namespace = k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": NAMESPACE}, opts=k8s_opts)
        grafana_admin = admin_secret(
            f"{name}-grafana-admin", NAMESPACE, args.grafana, pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[namespace])
        )
        self.release = k8s.helm.v3.Release(
            name,
            name=RELEASE_NAME,
            chart="kube-prometheus-stack",
            version=CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=NAMESPACE,
            values=monitoring_values(args),
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.k8s_provider, depends_on=[namespace, self.storage_class, grafana_admin]
            ),
        )

        self.prometheus_url = PROMETHEUS_URL
        self.register_outputs({"prometheusUrl": PROMETHEUS_URL, "release": self.release.name})


def volume_tag_parameters(tags: dict[str, str]) -> dict[str, str]:
    """The EBS CSI driver's StorageClass parameters for tags on every volume it creates (tagSpecification_<n>)."""
    return {f"tagSpecification_{index}": f"{key}={value}" for index, (key, value) in enumerate(sorted(tags.items()), start=1)}


def monitoring_values(args: MonitoringArgs) -> dict[str, Any]:
    """kube-prometheus-stack values (keys checked against the chart's values.yaml at kube-prometheus-stack-88.5.3)."""
    # Monitoring belongs on the always-on CPU nodes (docs/architecture.md, "GPU capacity").
    system = dict(args.system_node_selector)
    return {
        "prometheus": {
            "prometheusSpec": {
                "retention": args.retention,
                # The claim goes with the Prometheus object, so a teardown leaves no volume behind.
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
                # Prometheus stops ingesting when its disk is full; dropping the oldest blocks first keeps it up.
                "retentionSize": f"{max(1, args.storage_gib * 85 // 100)}GB",
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": STORAGE_CLASS,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{args.storage_gib}Gi"}},
                        }
                    }
                },
                # By default Prometheus only selects monitors and rules labelled with this release; every other
                # component (GPU operator, KEDA, vLLM, edge, router) ships its own, so select them all.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "nodeSelector": system,
            }
        },
        "alertmanager": alertmanager_values(args.alerting, system, STORAGE_CLASS),
        "prometheusOperator": {
            "nodeSelector": system,
            "admissionWebhooks": {"patch": {"nodeSelector": system}},
        },
        "kube-state-metrics": {"nodeSelector": system},
        "grafana": grafana_values(args.grafana, system),
        # EKS runs the control plane: the scheduler, controller manager and etcd cannot be scraped, and kube-proxy
        # serves metrics on localhost only. Scraping them would only keep their "down" alerts firing.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
    }
