"""The cost model, capacity planner and price tables: what a stack costs a month, before `pulumi up`."""

from .prices import max_monthly_gpu_spend

__all__ = ["max_monthly_gpu_spend"]
