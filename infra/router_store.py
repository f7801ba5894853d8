"""The LiteLLM router's state: PostgreSQL for virtual keys and spend, Valkey for state shared between replicas.

PostgreSQL holds what must survive a restart (keys, budgets, spend logs), so it
is protected like production data: encrypted, private, backed up, final
snapshot on delete. The cache only holds what router replicas must agree on
(per-key rate-limit counters, cooldowns); one replica keeps those in memory, so
the cache exists only when there is more than one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random

from stackconfig.model import RouterStoreConfig

DB_NAME = "litellm"
DB_USER = "litellm"
DB_PORT = 5432
CACHE_PORT = 6379
# The major version only: with auto minor upgrades on, RDS moves 17.x forward in the maintenance window, and a
# pinned minor ("17.6") would then show as a diff that tries to downgrade. The provider accepts a version prefix.
POSTGRES_VERSION = "17"
VALKEY_VERSION = "8.1"


@dataclass(frozen=True)
class RouterStoreArgs:
    cluster_name: str
    vpc_id: pulumi.Input[str]
    # Pods use their node's security group (VPC CNI without security groups for pods), and every node, system
    # or Karpenter's, carries the cluster security group: admitting it admits the cluster and nothing else.
    client_security_group_id: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Input[str]]
    store: RouterStoreConfig
    multiple_router_replicas: bool


class RouterStore(pulumi.ComponentResource):
    database_url: pulumi.Output[str]
    has_cache: bool
    redis_host: Optional[pulumi.Output[str]]
    redis_port: Optional[int]
    redis_password: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: RouterStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:RouterStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        store = args.store

        # Alphanumeric only: the password is embedded in DATABASE_URL without escaping.
        db_password = pulumi_random.RandomPassword(f"{name}-db", length=32, special=False, opts=child)
        subnets = aws.rds.SubnetGroup(
            f"{name}-db",
            description=f"{args.cluster_name} LiteLLM database: private subnets",
            subnet_ids=args.private_subnet_ids,
            tags={"Name": f"{args.cluster_name}-router-db"},
            opts=child,
        )
        db_sg = self._cluster_only_security_group(
            f"{name}-db", args, DB_PORT, "PostgreSQL from the cluster to the LiteLLM database", "router-db"
        )
        # Snapshot names are unique per account and region: a second destroy of a re-created stack must not collide.
        snapshot_suffix = pulumi_random.RandomId(f"{name}-final-snapshot", byte_length=4, opts=child)
        db = aws.rds.Instance(
            f"{name}-db",
            engine="postgres",
            engine_version=POSTGRES_VERSION,
            auto_minor_version_upgrade=True,
            # Standard support for 17 runs to 2030; past it, upgrade rather than pay for Extended Support silently.
            engine_lifecycle_support="open-source-rds-extended-support-disabled",
            instance_class=store.db_instance_class,
            allocated_storage=store.db_allocated_storage_gib,
            max_allocated_storage=store.db_max_allocated_storage_gib,
            storage_type="gp3",
            storage_encrypted=True,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[db_sg.id],
            publicly_accessible=False,
            multi_az=store.db_multi_az,
            port=DB_PORT,
            db_name=DB_NAME,
            username=DB_USER,
            password=db_password.result,
            # Prisma connects with a password in DATABASE_URL; IAM tokens expire every 15 minutes.
            iam_database_authentication_enabled=False,
            backup_retention_period=store.db_backup_retention_days,
            copy_tags_to_snapshot=True,
            # Keys and spend history are the one thing here a redeploy cannot recreate; dev and shadow turn both off
            # so that `pulumi destroy` just works.
            deletion_protection=store.db_deletion_protection,
            skip_final_snapshot=not store.db_final_snapshot,
            final_snapshot_identifier=(
                snapshot_suffix.hex.apply(lambda suffix: f"{args.cluster_name}-router-db-final-{suffix}")
                if store.db_final_snapshot else None
            ),
            performance_insights_enabled=True,
            tags={"Name": f"{args.cluster_name}-router-db"},
            opts=child,
        )

        # RDS accepts TLS on every connection; the URL insists on it (Prisma's sslmode).
        self.database_url = pulumi.Output.secret(
            pulumi.Output.concat(
                f"postgresql://{DB_USER}:", db_password.result, "@", db.address, f":{DB_PORT}/{DB_NAME}?sslmode=require"
            )
        )
        outputs: dict[str, pulumi.Input] = {"databaseUrl": self.database_url, "databaseAddress": db.address}

        self.has_cache = args.multiple_router_replicas
        self.redis_host = None
        self.redis_port = None
        self.redis_password = None
        if self.has_cache:
            cache_password = pulumi_random.RandomPassword(f"{name}-cache", length=32, special=False, opts=child)
            cache_subnets = aws.elasticache.SubnetGroup(
                f"{name}-cache",
                description=f"{args.cluster_name} LiteLLM cache: private subnets",
                subnet_ids=args.private_subnet_ids,
                tags={"Name": f"{args.cluster_name}-router-cache"},
                opts=child,
            )
            cache_sg = self._cluster_only_security_group(
                f"{name}-cache", args, CACHE_PORT, "Valkey from the cluster to the LiteLLM cache", "router-cache"
            )
            num_cache_clusters = 2
            cache = aws.elasticache.ReplicationGroup(
                f"{name}-cache",
                description=f"{args.cluster_name} LiteLLM router shared state",
                engine="valkey",
                engine_version=VALKEY_VERSION,
                node_type=store.cache_node_type,
                port=CACHE_PORT,
                # A primary and a replica in another AZ: losing the cache node would reset every rate limit.
                num_cache_clusters=num_cache_clusters,
                automatic_failover_enabled=num_cache_clusters >= 2,
                multi_az_enabled=num_cache_clusters >= 2,
                subnet_group_name=cache_subnets.name,
                security_group_ids=[cache_sg.id],
                at_rest_encryption_enabled=True,
                # AUTH needs TLS; clients must connect with TLS (the router sets REDIS_SSL).
                transit_encryption_enabled=True,
                auth_token=cache_password.result,
                # Counters and cooldowns are rebuilt within a minute; snapshots would only cost money.
                snapshot_retention_limit=0,
                auto_minor_version_upgrade=True,
                tags={"Name": f"{args.cluster_name}-router-cache"},
                opts=child,
            )
            self.redis_host = cache.primary_endpoint_address
            self.redis_port = CACHE_PORT
            self.redis_password = pulumi.Output.secret(cache_password.result)
            outputs.update({"redisHost": self.redis_host, "redisPort": self.redis_port})

        self.register_outputs(outputs)

    def _cluster_only_security_group(
        self, resource_name: str, args: RouterStoreArgs, port: int, description: str, tag_suffix: str
    ) -> aws.ec2.SecurityGroup:
        """Only the cluster's nodes, and so its pods, reach the store on its port. No egress rules at all."""
        return aws.ec2.SecurityGroup(
            resource_name,
            vpc_id=args.vpc_id,
            description=description,
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=port, to_port=port, security_groups=[args.client_security_group_id],
            )],
            tags={"Name": f"{args.cluster_name}-{tag_suffix}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
