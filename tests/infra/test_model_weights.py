"""The model weights bucket and its two roles: private, encrypted, tidy, and each role only what it needs."""

import json

import pytest

from tests.conftest import plan_with


def bucket_parts(plan):
    return {r.type.split(":")[-1]: r.inputs for r in plan.recording.resources if r.name == "model-weights"}


def test_bucket_is_private_encrypted_and_owner_enforced(any_plan):
    parts = bucket_parts(any_plan)
    assert parts["Bucket"]["forceDestroy"] is True, "a cache the Job refills: teardown must not stop on it"
    block = parts["BucketPublicAccessBlock"]
    assert all(block[key] is True for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert parts["BucketOwnershipControls"]["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (rule,) = parts["BucketServerSideEncryptionConfiguration"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"


def test_incomplete_uploads_are_aborted(any_plan):
    (rule,) = bucket_parts(any_plan)["BucketLifecycleConfiguration"]["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 3


def test_bucket_policy_refuses_plain_http(any_plan):
    policy = json.loads(bucket_parts(any_plan)["BucketPolicy"]["policy"])
    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies)


@pytest.mark.parametrize("role, service_account, may_write", [("reader", "vllm", False), ("writer", "weights-sync", True)])
def test_each_role_reaches_only_its_service_account_and_its_actions(any_plan, role, service_account, may_write):
    association = any_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"model-weights-{role}").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("llm-serving", service_account)
    policy = json.loads(any_plan.one("aws:iam/rolePolicy:RolePolicy", f"model-weights-{role}-inline").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:GetObject" in actions
    assert ("s3:PutObject" in actions) is may_write
    assert ("s3:DeleteObject" in actions) is may_write, "the Job removes a copy whose checksum is wrong"
    assert "s3:DeleteBucket" not in actions and "s3:*" not in actions
    resources = {r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert all(r.startswith("arn:aws:s3:::model-weights") for r in resources)


def test_no_bucket_and_no_job_without_the_s3_cache():
    plan = plan_with("dev", {"llm-platform:serving.weightsCache": "none"})
    assert not plan.of_type("aws:s3/bucket:Bucket") and not plan.of_type("kubernetes:batch/v1:Job")
    container = plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[args.index("--model") + 1] == "Qwen/Qwen2.5-7B-Instruct"
    assert args[args.index("--revision") + 1] == "a09a35458c702b33eeacc393d103063234e8bc28"
