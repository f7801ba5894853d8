"""The control plane and system nodes: auth mode, encryption, logs, endpoint access, pinned add-ons."""

import pytest

from stackconfig.versions import EKS_ADDON_VERSIONS
from tests.conftest import plan_with
from tools.order import Order


def test_cluster_settings(any_plan):
    cluster = any_plan.one("eks:index:Cluster").inputs
    assert cluster["authenticationMode"] == "API"
    assert cluster["encryptionConfigKeyArn"].startswith("arn:aws:kms:")
    assert {"api", "audit", "authenticator"} <= set(cluster["enabledClusterLogTypes"])
    assert cluster["endpointPublicAccess"] is True and cluster["endpointPrivateAccess"] is True
    assert "0.0.0.0/0" not in cluster["publicAccessCidrs"]
    assert cluster["skipDefaultNodeGroup"] is True
    admin = cluster["accessEntries"]["admin-0"]
    assert admin["accessPolicies"]["cluster-admin"]["policyArn"].endswith("AmazonEKSClusterAdminPolicy")


def test_kms_key_rotates(any_plan):
    key = any_plan.one("aws:kms/key:Key", "cluster-secrets").inputs
    assert key["enableKeyRotation"] is True


def test_addons_pinned_to_the_cluster_version(any_plan):
    version = any_plan.one("eks:index:Cluster").inputs["version"]
    addons = {a.inputs["addonName"]: a.inputs["addonVersion"] for a in any_plan.of_type("aws:eks/addon:Addon")}
    assert addons == EKS_ADDON_VERSIONS[version]
    ebs = any_plan.one("aws:eks/addon:Addon", "aws-ebs-csi-driver").inputs
    assert ebs["podIdentityAssociations"][0]["serviceAccount"] == "ebs-csi-controller-sa"


@pytest.mark.parametrize("stack, sizes", [("dev", (2, 3, 2)), ("prod", (3, 9, 3))])
def test_system_node_group(plans, stack, sizes):
    group = plans[stack].one("aws:eks/nodeGroup:NodeGroup").inputs
    scaling = group["scalingConfig"]
    assert (scaling["minSize"], scaling["maxSize"], scaling["desiredSize"]) == sizes
    assert group["capacityType"] == "ON_DEMAND" and group["amiType"] == "AL2023_x86_64_STANDARD"
    template = plans[stack].one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"


def test_desired_size_left_to_autoscaling(any_plan):
    """Pulumi sets desiredSize once; later changes by the autoscaler are not reverted."""
    group = any_plan.one("aws:eks/nodeGroup:NodeGroup")
    assert group.ignore_changes == ("scalingConfig.desiredSize",)


@pytest.mark.parametrize("stack, log_types", [
    ("dev", ["api", "audit", "authenticator"]), ("shadow", ["api", "audit", "authenticator"]),
    ("rollout", ["api", "audit", "authenticator"]), ("prod", ["api", "audit", "authenticator", "controllerManager", "scheduler"]),
])
def test_control_plane_log_types_per_phase(plans, stack, log_types):
    assert plans[stack].one("eks:index:Cluster").inputs["enabledClusterLogTypes"] == log_types


def test_control_plane_logs_go_to_a_group_with_a_retention_made_first(any_plan):
    group = any_plan.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert group["name"] == f"/aws/eks/llm-platform-{any_plan.recording.stack}/cluster"
    assert group["retentionInDays"] == 90
    order = Order(any_plan.recording)
    log_group = any_plan.one("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.urn in order.waits_for(any_plan.one("eks:index:Cluster").urn), "else EKS makes a group that never expires"


def test_log_retention_comes_from_config():
    assert plan_with("dev", {"llm-platform:cluster.logRetentionDays": 30}).one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 30


def test_no_oidc_provider_everything_uses_pod_identity(any_plan):
    assert any_plan.one("eks:index:Cluster").inputs["createOidcProvider"] is False
    assert not any_plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")


def test_system_node_instances_and_volumes_carry_the_cost_tags(any_plan):
    template = any_plan.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    by_kind = {spec["resourceType"]: spec["tags"] for spec in template["tagSpecifications"]}
    assert set(by_kind) == {"instance", "volume", "network-interface"}
    for tags in by_kind.values():
        assert tags["llm-platform/stack"] == any_plan.recording.stack and tags["CostCenter"] == "ml-platform"
