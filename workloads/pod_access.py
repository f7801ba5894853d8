"""How a workload is reached: ingress only from named namespaces, and a ServiceMonitor or PodMonitor for Prometheus.

vLLM and the router declare both the same way; the label that the monitoring
release selects on lives in one place (workloads/monitoring.py).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .monitoring import SCRAPE_LABELS


def ingress_only_from(
    resource_name: str,
    *,
    name: str,
    namespace: str,
    pod_labels: dict[str, str],
    namespaces: list[str],
    port: int,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """Pods matching ``pod_labels`` accept TCP ``port`` from ``namespaces`` and nothing else; egress stays open."""
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata={"name": name, "namespace": namespace, "labels": pod_labels},
        spec={
            "podSelector": {"matchLabels": pod_labels},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": allowed}}}
                    for allowed in dict.fromkeys(namespaces)
                ],
                "ports": [{"protocol": "TCP", "port": port}],
            }],
        },
        opts=opts,
    )


def service_monitor(
    resource_name: str,
    *,
    name: str,
    namespace: str,
    service_labels: dict[str, str],
    port_name: str,
    interval: str,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """Prometheus scrapes ``/metrics`` on the named port of the Services matching ``service_labels``."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version="monitoring.coreos.com/v1",
        kind="ServiceMonitor",
        metadata={"name": name, "namespace": namespace, "labels": {**service_labels, **SCRAPE_LABELS}},
        spec={
            "selector": {"matchLabels": service_labels},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [{"port": port_name, "path": "/metrics", "interval": interval}],
        },
        opts=opts,
    )


def pod_monitor(
    resource_name: str,
    *,
    name: str,
    namespace: str,
    pod_labels: dict[str, str],
    port_name: str,
    interval: str,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """Prometheus scrapes ``/metrics`` on the named container port of the pods matching ``pod_labels`` (for pods
    whose metrics port is on no Service)."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version="monitoring.coreos.com/v1",
        kind="PodMonitor",
        metadata={"name": name, "namespace": namespace, "labels": dict(SCRAPE_LABELS)},
        spec={
            "selector": {"matchLabels": pod_labels},
            "namespaceSelector": {"matchNames": [namespace]},
            "podMetricsEndpoints": [{"port": port_name, "path": "/metrics", "interval": interval}],
        },
        opts=opts,
    )
