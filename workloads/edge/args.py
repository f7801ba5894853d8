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
    # Already 0 when the kill switch is on: the edge does not know about phases or switches.
    mirror_percent: int
    router: BackendRef
    vllm: BackendRef
    system_node_selector: dict[str, str]
    k8s_provider: k8s.Provider
    phase: str
    # Tags for the NLB, its target groups and security groups, which the controller creates outside Pulumi.
    cost_tags: dict[str, str] = field(default_factory=dict)
    # The backends' namespaces: the grants and the upstream policy live there, so they wait for them, and
    # nothing else of the edge waits for the backends.
    backend_namespaces: tuple[pulumi.Resource, ...] = ()
    # Grafana, where observability.grafana.hostname is set: behind Grafana's own login.
    grafana: Optional[PublicService] = None

    def __post_init__(self) -> None:
        if not 0 <= self.mirror_percent <= 100:
            raise ValueError(f"mirror_percent {self.mirror_percent} is out of range; allowed: 0 to 100")
