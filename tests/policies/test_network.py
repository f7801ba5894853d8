"""Network policy: no ingress from the whole internet, except the edge's NLB listener."""

import pytest

from policies.rules import network

from .helpers import check

SG = "aws:ec2/securityGroup:SecurityGroup"
RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE = "kubernetes:core/v1:Service"


@pytest.mark.parametrize("resource_type,props", [
    (SG, {"ingress": [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]}]}),
    (SG, {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]}]}),
    ("aws:ec2/securityGroupRule:SecurityGroupRule", {"type": "ingress", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"fromPort": 6379, "toPort": 6379, "cidrIpv4": "0.0.0.0/0"}),
])
def test_world_open_security_group_ingress_is_rejected(resource_type, props):
    (message,) = check(network.no_open_ingress, resource_type, props, name="db")
    assert "from 0.0.0.0/0" in message or "from ::/0" in message
    assert "only the edge's NLB listener may face the internet" in message


def test_ingress_from_a_cidr_unknown_at_preview_is_not_taken_for_the_world():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    computed = {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": [UNKNOWN_STRING_VALUE]}]}
    assert check(network.no_open_ingress, SG, computed) == []


def test_vpc_only_ingress_and_egress_rules_pass():
    vpc_only = {"ingress": [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.40.0.0/16"]}],
                "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}
    assert check(network.no_open_ingress, SG, vpc_only) == []
    egress = {"type": "egress", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
    assert check(network.no_open_ingress, "aws:ec2/securityGroupRule:SecurityGroupRule", egress) is None


def test_load_balancer_services_must_restrict_their_sources():
    open_service = {"metadata": {"name": "api", "namespace": "apps"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}}
    (message,) = check(network.no_open_ingress, SERVICE, open_service)
    assert "LoadBalancer Service apps/api has no loadBalancerSourceRanges" in message
    limited = {"metadata": {"name": "api"}, "spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["203.0.113.0/24"]}}
    assert check(network.no_open_ingress, SERVICE, limited) == []
    assert check(network.no_open_ingress, SERVICE, {"spec": {"type": "ClusterIP"}}) == []


def release(chart, values):
    return {"name": "r", "chart": chart, "version": "1.0.0", "values": values}


def test_only_the_edge_listener_may_be_open():
    open_lb = {"nginx": {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/0"]}}}
    assert check(network.no_open_ingress, RELEASE, release("oci://ghcr.io/nginx/charts/nginx-gateway-fabric", open_lb)) == []
    (message,) = check(network.no_open_ingress, RELEASE, release("grafana", {"service": {"type": "LoadBalancer"}}))
    assert "values service makes a LoadBalancer Service that has no loadBalancerSourceRanges" in message
    elsewhere = {"metrics": {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/0"]}}}
    assert check(network.no_open_ingress, RELEASE, release("oci://ghcr.io/nginx/charts/nginx-gateway-fabric", elsewhere))
