"""Node policies: IMDSv2, encrypted volumes, no SSH keys, across launch templates, node groups, instances
and Karpenter EC2NodeClasses."""

from policies.rules import nodes

from .helpers import check

LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
INSTANCE = "aws:ec2/instance:Instance"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def launch_template(tokens="required", encrypted="true", **extra):
    return {
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": tokens, "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "encrypted": encrypted}}],
        **extra,
    }


def node_class(**spec):
    return {"metadata": {"name": "gpu"}, "spec": {"amiSelectorTerms": [{"alias": "al2023@v20260520"}], **spec}}


def test_imdsv2_is_required_on_launch_templates_instances_and_node_classes():
    (message,) = check(nodes.nodes_imdsv2, LT, launch_template(tokens="optional"))
    assert "allows IMDSv1" in message and "httpTokens to 'required'" in message
    assert check(nodes.nodes_imdsv2, INSTANCE, {"ami": "ami-1"})  # no metadataOptions: IMDSv1 allowed
    (node_class_message,) = check(nodes.nodes_imdsv2, NODE_CLASS, node_class(metadataOptions={"httpTokens": "optional"}))
    assert "EC2NodeClass gpu" in node_class_message
    assert check(nodes.nodes_imdsv2, LT, launch_template()) == []
    # Karpenter's default metadata options already require tokens.
    assert check(nodes.nodes_imdsv2, NODE_CLASS, node_class()) == []


def test_a_node_group_without_a_launch_template_fails_imdsv2_and_encryption():
    bare = {"clusterName": "c", "instanceTypes": ["m7i.large"], "diskSize": 50}
    assert "no launch template" in check(nodes.nodes_imdsv2, NG, bare)[0]
    assert "no launch template" in check(nodes.nodes_encrypted_volumes, NG, bare)[0]
    with_template = {**bare, "launchTemplate": {"id": "lt-1", "version": "1"}}
    assert check(nodes.nodes_imdsv2, NG, with_template) == []
    assert check(nodes.nodes_encrypted_volumes, NG, with_template) == []


def test_volumes_must_be_encrypted():
    (message,) = check(nodes.nodes_encrypted_volumes, LT, launch_template(encrypted="false"))
    assert "unencrypted volumes (/dev/xvda)" in message and "ebs.encrypted true" in message
    unencrypted_class = node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "200Gi"}}])
    assert check(nodes.nodes_encrypted_volumes, NODE_CLASS, unencrypted_class)
    assert "root" in check(nodes.nodes_encrypted_volumes, INSTANCE, {"rootBlockDevice": {"volumeSize": 20}})[0]
    assert check(nodes.nodes_encrypted_volumes, LT, launch_template()) == []
    encrypted_class = node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}])
    assert check(nodes.nodes_encrypted_volumes, NODE_CLASS, encrypted_class) == []
    assert check(nodes.nodes_encrypted_volumes, NODE_CLASS, node_class()) == []  # Karpenter's default is encrypted


def test_no_ssh_keys_anywhere():
    (message,) = check(nodes.nodes_no_ssh_keys, LT, launch_template(keyName="ops"))
    assert "key pair 'ops'" in message and "SSM Session Manager" in message
    assert "remoteAccess" in check(nodes.nodes_no_ssh_keys, NG, {"remoteAccess": {"ec2SshKey": "ops"}})[0]
    with_key = node_class(userData="echo 'ssh-ed25519 AAAA ops' >> /home/ec2-user/.ssh/authorized_keys")
    assert "userData" in check(nodes.nodes_no_ssh_keys, NODE_CLASS, with_key)[0]
    assert check(nodes.nodes_no_ssh_keys, LT, launch_template()) == []
    assert check(nodes.nodes_no_ssh_keys, NG, {"launchTemplate": {"id": "lt-1"}}) == []
    assert check(nodes.nodes_no_ssh_keys, "aws:s3/bucket:Bucket", {}) is None
