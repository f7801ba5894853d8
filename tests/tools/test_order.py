"""The wait-for graph read from a recording follows Pulumi's rules for depends_on, parents and providers."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from tests.conftest import plan_of
from tools.order import Order, wave_lines


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("test:index:Box", name, None, opts)
        self.first = aws.sqs.Queue(f"{name}-first", opts=pulumi.ResourceOptions(parent=self))
        self.second = aws.sqs.Queue(f"{name}-second", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def _graph():
    def build() -> None:
        base = aws.s3.Bucket("base")
        # Implicit dependency through an input value.
        aws.s3.BucketPolicy("policy", bucket=base.id, policy="{}")
        boxed = Box("boxed")
        # depends_on a component: stands for both queues in it.
        after_box = aws.sns.Topic("after-box", opts=pulumi.ResourceOptions(depends_on=[boxed]))
        # A component that waits for the bucket: its children wait too, though they name nothing.
        Box("late", opts=pulumi.ResourceOptions(depends_on=[base]))
        # A child of a custom resource waits for its parent's creation.
        aws.sns.TopicSubscription("sub", topic="arn:x", protocol="email", endpoint="a@b.c",
                                  opts=pulumi.ResourceOptions(parent=after_box))

    plan = plan_of(build)
    order = Order(plan.recording)
    by_name = {r.name: r.urn for r in plan.recording.resources}
    return order, by_name, plan


def test_input_values_and_depends_on_a_component():
    order, urn, _ = _graph()
    assert urn["base"] in order.waits_for(urn["policy"])
    assert {urn["boxed-first"], urn["boxed-second"]} <= order.waits_for(urn["after-box"])


def test_children_wait_for_what_their_parent_waits_for():
    order, urn, _ = _graph()
    assert urn["base"] in order.waits_for(urn["late-first"])
    assert urn["base"] in order.waits_for(urn["late"]), "a component waits before any of its children"
    assert urn["after-box"] in order.waits_for(urn["sub"])
    assert urn["base"] not in order.waits_for(urn["boxed-first"])


def test_waves_put_independent_resources_together():
    order, urn, plan = _graph()
    waves = [{r.name for r in wave} for wave in order.waves()]
    assert {"base", "boxed-first", "boxed-second"} <= waves[0]
    assert {"policy", "after-box", "late-first", "late-second"} <= waves[1]
    assert waves[2] == {"sub"}
    printed = "\n".join(wave_lines(plan.recording))
    assert "wave  1" in printed and "Bucket:base" in printed and "wave  3 (  1): TopicSubscription:sub" in printed


def test_kubernetes_objects_wait_for_their_provider(any_plan):
    order = Order(any_plan.recording)
    (provider,) = [r for r in any_plan.recording.resources if r.type == "pulumi:providers:kubernetes"]
    (cluster,) = any_plan.of_type("aws:eks/cluster:Cluster")
    assert cluster.urn in order.waits_for(provider.urn), "the kubeconfig comes from the cluster"
    for resource in any_plan.recording.resources:
        if resource.type.startswith("kubernetes:") and order.is_node(resource.urn):
            assert provider.urn in order.waits_for(resource.urn), resource.name
