"""The LiteLLM router: its config (routing.py), its hooks (hooks/) and its Kubernetes workload (deployment.py)."""

from .deployment import Router, RouterArgs, RouterRedis, RouterSampleStore

__all__ = ["Router", "RouterArgs", "RouterRedis", "RouterSampleStore"]
