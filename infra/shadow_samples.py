"""Where the router's shadow evaluation keeps sampled pairs for human review (traffic.shadow.sampleStore).

A private bucket of this stack (it holds nothing else); objects expire after ``expire_days``. The router's service account
may only put objects there (EKS Pod Identity): reading the pairs back is for people with their own access.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .buckets import abort_incomplete_uploads, expire_objects, private_bucket
from .pod_identity import PodIdentityRole, PodIdentityRoleArgs, load_policy

PREFIX = "shadow-samples"


@dataclass(frozen=True)
class ShadowSamplesArgs:
    cluster_name: pulumi.Input[str]
    namespace: str  # the router's
    service_account: str
    expire_days: int


class ShadowSamples(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    prefix: str = PREFIX

    def __init__(self, name: str, args: ShadowSamplesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:ShadowSamples", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Reviewed pairs cannot be recreated, so `pulumi destroy` does not empty the bucket; they expire anyway.
        bucket = private_bucket(name, self, [expire_objects(args.expire_days), abort_incomplete_uploads(1)])
        writer = PodIdentityRole(
            f"{name}-writer",
            PodIdentityRoleArgs(
                cluster_name=args.cluster_name, namespace=args.namespace, service_account=args.service_account,
                inline_policy=load_policy("shadow-samples-write.json", BucketArn=bucket.arn, Prefix=PREFIX),
            ),
            opts=child,
        )
        self.bucket_name = bucket.bucket
        # The router's pods get credentials only if the association exists before they start.
        self.writer = writer
        self.register_outputs({"bucket": bucket.bucket, "prefix": PREFIX})
