"""Budget and anomaly alarms: thresholds, the stack's cost tag, an encrypted topic, and default tags."""

import json

import pytest

from stackconfig import from_stack_file
from tests.conftest import plan_with
from tools.cost.model import estimate, expected_monthly_usd, monthly_budget_usd


def test_budget_notifications_per_config(plans):
    budget = plans["prod"].one("aws:budgets/budget:Budget").inputs
    notes = {(n["notificationType"], n["threshold"], n["thresholdType"]) for n in budget["notifications"]}
    expected = expected_monthly_usd(from_stack_file("prod"))
    assert notes == {
        ("ACTUAL", 50, "PERCENTAGE"), ("ACTUAL", 80, "PERCENTAGE"), ("ACTUAL", 100, "PERCENTAGE"), ("FORECASTED", 100, "PERCENTAGE"),
        ("ACTUAL", expected, "ABSOLUTE_VALUE"), ("FORECASTED", expected, "ABSOLUTE_VALUE"),
    }
    assert all(n["subscriberSnsTopicArns"] for n in budget["notifications"])
    assert budget["limitAmount"] == "40000.00" and budget["timeUnit"] == "MONTHLY"


@pytest.mark.parametrize("stack", ["dev", "rollout"])
def test_spend_above_the_estimate_is_announced_below_a_limit_raised_to_the_gpu_caps(plans, stack):
    """A derived limit sits at the worst case the caps allow, far above what the stack should spend; the budget also
    fires (actual and forecast) at the estimate plus headroom, so a stack running at twice its estimate is noticed."""
    config = from_stack_file(stack)
    budget = plans[stack].one("aws:budgets/budget:Budget").inputs
    expected = expected_monthly_usd(config)
    limit = float(budget["limitAmount"])
    assert config.budget.monthly_limit_usd is None and limit == monthly_budget_usd(config)
    assert expected < 0.5 * limit  # the percentage thresholds alone would first fire at half the limit
    assert expected >= estimate(config).aws_monthly_usd * (1 + config.budget.headroom_percent / 100)
    absolute = sorted((n["notificationType"], n["threshold"]) for n in budget["notifications"] if n["thresholdType"] == "ABSOLUTE_VALUE")
    assert absolute == [("ACTUAL", expected), ("FORECASTED", expected)]


def test_no_spend_alert_above_the_limit_itself():
    config = from_stack_file("dev")
    tight = plan_with("dev", {"llm-platform:budget.monthlyLimitUsd": expected_monthly_usd(config) - 10})
    budget = tight.one("aws:budgets/budget:Budget").inputs
    assert all(n["thresholdType"] == "PERCENTAGE" for n in budget["notifications"])


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
    billing = next(s for s in policy["Statement"] if s["Sid"] == "BillingServicesPublish")
    assert set(billing["Principal"]["Service"]) == {"budgets.amazonaws.com", "costalerts.amazonaws.com"}
    subscription = any_plan.one("aws:costexplorer/anomalySubscription:AnomalySubscription").inputs
    assert subscription["frequency"] == "IMMEDIATE" and subscription["subscribers"][0]["type"] == "SNS"


def test_alertmanager_role_may_publish_encrypted_alerts_and_nothing_else(any_plan):
    role = any_plan.one("aws:iam/role:Role", "alertmanager")
    association = any_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "alertmanager").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("monitoring", "kube-prometheus-stack-alertmanager")
    topic_policy = json.loads(any_plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    (publisher,) = [s for s in topic_policy["Statement"] if s["Sid"] == "AlertmanagerPublish"]
    assert publisher["Action"] == "SNS:Publish" and ":role/alertmanager-" in publisher["Principal"]["AWS"]
    key_policy = json.loads(any_plan.one("aws:kms/key:Key", "cost-alarms-topic").inputs["policy"])
    (encrypt,) = [s for s in key_policy["Statement"] if s["Sid"] == "AlertmanagerPublishEncrypted"]
    assert set(encrypt["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert encrypt["Principal"]["AWS"] == publisher["Principal"]["AWS"]
    assert encrypt["Condition"]["StringEquals"]["kms:ViaService"] == "sns.us-east-1.amazonaws.com"
    grant = any_plan.one("aws:iam/rolePolicy:RolePolicy", "cost-alarms-alert-publisher")
    assert role.urn in grant.dependencies, "the grant attaches to Alertmanager's role"
    actions = {a for s in json.loads(grant.inputs["policy"])["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"sns:Publish", "kms:GenerateDataKey*", "kms:Decrypt"}
    resources = {s["Resource"] for s in json.loads(grant.inputs["policy"])["Statement"]}
    assert all(r.startswith(("arn:aws:sns:us-east-1:", "arn:aws:kms:us-east-1:")) for r in resources), resources


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
