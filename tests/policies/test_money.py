"""Money policies: a budget that notifies someone; cost allocation tags on everything taggable."""

import importlib
import inspect

import pytest

from policies.rules import money
from program import default_tags
from stackconfig import from_stack_file
from tests.conftest import ROOT, STACKS, planned

from .helpers import Stack, aws_provider, check

BUDGET = "aws:budgets/budget:Budget"


def budget(**overrides):
    props = {
        "budgetType": "COST", "timeUnit": "MONTHLY", "limitAmount": "2500.00", "limitUnit": "USD",
        "costFilters": [{"name": "TagKeyValue", "values": ["user:llm-platform/stack$dev"]}],
        "notifications": [{"notificationType": "ACTUAL", "comparisonOperator": "GREATER_THAN", "threshold": 80,
                           "thresholdType": "PERCENTAGE", "subscriberSnsTopicArns": ["arn:aws:sns:us-east-1:1:alerts"]}],
    }
    props.update(overrides)
    return props


def test_a_stack_without_a_budget_is_rejected():
    stack = Stack()
    stack.add("aws:s3/bucket:Bucket", {}, "weights")
    ((message, _),) = stack.check(money.budget_with_notifications)
    assert "declares no AWS Budget" in message and "llm-platform:budget" in message


def test_a_budget_that_notifies_nobody_or_watches_the_whole_account_is_rejected():
    stack = Stack()
    silent = stack.add(BUDGET, budget(notifications=[]), "monthly")
    ((message, where),) = stack.check(money.budget_with_notifications)
    assert where == silent.urn and "notifies nobody" in message

    unfiltered = Stack()
    unfiltered.add(BUDGET, budget(costFilters=[]), "monthly")
    ((message, _),) = unfiltered.check(money.budget_with_notifications)
    assert "user:llm-platform/stack$<stack>" in message


def test_a_monthly_tag_filtered_budget_with_subscribers_passes():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    stack = Stack()
    stack.add(BUDGET, budget(), "monthly")
    assert stack.check(money.budget_with_notifications) == []
    # At preview the topic does not exist yet: its ARN is unknown, the subscription is still there.
    preview = Stack()
    preview.add(BUDGET, budget(notifications=[{"notificationType": "ACTUAL", "subscriberSnsTopicArns": [UNKNOWN_STRING_VALUE]}]), "m")
    assert preview.check(money.budget_with_notifications) == []
    emails = Stack()
    emails.add(BUDGET, budget(notifications=[{"notificationType": "FORECASTED", "subscriberEmailAddresses": ["a@example.com"]}]), "m")
    assert emails.check(money.budget_with_notifications) == []


def test_gpu_spend_beyond_the_budget_is_rejected():
    stack = Stack()
    watched = stack.add(BUDGET, budget(limitAmount="2500.00"), "monthly")
    ((message, where),) = stack.check(money.gpu_spend_within_budget, {"maxMonthlyGpuSpendUsd": 4386.19})
    assert where == watched.urn
    assert "may spend up to $4,386 a month" in message and "AWS Budget monthly is $2,500" in message
    assert "llm-platform:budget.monthlyLimitUsd" in message and "gpuLimit" in message


def test_gpu_spend_within_the_budget_passes_and_unwatched_stacks_are_left_to_the_budget_policy():
    stack = Stack()
    stack.add(BUDGET, budget(limitAmount="4900.00"), "monthly")
    assert stack.check(money.gpu_spend_within_budget, {"maxMonthlyGpuSpendUsd": 4386.19}) == []
    unwatched = Stack()
    unwatched.add(BUDGET, budget(limitAmount="100.00", costFilters=[]), "account")
    assert unwatched.check(money.gpu_spend_within_budget, {"maxMonthlyGpuSpendUsd": 4386.19}) is None


def test_resources_without_the_cost_tags_are_rejected():
    (message,) = check(money.cost_allocation_tags, "aws:s3/bucket:Bucket", {}, name="weights",
                       provider=aws_provider(tags={"Project": "llm-platform"}))
    assert "Bucket weights lacks the cost allocation tags CostCenter, llm-platform/stack, llm-platform/phase" in message
    assert "defaultTags" in message
    (default_provider,) = check(money.cost_allocation_tags, "aws:sqs/queue:Queue", {}, provider=None)
    assert "default aws provider" in default_provider


def test_default_tags_or_own_tags_satisfy_the_policy():
    assert check(money.cost_allocation_tags, "aws:s3/bucket:Bucket", {"tags": {"Name": "weights"}}) == []
    own = {"tags": {"Project": "p", "CostCenter": "c", "llm-platform/stack": "dev", "llm-platform/phase": "dev"}}
    assert check(money.cost_allocation_tags, "aws:s3/bucket:Bucket", own, provider=None) == []
    assert check(money.cost_allocation_tags, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", {}, provider=None) is None
    assert check(money.cost_allocation_tags, "kubernetes:core/v1:Namespace", {}) is None


def test_the_required_tags_are_the_programs_default_tags():
    assert set(money.REQUIRED_TAGS) <= set(default_tags(from_stack_file("dev", ROOT)))


def _takes_tags(resource_type: str) -> bool:
    """Whether the pinned pulumi-aws SDK gives the resource a `tags` input."""
    module, _, cls = resource_type.split(":", 1)[1].partition(":")
    resource = getattr(importlib.import_module(f"pulumi_aws.{module.split('/')[0]}"), cls)
    return "tags" in inspect.signature(resource._internal_init).parameters


@pytest.mark.parametrize("resource_type", sorted(money.UNTAGGABLE))
def test_the_untaggable_list_holds_only_types_without_tags(resource_type):
    assert not _takes_tags(resource_type)


def test_every_aws_type_the_stacks_declare_is_taggable_or_listed():
    types = {r.type for stack in STACKS for r in planned(stack).resources if r.type.startswith("aws:")}
    unlisted = sorted(t for t in types if not _takes_tags(t) and t not in money.UNTAGGABLE)
    assert unlisted == [], "add these to policies/rules/data/untaggable_aws_types.yaml"
