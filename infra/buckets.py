"""A private S3 bucket: public access blocked, owner-enforced, KMS-encrypted, HTTPS only, with lifecycle rules."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .pod_identity import load_policy

LifecycleRule = aws.s3.BucketLifecycleConfigurationRuleArgs


def abort_incomplete_uploads(days: int) -> LifecycleRule:
    """An upload that dies half-way leaves its parts behind, billed until aborted."""
    return LifecycleRule(
        id="abort-incomplete-uploads",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=days
        ),
    )


def expire_objects(days: int) -> LifecycleRule:
    return LifecycleRule(
        id="expire",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
    )


def private_bucket(
    name: str, parent: pulumi.Resource, lifecycle: list[LifecycleRule], force_destroy: bool = False
) -> aws.s3.Bucket:
    """``force_destroy`` lets `pulumi destroy` empty the bucket first: only for data the stack can recreate."""
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(name, force_destroy=force_destroy, opts=child)
    aws.s3.BucketPublicAccessBlock(
        name, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=child,
    )
    aws.s3.BucketOwnershipControls(
        name, bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name, bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms"),
            bucket_key_enabled=True,
        )],
        opts=child,
    )
    aws.s3.BucketPolicy(name, bucket=bucket.id, policy=load_policy("https-only-bucket.json", BucketArn=bucket.arn), opts=child)
    aws.s3.BucketLifecycleConfiguration(name, bucket=bucket.id, rules=lifecycle, opts=child)
    return bucket
