"""Alertmanager: pages go to the stack's SNS topic, signed with the credentials of its Pod Identity role."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

CONFIG_FILE = Path(__file__).with_name("alertmanager.yaml")
TEMPLATE_FILE = Path(__file__).with_name("sns.tmpl")
# kube-prometheus-stack names it <release>-alertmanager; pinned in the values too, since the Pod Identity
# association names it.
SERVICE_ACCOUNT = "kube-prometheus-stack-alertmanager"


@dataclass(frozen=True)
class AlertingArgs:
    topic_arn: pulumi.Input[str]
    region: str


@functools.cache
def _parsed(text: str) -> dict[str, Any]:
    """Parsed once a process for each content; callers copy it."""
    return yaml.safe_load(text)


def alertmanager_config(args: AlertingArgs) -> dict[str, Any]:
    """alertmanager.yaml with the topic and region filled in (the topic ARN stays an Output until the release)."""
    config = copy.deepcopy(_parsed(CONFIG_FILE.read_text()))
    for receiver in config["receivers"]:
        for sns in receiver.get("sns_configs", []):
            sns["sigv4"]["region"] = args.region
            sns["topic_arn"] = args.topic_arn
    return config


def alertmanager_values(args: AlertingArgs, node_selector: dict[str, str], storage_class: str) -> dict[str, Any]:
    """kube-prometheus-stack ``alertmanager`` values (keys checked against its values.yaml at 88.5.3)."""
    return {
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        "config": alertmanager_config(args),
        # Written beside alertmanager.yaml in the config Secret; `templates` in the config loads *.tmpl from there.
        "templateFiles": {"llm-platform.tmpl": TEMPLATE_FILE.read_text()},
        "alertmanagerSpec": {
            "nodeSelector": node_selector,
            # Silences and the notification log survive a restart, so a restart neither re-pages nor unsilences.
            "storage": {"volumeClaimTemplate": {"spec": {
                "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "2Gi"}},
            }}},
        },
    }
