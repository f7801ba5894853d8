"""What a real `pulumi up` waits for, and so what `pulumi destroy` deletes first, on every shipped stack.

Read from the recorded dependencies with Pulumi's rules (tools/order.py): a depends_on on a component stands
for its children, and a child waits for whatever its parent waits for.
"""

from __future__ import annotations

import pytest

from tests.conftest import Plan
from tools.order import Order
from tools.recorder import Registered

RELEASE = "kubernetes:helm.sh/v3:Release"
# The group of each custom resource kind the program declares -> what installs its CRD.
KIND_DEFINED_BY = {
    "karpenter.sh": (RELEASE, "karpenter-crd"),
    "karpenter.k8s.aws": (RELEASE, "karpenter-crd"),
    "monitoring.coreos.com": (RELEASE, "kube-prometheus-stack"),
    "keda.sh": (RELEASE, "keda"),
    "gateway.networking.k8s.io": ("kubernetes:yaml/v2:ConfigFile", None),
    "gateway.nginx.org": (RELEASE, "ngf"),
    "cert-manager.io": (RELEASE, "cert-manager"),
}
CORE_GROUPS = {"core", "apps", "batch", "policy", "networking.k8s.io", "storage.k8s.io", "rbac.authorization.k8s.io"}


def release(plan: Plan, name: str) -> Registered:
    (found,) = [r for r in plan.of_type(RELEASE) if r.inputs["name"] == name]
    return found


def named(plan: Plan, resource_type: str, name: str) -> Registered:
    (found,) = [r for r in plan.of_type(resource_type) if r.name == name]
    return found


def addon(plan: Plan, name: str) -> Registered:
    (found,) = [r for r in plan.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == name]
    return found


def association(plan: Plan, service_account: str) -> Registered:
    (found,) = [r for r in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                if r.inputs["serviceAccount"] == service_account]
    return found


def test_weights_are_copied_before_vllm_starts_never_after(any_plan):
    order = Order(any_plan.recording)
    job = any_plan.one("kubernetes:batch/v1:Job")
    vllm = named(any_plan, "kubernetes:apps/v1:Deployment", "vllm-deployment")
    assert job.urn in order.waits_for(vllm.urn), "vLLM cannot become ready before the Job fills the bucket"
    assert vllm.urn not in order.waits_for(job.urn), "the Job must not wait for vLLM: a readiness deadlock"
    assert int(job.custom_timeouts["create"].removesuffix("m")) >= 60, "a multi-GB copy outlasts the 10-minute default"


def test_the_edge_does_not_wait_for_gpu_pods(any_plan):
    order = Order(any_plan.recording)
    vllm = named(any_plan, "kubernetes:apps/v1:Deployment", "vllm-deployment")
    job = any_plan.one("kubernetes:batch/v1:Job")
    edge = any_plan.one("llm-platform:workloads:Edge")
    edge_nodes = order.nodes_of(edge.urn)
    assert len(edge_nodes) > 10
    for urn in edge_nodes:
        assert vllm.urn not in order.waits_for(urn), urn
        assert job.urn not in order.waits_for(urn), urn


def test_gpu_pools_go_before_the_karpenter_controller_on_destroy(any_plan):
    order = Order(any_plan.recording)
    controller = release(any_plan, "karpenter")
    capacity = any_plan.of_type("kubernetes:karpenter.sh/v1:NodePool") + any_plan.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert len(capacity) >= 2
    for resource in capacity:
        assert controller.urn in order.waits_for(resource.urn), f"{resource.name} must be deleted while Karpenter runs"


def test_karpenter_waits_for_coredns_and_prometheus_for_the_ebs_csi_driver(any_plan):
    order = Order(any_plan.recording)
    assert addon(any_plan, "coredns").urn in order.waits_for(release(any_plan, "karpenter").urn)
    assert addon(any_plan, "aws-ebs-csi-driver").urn in order.waits_for(release(any_plan, "kube-prometheus-stack").urn)


def test_the_ebs_csi_driver_starts_with_its_permissions_attached(any_plan):
    """Prometheus's and Grafana's volumes are provisioned as soon as the driver runs: its role's policy must be
    attached by then, not only the role created."""
    order = Order(any_plan.recording)
    (attachment,) = [r for r in any_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if r.name.startswith("ebs-csi")]
    assert attachment.urn in order.waits_for(addon(any_plan, "aws-ebs-csi-driver").urn)


def test_the_cluster_services_add_ons_are_not_left_dangling(any_plan):
    order = Order(any_plan.recording)
    kubernetes_nodes = [r for r in any_plan.recording.resources if r.type.startswith("kubernetes:") and order.is_node(r.urn)]
    for name in ("coredns", "aws-ebs-csi-driver"):
        waiting = [r for r in kubernetes_nodes if addon(any_plan, name).urn in order.waits_for(r.urn)]
        assert len(waiting) > len(kubernetes_nodes) // 2, f"most of the cluster's workloads wait for {name}"


def test_every_custom_resource_waits_for_what_defines_its_kind(any_plan):
    order = Order(any_plan.recording)
    custom = [r for r in any_plan.recording.resources
              if r.type.startswith("kubernetes:") and "/" in r.type and r.type.split(":")[1].split("/")[0] not in CORE_GROUPS
              and r.type not in (RELEASE, "kubernetes:yaml/v2:ConfigFile")]
    assert len(custom) >= 10
    for resource in custom:
        group = resource.type.split(":")[1].split("/")[0]
        assert group in KIND_DEFINED_BY, f"no known definer for {group} ({resource.name})"
        definer_type, definer_name = KIND_DEFINED_BY[group]
        definers = [r for r in any_plan.of_type(definer_type) if definer_name is None or r.inputs.get("name") == definer_name]
        assert len(definers) == 1
        assert definers[0].urn in order.waits_for(resource.urn), f"{resource.type} {resource.name} before its CRD"


def test_pods_that_call_aws_wait_for_their_pod_identity(any_plan):
    order = Order(any_plan.recording)
    vllm = named(any_plan, "kubernetes:apps/v1:Deployment", "vllm-deployment")
    job = any_plan.one("kubernetes:batch/v1:Job")
    assert association(any_plan, "vllm").urn in order.waits_for(vllm.urn)
    assert association(any_plan, "weights-sync").urn in order.waits_for(job.urn)
    assert association(any_plan, "karpenter").urn in order.waits_for(release(any_plan, "karpenter").urn)
    assert association(any_plan, "aws-load-balancer-controller").urn in order.waits_for(release(any_plan, "aws-load-balancer-controller").urn)


def test_everything_in_the_cluster_waits_for_the_system_nodes(any_plan):
    order = Order(any_plan.recording)
    node_group = any_plan.one("aws:eks/nodeGroup:NodeGroup")
    for resource in any_plan.of_type(RELEASE):
        assert node_group.urn in order.waits_for(resource.urn), resource.name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_plan_prints_the_waves_in_this_order(plans, stack):
    waves = [{r.name for r in wave} for wave in Order(plans[stack].recording).waves()]
    index = {name: number for number, wave in enumerate(waves) for name in wave}
    assert index["cluster-eksCluster"] < index["system-nodes"] < index["coredns"] < index["karpenter"]
    assert index["karpenter"] < index["gpu-spot"] < index["vllm-deployment"]
    assert index["weights-sync-job"] < index["vllm-deployment"]
