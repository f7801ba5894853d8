"""Supported EKS versions and the add-on versions pinned for each (data in eks_addon_versions.yaml)."""

from pathlib import Path

import yaml

_TABLE_FILE = Path(__file__).with_name("eks_addon_versions.yaml")

EKS_ADDON_VERSIONS: dict[str, dict[str, str]] = yaml.safe_load(_TABLE_FILE.read_text())["clusterVersions"]
SUPPORTED_CLUSTER_VERSIONS: tuple[str, ...] = tuple(EKS_ADDON_VERSIONS)
