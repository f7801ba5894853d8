"""Network per phase: AZs, NAT, endpoints, and the tags load balancers and Karpenter discover subnets by."""

import ipaddress

import pytest

from infra.network import Zone, subnet_cidrs
from tests.conftest import plan_with

EXPECTED = {  # stack -> (AZs, NAT gateways)
    "dev": (2, 1),
    "shadow": (2, 1),
    "rollout": (2, 2),
    "prod": (3, 3),
}


@pytest.mark.parametrize("stack", EXPECTED)
def test_az_and_nat_count(plans, stack):
    azs, nats = EXPECTED[stack]
    plan = plans[stack]
    private = [s for s in plan.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name]
    public = [s for s in plan.of_type("aws:ec2/subnet:Subnet") if "-public-" in s.name]
    assert len({s.inputs["availabilityZoneId"] for s in private}) == azs
    assert len(public) == azs
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == nats


def test_private_subnets_route_through_nat_in_their_own_az_when_per_az(plans):
    plan = plans["prod"]
    nat_by_subnet_name = {}
    for table in plan.of_type("aws:ec2/routeTable:RouteTable"):
        if "-private-" in table.name:
            (route,) = table.inputs["routes"]
            assert route["cidrBlock"] == "0.0.0.0/0"
            nat_by_subnet_name[table.name] = route["natGatewayId"]
    assert len(set(nat_by_subnet_name.values())) == 3


def test_subnet_discovery_tags(any_plan):
    for subnet in any_plan.of_type("aws:ec2/subnet:Subnet"):
        tags = subnet.inputs["tags"]
        if "-private-" in subnet.name:
            assert tags["kubernetes.io/role/internal-elb"] == "1"
            assert tags["karpenter.sh/discovery"].startswith("llm-platform-")
        else:
            assert tags["kubernetes.io/role/elb"] == "1"
            assert "karpenter.sh/discovery" not in tags
            assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_endpoints_for_private_nodes(any_plan):
    services = {e.inputs["serviceName"].split(".", 3)[-1]: e.inputs for e in any_plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert services["s3"]["vpcEndpointType"] == "Gateway"
    for service in ("ecr.api", "ecr.dkr", "sts", "sqs"):
        assert services[service]["vpcEndpointType"] == "Interface"
        assert services[service]["privateDnsEnabled"] is True


def test_subnet_cidrs_do_not_overlap():
    zones = [Zone(f"us-east-1{letter}", f"use1-az{slot + 1}") for slot, letter in enumerate("abcdefg")]
    nets = [ipaddress.ip_network(cidr) for zone in zones for cidr in subnet_cidrs("10.40.0.0/16", zone)]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    assert subnet_cidrs("10.40.0.0/16", zones[0]) == ("10.40.0.0/19", "10.40.224.0/22")


@pytest.mark.parametrize("stack, zone_ids", [("rollout", ["use1-az1", "use1-az2"]), ("prod", ["use1-az1", "use1-az2", "use1-az4"])])
def test_pinned_zone_ids_are_the_subnets_zones(plans, stack, zone_ids):
    subnets = plans[stack].of_type("aws:ec2/subnet:Subnet")
    private = sorted(s.inputs["availabilityZoneId"] for s in subnets if "-private-" in s.name)
    assert private == zone_ids


def test_removing_a_zone_keeps_the_other_subnets_where_they_are(plans):
    def cidrs(plan):
        return {s.name: s.inputs["cidrBlock"] for s in plan.of_type("aws:ec2/subnet:Subnet")}

    before = cidrs(plans["prod"])
    after = cidrs(plan_with("prod", {"llm-platform:network.zoneIds": ["use1-az1", "use1-az4"],
                                     "llm-platform:gpuPools.reserved.capacityReservations": [{"id": "cr-0a1b2c3d4e5f60718"}]}))
    assert set(after) < set(before) and all(before[name] == cidr for name, cidr in after.items())
    assert not any("use1-az2" in name for name in after)
