"""The preflight checks: each asks AWS one question about what a stack will need, and says what to do if short.

Every check returns rows of (check, status, detail, fix): ``pass``, ``warn`` (works, but look) or ``fail`` (the first
`pulumi up` would fail or the phase could not reach its caps). An AWS error (access denied, throttled) fails that
check only, naming the call to allow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Optional

import boto3
from botocore.exceptions import ClientError

from stackconfig import StackConfig
from stackconfig.placeholders import find_placeholders
from tools.cost.prices import hardware, pool_candidates, pools

from .needs import ELASTIC_IPS, GPU_QUOTAS, VPCS, Quota, eip_name_prefix, gpu_vcpus, nat_elastic_ips, vpc_name

PASS, WARN, FAIL = "pass", "warn", "fail"


@dataclass(frozen=True)
class Result:
    check: str
    status: str
    detail: str
    fix: Optional[str] = None


@dataclass
class Aws:
    """The clients the checks use, all in the stack's region."""

    sts: Any
    ec2: Any
    service_quotas: Any
    eks: Any

    @classmethod
    def for_region(cls, region: str, session: Optional[boto3.session.Session] = None) -> "Aws":
        session = session or boto3.session.Session()
        return cls(*(session.client(name, region_name=region) for name in ("sts", "ec2", "service-quotas", "eks")))


def guarded(check: str, operation: str) -> Callable:
    """An AWS error fails the check it happens in, not the whole preflight."""

    def wrap(function: Callable[..., list[Result]]) -> Callable[..., list[Result]]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> list[Result]:
            try:
                return function(*args, **kwargs)
            except ClientError as err:
                error = err.response.get("Error", {})
                return [Result(check, FAIL, f"could not check: {error.get('Code')}: {error.get('Message')}",
                               f"allow {operation} to the caller, then run preflight again")]

        return run

    return wrap


def quota_value(aws: Aws, quota: Quota) -> float:
    """The account's applied quota, or the AWS default where none was ever applied."""
    try:
        return float(aws.service_quotas.get_service_quota(ServiceCode=quota.service, QuotaCode=quota.code)["Quota"]["Value"])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "NoSuchResourceException":
            raise
        answer = aws.service_quotas.get_aws_default_service_quota(ServiceCode=quota.service, QuotaCode=quota.code)
        return float(answer["Quota"]["Value"])


def request_increase(quota: Quota, value: int, region: str) -> str:
    return (f"aws service-quotas request-service-quota-increase --service-code {quota.service} --quota-code "
            f"{quota.code} --desired-value {value} --region {region}")


def _by_stack(configs: list[StackConfig], amount: Callable[[StackConfig], int]) -> str:
    return ", ".join(f"{c.stack} {amount(c)}" for c in configs if amount(c))


@guarded("GPU vCPU quotas", "servicequotas:GetServiceQuota")
def check_gpu_quotas(aws: Aws, config: StackConfig, account: list[StackConfig]) -> list[Result]:
    """Each GPU vCPU quota against what the pools' gpuLimit could launch, in this stack and the others that share
    the account and region (quotas are per account and region, and count instances already running)."""
    needs = {c.stack: gpu_vcpus(c) for c in account}
    results = []
    for key, quota in GPU_QUOTAS.items():
        total = sum(need.get(key, 0) for need in needs.values())
        if not needs[config.stack].get(key):
            continue
        value = quota_value(aws, quota)
        split = ", ".join(f"{stack} {need[key]}" for stack, need in needs.items() if need.get(key))
        detail = f"quota {value:g} vCPUs, the GPU caps need {total} ({split})"
        if value >= total:
            results.append(Result(f"quota: {quota.name}", PASS, detail))
        else:
            results.append(Result(f"quota: {quota.name}", FAIL, detail, request_increase(quota, total, config.region)))
    return results or [Result("GPU vCPU quotas", PASS, "the GPU pools launch no G or P instances")]


@guarded("quota: EC2-VPC Elastic IPs", "servicequotas:GetServiceQuota and ec2:DescribeAddresses")
def check_elastic_ips(aws: Aws, config: StackConfig, account: list[StackConfig]) -> list[Result]:
    """One Elastic IP per NAT gateway; those a deployed stack already holds (by Name tag) are counted once."""
    addresses = aws.ec2.describe_addresses()["Addresses"]
    names = [next((t["Value"] for t in a.get("Tags", []) if t["Key"] == "Name"), "") for a in addresses]
    new = {c.stack: max(0, nat_elastic_ips(c) - sum(n.startswith(eip_name_prefix(c)) for n in names)) for c in account}
    value = quota_value(aws, ELASTIC_IPS)
    wanted = len(addresses) + sum(new.values())
    detail = (f"quota {value:g}, {len(addresses)} allocated, {sum(new.values())} more for NAT gateways "
              f"({', '.join(f'{s} {n}' for s, n in new.items() if n) or 'none'})")
    if value >= wanted:
        return [Result(f"quota: {ELASTIC_IPS.name}", PASS, detail)]
    return [Result(f"quota: {ELASTIC_IPS.name}", FAIL, detail, request_increase(ELASTIC_IPS, wanted, config.region))]


