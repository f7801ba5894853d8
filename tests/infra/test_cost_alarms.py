"""Budget and anomaly alarms: thresholds, the stack's cost tag, an encrypted topic, and default tags."""

import json

import pytest


def test_budget_notifications_per_config(plans):
    budget = plans["prod"].one("aws:budgets/budget:Budget").inputs
    notes = {(n["notificationType"], n["threshold"]) for n in budget["notifications"]}
    assert notes == {("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
    assert all(n["thresholdType"] == "PERCENTAGE" and n["subscriberSnsTopicArns"] for n in budget["notifications"])
    assert budget["limitAmount"] == "40000.00" and budget["timeUnit"] == "MONTHLY"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_budget_and_anomaly_monitor_filter_on_the_stack_tag(plans, stack):
    plan = plans[stack]
    budget = plan.one("aws:budgets/budget:Budget").inputs
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:llm-platform/stack${stack}"]}]
    monitor = json.loads(plan.one("aws:costexplorer/anomalyMonitor:AnomalyMonitor").inputs["monitorSpecification"])
    assert monitor["Tags"] == {"Key": "llm-platform/stack", "Values": [stack], "MatchOptions": ["EQUALS"]}


def test_alerts_topic_encrypted_and_billing_may_publish(any_plan):
    topic = any_plan.one("aws:sns/topic:Topic").inputs
    assert topic["kmsMasterKeyId"].startswith("arn:aws:kms:")
    policy = json.loads(any_plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert set(statement["Principal"]["Service"]) == {"budgets.amazonaws.com", "costalerts.amazonaws.com"}
    subscription = any_plan.one("aws:costexplorer/anomalySubscription:AnomalySubscription").inputs
    assert subscription["frequency"] == "IMMEDIATE" and subscription["subscribers"][0]["type"] == "SNS"


def test_email_subscriptions_from_config(plans):
    emails = sorted(s.inputs["endpoint"] for s in plans["rollout"].of_type("aws:sns/topicSubscription:TopicSubscription"))
    assert emails == ["finops@example.com", "platform-alerts@example.com"]


def test_default_tags_on_every_aws_resource(any_plan):
    provider = any_plan.one("pulumi:providers:aws").inputs
    tags = json.loads(provider["defaultTags"])["tags"] if isinstance(provider["defaultTags"], str) else provider["defaultTags"]["tags"]
    assert tags["Project"] == "llm-platform"
    assert tags["llm-platform/stack"] == any_plan.recording.stack
    assert tags["CostCenter"] == "ml-platform"
    aws_resources = [r for r in any_plan.recording.resources if r.type.startswith("aws:")]
    assert aws_resources
    for resource in aws_resources:
        assert resource.provider.split("::")[-2:-1] == ["aws"], f"{resource.name} bypasses the tagged provider"
