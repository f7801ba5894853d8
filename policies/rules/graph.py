"""What each resource waits for, read from what the engine hands a stack policy.

The rules are the engine's (the same as tools/order.py applies to the offline recording, restated here
because the pack runs on its own, on the SDK's ``PolicyResource`` objects):
- a resource waits for its dependencies; a dependency on a component stands for everything below it;
- a child waits for what its parent waits for (a custom parent: for the parent itself);
- a resource waits for its provider.
Only custom resources and providers take a step; components create nothing. A stack policy cannot ask
the engine which is which, but only custom resources have a provider.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

from pulumi_policy import PolicyResource

STACK_TYPE = "pulumi:pulumi:Stack"


def is_node(resource: PolicyResource) -> bool:
    if resource.resource_type == STACK_TYPE:
        return False
    return resource.provider is not None or resource.resource_type.startswith("pulumi:providers:")


def parent_urn(resource: PolicyResource) -> str:
    if resource.parent is not None:
        return resource.parent.urn
    return resource.opts.parent or "" if resource.opts is not None else ""


class WaitGraph:
    def __init__(self, resources: Sequence[PolicyResource]):
        self.by_urn = {r.urn: r for r in resources}
        self.children: dict[str, list[str]] = collections.defaultdict(list)
        for resource in resources:
            if parent_urn(resource):
                self.children[parent_urn(resource)].append(resource.urn)
        self._waits: dict[str, frozenset[str]] = {}

    def nodes_of(self, urn: str) -> set[str]:
        """The nodes a resource stands for: itself, or for a component everything below it."""
        resource = self.by_urn.get(urn)
        if resource is None:
            return set()
        children = self.children.get(urn, [])
        if is_node(resource) or not children:
            # A component with nothing below it (a remote component seen without its children, as the
            # offline plan sees yaml/v2 ConfigFile) stands for itself.
            return {urn}
        return set().union(*(self.nodes_of(child) for child in children))

    def _inherited(self, urn: str) -> set[str]:
        parent = self.by_urn.get(urn)
        if parent is None or parent.resource_type == STACK_TYPE:
            return set()
        if is_node(parent):
            return {urn}
        found = self._inherited(parent_urn(parent))
        for dependency in parent.dependencies:
            found |= self.nodes_of(dependency.urn)
        return found

    def prerequisites(self, urn: str) -> set[str]:
        resource = self.by_urn[urn]
        waits = self._inherited(parent_urn(resource))
        for dependency in resource.dependencies:
            waits |= self.nodes_of(dependency.urn)
        if resource.provider is not None and resource.provider.urn in self.by_urn:
            waits.add(resource.provider.urn)
        waits.discard(urn)
        return waits

    def waits_for(self, urn: str) -> frozenset[str]:
        """Every node created before ``urn`` (for a component: before any node below it)."""
        if urn not in self._waits:
            start = self.nodes_of(urn)
            seen: set[str] = set()
            stack = [p for node in start for p in self.prerequisites(node)]
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(self.prerequisites(current))
            self._waits[urn] = frozenset(seen - start)
        return self._waits[urn]


def refers_to(resource: PolicyResource, prop: str, target: PolicyResource) -> bool:
    """Whether ``resource``'s ``prop`` was computed from ``target`` (e.g. a bucket policy's ``bucket``).

    The engine records this per property; where a caller has only the resource's dependencies (the
    offline plan), any dependency on the target counts.
    """
    if resource.property_dependencies:
        return target.urn in {d.urn for d in resource.property_dependencies.get(prop, [])}
    return target.urn in {d.urn for d in resource.dependencies}
