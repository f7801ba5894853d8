"""Karpenter: the controller (IAM, interruption queue, Helm) and the GPU NodePools it manages."""

from .controller import Karpenter, KarpenterArgs
from .node_pools import GpuNodePools, GpuNodePoolsArgs

__all__ = ["GpuNodePools", "GpuNodePoolsArgs", "Karpenter", "KarpenterArgs"]
