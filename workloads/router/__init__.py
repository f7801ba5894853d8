"""The LiteLLM router: its config (routing.py) and its Kubernetes workload (deployment.py)."""

from .deployment import Router, RouterArgs, RouterRedis

__all__ = ["Router", "RouterArgs", "RouterRedis"]
