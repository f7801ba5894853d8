"""Names and options every part of the edge shares."""

from __future__ import annotations

import pulumi

from .args import EdgeArgs

# NGINX Gateway Fabric's namespace also holds the Gateway, its routes and their policies: the TLS
# Secret cert-manager writes must sit next to the Gateway, and routes attach only from this namespace.
NAMESPACE = "nginx-gateway"
GATEWAY_NAME = "edge"
HTTPS_LISTENER = "https"
# The AWS Load Balancer Controller injects a readiness gate into pods of labelled namespaces: a data-plane pod is
# Ready only once the NLB sees it healthy, so a rollout never leaves the NLB without targets.
READINESS_GATE_LABEL = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
HTTP_LISTENER = "http"
GRAFANA_LISTENER = "grafana"


def k8s_opts(parent: pulumi.Resource, args: EdgeArgs, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, provider=args.k8s_provider, depends_on=list(depends_on))


def metadata(name: str, namespace: str | None, args: EdgeArgs, **extra) -> dict:
    meta = {
        "name": name,
        "labels": {"app.kubernetes.io/part-of": "llm-platform", "llm-platform/phase": args.phase},
        **extra,
    }
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def node_selector(args: EdgeArgs) -> dict[str, str]:
    return {"kubernetes.io/os": "linux", **args.system_node_selector}

