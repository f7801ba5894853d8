"""VPC: public and private subnets per AZ, NAT, and the endpoints private nodes need."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Zone:
    name: str  # us-east-1a: what subnets are created in
    zone_id: str  # use1-az1: the same physical zone in every account, and the subnet's slot in the VPC

    @property
    def slot(self) -> int:
        return int(self.zone_id.rsplit("az", 1)[1]) - 1


@dataclass(frozen=True)
class NetworkArgs:
    cluster_name: str
    region: str
    cidr: str
    zones: list[Zone]
    nat_per_az: bool
    interface_endpoints: list[str] = field(default_factory=list)


def subnet_cidrs(vpc_cidr: str, zone: Zone) -> tuple[str, str]:
    """The (private, public) CIDRs of one zone, fixed by its zone ID, so adding or removing a zone never moves
    another zone's subnets. Private subnets get an eighth of the VPC each (room for VPC-CNI pod IPs); public
    subnets share the last eighth, since only load balancers and NAT live there."""
    eighths = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=3))
    if not 0 <= zone.slot < len(eighths) - 1:
        raise ValueError(f"zone {zone.zone_id} has no subnet slot; allowed: az1 to az{len(eighths) - 1}")
    return str(eighths[zone.slot]), str(list(eighths[-1].subnets(prefixlen_diff=3))[zone.slot])


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        discovery = {"karpenter.sh/discovery": args.cluster_name}
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{args.cluster_name}-vpc"},
            opts=child,
        )
        vpc_opts = pulumi.ResourceOptions(parent=vpc)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": args.cluster_name}, opts=vpc_opts)

        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{args.cluster_name}-public"},
            opts=vpc_opts,
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        nat_gateways: list[aws.ec2.NatGateway] = []
        private_route_tables: list[aws.ec2.RouteTable] = []

        # Resource names carry the zone ID: it names the same zone whatever the account's name mapping.
        for index, zone in enumerate(args.zones):
            private_cidr, public_cidr = subnet_cidrs(args.cidr, zone)
            az = zone.zone_id
            public = aws.ec2.Subnet(
                f"{name}-public-{az}",
                vpc_id=vpc.id,
                cidr_block=public_cidr,
                availability_zone_id=zone.zone_id,
                map_public_ip_on_launch=False,
                tags={"Name": f"{args.cluster_name}-public-{az}", "kubernetes.io/role/elb": "1", **cluster_tag},
                opts=vpc_opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{az}", subnet_id=public.id, route_table_id=public_rt.id, opts=vpc_opts
            )
            public_subnets.append(public)

            if args.nat_per_az or index == 0:
                eip = aws.ec2.Eip(f"{name}-nat-{az}", domain="vpc", tags={"Name": f"{args.cluster_name}-nat-{az}"}, opts=vpc_opts)
                nat_gateways.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{az}",
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        tags={"Name": f"{args.cluster_name}-nat-{az}"},
                        opts=pulumi.ResourceOptions(parent=vpc, depends_on=[igw]),
                    )
                )

            private = aws.ec2.Subnet(
                f"{name}-private-{az}",
                vpc_id=vpc.id,
                cidr_block=private_cidr,
                availability_zone_id=zone.zone_id,
                tags={
                    "Name": f"{args.cluster_name}-private-{az}",
                    "kubernetes.io/role/internal-elb": "1",
                    **cluster_tag,
                    **discovery,
                },
                opts=vpc_opts,
            )
            route_table = aws.ec2.RouteTable(
                f"{name}-private-{az}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_gateways[-1].id)],
                tags={"Name": f"{args.cluster_name}-private-{az}"},
                opts=vpc_opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{az}", subnet_id=private.id, route_table_id=route_table.id, opts=vpc_opts
            )
            private_subnets.append(private)
            private_route_tables.append(route_table)

        # Image layers come from S3 behind ECR: the gateway endpoint is free and keeps them off NAT.
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_route_tables],
            tags={"Name": f"{args.cluster_name}-s3"},
            opts=vpc_opts,
        )
        if args.interface_endpoints:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints",
                vpc_id=vpc.id,
                description="HTTPS from the VPC to AWS service endpoints",
                ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.cidr])],
                tags={"Name": f"{args.cluster_name}-endpoints"},
                opts=vpc_opts,
            )
            for service in args.interface_endpoints:
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}",
                    vpc_id=vpc.id,
                    service_name=f"com.amazonaws.{args.region}.{service}",
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=[s.id for s in private_subnets],
                    security_group_ids=[endpoint_sg.id],
                    tags={"Name": f"{args.cluster_name}-{service}"},
                    opts=vpc_opts,
                )

        self.vpc_id = vpc.id
        self.private_subnet_ids = [s.id for s in private_subnets]
        self.public_subnet_ids = [s.id for s in public_subnets]
        self.register_outputs({"vpcId": self.vpc_id})
