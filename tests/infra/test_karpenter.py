"""GPU capacity per phase: which pools exist, what they may launch, their caps, taints and disruption."""

import json

import pytest

from tests.conftest import plan_with

POOLS = {"dev": {"gpu-spot"}, "shadow": {"gpu-spot"}, "rollout": {"gpu-spot", "gpu-reserved"}, "prod": {"gpu-spot", "gpu-reserved"}}
GPU_LIMITS = {"dev": {"gpu-spot": 2}, "shadow": {"gpu-spot": 4}, "rollout": {"gpu-spot": 6, "gpu-reserved": 2},
              "prod": {"gpu-spot": 12, "gpu-reserved": 4}}


def requirement(pool: dict, key: str) -> dict:
    (found,) = [r for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == key]
    return found


@pytest.mark.parametrize("stack", POOLS)
def test_pools_present_with_their_gpu_caps(plans, stack):
    plan = plans[stack]
    pools = {r.inputs["metadata"]["name"]: r.inputs for r in plan.of_type("kubernetes:karpenter.sh/v1:NodePool")}
    assert set(pools) == POOLS[stack]
    assert {name: pool["spec"]["limits"]["nvidia.com/gpu"] for name, pool in pools.items()} == GPU_LIMITS[stack]


def test_every_gpu_pool_is_tainted_and_consolidates_only_empty_nodes(any_plan):
    for pool in any_plan.of_type("kubernetes:karpenter.sh/v1:NodePool"):
        spec = pool.inputs["spec"]
        assert {"key": "nvidia.com/gpu", "effect": "NoSchedule"} in spec["template"]["spec"]["taints"]
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
        assert spec["disruption"]["budgets"], "a pool needs disruption budgets"
        assert spec["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"}


@pytest.mark.parametrize("stack, capacity", [("dev", ["spot"]), ("shadow", ["spot"]), ("rollout", ["spot", "on-demand"]),
                                             ("prod", ["spot", "on-demand"])])
def test_spot_pool_on_demand_fallback_per_phase(plans, stack, capacity):
    pool = plans[stack].k8s("NodePool", "gpu-spot")
    assert requirement(pool, "karpenter.sh/capacity-type")["values"] == capacity
    assert requirement(pool, "karpenter.k8s.aws/instance-family")["values"] == ["g6", "g6e", "g5"]


@pytest.mark.parametrize("stack", ["rollout", "prod"])
def test_reserved_pool_uses_reservations_and_is_preferred(plans, stack):
    plan = plans[stack]
    reserved, spot = plan.k8s("NodePool", "gpu-reserved"), plan.k8s("NodePool", "gpu-spot")
    assert requirement(reserved, "karpenter.sh/capacity-type")["values"] == ["reserved"]
    assert reserved["spec"]["weight"] > spot["spec"]["weight"]
    terms = plan.k8s("EC2NodeClass", "gpu")["spec"]["capacityReservationSelectorTerms"]
    assert terms and all(t["id"].startswith("cr-") for t in terms)


def test_pool_launches_only_the_configured_sizes(plans):
    pool = plans["prod"].k8s("NodePool", "gpu-spot")
    assert requirement(pool, "karpenter.k8s.aws/instance-size")["values"] == ["xlarge", "2xlarge", "4xlarge"]
    other = plan_with("dev", {"llm-platform:gpuPools.spot.instanceSizes": ["2xlarge"]}).k8s("NodePool", "gpu-spot")
    assert requirement(other, "karpenter.k8s.aws/instance-size")["values"] == ["2xlarge"]
    unbounded = plan_with("dev", {"llm-platform:gpuPools.spot.instanceSizes": []}).k8s("NodePool", "gpu-spot")
    assert not [r for r in unbounded["spec"]["template"]["spec"]["requirements"] if r["key"] == "karpenter.k8s.aws/instance-size"]


@pytest.mark.parametrize("instance_type, allowed", [("g6e.xlarge", True), ("g5.4xlarge", True), ("g6e.12xlarge", False),
                                                    ("p5.48xlarge", False), ("g6.2xlarge", True)])
