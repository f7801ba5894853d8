"""Nodes: IMDSv2 only, encrypted volumes, no SSH keys; for launch templates, managed node groups,
plain instances and Karpenter EC2NodeClasses alike."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .base import MANDATORY, is_kind, resource_policy
from .props import get, items, truthy

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
INSTANCE = "aws:ec2/instance:Instance"
is_node_class = is_kind("EC2NodeClass", group="karpenter.k8s.aws")


def _node_types(resource_type: str) -> bool:
    return resource_type in (LAUNCH_TEMPLATE, NODE_GROUP, INSTANCE) or is_node_class(resource_type)


def _what(args: ResourceValidationArgs) -> str:
    kind = args.resource_type.rsplit(":", 1)[-1]
    return f"{kind} {get(args.props, 'metadata', 'name', default=args.name)}"


def _node_group_without_template(args: ResourceValidationArgs, report: ReportViolation, consequence: str,
                                 remedy: str) -> bool:
    """Managed node groups are judged by their launch template (checked on its own): True when done."""
    if args.resource_type != NODE_GROUP:
        return False
    if get(args.props, "launchTemplate") is None:
        report(f"{_what(args)} has no launch template, so {consequence}; give it a launch template and {remedy}")
    return True


def _imdsv2(args: ResourceValidationArgs, report: ReportViolation) -> None:
    remedy = "set metadataOptions.httpTokens to 'required' (and httpPutResponseHopLimit 1 so pods cannot reach it)"
    if _node_group_without_template(args, report, "nothing enforces IMDSv2 on its nodes", remedy):
        return
    if is_node_class(args.resource_type):
        tokens = get(args.props, "spec", "metadataOptions", "httpTokens")
        if tokens is not None and tokens != "required":  # Karpenter's own default is "required"
            report(f"{_what(args)} sets metadataOptions.httpTokens {tokens!r}; {remedy}")
        return
    tokens = get(args.props, "metadataOptions", "httpTokens")
    if tokens != "required":
        report(f"{_what(args)} allows IMDSv1 (httpTokens {tokens!r}); {remedy}")


nodes_imdsv2 = resource_policy(
    "nodes-imdsv2",
    "Nodes require IMDSv2 (session tokens) for the instance metadata service.",
    MANDATORY,
    _node_types,
    _imdsv2,
    "Set metadataOptions.httpTokens: required (hop limit 1) on launch templates, instances and EC2NodeClasses.",
)


def _unencrypted_ebs(mappings: Any) -> list[str]:
    return [
        str(get(m, "deviceName", default="?"))
        for m in items(mappings)
        if get(m, "ebs") is not None and not truthy(get(m, "ebs", "encrypted"))
    ]


def _encrypted_volumes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    remedy = "set ebs.encrypted true on every block device mapping (a KMS key of your own is optional)"
    consequence = "its root volume is encrypted only if the account default says so"
    if _node_group_without_template(args, report, consequence, remedy):
        return
    if is_node_class(args.resource_type):
        # Karpenter's default mapping (no blockDeviceMappings) is an encrypted gp3 root volume.
        unencrypted = _unencrypted_ebs(get(args.props, "spec", "blockDeviceMappings"))
    elif args.resource_type == INSTANCE:
        unencrypted = _unencrypted_ebs(get(args.props, "ebsBlockDevices"))
        if not truthy(get(args.props, "rootBlockDevice", "encrypted")):
            unencrypted.insert(0, "root")
    else:
        unencrypted = _unencrypted_ebs(get(args.props, "blockDeviceMappings"))
    if unencrypted:
        report(f"{_what(args)} has unencrypted volumes ({', '.join(unencrypted)}); {remedy}")


nodes_encrypted_volumes = resource_policy(
    "nodes-encrypted-volumes",
    "Node root and data volumes are encrypted.",
    MANDATORY,
    _node_types,
    _encrypted_volumes,
    "Set ebs.encrypted: true on every block device mapping of launch templates, instances and EC2NodeClasses.",
)


def _no_ssh(args: ResourceValidationArgs, report: ReportViolation) -> None:
    remedy = "remove it and reach nodes through SSM Session Manager (the node role has AmazonSSMManagedInstanceCore)"
    if args.resource_type == NODE_GROUP:
        if get(args.props, "remoteAccess") is not None:
            report(f"{_what(args)} opens SSH through remoteAccess; {remedy}")
    elif is_node_class(args.resource_type):
        user_data = str(get(args.props, "spec", "userData", default=""))
        if "ssh-rsa" in user_data or "ssh-ed25519" in user_data or "authorized_keys" in user_data:
            report(f"{_what(args)} installs an SSH key through its userData; {remedy}")
    elif get(args.props, "keyName"):
        report(f"{_what(args)} sets the EC2 key pair {get(args.props, 'keyName')!r}; {remedy}")


nodes_no_ssh_keys = resource_policy(
    "nodes-no-ssh-keys",
    "Nodes carry no SSH key pair and open no SSH remote access.",
    MANDATORY,
    _node_types,
    _no_ssh,
    "Drop keyName / remoteAccess / SSH keys in userData; use SSM Session Manager instead.",
)

POLICIES = [nodes_imdsv2, nodes_encrypted_volumes, nodes_no_ssh_keys]
