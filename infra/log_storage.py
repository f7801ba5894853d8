"""S3 buckets for Loki's chunks, index and rules, and the role Loki's pods reach them with (Pod Identity)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .buckets import abort_incomplete_uploads, expire_objects, private_bucket
from .pod_identity import PodIdentityRole, PodIdentityRoleArgs, load_policy


@dataclass(frozen=True)
class LogStorageArgs:
    cluster_name: pulumi.Input[str]
    namespace: str
    service_account: str  # every Loki target runs as this one
    expiration_days: int  # a backstop behind Loki's own retention (the compactor deletes first)


class LogStorage(pulumi.ComponentResource):
    chunks_bucket: pulumi.Output[str]
    ruler_bucket: pulumi.Output[str]
    role: PodIdentityRole

    def __init__(self, name: str, args: LogStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:LogStorage", name, None, opts)
        # Chunks and the TSDB index expire; rule groups are configuration and never do.
        chunks = private_bucket(
            f"{name}-chunks", self, [expire_objects(args.expiration_days), abort_incomplete_uploads(1)]
        )
        ruler = private_bucket(f"{name}-ruler", self, [abort_incomplete_uploads(1)])
        self.role = PodIdentityRole(
            f"{name}-loki",
            PodIdentityRoleArgs(
                cluster_name=args.cluster_name, namespace=args.namespace, service_account=args.service_account,
                inline_policy=load_policy("log-buckets.json", ChunksBucketArn=chunks.arn, RulerBucketArn=ruler.arn),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.chunks_bucket = chunks.bucket
        self.ruler_bucket = ruler.bucket
        self.register_outputs({"chunksBucket": chunks.bucket, "rulerBucket": ruler.bucket})
