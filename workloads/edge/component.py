"""The Edge component: reads top to bottom in install order."""

from __future__ import annotations

import pulumi

from .args import EdgeArgs
from .cert_manager import cert_manager
from .common import GATEWAY_NAME
from .gateway import gateway
from .gateway_api import gateway_api_crds
from .load_balancer_controller import load_balancer_controller
from .nginx_gateway import edge_namespace, nginx_gateway_fabric, nginx_gateway_monitors
from .policies import edge_policies
from .routes import grafana_route, llm_api_route


class Edge(pulumi.ComponentResource):
    hostname: pulumi.Output[str]
    gateway_name: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:Edge", name, None, opts)

        lbc = load_balancer_controller(name, args, self)
        namespace = edge_namespace(name, args, self, load_balancer_controller=lbc)
        crds = gateway_api_crds(name, args, self)
        certs = cert_manager(name, args, self, gateway_api=crds)
        ngf = nginx_gateway_fabric(name, args, self, gateway_api=crds, namespace=namespace)
        nginx_gateway_monitors(name, args, self, ngf)
        edge = gateway(name, args, self, ngf, issuer_name=certs.issuer_name, issuer=certs.issuer)
        route = llm_api_route(name, args, self, edge)
        edge_policies(name, args, self, edge, route)
        if args.grafana:
            grafana_route(name, args, self, edge)

        self.hostname = pulumi.Output.from_input(args.edge.hostname)
        # Derived from the Gateway so that consumers wait until it exists.
        self.gateway_name = edge.id.apply(lambda _: GATEWAY_NAME)
        self.register_outputs({"hostname": self.hostname, "gatewayName": self.gateway_name})