@guarded("quota: VPCs per Region", "servicequotas:GetServiceQuota and ec2:DescribeVpcs")
def check_vpcs(aws: Aws, config: StackConfig, account: list[StackConfig]) -> list[Result]:
    vpcs = [v for page in aws.ec2.get_paginator("describe_vpcs").paginate() for v in page["Vpcs"]]
    names = {next((t["Value"] for t in v.get("Tags", []) if t["Key"] == "Name"), "") for v in vpcs}
    new = [c.stack for c in account if vpc_name(c) not in names]
    value = quota_value(aws, VPCS)
    detail = f"quota {value:g}, {len(vpcs)} in use, {len(new)} more ({', '.join(new) or 'none'})"
    if value >= len(vpcs) + len(new):
        return [Result(f"quota: {VPCS.name}", PASS, detail)]
    return [Result(f"quota: {VPCS.name}", FAIL, detail, request_increase(VPCS, len(vpcs) + len(new), config.region))]


def stack_zone_ids(aws: Aws, config: StackConfig) -> list[str]:
    """The zones the stack will use: pinned, or the region's first ones, as the program picks them."""
    if config.network.zone_ids:
        return list(config.network.zone_ids)
    zones = aws.ec2.describe_availability_zones(
        Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required"]}, {"Name": "state", "Values": ["available"]}]
    )["AvailabilityZones"]
    return [z["ZoneId"] for z in zones][: config.network.az_count]


@guarded("instance type offerings", "ec2:DescribeInstanceTypeOfferings")
def check_offerings(aws: Aws, config: StackConfig, zones: list[str]) -> list[Result]:
    """Every zone of the stack must offer some type of the spot pool (vLLM spreads replicas over zones) and of the
    system node group; the reserved pool runs where its reservations are, so one zone is enough for it."""
    groups = {f"gpuPools.{key}": sorted(t.name for t in pool_candidates(pool, key)) for key, pool in pools(config).items()}
    groups["systemNodes"] = list(config.system_nodes.instance_types)
    wanted = sorted({name for names in groups.values() for name in names})
    offered: dict[str, set[str]] = {zone: set() for zone in zones}
    paginator = aws.ec2.get_paginator("describe_instance_type_offerings")
    for page in paginator.paginate(LocationType="availability-zone-id",
                                   Filters=[{"Name": "location", "Values": zones}, {"Name": "instance-type", "Values": wanted}]):
        for offering in page["InstanceTypeOfferings"]:
            offered.setdefault(offering["Location"], set()).add(offering["InstanceType"])
    results = []
    for group, names in groups.items():
        missing = [zone for zone in zones if not offered[zone] & set(names)]
        if group == "gpuPools.reserved" and len(missing) < len(zones):
            missing = []
        partly = {zone: sorted(set(names) - offered[zone]) for zone in zones if set(names) - offered[zone]}
        if missing:
            results.append(Result(f"offerings: {group}", FAIL, f"no type of {', '.join(names)} in {', '.join(missing)}",
                                  f"pin network.zoneIds to zones that offer them, or widen {group}'s instance types"))
        elif partly:
            gaps = "; ".join(f"{zone} lacks {', '.join(gap)}" for zone, gap in partly.items())
            results.append(Result(f"offerings: {group}", PASS, f"every zone offers some; {gaps}"))
        else:
            results.append(Result(f"offerings: {group}", PASS, f"all offered in {', '.join(zones)}"))
    return results


@guarded("capacity reservations", "ec2:DescribeCapacityReservations")
def check_reservations(aws: Aws, config: StackConfig, zones: list[str]) -> list[Result]:
    reserved = config.gpu_pools.reserved
    if reserved is None:
        return []
    results = []
    found: list[dict[str, Any]] = []
    ids = [r.id for r in reserved.capacity_reservations]
    if ids:
        try:
            found += [r for page in aws.ec2.get_paginator("describe_capacity_reservations").paginate(CapacityReservationIds=ids)
                      for r in page["CapacityReservations"]]
        except ClientError as err:
            if not err.response.get("Error", {}).get("Code", "").startswith("InvalidCapacityReservationId"):
                raise
            return [Result("capacity reservations", FAIL, f"not found in this account and region: {', '.join(ids)} "
                           f"({err.response['Error']['Code']})", "create them, or put the ids of your reservations in "
                           "gpuPools.reserved.capacityReservations")]
    by_id = {r["CapacityReservationId"]: r for r in found}
    for wanted in reserved.capacity_reservations:
        actual = by_id.get(wanted.id)
        if actual is None:
            results.append(Result(f"reservation {wanted.id}", FAIL, "not found in this account and region",
                                  "create it, or fix the id in gpuPools.reserved.capacityReservations"))
            continue
        results.append(_reservation(config, zones, actual, wanted.instance_type, wanted.zone_id))
    if reserved.capacity_reservation_tags:
        filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in reserved.capacity_reservation_tags.items()]
        tagged = [r for page in aws.ec2.get_paginator("describe_capacity_reservations").paginate(Filters=filters)
                  for r in page["CapacityReservations"]]
        tags = ", ".join(f"{k}={v}" for k, v in reserved.capacity_reservation_tags.items())
        if not tagged:
            results.append(Result(f"reservations tagged {tags}", FAIL, "none found",
                                  "tag your reservations so, or list them in gpuPools.reserved.capacityReservations"))
        results += [_reservation(config, zones, r, None, None) for r in tagged]
        found += tagged
    active = [r for r in found if r.get("State") == "active" and r.get("InstanceType") in hardware()]
    gpus = sum(r.get("TotalInstanceCount", 0) * hardware()[r["InstanceType"]].gpus for r in active)
    if gpus != reserved.gpu_limit:
        more = gpus > reserved.gpu_limit
        results.append(Result(
            "reserved GPUs against gpuPools.reserved.gpuLimit", WARN,
            f"the active reservations hold {gpus} GPUs, the pool's gpuLimit is {reserved.gpu_limit}: "
            + ("the rest is paid for and never used" if more else "the pool cannot reach its cap; the rest runs on spot"),
            f"set gpuPools.reserved.gpuLimit to {gpus}" if more else "reserve more capacity or lower the gpuLimit",
        ))
    return results


