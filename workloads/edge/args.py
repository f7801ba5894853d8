"""What the edge needs from the rest of the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from stackconfig.model import EdgeConfig


@dataclass(frozen=True)
class BackendRef:
    """A Kubernetes Service the edge sends requests to."""

    name: str
    namespace: str
    port: int


@dataclass(frozen=True)
class PublicService:
    """A Service other than the API that the edge serves on a host name of its own (HTTPS, its own certificate)."""

    hostname: str
    backend: BackendRef


@dataclass(frozen=True)
class EdgeArgs:
    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    edge: EdgeConfig
    router: BackendRef
    system_node_selector: dict[str, str]
    k8s_provider: k8s.Provider
    phase: str
    # Tags for the NLB, its target groups and security groups, which the controller creates outside Pulumi.
    cost_tags: dict[str, str] = field(default_factory=dict)
    # The router's namespace: the grant and the upstream policy live there, so they wait for it, and nothing
    # else of the edge waits for the router.
    backend_namespaces: tuple[pulumi.Resource, ...] = ()
    # Grafana, where observability.grafana.hostname is set: behind Grafana's own login.
    grafana: Optional[PublicService] = None
