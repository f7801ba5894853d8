"""The cost model, capacity planner and price tables: what a stack costs a month, before `pulumi up`.

Modules: ``prices`` (the tables and max_monthly_gpu_spend, light to import: the policy pack uses it), ``planner``
(fit, speed, replicas), ``model`` (the monthly estimate, break-even, the budget), ``report`` (cost.json and the printed
table), ``chart`` (`make cost-chart`), ``refresh`` (`make prices`).
"""

from .prices import max_monthly_gpu_spend  # light: the policy pack may import it from here or from .prices

__all__ = ["max_monthly_gpu_spend"]
