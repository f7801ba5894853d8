"""The router's store: a private, encrypted, backed-up PostgreSQL; a Valkey cache only for several router replicas."""

from __future__ import annotations

import functools

import pytest

from stackconfig.model import RouterStoreConfig
from tests.conftest import Plan, plan_of

CLUSTER_SG = "sg-0c1u5t3r0000000aa"
RDS = "aws:rds/instance:Instance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"


@functools.lru_cache(maxsize=None)
def store_plan(multiple_replicas: bool, multi_az: bool = False, keep: bool = True) -> tuple[Plan, dict]:
    exported: dict = {}

    def build() -> None:
        import pulumi

        from infra.router_store import RouterStore, RouterStoreArgs

        store = RouterStore(
            "router-store",
            RouterStoreArgs(
                cluster_name="llm-test",
                vpc_id="vpc-0123456789abcdef0",
                client_security_group_id=CLUSTER_SG,
                private_subnet_ids=["subnet-0aaa", "subnet-0bbb"],
                store=RouterStoreConfig(db_multi_az=multi_az, db_backup_retention_days=14, db_instance_class="db.t4g.medium",
                                        db_max_allocated_storage_gib=250, db_deletion_protection=keep, db_final_snapshot=keep),
                multiple_router_replicas=multiple_replicas,
            ),
        )
        store.database_url.apply(lambda url: exported.__setitem__("database_url", url))
        exported["has_cache"] = store.has_cache
        exported["redis_port"] = store.redis_port
        pulumi.export("databaseUrl", store.database_url)
        if store.has_cache:
            pulumi.export("redisHost", store.redis_host)
            pulumi.export("redisPassword", store.redis_password)

    return plan_of(build), exported


@pytest.fixture(scope="module")
def single() -> Plan:
    return store_plan(False)[0]


@pytest.fixture(scope="module")
def multi() -> Plan:
    return store_plan(True, multi_az=True)[0]


def test_database_is_encrypted_private_and_protected(single):
    db = single.one(RDS).inputs
    assert db["engine"] == "postgres" and db["engineVersion"].split(".")[0] == "17"
    assert db["storageEncrypted"] is True and db["storageType"] == "gp3"
    assert db["publiclyAccessible"] is False
    assert db["deletionProtection"] is True
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"].startswith("llm-test-router-db-final-"), "unique per stack instance"
    assert db["finalSnapshotIdentifier"] != "llm-test-router-db-final-"
    assert db["copyTagsToSnapshot"] is True and db["performanceInsightsEnabled"] is True
    assert db["autoMinorVersionUpgrade"] is True and db["iamDatabaseAuthenticationEnabled"] is False
    assert (db["dbName"], db["username"]) == ("litellm", "litellm")
    assert db["password"] == "[secret]"


def test_a_phase_that_is_thrown_away_can_be_destroyed():
    db = store_plan(False, keep=False)[0].one(RDS).inputs
    assert db["deletionProtection"] is False and db["skipFinalSnapshot"] is True
    assert not db.get("finalSnapshotIdentifier")


@pytest.mark.parametrize("stack, kept", [("dev", False), ("shadow", False), ("rollout", True), ("prod", True)])
def test_deletion_protection_and_final_snapshot_per_phase(plans, stack, kept):
    db = plans[stack].one(RDS).inputs
    assert db["deletionProtection"] is kept and db["skipFinalSnapshot"] is (not kept)


def test_database_url_requires_tls():
    url = store_plan(False)[1]["database_url"]
    assert url.startswith("postgresql://litellm:") and url.endswith(":5432/litellm?sslmode=require")


def test_database_sizing_backups_and_multi_az_follow_config(single, multi):
    db = single.one(RDS).inputs
    assert db["instanceClass"] == "db.t4g.medium" and db["allocatedStorage"] == 20
    assert db["maxAllocatedStorage"] == 250, "storage grows on its own up to the configured ceiling"
    assert db["backupRetentionPeriod"] == 14
    assert db["multiAz"] is False
    assert multi.one(RDS).inputs["multiAz"] is True


def test_database_only_reachable_from_the_cluster_on_5432(single):
    db = single.one(RDS).inputs
    (sg,) = [r for r in single.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name == "router-store-db"]
    assert sg.inputs["ingress"] == [
        {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "securityGroups": [CLUSTER_SG]}
    ]
    assert not sg.inputs.get("egress")
    assert len(db["vpcSecurityGroupIds"]) == 1 and db["vpcSecurityGroupIds"][0].startswith("sg-")
    subnet_group = single.one("aws:rds/subnetGroup:SubnetGroup").inputs
    assert subnet_group["subnetIds"] == ["subnet-0aaa", "subnet-0bbb"]
    assert db["dbSubnetGroupName"].startswith("router-store-db")


def test_passwords_are_url_safe(single, multi):
    for plan in (single, multi):
        for password in plan.of_type("random:index/randomPassword:RandomPassword"):
            assert password.inputs["length"] == 32 and password.inputs["special"] is False


def test_database_url_is_a_secret_output(single, multi):
    assert single.recording.outputs["databaseUrl"] == "[secret]"
    assert multi.recording.outputs["redisPassword"] == "[secret]"


def test_no_cache_with_a_single_router_replica(single):
    assert single.of_type(CACHE) == []
    assert single.of_type("aws:elasticache/subnetGroup:SubnetGroup") == []
    assert len(single.of_type("random:index/randomPassword:RandomPassword")) == 1
    assert (store_plan(False)[1]["has_cache"], store_plan(False)[1]["redis_port"]) == (False, None)


def test_cache_with_several_replicas_is_encrypted_and_highly_available(multi):
    cache = multi.one(CACHE).inputs
    assert cache["engine"] == "valkey" and cache["engineVersion"] == "8.1"
    assert cache["atRestEncryptionEnabled"] is True and cache["transitEncryptionEnabled"] is True
    assert cache["authToken"] == "[secret]"
    assert cache["numCacheClusters"] == 2
    assert cache["automaticFailoverEnabled"] is True and cache["multiAzEnabled"] is True
    assert cache["nodeType"] == "cache.t4g.small"
    (sg,) = [r for r in multi.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name == "router-store-cache"]
    assert sg.inputs["ingress"] == [
        {"protocol": "tcp", "fromPort": 6379, "toPort": 6379, "securityGroups": [CLUSTER_SG]}
    ]
    assert multi.one("aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"] == ["subnet-0aaa", "subnet-0bbb"]
    assert (store_plan(True, True)[1]["has_cache"], store_plan(True, True)[1]["redis_port"]) == (True, 6379)
    assert multi.recording.outputs["redisHost"].startswith("master.")
    assert multi.recording.outputs["redisHost"].endswith(".cache.amazonaws.com")


def test_all_store_resources_belong_to_the_component(multi):
    component = multi.one("llm-platform:infra:RouterStore")
    children = [r for r in multi.recording.resources if r.type.startswith(("aws:", "random:"))]
    assert children and all(r.parent == component.urn for r in children)
