"""The control plane and system nodes: auth mode, encryption, logs, endpoint access, pinned add-ons."""

import pytest

from stackconfig.versions import EKS_ADDON_VERSIONS


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
