"""GPU capacity policies: taint, GPU limit, reserved pools only with reservations."""

import copy

from policies.rules import gpu

from .helpers import Stack, check

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def pool(name="gpu-spot", capacity=("spot",), taints=({"key": "nvidia.com/gpu", "effect": "NoSchedule"},), limit=4):
    spec = {
        "template": {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
            "requirements": [
                {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(capacity)},
                {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g6", "g6e"]},
            ],
            "taints": list(taints),
        }},
    }
    if limit is not None:
        spec["limits"] = {"nvidia.com/gpu": limit}
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": name}, "spec": spec}


CPU_POOL = {"metadata": {"name": "cpu"}, "spec": {"template": {"spec": {"requirements": [
    {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["m", "c"]}]}}}}


def test_taint_rejects_an_untainted_gpu_pool_and_accepts_a_tainted_one():
    (message,) = check(gpu.gpu_pool_taint, NODE_POOL, pool(taints=()))
    assert "NodePool gpu-spot" in message and "nvidia.com/gpu:NoSchedule" in message and "spec.template.spec.taints" in message
    wrong_effect = pool(taints=({"key": "nvidia.com/gpu", "effect": "PreferNoSchedule"},))
    assert check(gpu.gpu_pool_taint, NODE_POOL, wrong_effect)
    assert check(gpu.gpu_pool_taint, NODE_POOL, pool()) == []


def test_taint_leaves_cpu_pools_and_other_kinds_alone():
    assert check(gpu.gpu_pool_taint, NODE_POOL, CPU_POOL) is None
    assert check(gpu.gpu_pool_taint, "kubernetes:apps/v1:Deployment", {}) is None


def test_a_pool_is_a_gpu_pool_by_gpu_requirements_families_or_limit():
    by_count = {"spec": {"template": {"spec": {"requirements": [
        {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["0"]}]}}}}
    assert gpu.is_gpu_pool(by_count) and gpu.is_gpu_pool(pool()) and not gpu.is_gpu_pool(CPU_POOL)


def test_limits_rejects_a_gpu_pool_without_a_gpu_cap_and_accepts_a_capped_one():
    (message,) = check(gpu.gpu_pool_limits, NODE_POOL, pool(limit=None))
    assert "no spec.limits['nvidia.com/gpu']" in message and "gpuLimit" in message and "cost cap" in message
    (invalid,) = check(gpu.gpu_pool_limits, NODE_POOL, pool(limit="lots"))
    assert "invalid ('lots')" in invalid
    assert check(gpu.gpu_pool_limits, NODE_POOL, pool(limit=0))
    assert check(gpu.gpu_pool_limits, NODE_POOL, pool(limit=4)) == []


def node_class(reservations):
    spec = {"amiSelectorTerms": [{"alias": "al2023@v20260520"}]}
    if reservations:
        spec["capacityReservationSelectorTerms"] = reservations
    return {"metadata": {"name": "gpu"}, "spec": spec}


def test_reserved_pool_needs_a_node_class_that_selects_reservations():
    stack = Stack()
    stack.add(NODE_CLASS, node_class([]), "gpu")
    reserved = stack.add(NODE_POOL, pool("gpu-reserved", capacity=("reserved",)), "gpu-reserved")
    stack.add(NODE_POOL, pool(), "gpu-spot")
    ((message, where),) = stack.check(gpu.gpu_reserved_pools)
    assert where == reserved.urn
    assert "NodePool gpu-reserved" in message and "selects no capacity reservation" in message
    assert "capacityReservationIds" in message

    compliant = Stack()
    compliant.add(NODE_CLASS, node_class([{"id": "cr-0a1b2c3d4e5f60718"}]), "gpu")
    compliant.add(NODE_POOL, pool("gpu-reserved", capacity=("reserved",)), "gpu-reserved")
    assert compliant.check(gpu.gpu_reserved_pools) == []


def test_reserved_pool_with_an_undeclared_node_class_is_reported():
    stack = Stack()
    stack.add(NODE_POOL, pool("gpu-reserved", capacity=("reserved",)), "gpu-reserved")
    ((message, _),) = stack.check(gpu.gpu_reserved_pools)
    assert "does not declare" in message


def test_reserved_policy_does_not_apply_without_reserved_pools():
    stack = Stack()
    stack.add(NODE_POOL, copy.deepcopy(pool()), "gpu-spot")
    assert stack.check(gpu.gpu_reserved_pools) is None
