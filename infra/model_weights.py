"""An S3 bucket that caches model weights, so a scale-up streams them from S3 instead of Hugging Face."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .buckets import abort_incomplete_uploads, private_bucket
from .pod_identity import PodIdentityRole, PodIdentityRoleArgs, load_policy


@dataclass(frozen=True)
class ModelWeightsArgs:
    cluster_name: pulumi.Input[str]
    namespace: str
    reader_service_account: str  # vLLM: reads weights
    writer_service_account: str  # the sync Job: uploads them once
    abort_incomplete_uploads_after_days: int = 3


class ModelWeights(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: ModelWeightsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:ModelWeights", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # A cache of public (or licensed) weights that the Job refills: `pulumi destroy` may empty it, rather than
        # stop on a 15 GB bucket that is not empty.
        bucket = private_bucket(
            name, self, [abort_incomplete_uploads(args.abort_incomplete_uploads_after_days)], force_destroy=True
        )

        # vLLM only reads; the sync Job also writes. Each gets its own role through Pod Identity.
        for role, service_account, policy in (
            ("reader", args.reader_service_account, "weights-read.json"),
            ("writer", args.writer_service_account, "weights-write.json"),
        ):
            PodIdentityRole(
                f"{name}-{role}",
                PodIdentityRoleArgs(
                    cluster_name=args.cluster_name, namespace=args.namespace, service_account=service_account,
                    inline_policy=load_policy(policy, BucketArn=bucket.arn),
                ),
                opts=child,
            )
        self.bucket_name = bucket.bucket
        self.register_outputs({"bucket": bucket.bucket})
