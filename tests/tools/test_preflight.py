"""Preflight against stubbed AWS answers (botocore Stubber: the real clients and API models, no network)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from stackconfig import from_stack_file, parse
from tests.conftest import ROOT, raw_config, set_dotted
from tools import preflight
from tools.preflight import __main__ as cli
from tools.preflight.checks import Aws, check_elastic_ips, check_gpu_quotas, check_reservations, quota_value
from tools.preflight.needs import GPU_QUOTAS, VPCS, gpu_vcpus

NS = "llm-platform"
ZONES = ["use1-az1", "use1-az2", "use1-az4"]
RESERVATIONS = {"cr-0123456789abcdef0": "use1-az1", "cr-0fedcba9876543210": "use1-az2"}


def own_values(stack: str = "prod") -> dict[str, Any]:
    """A stack file with the shipped example values replaced, as a user would before deploying."""
    raw = raw_config(stack)
    set_dotted(raw, f"{NS}:cluster.publicAccessCidrs", ["198.18.7.0/24"])
    set_dotted(raw, f"{NS}:cluster.adminPrincipals", ["arn:aws:iam::210987654321:role/PlatformAdmin"])
    set_dotted(raw, f"{NS}:budget.notificationEmails", ["platform@acme-corp.io"])
    set_dotted(raw, f"{NS}:traffic.edge.hostname", f"llm.{stack}.acme-corp.io")
    set_dotted(raw, f"{NS}:observability.runbookUrl", "https://git.acme-corp.io/platform/llm-platform/blob/main/docs/runbook.md")
    tls = raw[f"{NS}:traffic"]["edge"]["tls"]
    if tls["issuer"] == "acme":
        tls.update(acmeEmail="platform@acme-corp.io", route53HostedZoneId="Z07ACMECORP123456")
    if f"{NS}:gpuPools" in raw and "reserved" in raw[f"{NS}:gpuPools"]:
        raw[f"{NS}:gpuPools"]["reserved"]["capacityReservations"] = [
            {"id": cr, "zoneId": zone, "instanceType": "g6e.xlarge"} for cr, zone in RESERVATIONS.items()
        ][: len(raw[f"{NS}:gpuPools"]["reserved"]["capacityReservations"])]
    return raw


def write_stacks(directory: Path, **stacks: dict[str, Any]) -> None:
    for name, config in stacks.items():
        (directory / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))


class World:
    """Stubbed clients, and the answers a healthy account gives, queued in the order the checks ask."""

    def __init__(self) -> None:
        def client(name: str) -> Any:
            return boto3.client(name, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")

        self.aws = Aws(client("sts"), client("ec2"), client("service-quotas"), client("eks"))
        self.stub = {name: Stubber(getattr(self.aws, name)) for name in ("sts", "ec2", "service_quotas", "eks")}
        for stubber in self.stub.values():
            stubber.activate()

    def identity(self) -> None:
        self.stub["sts"].add_response("get_caller_identity", {"Account": "210987654321", "Arn": "arn:aws:iam::210987654321:user/me", "UserId": "AIDA"})

    def quota(self, service: str, code: str, value: float) -> None:
        self.stub["service_quotas"].add_response(
            "get_service_quota", {"Quota": {"ServiceCode": service, "QuotaCode": code, "Value": value}},
            {"ServiceCode": service, "QuotaCode": code})

    def addresses(self, names: list[str]) -> None:
        self.stub["ec2"].add_response("describe_addresses", {"Addresses": [
            {"AllocationId": f"eipalloc-{i:08x}", "PublicIp": f"198.18.0.{i}", "Tags": [{"Key": "Name", "Value": n}]}
            for i, n in enumerate(names)]}, {})

    def vpcs(self, count: int) -> None:
        self.stub["ec2"].add_response("describe_vpcs", {"Vpcs": [{"VpcId": f"vpc-{i:08x}"} for i in range(count)]}, {})

    def offerings(self, offered: dict[str, list[str]]) -> None:
        self.stub["ec2"].add_response("describe_instance_type_offerings", {"InstanceTypeOfferings": [
            {"InstanceType": t, "LocationType": "availability-zone-id", "Location": zone}
            for zone, types in offered.items() for t in types]})

    def reservations(self, rows: list[dict[str, Any]]) -> None:
        self.stub["ec2"].add_response("describe_capacity_reservations", {"CapacityReservations": rows})

    def eks_version(self, status: str) -> None:
        self.stub["eks"].add_response("describe_cluster_versions", {"clusterVersions": [{
            "clusterVersion": "1.35", "status": status, "endOfStandardSupportDate": datetime.datetime(2027, 3, 27),
            "endOfExtendedSupportDate": datetime.datetime(2028, 3, 27)}]}, {"clusterVersions": ["1.35"], "includeAll": True})

    def healthy_prod(self, g_spot: float = 256, g_on_demand: float = 256, zones_offer: dict[str, list[str]] | None = None,
                     reservation_zone: str = "use1-az2", eks: str = "standard-support") -> None:
        self.identity()
        self.quota("ec2", "L-DB2E81BA", g_on_demand)
        self.quota("ec2", "L-3819A6DF", g_spot)
        self.addresses([])
        self.quota("ec2", "L-0263D0A3", 5)
        self.vpcs(1)
        self.quota("vpc", "L-F678F1CE", 5)
        everything = ["g5.xlarge", "g6.xlarge", "g6e.xlarge", "g6e.4xlarge", "m7i.xlarge", "m6i.xlarge"]
        self.offerings(zones_offer or {zone: everything for zone in ZONES})
        self.reservations([reservation("cr-0123456789abcdef0", "use1-az1"), reservation("cr-0fedcba9876543210", reservation_zone)])
        self.eks_version(eks)

    def done(self) -> None:
        for stubber in self.stub.values():
            stubber.assert_no_pending_responses()


def reservation(cr: str, zone: str, state: str = "active", count: int = 2, instance_type: str = "g6e.xlarge") -> dict[str, Any]:
    return {"CapacityReservationId": cr, "InstanceType": instance_type, "InstancePlatform": "Linux/UNIX",
            "AvailabilityZoneId": zone, "TotalInstanceCount": count, "AvailableInstanceCount": count, "State": state,
            "ReservationType": "default", "Tenancy": "default"}


@pytest.fixture
def world():
    return World()


def run(world: World, tmp_path: Path, capsys, *extra: str, **stacks: dict[str, Any]) -> tuple[int, str, str]:
    write_stacks(tmp_path, **(stacks or {"prod": own_values()}))
    status = cli.main(["--stack", "prod", "--stacks-dir", str(tmp_path), *extra], aws=world.aws)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def row(out: str, check: str) -> tuple[str, str]:
    """(status, detail) of a check in the printed table."""
    line = next(line for line in out.splitlines() if line.startswith(check + " "))
    status, _, detail = line[len(check):].strip().partition("  ")
    return status, detail.strip()


def test_a_ready_account_passes(world, tmp_path, capsys):
    world.healthy_prod()
    status, out, err = run(world, tmp_path, capsys)
    assert status == 0, out + err
    assert "account 210987654321" in out and "All 11 checks passed." in out
    assert row(out, "quota: All G and VT Spot Instance Requests (vCPUs)") == ("pass", "quota 256 vCPUs, the GPU caps need 192 (prod 192)")
    assert row(out, "reservation cr-0fedcba9876543210") == ("pass", "ODCR, active, 2 x g6e.xlarge in use1-az2, Linux/UNIX")
    assert row(out, "EKS 1.35") == ("pass", "standard support until 2027-03-27")
    world.done()


def test_what_is_short_is_listed_with_the_request_to_make(world, tmp_path, capsys):
    gpus = ["g5.xlarge", "g6.xlarge", "g6e.xlarge", "m7i.xlarge"]
    world.healthy_prod(g_spot=64, zones_offer={"use1-az1": gpus, "use1-az2": gpus, "use1-az4": ["m7i.xlarge"]},
                       reservation_zone="use1-az6", eks="unsupported")
    status, out, _ = run(world, tmp_path, capsys)
    assert status == 1
    todo = out.split("Before `pulumi up`:")[1]
    assert ("aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-3819A6DF "
            "--desired-value 192 --region us-east-1") in todo
    assert "offerings: gpuPools.spot" in todo and "use1-az4" in out
    assert "reservation cr-0fedcba9876543210" in todo and "config says use1-az2" in out
    assert "EKS 1.35" in todo
    assert "quota: Running On-Demand G and VT instances" not in todo, "208 vCPUs fit the 256 allowed"
    world.done()


def test_shipped_placeholders_fail_the_preflight(world, tmp_path, capsys):
    world.identity()
    world.quota("ec2", "L-3819A6DF", 100)
    world.addresses([])
    world.quota("ec2", "L-0263D0A3", 5)
    world.vpcs(0)
    world.quota("vpc", "L-F678F1CE", 5)
    world.stub["ec2"].add_response("describe_availability_zones", {"AvailabilityZones": [
        {"ZoneName": f"us-east-1{c}", "ZoneId": f"use1-az{n}", "State": "available"} for c, n in (("a", 4), ("b", 6), ("c", 1))]})
    world.offerings({"use1-az4": ["g6.xlarge", "m7i.large"], "use1-az6": ["g6.xlarge", "m7i.large"]})
    world.eks_version("standard-support")
    write_stacks(tmp_path, dev=raw_config("dev"))
    status = cli.main(["--stack", "dev", "--stacks-dir", str(tmp_path)], aws=world.aws)
    out = capsys.readouterr().out
    assert status == 1
    assert row(out, "placeholders replaced")[0] == "fail"
    todo = out.split("Before `pulumi up`:")[1]
    assert "placeholders replaced" in todo and "Pulumi.dev.yaml" in todo
    assert "203.0.113.0/24" in out and "example.com" in out
    # The region's first two zones as this account lists them: use1-az4 and use1-az6.
    assert row(out, "offerings: gpuPools.spot")[1].startswith("every zone offers some; use1-az4 lacks")
    assert "use1-az1" not in out
    world.done()


def test_other_stacks_in_the_region_share_the_quotas(world):
    account = [parse(s, own_values(s)) for s in ("dev", "shadow", "prod")]
    world.quota("ec2", "L-DB2E81BA", 256)
    world.quota("ec2", "L-3819A6DF", 256)
    results = check_gpu_quotas(world.aws, account[2], account)
    spot = next(r for r in results if "Spot" in r.check)
    # dev 2 and shadow 4 GPUs at 16 vCPUs (g6e.4xlarge), prod 12: 288 vCPUs against 256.
    assert spot.status == "fail" and "need 288 (dev 32, shadow 64, prod 192)" in spot.detail
    assert "--desired-value 288" in spot.fix
    world.done()


def test_elastic_ips_count_what_deployed_stacks_already_hold(world):
    prod = parse("prod", own_values("prod"))
    dev = parse("dev", own_values("dev"))
    # prod (NAT per AZ, 3 zones) already holds one NAT address; dev (single NAT) none; two others in the account.
    world.addresses(["llm-platform-prod-nat-use1-az1", "bastion", "legacy"])
    world.quota("ec2", "L-0263D0A3", 5)
    (result,) = check_elastic_ips(world.aws, prod, [prod, dev])
    assert result.status == "fail" and "3 allocated, 3 more for NAT gateways (prod 2, dev 1)" in result.detail
    assert "--quota-code L-0263D0A3 --desired-value 6" in result.fix
    world.done()


def test_reservations_not_found_or_holding_the_wrong_count(world):
    prod = parse("prod", own_values("prod"))
    world.stub["ec2"].add_client_error("describe_capacity_reservations", "InvalidCapacityReservationId.NotFound",
                                       "The capacity reservation ID 'cr-0fedcba9876543210' does not exist")
    (missing,) = check_reservations(world.aws, prod, ZONES)
    assert missing.status == "fail" and "InvalidCapacityReservationId.NotFound" in missing.detail
    # Found and active, but 2 x 3 GPUs against a reserved gpuLimit of 4: two are paid for and idle.
    world.reservations([reservation("cr-0123456789abcdef0", "use1-az1", count=3), reservation("cr-0fedcba9876543210", "use1-az2", count=3)])
    results = check_reservations(world.aws, prod, ZONES)
    assert [r.status for r in results] == ["pass", "pass", "warn"]
    assert "hold 6 GPUs" in results[2].detail and "gpuLimit to 6" in results[2].fix
    world.done()


def test_a_scheduled_capacity_block_is_not_yet_usable(world):
    prod = parse("prod", own_values("prod"))
    block = reservation("cr-0123456789abcdef0", "use1-az1", state="scheduled") | {
        "ReservationType": "capacity-block", "StartDate": datetime.datetime(2026, 12, 1, 11, 30)}
    world.reservations([block, reservation("cr-0fedcba9876543210", "use1-az2")])
    results = check_reservations(world.aws, prod, ZONES)
    assert results[0].status == "fail" and "Capacity Block, scheduled" in results[0].detail and "starts 2026-12-01" in results[0].detail
    world.done()


def test_access_denied_fails_that_check_only(world, tmp_path, capsys):
    world.identity()
    world.stub["service_quotas"].add_client_error("get_service_quota", "AccessDeniedException", "not allowed")
    world.addresses([])
    world.stub["service_quotas"].add_client_error("get_service_quota", "AccessDeniedException", "not allowed")
    world.vpcs(1)
    world.stub["service_quotas"].add_client_error("get_service_quota", "AccessDeniedException", "not allowed")
    everything = ["g5.xlarge", "g6.xlarge", "g6e.xlarge", "m7i.xlarge"]
    world.offerings({zone: everything for zone in ZONES})
    world.reservations([reservation("cr-0123456789abcdef0", "use1-az1"), reservation("cr-0fedcba9876543210", "use1-az2")])
    world.eks_version("extended-support")
    status, out, _ = run(world, tmp_path, capsys)
    assert status == 1
    assert "could not check: AccessDeniedException" in out and "allow servicequotas:GetServiceQuota" in out
    assert "EKS 1.35" in out and "warn" in out and "six times standard" in out
    world.done()


def test_an_unset_quota_falls_back_to_the_default(world):
    world.stub["service_quotas"].add_client_error("get_service_quota", "NoSuchResourceException", "no applied quota")
    world.stub["service_quotas"].add_response("get_aws_default_service_quota",
                                              {"Quota": {"ServiceCode": "vpc", "QuotaCode": VPCS.code, "Value": 5.0}},
                                              {"ServiceCode": "vpc", "QuotaCode": VPCS.code})
    assert quota_value(world.aws, VPCS) == 5.0
    world.done()


def test_no_credentials_and_bad_input_exit_2_in_one_line(tmp_path, capsys):
    class NoCredentials:
        def get_caller_identity(self):
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()

    write_stacks(tmp_path, prod=own_values())
    assert cli.main(["--stack", "prod", "--stacks-dir", str(tmp_path)], aws=Aws(NoCredentials(), None, None, None)) == 2
    err = capsys.readouterr().err
    assert err.startswith("preflight: no usable AWS credentials") and err.count("\n") == 1
    assert cli.main(["--stack", "staging", "--stacks-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("config error: stack: unknown stack 'staging'")
    with pytest.raises(SystemExit) as exit_:
        cli.main([])
    assert exit_.value.code == 2 and capsys.readouterr().err.count("\n") == 1


def test_vcpus_the_caps_allow():
    # rollout: 6 spot GPUs up to g6e.4xlarge (16 vCPUs each) on spot and, by fallback, on demand; 2 reserved
    # g6e.xlarge (4 vCPUs) on demand.
    assert gpu_vcpus(from_stack_file("rollout", ROOT)) == {("g", "spot"): 96, ("g", "on-demand"): 96 + 8}
    p5 = parse("dev", {**raw_config("dev"), f"{NS}:gpuPools": {"spot": {"instanceFamilies": ["p5"], "maxGpusPerNode": 8, "gpuLimit": 8}}})
    # p5.4xlarge: 1 H100 and 16 vCPUs; p5.48xlarge: 8 and 192. Eight of the small ones need 128, one large 192.
    assert gpu_vcpus(p5) == {("p", "spot"): 192}
    assert set(GPU_QUOTAS) == {("g", "on-demand"), ("g", "spot"), ("p", "on-demand"), ("p", "spot")}
    assert preflight.__doc__
