"""The cost model, capacity planner and price tables: what a stack costs a month, before `pulumi up`."""

from stackconfig import StackConfig

from .model import estimate, monthly_budget_usd
from .prices import max_monthly_gpu_spend

__all__ = ["check", "estimate", "max_monthly_gpu_spend", "monthly_budget_usd"]


def check(config: StackConfig) -> None:
    """Raise ConfigError, naming the key, when the cost model cannot plan the stack: the model does not fit a GPU the
    pools may launch, or a price or instance type is missing from the tables. Entry points call it right after
    validating the config, so nothing is declared for a stack that cannot run."""
    estimate(config)
    max_monthly_gpu_spend(config)
