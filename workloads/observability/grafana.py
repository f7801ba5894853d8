"""Grafana (kube-prometheus-stack's bundled chart): admin from a Pulumi secret, Prometheus and Loki data sources,
and the platform's dashboards as ConfigMaps that Grafana's sidecar loads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

DASHBOARDS_DIR = Path(__file__).with_name("dashboards")
ADMIN_SECRET = "grafana-admin"
ADMIN_USER = "admin"
# The chart's sidecar picks up ConfigMaps with this label in every namespace (kube-prometheus-stack 88.5.3 defaults).
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
FOLDER_ANNOTATION = "grafana_folder"
FOLDER = "LLM platform"
# The Grafana subchart's Service: <release>-grafana, port 80.
SERVICE_NAME = "kube-prometheus-stack-grafana"
SERVICE_PORT = 80
LOKI_DATASOURCE_UID = "loki"


@dataclass(frozen=True)
class GrafanaArgs:
    admin_password: pulumi.Input[str]
    storage_gib: int
    storage_class: str
    loki_url: str  # Loki's query endpoint inside the cluster
    public_hostname: Optional[str] = None  # served through the edge when set


def admin_secret(name: str, namespace: str, args: GrafanaArgs, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    """The Secret the chart reads the admin user and password from (admin.existingSecret): never the chart's default."""
    return k8s.core.v1.Secret(
        name,
        metadata={"name": ADMIN_SECRET, "namespace": namespace},
        string_data={"admin-user": ADMIN_USER, "admin-password": pulumi.Output.secret(args.admin_password)},
        opts=opts,
    )


def grafana_values(args: GrafanaArgs, node_selector: dict[str, str]) -> dict[str, Any]:
    """kube-prometheus-stack ``grafana`` values (keys checked against kube-prometheus-stack 88.5.3 and its Grafana
    subchart 12.11.1 from grafana-community/helm-charts)."""
    server: dict[str, Any] = {}
    if args.public_hostname:
        server = {"domain": args.public_hostname, "root_url": f"https://{args.public_hostname}/"}
    return {
        "enabled": True,
        "admin": {"existingSecret": ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
        "nodeSelector": node_selector,
        # Users, preferences and annotations survive a restart; a ReadWriteOnce volume cannot follow a rolling update.
        "persistence": {"enabled": True, "type": "pvc", "storageClassName": args.storage_class,
                        "accessModes": ["ReadWriteOnce"], "size": f"{args.storage_gib}Gi"},
        "deploymentStrategy": {"type": "Recreate"},
        "grafana.ini": {
            # The cluster has no business calling home.
            "analytics": {"check_for_updates": False, "reporting_enabled": False},
            "auth.anonymous": {"enabled": False},
            "users": {"allow_sign_up": False},
            "security": {"cookie_secure": bool(args.public_hostname), "disable_gravatar": True},
            **({"server": server} if server else {}),
        },
        "sidecar": {
            "dashboards": {
                "folderAnnotation": FOLDER_ANNOTATION,
                "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
            },
        },
        # Prometheus is the chart's default data source (uid "prometheus"); Loki is added here.
        "additionalDataSources": [{
            "name": "Loki",
            "type": "loki",
            "uid": LOKI_DATASOURCE_UID,
            "access": "proxy",
            "url": args.loki_url,
            "editable": False,
            "jsonData": {"maxLines": 1000, "timeout": 60},
        }],
    }


def dashboard_documents() -> dict[str, dict[str, Any]]:
    """The dashboards in dashboards/, by file name without .json."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))}


def dashboard_config_maps(
    name: str, namespace: str, opts: pulumi.ResourceOptions, documents: dict[str, dict[str, Any]]
) -> list[k8s.core.v1.ConfigMap]:
    """One ConfigMap per dashboard, labelled for the sidecar and filed into the platform's folder."""
    return [
        k8s.core.v1.ConfigMap(
            f"{name}-{stem}",
            metadata={
                "name": f"dashboard-{stem}",
                "namespace": namespace,
                "labels": DASHBOARD_LABEL,
                "annotations": {FOLDER_ANNOTATION: FOLDER},
            },
            data={f"{stem}.json": json.dumps(document, indent=1, sort_keys=True)},
            opts=opts,
        )
        for stem, document in sorted(documents.items())
    ]
