"""NGINX Gateway Fabric: the control plane, and the settings of the NGINX data plane it provisions per Gateway."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..pod_access import pod_monitor
from .args import EdgeArgs
from .common import GATEWAY_NAME, NAMESPACE, READINESS_GATE_LABEL, k8s_opts, node_selector

CHART = "oci://ghcr.io/nginx/charts/nginx-gateway-fabric"
CHART_VERSION = "2.6.7"
GATEWAY_CLASS = "nginx"
RELEASE_NAME = "ngf"
# Pod labels of the control plane (the chart's selector labels, nginxGateway.name unset) and of the data plane NGF
# provisions per Gateway (internal/controller/provisioner/objects.go at v2.6.7); both serve metrics on a container
# port named "metrics" that no Service exposes.
CONTROL_PLANE_POD_LABELS = {"app.kubernetes.io/name": "nginx-gateway-fabric", "app.kubernetes.io/instance": RELEASE_NAME}
DATA_PLANE_POD_LABELS = {"gateway.networking.k8s.io/gateway-name": GATEWAY_NAME}


def nginx_gateway_fabric(
    name: str,
    args: EdgeArgs,
    parent: pulumi.Resource,
    gateway_api: pulumi.Resource,
    namespace: pulumi.Resource,
) -> k8s.helm.v3.Release:
    selector = node_selector(args)
    return k8s.helm.v3.Release(
        f"{name}-ngf",
        name=RELEASE_NAME,
        chart=CHART,
        version=CHART_VERSION,
        namespace=NAMESPACE,
        # The chart's crds/ holds the gateway.nginx.org policy CRDs (Helm installs them once, never upgrades them).
        skip_crds=False,
        values={
            "nginxGateway": {
                "gatewayClassName": GATEWAY_CLASS,
                "replicas": 2,
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "nodeSelector": selector,
                "metrics": {"enable": True},
                "productTelemetry": {"enable": False},
            },
            "certGenerator": {"nodeSelector": selector},
            # Copied into the NginxProxy the GatewayClass references: every Gateway's data plane gets these.
            "nginx": {
                "replicas": args.edge.replicas,
                "container": {
                    "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
                },
                "pod": {"nodeSelector": selector},
                "service": {
                    "type": "LoadBalancer",
                    # Hands the Service to the AWS Load Balancer Controller instead of the in-tree CLB code.
                    "loadBalancerClass": "service.k8s.aws/nlb",
                    # The controller turns these into the NLB security group's inbound rules.
                    "loadBalancerSourceRanges": list(args.edge.allowed_cidrs),
                },
            },
        },
        # The namespace waits for the load balancer controller (see edge_namespace).
        opts=k8s_opts(parent, args, gateway_api, namespace),
    )


def edge_namespace(name: str, args: EdgeArgs, parent: pulumi.Resource, load_balancer_controller: pulumi.Resource) -> k8s.core.v1.Namespace:
    """NGF's namespace, where it also creates each Gateway's data plane and its LoadBalancer Service.

    It waits for the load balancer controller, so the controller's webhooks are up before any data-plane pod or
    Service exists; and on `pulumi destroy` it is deleted before the controller, its deletion lasting until the
    data-plane Service is gone, which is once the controller has deleted the NLB.
    """
    return k8s.core.v1.Namespace(
        f"{name}-ns",
        metadata={"name": NAMESPACE, "labels": {**READINESS_GATE_LABEL, "app.kubernetes.io/part-of": "llm-platform"}},
        opts=k8s_opts(parent, args, load_balancer_controller),
    )


def nginx_gateway_monitors(
    name: str, args: EdgeArgs, parent: pulumi.Resource, nginx_gateway: pulumi.Resource
) -> list[k8s.apiextensions.CustomResource]:
    """PodMonitors for the control plane (config reload batches) and the data plane (NGINX connections and
    requests, from the NGINX agent's Prometheus exporter)."""
    opts = k8s_opts(parent, args, nginx_gateway)
    return [
        pod_monitor(f"{name}-ngf-control-plane-metrics", name="ngf-control-plane", namespace=NAMESPACE,
                    pod_labels=CONTROL_PLANE_POD_LABELS, port_name="metrics", interval="30s", opts=opts),
        pod_monitor(f"{name}-ngf-data-plane-metrics", name="ngf-data-plane", namespace=NAMESPACE,
                    pod_labels=DATA_PLANE_POD_LABELS, port_name="metrics", interval="15s", opts=opts),
    ]
