"""Self-hosted serving: vLLM, its autoscaling on queue depth, and the weights cache filler."""

from .namespace import ServingNamespace, ServingNamespaceArgs
from .scaling import VllmScaling, VllmScalingArgs
from .vllm import Vllm, VllmArgs
from .weights_job import WeightsSync, WeightsSyncArgs, weights_prefix

__all__ = ["ServingNamespace", "ServingNamespaceArgs", "Vllm", "VllmArgs", "VllmScaling", "VllmScalingArgs", "WeightsSync", "WeightsSyncArgs", "weights_prefix"]
