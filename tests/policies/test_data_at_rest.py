"""Data policies: S3 buckets encrypted and closed, RDS encrypted/private/backed up, SNS encrypted."""

from policies.rules import data_at_rest as data

from .helpers import Stack, check

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ALL_BLOCKED = {"bucket": "weights", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
               "restrictPublicBuckets": True}
SSE_PROPS = {"bucket": "weights", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}


def test_a_bucket_without_encryption_or_public_access_block_is_rejected():
    stack = Stack()
    bucket = stack.add(BUCKET, {"forceDestroy": False}, "weights")
    other = stack.add(BUCKET, {}, "other")
    stack.add(SSE, SSE_PROPS, "other", depends_on=(other,))  # belongs to the other bucket
    stack.add(PAB, {**ALL_BLOCKED, "restrictPublicBuckets": False}, "weights", depends_on=(bucket,))
    found = [(m, u) for m, u in stack.check(data.s3_buckets_protected) if u == bucket.urn]
    assert len(found) == 2
    assert "S3 bucket weights has no default encryption" in found[0][0] and "BucketServerSideEncryptionConfiguration" in found[0][0]
    assert "not closed to the public" in found[1][0] and "restrictPublicBuckets all true" in found[1][0]


def test_a_bucket_with_its_own_encryption_and_block_passes():
    stack = Stack()
    bucket = stack.add(BUCKET, {}, "weights")
    stack.add(SSE, SSE_PROPS, "weights", depends_on=(bucket,))
    stack.add(PAB, ALL_BLOCKED, "weights", depends_on=(bucket,))
    assert stack.check(data.s3_buckets_protected) == []
    assert Stack().check(data.s3_buckets_protected) is None


def test_the_engine_property_dependencies_decide_which_bucket_a_setting_belongs_to():
    stack = Stack()
    weights = stack.add(BUCKET, {}, "weights")
    logs = stack.add(BUCKET, {}, "logs")
    sse = stack.add(SSE, SSE_PROPS, "weights", depends_on=(weights, logs))
    sse.property_dependencies = {"bucket": [logs], "expectedBucketOwner": [weights]}
    block = stack.add(PAB, ALL_BLOCKED, "weights", depends_on=(weights,))
    block.property_dependencies = {"bucket": [weights]}
    unencrypted = {urn for message, urn in stack.check(data.s3_buckets_protected) if "no default encryption" in message}
    assert unencrypted == {weights.urn}, "the configuration's bucket property names logs, not weights"


RDS = "aws:rds/instance:Instance"
DB = {"engine": "postgres", "storageEncrypted": True, "publiclyAccessible": False, "backupRetentionPeriod": 7}


def test_rds_must_be_encrypted_private_and_backed_up():
    messages = check(data.rds_protected, RDS, {"engine": "postgres", "publiclyAccessible": True}, name="router-db")
    assert len(messages) == 3
    assert "RDS instance router-db stores data unencrypted" in messages[0]
    assert "publiclyAccessible: false" in messages[1]
    assert "backupRetentionPeriod None" in messages[2] and "7 days" in messages[2]
    assert check(data.rds_protected, RDS, {**DB, "backupRetentionPeriod": 0})
    assert check(data.rds_protected, RDS, DB) == []
    assert check(data.rds_protected, "aws:rds/cluster:Cluster", {"storageEncrypted": True, "backupRetentionPeriod": 7}) == []
    assert check(data.rds_protected, RDS, {"engine": "aurora-postgresql"}) is None


def test_sns_topics_must_be_encrypted():
    (message,) = check(data.sns_encrypted, "aws:sns/topic:Topic", {}, name="alerts")
    assert "SNS topic alerts is not encrypted" in message and "kmsMasterKeyId" in message
    assert check(data.sns_encrypted, "aws:sns/topic:Topic", {"kmsMasterKeyId": "arn:aws:kms:us-east-1:1:key/a"}) == []
