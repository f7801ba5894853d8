"""NGINX Gateway Fabric policies: request size and client keep-alive, SSE-friendly proxying, rate limits, upstream keep-alive.

Each policy lives in its target's namespace (targets carry no namespace). HTTPRoute ``timeouts`` are not used:
NGF 2.6.7 ignores them, so the read timeout for streamed answers is set here instead.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .args import EdgeArgs
from .common import GATEWAY_NAME, NAMESPACE, k8s_opts, metadata
from .routes import ROUTE_NAME

NGF_API = "gateway.nginx.org/v1alpha1"


def edge_policies(
    name: str, args: EdgeArgs, parent: pulumi.Resource, gateway: pulumi.Resource, route: pulumi.Resource
) -> list[k8s.apiextensions.CustomResource]:
    edge = args.edge
    on_route = [_target("HTTPRoute", ROUTE_NAME)]

    def policy(kind: str, policy_name: str, namespace: str, spec: dict, after: pulumi.Resource):
        in_backend_namespace = namespace != NAMESPACE
        return k8s.apiextensions.CustomResource(
            f"{name}-{policy_name}",
            api_version=NGF_API,
            kind=kind,
            metadata=metadata(policy_name, namespace, args),
            spec=spec,
            opts=k8s_opts(parent, args, after, *(args.backend_namespaces if in_backend_namespace else ())),
        )

    return [
        policy(
            "ClientSettingsPolicy",
            "edge-client-settings",
            NAMESPACE,
            {
                "targetRef": _target("Gateway", GATEWAY_NAME),  # singular for this kind
                "body": {"maxSize": edge.max_body_size, "timeout": "60s"},
                "keepAlive": {"requests": 1000, "time": "1h", "timeout": {"server": "75s"}},
            },
            gateway,
        ),
        policy(
            "ProxySettingsPolicy",
            "llm-api-streaming",
            NAMESPACE,
            {
                "targetRefs": on_route,
                # Streamed (SSE) answers: tokens must reach the client as they come, and long generations
                # must not hit the read timeout.
                "timeout": {"read": edge.read_timeout},
                "buffering": {"disable": True},
            },
            route,
        ),
        policy(
            "RateLimitPolicy",
            "llm-api-rate-limit",
            NAMESPACE,
            {
                "targetRefs": on_route,
                "rateLimit": {
                    "local": {
                        "rules": [
                            {
                                "key": "$binary_remote_addr",
                                "rate": edge.rate_limit_per_client,
                                "burst": edge.rate_limit_burst,
                                # Within the burst, answer at once: queueing to smooth the rate would only add latency.
                                "noDelay": True,
                            }
                        ]
                    },
                    "rejectCode": 429,
                },
            },
            route,
        ),
        policy(
            "UpstreamSettingsPolicy",
            "llm-router-upstream",
            args.router.namespace,
            {
                "targetRefs": [_target("Service", args.router.name, group="")],
                # Reused connections to the router: no TCP setup per request under load.
                "keepAlive": {"connections": 32, "requests": 1000, "time": "1h", "timeout": "60s"},
            },
            route,
        ),
    ]


def _target(kind: str, name: str, group: str = "gateway.networking.k8s.io") -> dict[str, str]:
    return {"group": group, "kind": kind, "name": name}
