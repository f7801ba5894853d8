"""Network: nothing accepts traffic from the whole internet except the edge's public listener.

The edge's listener is the NLB in front of NGINX Gateway Fabric: the AWS Load Balancer Controller builds
its security group from the data-plane Service's ``loadBalancerSourceRanges``, which the program sets
through the NGF release's values (``nginx.service``; config llm-platform:traffic.edge.allowedCidrs). That
one may be open; every security group the program declares, and every other LoadBalancer Service, may not.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .base import MANDATORY, is_kind, resource_policy
from .kube import HELM_TYPES, chart_name, object_name, release_name
from .props import get, is_map, items, known_items, scan

OPEN_V4, OPEN_V6 = "0.0.0.0/0", "::/0"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
is_service = is_kind("Service", group="")
# The edge listener: the NGINX Gateway Fabric data-plane Service, set through the chart's values here.
EDGE_CHART = "nginx-gateway-fabric"
EDGE_SERVICE_VALUES = ("nginx", "service")


def _ports(rule: Any) -> str:
    low, high = get(rule, "fromPort", default="?"), get(rule, "toPort", default="?")
    return f"port {low}" if low == high else f"ports {low}-{high}"


def _open_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    remedy = ("allow only the CIDRs or security groups that need it (the VPC CIDR for in-VPC clients); only the "
              "edge's NLB listener may face the internet")
    if args.resource_type == SECURITY_GROUP:
        for rule in items(get(args.props, "ingress")):
            opened = [c for c in known_items(get(rule, "cidrBlocks")) if c == OPEN_V4]
            opened += [c for c in known_items(get(rule, "ipv6CidrBlocks")) if c == OPEN_V6]
            if opened:
                report(f"security group {args.name} accepts {_ports(rule)} from {', '.join(opened)}; {remedy}")
    elif args.resource_type == SECURITY_GROUP_RULE:
        if get(args.props, "type") != "ingress":
            args.not_applicable("an egress rule")
        opened = [c for c in known_items(get(args.props, "cidrBlocks")) if c == OPEN_V4]
        opened += [c for c in known_items(get(args.props, "ipv6CidrBlocks")) if c == OPEN_V6]
        if opened:
            report(f"security group rule {args.name} accepts {_ports(args.props)} from {', '.join(opened)}; {remedy}")
    elif args.resource_type == INGRESS_RULE:
        opened = [c for c in (get(args.props, "cidrIpv4"), get(args.props, "cidrIpv6")) if c in (OPEN_V4, OPEN_V6)]
        if opened:
            report(f"ingress rule {args.name} accepts {_ports(args.props)} from {', '.join(opened)}; {remedy}")
    elif is_service(args.resource_type):
        spec = get(args.props, "spec")
        if get(spec, "type") == "LoadBalancer":
            problem = _open_load_balancer(spec)
            if problem:
                report(f"LoadBalancer Service {object_name(args.props)} {problem}; {remedy}")
    else:  # a Helm release
        edge = chart_name(args.props) == EDGE_CHART
        for path, value in scan(get(args.props, "values")):
            if not is_map(value) or get(value, "type") != "LoadBalancer":
                continue
            if edge and tuple(path) == EDGE_SERVICE_VALUES:
                continue  # the edge's public listener
            problem = _open_load_balancer(value)
            if problem:
                report(f"Helm release {release_name(args.props)}: values {'.'.join(map(str, path))} makes a "
                       f"LoadBalancer Service that {problem}; {remedy}")


def _open_load_balancer(service_spec: Any) -> str:
    ranges = [str(r) for r in known_items(get(service_spec, "loadBalancerSourceRanges"))]
    if not ranges:
        return "has no loadBalancerSourceRanges, so it is open to 0.0.0.0/0"
    opened = [r for r in ranges if r in (OPEN_V4, OPEN_V6)]
    return f"is open to {', '.join(opened)}" if opened else ""


no_open_ingress = resource_policy(
    "no-open-ingress",
    "No security group rule or LoadBalancer Service accepts 0.0.0.0/0 or ::/0, except the edge's NLB listener.",
    MANDATORY,
    lambda t: t in (SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, *HELM_TYPES) or is_service(t),
    _open_ingress,
    "Narrow the CIDRs (or reference security groups); public traffic enters only through the edge.",
)

POLICIES = [no_open_ingress]