def test_what_a_pool_may_launch_follows_every_requirement(instance_type, allowed):
    from stackconfig import from_stack_file

    assert from_stack_file("prod").gpu_pools.spot.may_launch(instance_type) is allowed


def test_reserved_pool_launches_only_its_listed_types():
    from stackconfig import from_stack_file

    reserved = from_stack_file("prod").gpu_pools.reserved
    assert reserved.may_launch("g6e.xlarge") and not reserved.may_launch("g6e.2xlarge")


def test_pool_launches_at_most_max_gpus_per_node(plans):
    pool = plans["dev"].k8s("NodePool", "gpu-spot")
    assert requirement(pool, "karpenter.k8s.aws/instance-gpu-count") == {
        "key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Lt", "values": ["2"]}


def test_node_class_imdsv2_encrypted_root_and_pinned_ami(any_plan):
    spec = any_plan.k8s("EC2NodeClass", "gpu")["spec"]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (root,) = [d for d in spec["blockDeviceMappings"] if d.get("rootVolume")]
    assert root["ebs"]["encrypted"] is True and root["ebs"]["volumeType"] == "gp3"
    assert int(root["ebs"]["volumeSize"].removesuffix("Gi")) >= 100
    (ami,) = spec["amiSelectorTerms"]
    assert ami["alias"].startswith("al2023@v") and "latest" not in ami["alias"]
    assert spec["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": any_plan.recording.outputs["clusterName"]}}]
    assert spec["tags"]["llm-platform/stack"] == any_plan.recording.stack, "GPU instances must carry the budget's tag"


def test_interruption_queue_and_rules(any_plan):
    queue = any_plan.one("aws:sqs/queue:Queue")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    patterns = [json.loads(r.inputs["eventPattern"]) for r in any_plan.of_type("aws:cloudwatch/eventRule:EventRule")]
    detail_types = {d for p in patterns for d in p["detail-type"]}
    # Exactly these: a removed one would let Karpenter lose nodes unannounced.
    assert detail_types == {
        "EC2 Spot Instance Interruption Warning",
        "EC2 Instance Rebalance Recommendation",
        "EC2 Instance State-change Notification",
        "AWS Health Event",
        "EC2 Capacity Reservation Instance Interruption Warning",
    }
    assert {s for p in patterns for s in p["source"]} == {"aws.ec2", "aws.health"}
    targets = any_plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == len(patterns) and all(t.inputs["arn"] == targets[0].inputs["arn"] for t in targets)
    karpenter = any_plan.helm("karpenter")
    assert karpenter["values"]["settings"]["interruptionQueue"].startswith("karpenter-interruptions")


def test_controller_via_pod_identity_and_crds_chart(any_plan):
    association = any_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "karpenter-controller")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("kube-system", "karpenter")
    policy = json.loads(any_plan.one("aws:iam/rolePolicy:RolePolicy", "karpenter-controller-inline").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"ec2:CreateFleet", "iam:PassRole", "sqs:ReceiveMessage", "ec2:DescribeCapacityReservations"} <= actions
    assert "${" not in json.dumps(policy), "every placeholder is filled"
    crds, controller = any_plan.helm("karpenter-crd"), any_plan.helm("karpenter")
    assert crds["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd" and crds["version"] == controller["version"]
    assert controller["skipCrds"] is True
    assert controller["values"]["nodeSelector"]["node.llm-platform.io/role"] == "system"
    assert controller["values"]["controller"]["env"] == [{"name": "AWS_REGION", "value": "us-east-1"}]


def test_controller_region_follows_the_stack():
    """Without a region the controller asks IMDS, which its pod cannot reach on the system nodes, and exits."""
    controller = plan_with("dev", {"aws:region": "eu-west-1"}).helm("karpenter")
    assert controller["values"]["controller"]["env"] == [{"name": "AWS_REGION", "value": "eu-west-1"}]
