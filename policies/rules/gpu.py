"""GPU capacity: every GPU NodePool is tainted and capped; reserved pools select real reservations."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .base import MANDATORY, is_kind, kubernetes_kind, resource_policy, stack_policy
from .kube import GPU_RESOURCE
from .props import get, items

is_node_pool = is_kind("NodePool", group="karpenter.sh")
GPU_REQUIREMENT_KEYS = {
    "karpenter.k8s.aws/instance-gpu-count",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-gpu-manufacturer",
    "karpenter.k8s.aws/instance-gpu-memory",
}
GPU_FAMILY = re.compile(r"^(g|p)\d")
CAPACITY_TYPE = "karpenter.sh/capacity-type"


def requirements(pool_props: Any) -> list[Any]:
    return items(get(pool_props, "spec", "template", "spec", "requirements"))


def requirement_values(pool_props: Any, key: str) -> list[str] | None:
    for requirement in requirements(pool_props):
        if get(requirement, "key") == key and get(requirement, "operator") == "In":
            return [str(v) for v in items(get(requirement, "values"))]
    return None


def is_gpu_pool(pool_props: Any) -> bool:
    """A pool that may launch GPU instances: GPU requirements, GPU families or types, or a GPU limit."""
    if get(pool_props, "spec", "limits", GPU_RESOURCE) is not None:
        return True
    for requirement in requirements(pool_props):
        key, values = get(requirement, "key"), [str(v) for v in items(get(requirement, "values"))]
        if key in GPU_REQUIREMENT_KEYS:
            return True
        if key in ("karpenter.k8s.aws/instance-family", "node.kubernetes.io/instance-type") and values and all(
            GPU_FAMILY.match(v) for v in values
        ) and get(requirement, "operator") == "In":
            return True
    return False


def _pool_name(args: ResourceValidationArgs) -> str:
    return str(get(args.props, "metadata", "name", default=args.name))


def _gpu_taint(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_gpu_pool(args.props):
        args.not_applicable("not a GPU NodePool")
    taints = items(get(args.props, "spec", "template", "spec", "taints"))
    if not any(get(t, "key") == GPU_RESOURCE and get(t, "effect") == "NoSchedule" for t in taints):
        report(f"NodePool {_pool_name(args)} may launch GPU instances without the {GPU_RESOURCE}:NoSchedule taint; "
               f"add {{key: {GPU_RESOURCE}, effect: NoSchedule}} to spec.template.spec.taints so only pods that "
               "tolerate it (GPU workloads) land on these expensive nodes")


gpu_pool_taint = resource_policy(
    "gpu-pool-taint",
    "Every GPU NodePool carries the nvidia.com/gpu:NoSchedule taint.",
    MANDATORY,
    is_node_pool,
    _gpu_taint,
    "Add the taint {key: nvidia.com/gpu, effect: NoSchedule} to the pool's spec.template.spec.taints.",
)


def _gpu_limit(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_gpu_pool(args.props):
        args.not_applicable("not a GPU NodePool")
    limit = get(args.props, "spec", "limits", GPU_RESOURCE)
    try:
        valid = limit is not None and float(limit) > 0 and float(limit).is_integer()
    except (TypeError, ValueError):
        valid = False
    if not valid:
        shown = "no" if limit is None else f"an invalid ({limit!r})"
        report(f"NodePool {_pool_name(args)} has {shown} spec.limits['{GPU_RESOURCE}']; set a whole number of GPUs "
               "(gpuPools.<pool>.gpuLimit): it is the phase's cost cap, without it Karpenter may launch GPUs "
               "without bound")


gpu_pool_limits = resource_policy(
    "gpu-pool-limits",
    "Every GPU NodePool caps its GPUs with spec.limits['nvidia.com/gpu'].",
    MANDATORY,
    is_node_pool,
    _gpu_limit,
    "Set spec.limits['nvidia.com/gpu'] (config gpuPools.<pool>.gpuLimit) to the phase's GPU cap.",
)


def _reserved_pools(args: StackValidationArgs, report: ReportViolation) -> None:
    classes = {
        str(get(r.props, "metadata", "name")): r.props
        for r in args.resources
        if kubernetes_kind(r.resource_type) == ("karpenter.k8s.aws", "EC2NodeClass")
    }
    pools = [r for r in args.resources if is_node_pool(r.resource_type)]
    reserved = [r for r in pools if "reserved" in (requirement_values(r.props, CAPACITY_TYPE) or [])]
    if not reserved:
        args.not_applicable("no NodePool launches reserved capacity")
    for pool in reserved:
        name = get(pool.props, "metadata", "name", default=pool.name)
        class_name = str(get(pool.props, "spec", "template", "spec", "nodeClassRef", "name", default=""))
        node_class = classes.get(class_name)
        if node_class is None:
            report(f"NodePool {name} launches reserved capacity through EC2NodeClass {class_name!r}, which this "
                   "stack does not declare; declare it with the reservations to use", pool.urn)
        elif not items(get(node_class, "spec", "capacityReservationSelectorTerms")):
            report(f"NodePool {name} launches reserved capacity but EC2NodeClass {class_name} selects no capacity "
                   "reservation; set gpuPools.reserved.capacityReservationIds or capacityReservationTags, or "
                   "remove the reserved pool from this phase", pool.urn)


gpu_reserved_pools = stack_policy(
    "gpu-reserved-pools-have-reservations",
    "A NodePool of capacity type 'reserved' exists only where its EC2NodeClass selects capacity reservations.",
    MANDATORY,
    _reserved_pools,
    "Give the reserved pool's EC2NodeClass capacityReservationSelectorTerms (reservation ids or tags), or drop the pool.",
)

POLICIES = [gpu_pool_taint, gpu_pool_limits, gpu_reserved_pools]
