"""The API route: /v1 to the LLM router, and the grant that lets it cross into the router's namespace.

The edge sends nothing to vLLM: shadowing happens in the router, which knows both the request and OpenAI's answer
(workloads/router/hooks/llm_platform_shadow.py)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .args import BackendRef, EdgeArgs
from .common import GATEWAY_NAME, GRAFANA_LISTENER, HTTPS_LISTENER, NAMESPACE, k8s_opts, metadata
from .gateway import GATEWAY_API

ROUTE_NAME = "llm-api"
GRAFANA_ROUTE = "grafana"
# Grafana's login is the only guard on its host name: slow password guessing down per client address.
GRAFANA_RATE_LIMIT = {"rate": "10r/s", "burst": 50}


def llm_api_route(
    name: str, args: EdgeArgs, parent: pulumi.Resource, gateway: pulumi.Resource
) -> k8s.apiextensions.CustomResource:
    rule = {
        "matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}],
        "backendRefs": [_backend(args.router)],
    }
    grants = [_reference_grant(name, args, parent, args.router, gateway)] if args.router.namespace != NAMESPACE else []
    return k8s.apiextensions.CustomResource(
        f"{name}-{ROUTE_NAME}",
        api_version=GATEWAY_API,
        kind="HTTPRoute",
        metadata=metadata(ROUTE_NAME, NAMESPACE, args),
        spec={
            "parentRefs": [{"name": GATEWAY_NAME, "sectionName": HTTPS_LISTENER}],
            "hostnames": [args.edge.hostname],
            "rules": [rule],
        },
        opts=k8s_opts(parent, args, gateway, *grants),
    )


def _backend(ref: BackendRef) -> dict:
    return {"kind": "Service", "name": ref.name, "namespace": ref.namespace, "port": ref.port}


def _reference_grant(
    name: str, args: EdgeArgs, parent: pulumi.Resource, backend: BackendRef, gateway: pulumi.Resource
) -> k8s.apiextensions.CustomResource:
    """One grant per Service, naming it: the route's namespace may reach that Service and nothing else there."""
    grant_name = f"{NAMESPACE}-to-{backend.name}"
    return k8s.apiextensions.CustomResource(
        f"{name}-grant-{backend.namespace}-{backend.name}",
        api_version=GATEWAY_API,
        kind="ReferenceGrant",
        metadata=metadata(grant_name, backend.namespace, args),
        spec={
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": NAMESPACE}],
            "to": [{"group": "", "kind": "Service", "name": backend.name}],
        },
        opts=k8s_opts(parent, args, gateway, *args.backend_namespaces),
    )


def grafana_route(name: str, args: EdgeArgs, parent: pulumi.Resource, gateway: pulumi.Resource) -> list[k8s.apiextensions.CustomResource]:
    """Grafana on its own host name, behind its own login (no anonymous access), with a per-client rate limit."""
    grafana = args.grafana
    assert grafana is not None
    grant = _reference_grant(name, args, parent, grafana.backend, gateway)
    route = k8s.apiextensions.CustomResource(
        f"{name}-{GRAFANA_ROUTE}",
        api_version=GATEWAY_API,
        kind="HTTPRoute",
        metadata=metadata(GRAFANA_ROUTE, NAMESPACE, args),
        spec={
            "parentRefs": [{"name": GATEWAY_NAME, "sectionName": GRAFANA_LISTENER}],
            "hostnames": [grafana.hostname],
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [_backend(grafana.backend)]}],
        },
        opts=k8s_opts(parent, args, gateway, grant),
    )
    limit = k8s.apiextensions.CustomResource(
        f"{name}-{GRAFANA_ROUTE}-rate-limit",
        api_version="gateway.nginx.org/v1alpha1",
        kind="RateLimitPolicy",
        metadata=metadata(f"{GRAFANA_ROUTE}-rate-limit", NAMESPACE, args),
        spec={
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": GRAFANA_ROUTE}],
            "rateLimit": {"local": {"rules": [{"key": "$binary_remote_addr", **GRAFANA_RATE_LIMIT, "noDelay": True}]},
                          "rejectCode": 429},
        },
        opts=k8s_opts(parent, args, route),
    )
    return [grant, route, limit]
