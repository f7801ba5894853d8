"""Logs: Loki (grafana-community chart) on a volume or on S3, and Grafana Alloy shipping every pod's logs to it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi

from stackconfig.model import LokiConfig

LOKI_CHART_REPOSITORY = "https://grafana-community.github.io/helm-charts"
LOKI_CHART_VERSION = "18.11.0"
ALLOY_CHART_REPOSITORY = "https://grafana.github.io/helm-charts"
ALLOY_CHART_VERSION = "1.11.1"
NAMESPACE = "logging"
LOKI_RELEASE = "loki"
ALLOY_RELEASE = "alloy"
# The chart names the service account after the release; every Loki target runs as it (Pod Identity names it).
LOKI_SERVICE_ACCOUNT = "loki"
# Loki's nginx gateway (Service "<release>-gateway", port 80) routes pushes to the writers and queries to the readers.
LOKI_URL = f"http://{LOKI_RELEASE}-gateway.{NAMESPACE}.svc.cluster.local"
LOKI_PUSH_URL = f"{LOKI_URL}/loki/api/v1/push"
ALLOY_CONFIG = Path(__file__).with_name("pod-logs.alloy")
# The TSDB index needs 24h periods for the compactor's retention; the first day of the schema is the platform's.
SCHEMA_START = "2026-01-01"
# Alloy must run on GPU nodes too: vLLM's logs are there.
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class LokiStorage:
    """Where a SimpleScalable Loki keeps its data."""

    region: str
    chunks_bucket: pulumi.Input[str]
    ruler_bucket: pulumi.Input[str]


def loki_values(
    loki: LokiConfig, node_selector: dict[str, str], storage_class: str, scrape_labels: dict[str, str],
    s3: Optional[LokiStorage],
) -> dict[str, Any]:
    """Loki chart values (keys checked against grafana-community/helm-charts loki-18.11.0 values.yaml)."""
    scalable = loki.deployment_mode == "SimpleScalable"
    if scalable and s3 is None:
        raise ValueError("a SimpleScalable Loki needs its S3 buckets")
    object_store = "s3" if scalable else "filesystem"
    storage: dict[str, Any] = {"type": object_store}
    if scalable:
        # No keys: Loki's AWS SDK takes the Pod Identity credentials from the default chain.
        storage.update({"bucketNames": {"chunks": s3.chunks_bucket, "ruler": s3.ruler_bucket}, "s3": {"region": s3.region}})
    volume = {"enabled": True, "storageClass": storage_class, "size": f"{loki.storage_gib}Gi"}
    claim = {"storageClass": storage_class, "size": f"{loki.storage_gib}Gi"}
    replicas = loki.replicas if scalable else 0
    scalable_target = {"replicas": replicas, "nodeSelector": node_selector}
    return {
        "deploymentMode": loki.deployment_mode,
        "loki": {
            # One tenant: clients need no X-Scope-OrgID header.
            "auth_enabled": False,
            # Three copies of every write where there are writers to hold them; one Loki has only itself.
            "commonConfig": {"replication_factor": 3 if scalable else 1},
            "schemaConfig": {"configs": [{
                "from": SCHEMA_START, "store": "tsdb", "object_store": object_store, "schema": "v13",
                "index": {"prefix": "loki_index_", "period": "24h"},
            }]},
            "storage": storage,
            "limits_config": {"retention_period": f"{loki.retention_days * 24}h"},
            "compactor": {"retention_enabled": True, "delete_request_store": object_store},
        },
        "serviceAccount": {"create": True, "name": LOKI_SERVICE_ACCOUNT},
        "singleBinary": {
            "replicas": 0 if scalable else 1,
            "nodeSelector": node_selector,
            "persistence": volume,
        },
        # The writers keep their WAL, the backend its compactor and ruler state, on volumes (the keys differ per target).
        "write": {**scalable_target, "persistence": {"volumeClaimsEnabled": True, **claim}},
        "read": scalable_target,
        "backend": {**scalable_target, "persistence": {"enabled": True, **claim}},
        "gateway": {"enabled": True, "nodeSelector": node_selector},
        # The memcached caches ask for 9 GiB together by default: more than a system node has to spare.
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        # The chart's test pod uses an image tagged "latest"; the canary exists to serve that test.
        "test": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "minio": {"enabled": False},
        "monitoring": {"serviceMonitor": {"enabled": True, "labels": dict(scrape_labels)}},
    }


def alloy_config(cluster: str) -> str:
    return ALLOY_CONFIG.read_text().replace("${LokiPushUrl}", LOKI_PUSH_URL).replace("${Cluster}", cluster)


def alloy_values(cluster: str, scrape_labels: dict[str, str]) -> dict[str, Any]:
    """Alloy chart values (keys checked against grafana/alloy helm-chart/1.11.1 operations/helm/charts/alloy/values.yaml)."""
    return {
        # The PodLogs CRD serves loki.source.podlogs, which this config does not use.
        "crds": {"create": False},
        "alloy": {
            "configMap": {"create": True, "content": alloy_config(cluster)},
            "enableReporting": False,
            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        },
        "controller": {"type": "daemonset", "tolerations": [GPU_TOLERATION]},
        # Only what loki.source.kubernetes needs: the chart's defaults also read every Secret and ConfigMap.
        "rbac": {
            "create": True,
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log", "namespaces"], "verbs": ["get", "list", "watch"]}],
            "clusterRules": [],
        },
        "serviceMonitor": {"enabled": True, "additionalLabels": dict(scrape_labels)},
    }
