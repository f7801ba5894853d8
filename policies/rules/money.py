"""Money: a monthly budget that notifies someone, and cost allocation tags on everything AWS bills."""

from __future__ import annotations

from pathlib import Path

import yaml
from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .base import MANDATORY, MAX_GPU_SPEND, fact, resource_policy, stack_policy
from .props import UNKNOWN, get, is_list, is_map, items, peek, tags_of_provider

BUDGET = "aws:budgets/budget:Budget"
COST_TAG = "llm-platform/stack"
# The tags program.default_tags puts on every AWS resource through the aws provider's defaultTags:
# the budget and the anomaly monitor filter on COST_TAG; finance splits the bill by CostCenter.
REQUIRED_TAGS = ("Project", "CostCenter", COST_TAG, "llm-platform/phase")
UNTAGGABLE = frozenset(
    yaml.safe_load((Path(__file__).with_name("data") / "untaggable_aws_types.yaml").read_text())["untaggable"]
)


def _notifies(notification) -> bool:
    for key in ("subscriberSnsTopicArns", "subscriberEmailAddresses"):
        subscribers = peek(notification, key)
        # A topic created in the same update has an unknown ARN at preview: counting never reads the element.
        if subscribers is UNKNOWN or (is_list(subscribers) and len(subscribers) > 0):
            return True
    return False


def _budget_problems(props) -> list[str]:
    problems = []
    if get(props, "budgetType") != "COST" or get(props, "timeUnit") != "MONTHLY":
        problems.append("is not a MONTHLY COST budget")
    if not any(_notifies(n) for n in items(get(props, "notifications"))):
        problems.append("notifies nobody: add ACTUAL and FORECASTED notifications to an SNS topic or email addresses")
    filters = [str(v) for f in items(get(props, "costFilters")) if get(f, "name") == "TagKeyValue"
               for v in items(get(f, "values"))]
    if not any(v.startswith(f"user:{COST_TAG}$") for v in filters):
        problems.append(f"does not filter on the TagKeyValue 'user:{COST_TAG}$<stack>', so it does not watch this "
                        f"stack's spend (activate {COST_TAG} as a cost allocation tag in Billing)")
    return problems


def _budget_notifications(args: StackValidationArgs, report: ReportViolation) -> None:
    budgets = [r for r in args.resources if r.resource_type == BUDGET]
    if not budgets:
        report("this stack declares no AWS Budget; add a monthly COST budget filtered on the stack's "
               f"'{COST_TAG}' cost allocation tag, with actual and forecast notifications (config llm-platform:budget)")
        return
    problems = {budget.urn: (budget, _budget_problems(budget.props)) for budget in budgets}
    if any(not found for _, found in problems.values()):
        return  # one budget watches this stack and tells someone
    for urn, (budget, found) in problems.items():
        report(f"AWS Budget {budget.name} {'; it '.join(found)}", urn)


budget_with_notifications = stack_policy(
    "budget-with-notifications",
    "A monthly cost budget on the stack's cost allocation tag exists and notifies someone.",
    MANDATORY,
    _budget_notifications,
    "Declare an aws.budgets.Budget (COST, MONTHLY) filtered on user:llm-platform/stack$<stack> with notifications.",
)


def _gpu_spend_within_budget(args: StackValidationArgs, report: ReportViolation) -> None:
    worst_case = float(fact(args, MAX_GPU_SPEND))
    watching = [r for r in args.resources if r.resource_type == BUDGET and not _budget_problems(r.props)]
    if not watching:
        args.not_applicable("no budget watches this stack (budget-with-notifications reports that)")
    limits = {budget.urn: float(get(budget.props, "limitAmount", default=0)) for budget in watching}
    if max(limits.values()) >= worst_case:
        return
    for budget in watching:
        report(f"the GPU pools may spend up to ${worst_case:,.0f} a month (every pool at its nvidia.com/gpu limit around "
               f"the clock on the dearest instance type it may launch, tools/cost/prices.py), but AWS Budget "
               f"{budget.name} is ${limits[budget.urn]:,.0f}; raise llm-platform:budget.monthlyLimitUsd to at least "
               f"that (or unset it to derive one), or lower gpuPools.<pool>.gpuLimit, or narrow the instance "
               "families/sizes the pools may launch", budget.urn)


gpu_spend_within_budget = stack_policy(
    "gpu-spend-within-budget",
    "The most the GPU pools can spend in a month (their limits at the price table's dearest allowed instance) fits "
    "within the stack's budget.",
    MANDATORY,
    _gpu_spend_within_budget,
    "Raise llm-platform:budget.monthlyLimitUsd (or unset it), lower the pools' gpuLimit, or narrow their instance types.",
    facts=(MAX_GPU_SPEND,),
)


def _aws_taggable(resource_type: str) -> bool:
    return resource_type.startswith("aws:") and resource_type not in UNTAGGABLE


def _cost_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    tags: dict[str, str] = {}
    if args.provider is not None:
        tags.update(tags_of_provider(args.provider.props))
    for key in ("tags", "tagsAll"):
        own = get(args.props, key)
        if is_map(own):
            tags.update({str(k): str(v) for k, v in own.items()})
    missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
    if missing:
        via = ("the default aws provider, which adds no default tags" if args.provider is None
               or args.provider.name.startswith("default") else f"provider {args.provider.name}")
        report(f"{args.resource_type.rsplit(':', 1)[-1]} {args.name} lacks the cost allocation tags "
               f"{', '.join(missing)} (it is created through {via}); create it with the stack's aws provider, whose "
               "defaultTags carry them (program.default_tags), or set them in its tags")


cost_allocation_tags = resource_policy(
    "cost-allocation-tags",
    "Every taggable AWS resource carries the cost allocation tags (Project, CostCenter, llm-platform/stack, "
    "llm-platform/phase).",
    MANDATORY,
    _aws_taggable,
    _cost_tags,
    "Create AWS resources through the stack's aws provider (defaultTags from program.default_tags) or tag them.",
)

POLICIES = [budget_with_notifications, gpu_spend_within_budget, cost_allocation_tags]
