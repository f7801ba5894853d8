"""Creation and destroy order, as a real `pulumi up` / `pulumi destroy` follows it, read from a recording.

The engine creates a resource once everything it waits for is created (for Kubernetes objects and Helm
releases: ready). A resource waits for:
- its ``dependencies``: explicit ``depends_on`` (a local component standing for its children) and the
  resources its input values came from;
- its provider (the Kubernetes provider is configured from the cluster's kubeconfig);
- its parent: a child registers only once its parent's URN is known. A custom parent's URN is known once it
  is created; a component's once its own dependencies are, so a child waits for what its parent waits for.

``pulumi destroy`` walks the same graph backwards: a resource is deleted before anything it waits for.
Only resources that take a step count as nodes: custom resources, providers and remote components
(pulumi-eks's Cluster, yaml/v2 ConfigFile). Local components create nothing.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable

from .recorder import Recording, Registered

STACK_TYPE = "pulumi:pulumi:Stack"


class Order:
    """The wait-for graph of one recording."""

    def __init__(self, recording: Recording):
        self.recording = recording
        self.by_urn: dict[str, Registered] = {r.urn: r for r in recording.resources}
        self.children: dict[str, list[str]] = collections.defaultdict(list)
        for resource in recording.resources:
            if resource.parent:
                self.children[resource.parent].append(resource.urn)

    # --- nodes and edges ----------------------------------------------------

    def is_node(self, urn: str) -> bool:
        resource = self.by_urn.get(urn)
        return resource is not None and resource.type != STACK_TYPE and (resource.custom or resource.remote)

    def nodes(self) -> list[Registered]:
        return [r for r in self.recording.resources if self.is_node(r.urn)]

    def _as_nodes(self, urns: Iterable[str]) -> set[str]:
        """Local components stand for the nodes below them (the SDK already sends them expanded)."""
        found: set[str] = set()
        for urn in urns:
            if self.is_node(urn):
                found.add(urn)
            elif urn in self.by_urn:
                found |= self._as_nodes(self.children.get(urn, []))
        return found

    @functools.cache
    def _inherited(self, parent_urn: str) -> frozenset[str]:
        """What every child of ``parent_urn`` waits for because of that parent."""
        parent = self.by_urn.get(parent_urn)
        if parent is None or parent.type == STACK_TYPE:
            return frozenset()
        if parent.remote:
            # A remote component's children are created inside it, after what it waits for.
            return frozenset(self._as_nodes(parent.dependencies)) | self._inherited(parent.parent)
        if self.is_node(parent_urn):
            return frozenset({parent_urn})
        return frozenset(self._as_nodes(parent.dependencies)) | self._inherited(parent.parent)

    @functools.cache
    def prerequisites(self, urn: str) -> frozenset[str]:
        """The nodes ``urn`` waits for directly."""
        resource = self.by_urn[urn]
        waits = self._as_nodes(resource.dependencies) | self._inherited(resource.parent)
        if resource.remote:
            # A remote component returns once everything it built is created.
            waits |= self._as_nodes(self.children.get(urn, []))
        provider_urn = resource.provider.rsplit("::", 1)[0] if resource.provider else ""
        if provider_urn in self.by_urn:
            waits.add(provider_urn)
        waits.discard(urn)
        return frozenset(waits)

    @functools.cache
    def waits_for(self, urn: str) -> frozenset[str]:
        """Every node created before ``urn`` (transitively); for a component, before any of its nodes."""
        if not self.is_node(urn):
            below = self._as_nodes([urn])
            return frozenset(set().union(*(self.waits_for(n) for n in below)) - below) if below else frozenset()
        seen: set[str] = set()
        stack = list(self.prerequisites(urn))
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.prerequisites(current))
        return frozenset(seen)

    def nodes_of(self, urn: str) -> set[str]:
        """The nodes a resource or component stands for."""
        return self._as_nodes([urn])

    # --- waves ----------------------------------------------------------------

    def waves(self) -> list[list[Registered]]:
        """Nodes grouped by creation wave: each wave can start once the waves before it are done."""
        depth: dict[str, int] = {}

        def wave_of(urn: str) -> int:
            if urn not in depth:
                depth[urn] = 0  # guards against a cycle, which the engine would reject anyway
                depth[urn] = 1 + max((wave_of(p) for p in self.prerequisites(urn)), default=-1)
            return depth[urn]

        grouped: dict[int, list[Registered]] = collections.defaultdict(list)
        for node in self.nodes():
            grouped[wave_of(node.urn)].append(node)
        return [grouped[index] for index in sorted(grouped)]


def label(resource: Registered) -> str:
    """``Kind:name``: names repeat across types (a bucket and its policy share one)."""
    return f"{resource.type.rsplit(':', 1)[-1]}:{resource.name}"


def wave_lines(recording: Recording, width: int = 110) -> list[str]:
    """The creation waves as `make plan` prints them; destroy runs them bottom to top."""
    lines = []
    for index, wave in enumerate(Order(recording).waves(), start=1):
        names = ", ".join(sorted(label(r) for r in wave))
        prefix = f"    wave {index:>2} ({len(wave):>3}): "
        text = prefix + names
        while len(text) > width:
            cut = text.rfind(", ", 0, width)
            if cut <= len(prefix):
                break
            lines.append(text[: cut + 1])
            text = " " * len(prefix) + text[cut + 2:]
        lines.append(text)
    return lines