def _reservation(config: StackConfig, zones: list[str], actual: dict[str, Any], instance_type: Optional[str],
                 zone_id: Optional[str]) -> Result:
    reserved = config.gpu_pools.reserved
    name = f"reservation {actual['CapacityReservationId']}"
    kind = "Capacity Block" if actual.get("ReservationType") == "capacity-block" else "ODCR"
    summary = (f"{kind}, {actual.get('State')}, {actual.get('TotalInstanceCount')} x {actual.get('InstanceType')} in "
               f"{actual.get('AvailabilityZoneId')}, {actual.get('InstancePlatform')}")
    problems = []
    if actual.get("State") != "active":
        when = f" (starts {_day(actual['StartDate'])})" if actual.get("State") == "scheduled" and actual.get("StartDate") else ""
        problems.append(f"not active{when}")
    if instance_type and actual.get("InstanceType") != instance_type:
        problems.append(f"config says {instance_type}")
    if not reserved.may_launch(actual.get("InstanceType", "")):
        problems.append("a type gpuPools.reserved does not launch")
    if zone_id and actual.get("AvailabilityZoneId") != zone_id:
        problems.append(f"config says {zone_id}")
    if actual.get("AvailabilityZoneId") not in zones:
        problems.append(f"outside the stack's zones {', '.join(zones)}")
    if actual.get("InstancePlatform") != "Linux/UNIX":
        problems.append("not a Linux/UNIX reservation")
    if problems:
        return Result(name, FAIL, f"{summary}: {'; '.join(problems)}",
                      "fix gpuPools.reserved.capacityReservations or network.zoneIds to match the reservation")
    return Result(name, PASS, summary)


@guarded("EKS version", "eks:DescribeClusterVersions")
def check_eks_version(aws: Aws, config: StackConfig) -> list[Result]:
    version = config.cluster.version
    listed = aws.eks.describe_cluster_versions(clusterVersions=[version], includeAll=True)["clusterVersions"]
    match = next((v for v in listed if v.get("clusterVersion") == version), None)
    name = f"EKS {version}"
    if match is None or match.get("status") == "unsupported":
        return [Result(name, FAIL, "not offered by EKS in this region", "set cluster.version to a supported version")]
    if match.get("status") == "extended-support":
        return [Result(name, WARN, f"in extended support until {_day(match.get('endOfExtendedSupportDate'))}: $0.60 a "
                       "cluster-hour, six times standard", "upgrade cluster.version")]
    return [Result(name, PASS, f"standard support until {_day(match.get('endOfStandardSupportDate'))}")]


def _day(moment: Any) -> str:
    return moment.date().isoformat() if hasattr(moment, "date") else str(moment)


def check_placeholders(config: StackConfig) -> list[Result]:
    found = find_placeholders(config)
    if not found:
        return [Result("placeholders replaced", PASS, "no shipped example values left")]
    return [Result("placeholders replaced", FAIL, f"{len(found)} shipped example values left: {'; '.join(found)}",
                   f"set your own values in Pulumi.{config.stack}.yaml")]


def run_checks(aws: Aws, config: StackConfig, account: list[StackConfig]) -> list[Result]:
    """Every check, in the order a reader fixes them: quotas, zones, reservations, version, config."""
    results = check_gpu_quotas(aws, config, account)
    results += check_elastic_ips(aws, config, account)
    results += check_vpcs(aws, config, account)
    try:
        zones = stack_zone_ids(aws, config)
    except ClientError as err:
        results.append(Result("zones", FAIL, f"could not list the region's zones: {err.response.get('Error', {}).get('Code')}",
                              "allow ec2:DescribeAvailabilityZones, or pin network.zoneIds"))
    else:
        results += check_offerings(aws, config, zones)
        results += check_reservations(aws, config, zones)
    results += check_eks_version(aws, config)
    results += check_placeholders(config)
    return results
