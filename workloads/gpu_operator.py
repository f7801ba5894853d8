"""NVIDIA GPU operator: device plugin, GPU feature discovery, NFD and the DCGM exporter on the GPU nodes."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

CHART_REPOSITORY = "https://helm.ngc.nvidia.com/nvidia"
NAMESPACE = "gpu-operator"
RELEASE_NAME = "gpu-operator"
CHART_VERSION = "v26.7.0"  # NGC chart versions carry the "v"
STATIC_VALUES = yaml.safe_load(Path(__file__).with_name("gpu_operator_values.yaml").read_text())


@dataclass(frozen=True)
class GpuOperatorArgs:
    k8s_provider: k8s.Provider
    system_node_selector: dict[str, str]
    version: str = CHART_VERSION
    # Install after these (the monitoring release): the operator creates the DCGM ServiceMonitor only if
    # the ServiceMonitor CRD exists when it reconciles, and reports the state ready without it.
    depends_on: Sequence[pulumi.Resource] = ()


class GpuOperator(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: GpuOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:GpuOperator", name, None, opts)

        self.release = k8s.helm.v3.Release(
            name,
            name=RELEASE_NAME,
            chart="gpu-operator",
            version=args.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=NAMESPACE,
            create_namespace=True,
            values=gpu_operator_values(args.system_node_selector),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=list(args.depends_on)),
        )

        self.register_outputs({"release": self.release.name})


def gpu_operator_values(system_node_selector: Mapping[str, str]) -> dict[str, Any]:
    """The chart values: the static file plus where the cluster-wide controllers run."""
    # The operator and the NFD master/gc are Deployments with no GPU work to do: keep them on the
    # always-on CPU nodes so they neither hold a GPU node up nor go away with a spot GPU node.
    system = {"kubernetes.io/os": "linux", **system_node_selector}
    return deep_merge(
        STATIC_VALUES,
        {
            "operator": {"nodeSelector": system},
            # The NFD subchart's values key is its chart name; its worker stays a DaemonSet everywhere,
            # since the GPU nodes are exactly where it has to label PCI devices.
            "node-feature-discovery": {"master": {"nodeSelector": system}, "gc": {"nodeSelector": system}},
        },
    )


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, maps merged key by key (as Helm merges values); ``base`` is left alone."""
    merged = copy.deepcopy(dict(base))
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
