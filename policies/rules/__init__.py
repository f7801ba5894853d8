"""The llm-platform policies, importable without starting a policy server.

``POLICIES`` is what ``policies/__main__.py`` hands to ``PolicyPack`` and what the offline plan runs.
Only relative imports here: the pack runs with the project root on its path, the plan imports
``policies.rules`` from it.
"""

from . import advisories, data_at_rest, eks, gpu, helm, money, network, nodes, ordering, workloads

POLICIES = [
    *gpu.POLICIES,
    *eks.POLICIES,
    *nodes.POLICIES,
    *workloads.POLICIES,
    *helm.POLICIES,
    *data_at_rest.POLICIES,
    *money.POLICIES,
    *network.POLICIES,
    *ordering.POLICIES,
    *advisories.POLICIES,
]

__all__ = ["POLICIES"]
