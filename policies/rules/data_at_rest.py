"""Data at rest: S3 buckets encrypted and closed to the public, RDS encrypted/private/backed up, SNS encrypted."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .base import MANDATORY, resource_policy, stack_policy
from .graph import refers_to
from .props import get, peek, truthy

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
BLOCK_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _blocks_everything(props) -> bool:
    return all(truthy(get(props, setting)) for setting in BLOCK_SETTINGS)


def _s3_buckets(args: StackValidationArgs, report: ReportViolation) -> None:
    buckets = [r for r in args.resources if r.resource_type in BUCKET_TYPES]
    if not buckets:
        args.not_applicable("no S3 bucket in this stack")
    encryptions = [r for r in args.resources if r.resource_type in ENCRYPTION_TYPES]
    blocks = [r for r in args.resources if r.resource_type == PUBLIC_ACCESS_BLOCK]
    account_blocked = any(
        _blocks_everything(r.props) for r in args.resources if r.resource_type == ACCOUNT_PUBLIC_ACCESS_BLOCK
    )
    for bucket in buckets:
        encrypted = get(bucket.props, "serverSideEncryptionConfiguration") is not None or any(
            refers_to(e, "bucket", bucket) for e in encryptions
        )
        if not encrypted:
            report(f"S3 bucket {bucket.name} has no default encryption of its own; add a "
                   "BucketServerSideEncryptionConfiguration for it (aws:kms with a bucket key, or AES256)", bucket.urn)
        own_blocks = [b for b in blocks if refers_to(b, "bucket", bucket)]
        if not account_blocked and not any(_blocks_everything(b.props) for b in own_blocks):
            report(f"S3 bucket {bucket.name} is not closed to the public; add a BucketPublicAccessBlock for it with "
                   f"{', '.join(BLOCK_SETTINGS)} all true", bucket.urn)


s3_buckets_protected = stack_policy(
    "s3-encrypted-and-private",
    "Every S3 bucket has default encryption and a public access block with all four settings on.",
    MANDATORY,
    _s3_buckets,
    "Declare a BucketServerSideEncryptionConfiguration and a BucketPublicAccessBlock (all four true) per bucket.",
)

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"


def _rds(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    what = f"RDS {'cluster' if args.resource_type == RDS_CLUSTER else 'instance'} {args.name}"
    aurora_member = args.resource_type == RDS_INSTANCE and str(get(props, "engine", default="")).startswith("aurora")
    if aurora_member:
        args.not_applicable("an Aurora instance inherits encryption and backups from its cluster")
    if not truthy(get(props, "storageEncrypted")) and peek(props, "kmsKeyId") is None:
        report(f"{what} stores data unencrypted; set storageEncrypted: true (it cannot be turned on later without "
               "a snapshot restore)")
    if truthy(get(props, "publiclyAccessible")):
        report(f"{what} is publicly accessible; set publiclyAccessible: false and reach it from the VPC only")
    retention = get(props, "backupRetentionPeriod")
    if retention is None or int(retention) < 1:
        report(f"{what} keeps no automated backups (backupRetentionPeriod {retention}); set it to 7 days or more")


rds_protected = resource_policy(
    "rds-encrypted-private-backed-up",
    "RDS databases are encrypted, not publicly accessible, and keep automated backups.",
    MANDATORY,
    (RDS_INSTANCE, RDS_CLUSTER),
    _rds,
    "Set storageEncrypted: true, publiclyAccessible: false and backupRetentionPeriod >= 7.",
)


def _sns(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if peek(args.props, "kmsMasterKeyId") in (None, ""):
        report(f"SNS topic {args.name} is not encrypted; set kmsMasterKeyId to a customer-managed KMS key whose "
               "policy lets the publishing services (Budgets, Cost Anomaly Detection, CloudWatch) use it")


sns_encrypted = resource_policy(
    "sns-topic-encrypted",
    "SNS topics are encrypted with a KMS key.",
    MANDATORY,
    ("aws:sns/topic:Topic",),
    _sns,
    "Set kmsMasterKeyId on the topic (a customer-managed key the publishing services may use).",
)

POLICIES = [s3_buckets_protected, rds_protected, sns_encrypted]
