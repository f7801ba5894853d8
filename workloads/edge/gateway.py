"""The Gateway: the public NLB, HTTPS on the configured host name, and plain HTTP that only redirects."""

from __future__ import annotations

import math

import pulumi
import pulumi_kubernetes as k8s

from .args import EdgeArgs
from .common import GATEWAY_NAME, GRAFANA_LISTENER, HTTP_LISTENER, HTTPS_LISTENER, NAMESPACE, k8s_opts, metadata
from .nginx_gateway import GATEWAY_CLASS

GATEWAY_API = "gateway.networking.k8s.io/v1"
TLS_SECRET = "edge-tls"
GRAFANA_TLS_SECRET = "grafana-tls"

# NGF copies these onto the data-plane Service it creates for this Gateway (the chart has no Service annotations).
NLB_ANNOTATIONS: dict[str, str] = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    # Pods as targets: no extra node hop, and the target group follows the data plane across nodes.
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    # The controller's default scheme is internal.
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    # IP targets see the NLB's address unless this is on; per-client rate limits key on the client's.
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true",
}
# An NLB drops a TCP flow idle for 350 s by default: a non-streamed answer (or a fallback) that takes longer than
# that would be cut before NGINX's own read timeout; the listener waits as long as NGINX does (60 to 6000 s).
HTTPS_IDLE_TIMEOUT_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443"


def nlb_annotations(read_timeout_seconds: float) -> dict[str, str]:
    idle = min(6000, max(60, math.ceil(read_timeout_seconds)))
    return {**NLB_ANNOTATIONS, HTTPS_IDLE_TIMEOUT_ANNOTATION: f"tcp.idle_timeout.seconds={idle}"}


def gateway(
    name: str, args: EdgeArgs, parent: pulumi.Resource, nginx_gateway: pulumi.Resource, issuer_name: str,
    issuer: pulumi.Resource,
) -> k8s.apiextensions.CustomResource:
    hostname = args.edge.hostname
    same_namespace = {"namespaces": {"from": "Same"}}
    # Grafana on a host name of its own: a listener of its own, so its certificate is its own too.
    extra_listeners = [{
        "name": GRAFANA_LISTENER,
        "port": 443,
        "protocol": "HTTPS",
        "hostname": args.grafana.hostname,
        "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": GRAFANA_TLS_SECRET}]},
        "allowedRoutes": same_namespace,
    }] if args.grafana else []
    edge = k8s.apiextensions.CustomResource(
        f"{name}-gateway",
        api_version=GATEWAY_API,
        kind="Gateway",
        # cert-manager's gateway-shim issues TLS_SECRET for every listener hostname from this issuer.
        metadata=metadata(GATEWAY_NAME, NAMESPACE, args, annotations={"cert-manager.io/cluster-issuer": issuer_name}),
        spec={
            "gatewayClassName": GATEWAY_CLASS,
            "infrastructure": {"annotations": nlb_annotations(args.edge.read_timeout_seconds)},
            "listeners": [
                {
                    "name": HTTPS_LISTENER,
                    "port": 443,
                    "protocol": "HTTPS",
                    "hostname": hostname,
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]},
                    "allowedRoutes": same_namespace,
                },
                {
                    "name": HTTP_LISTENER,
                    "port": 80,
                    "protocol": "HTTP",
                    "hostname": hostname,
                    "allowedRoutes": same_namespace,
                },
                *extra_listeners,
            ],
        },
        opts=k8s_opts(parent, args, nginx_gateway, issuer),
    )
    k8s.apiextensions.CustomResource(
        f"{name}-https-redirect",
        api_version=GATEWAY_API,
        kind="HTTPRoute",
        metadata=metadata("edge-https-redirect", NAMESPACE, args),
        spec={
            "parentRefs": [{"name": GATEWAY_NAME, "sectionName": HTTP_LISTENER}],
            "hostnames": [hostname],
            "rules": [
                {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
            ],
        },
        opts=k8s_opts(parent, args, edge),
    )
    return edge
