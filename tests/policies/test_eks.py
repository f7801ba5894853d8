"""EKS policies, on both shapes: the pulumi-eks component (offline plan) and its aws:eks/cluster:Cluster child
(what a real preview checks)."""

import datetime

import pytest

from policies.rules import eks
from stackconfig.versions import SUPPORTED_CLUSTER_VERSIONS

from .helpers import check

KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"


def component(**overrides):
    props = {
        "name": "llm-platform-prod", "version": "1.35", "encryptionConfigKeyArn": KEY,
        "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        "endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"],
    }
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def child(**overrides):
    props = {
        "name": "llm-platform-prod", "version": "1.35",
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
        "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"], "subnetIds": ["subnet-1"]},
    }
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


SHAPES = [("eks:index:Cluster", component), ("aws:eks/cluster:Cluster", child)]
PROD = {"phase": "prod"}


@pytest.mark.parametrize("resource_type,make", SHAPES)
def test_compliant_clusters_pass_every_eks_policy(resource_type, make):
    for policy in eks.POLICIES:
        assert check(policy, resource_type, make(), config=PROD) == [], policy.name


@pytest.mark.parametrize("resource_type,make", SHAPES)
def test_secrets_encryption_is_required(resource_type, make):
    broken = make(encryptionConfigKeyArn=None) if resource_type == "eks:index:Cluster" else make(encryptionConfig=None)
    (message,) = check(eks.eks_secrets_encryption, resource_type, broken)
    assert "does not envelope-encrypt Kubernetes Secrets" in message and "KMS key" in message


def test_encryption_of_other_resources_only_does_not_count():
    broken = child(encryptionConfig={"resources": ["configmaps"], "provider": {"keyArn": KEY}})
    assert check(eks.eks_secrets_encryption, "aws:eks/cluster:Cluster", broken)


@pytest.mark.parametrize("resource_type,make", SHAPES)
def test_control_plane_logs_need_api_audit_and_authenticator(resource_type, make):
    (message,) = check(eks.eks_control_plane_logging, resource_type, make(enabledClusterLogTypes=["api"]))
    assert "audit, authenticator" in message and "logTypes" in message
    (none_at_all,) = check(eks.eks_control_plane_logging, resource_type, make(enabledClusterLogTypes=None))
    assert "api, audit, authenticator" in none_at_all


@pytest.mark.parametrize("resource_type,make", SHAPES)
def test_public_endpoint_open_to_the_world_is_rejected_from_rollout_on(resource_type, make):
    open_cidrs = make(publicAccessCidrs=["0.0.0.0/0"]) if resource_type == "eks:index:Cluster" else make(
        vpcConfig={"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]})
    for phase in ("rollout", "prod"):
        (message,) = check(eks.eks_no_open_endpoint, resource_type, open_cidrs, config={"phase": phase})
        assert "0.0.0.0/0" in message and f"phase {phase}" in message and "publicAccessCidrs" in message
    assert check(eks.eks_no_open_endpoint, resource_type, open_cidrs, config={"phase": "dev"}) is None


def test_unset_public_cidrs_mean_open_and_a_private_endpoint_passes():
    unset = component(publicAccessCidrs=None)
    assert check(eks.eks_no_open_endpoint, "eks:index:Cluster", unset, config=PROD)
    private = child(vpcConfig={"endpointPublicAccess": False, "endpointPrivateAccess": True})
    assert check(eks.eks_no_open_endpoint, "aws:eks/cluster:Cluster", private, config=PROD) == []


def test_the_component_without_inputs_is_left_to_its_child():
    """A real preview: the provider registers eks:index:Cluster without inputs."""
    for policy in eks.POLICIES:
        assert check(policy, "eks:index:Cluster", {}, config=PROD) is None


def test_a_key_arn_unknown_during_preview_still_counts_as_encryption():
    from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

    preview = child(encryptionConfig={"resources": ["secrets"], "provider": {"keyArn": UNKNOWN_STRING_VALUE}})
    assert check(eks.eks_secrets_encryption, "aws:eks/cluster:Cluster", preview) == []
    # pulumi-eks builds the whole block from the key ARN: before the key exists it is unknown as a whole.
    whole = child(encryptionConfig=UNKNOWN_OBJECT_VALUE)
    assert check(eks.eks_secrets_encryption, "aws:eks/cluster:Cluster", whole) == []


def test_version_must_be_pinned_known_and_in_standard_support(monkeypatch):
    monkeypatch.setattr(eks, "today", lambda: datetime.date(2026, 11, 27))
    (unpinned,) = check(eks.eks_supported_version, "eks:index:Cluster", component(version=None))
    assert "does not pin its Kubernetes version" in unpinned
    (unknown,) = check(eks.eks_supported_version, "aws:eks/cluster:Cluster", child(version="1.29"))
    assert "1.29" in unknown and "llm-platform:cluster.version" in unknown and "1.35" in unknown
    (ended,) = check(eks.eks_supported_version, "aws:eks/cluster:Cluster", child(version="1.33"))
    assert "standard support ended on 2026-07-29" in ended
    assert check(eks.eks_supported_version, "aws:eks/cluster:Cluster", child(version="1.34")) == []
    monkeypatch.setattr(eks, "today", lambda: datetime.date(2026, 12, 3))
    assert check(eks.eks_supported_version, "aws:eks/cluster:Cluster", child(version="1.34"))


def test_the_version_table_covers_every_version_the_config_allows():
    assert set(SUPPORTED_CLUSTER_VERSIONS) <= set(eks.STANDARD_SUPPORT_ENDS)
