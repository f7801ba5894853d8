"""An S3 bucket nobody outside the account reaches: public access blocked, owner-enforced, KMS-encrypted, TLS only."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .pod_identity import load_policy


def private_bucket(
    name: str, lifecycle_rules: list[aws.s3.BucketLifecycleConfigurationRuleArgs], opts: pulumi.ResourceOptions
) -> aws.s3.Bucket:
    """The bucket and its guard rails, each a child named ``name`` under ``opts``' parent."""
    bucket = aws.s3.Bucket(name, force_destroy=False, opts=opts)
    aws.s3.BucketPublicAccessBlock(
        name, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        name, bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name, bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms"),
            bucket_key_enabled=True,
        )],
        opts=opts,
    )
    aws.s3.BucketPolicy(name, bucket=bucket.id, policy=load_policy("bucket-tls-only.json", BucketArn=bucket.arn), opts=opts)
    aws.s3.BucketLifecycleConfiguration(name, bucket=bucket.id, rules=lifecycle_rules, opts=opts)
    return bucket


def abort_incomplete_uploads(days: int) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """An upload that dies half-way leaves its parts behind, billed until aborted."""
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="abort-incomplete-uploads",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=days
        ),
    )
