"""The stack's alerts topic (SNS, encrypted), an AWS Budget on the stack's tag and Cost Anomaly Detection that
publish to it, and the publish permission of Alertmanager's role."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .pod_identity import load_policy


@dataclass(frozen=True)
class CostAlarmsArgs:
    stack: str
    cost_tag_key: str
    monthly_limit_usd: float
    # What the stack is expected to spend (the estimate plus headroom): where the limit sits higher (at the worst case
    # the GPU caps allow, or set by the stack), spend above the expectation is announced too, in dollars.
    expected_monthly_usd: float | None
    actual_thresholds_percent: list[int]
    forecast_thresholds_percent: list[int]
    emails: list[str]
    anomaly_threshold_usd: float
    region: str
    # Alertmanager pages through the same topic: its role (Pod Identity) may publish, and encrypt with the key.
    alert_publisher_role_arn: pulumi.Input[str]
    alert_publisher_role_name: pulumi.Input[str]


class CostAlarms(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CostAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:infra:CostAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))

        # A customer-managed key: the AWS-managed SNS key cannot grant the billing services access.
        key = aws.kms.Key(
            f"{name}-topic",
            description=f"Encrypts llm-platform {args.stack} cost alerts",
            enable_key_rotation=True,
            policy=load_policy(
                "alerts-key.json", Partition=partition.partition, AccountId=caller.account_id, Region=args.region,
                PublisherRoleArn=args.alert_publisher_role_arn,
            ),
            opts=child,
        )
        topic = aws.sns.Topic(f"{name}-alerts", kms_master_key_id=key.arn, opts=child)
        aws.sns.TopicPolicy(
            f"{name}-alerts",
            arn=topic.arn,
            policy=load_policy(
                "alerts-topic.json", TopicArn=topic.arn, AccountId=caller.account_id,
                PublisherRoleArn=args.alert_publisher_role_arn,
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-alert-publisher",
            role=args.alert_publisher_role_name,
            policy=load_policy("alerts-publish.json", TopicArn=topic.arn, KeyArn=key.arn, Region=args.region),
            opts=child,
        )
        for index, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}", topic=topic.arn, protocol="email", endpoint=email, opts=child
            )

        notifications = [
            aws.budgets.BudgetNotificationArgs(
                notification_type=kind,
                comparison_operator="GREATER_THAN",
                threshold=float(percent),
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[topic.arn],
            )
            for kind, thresholds in (("ACTUAL", args.actual_thresholds_percent), ("FORECASTED", args.forecast_thresholds_percent))
            for percent in thresholds
        ]
        if args.expected_monthly_usd is not None and args.expected_monthly_usd < args.monthly_limit_usd:
            notifications += [
                aws.budgets.BudgetNotificationArgs(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=args.expected_monthly_usd,
                    threshold_type="ABSOLUTE_VALUE",
                    subscriber_sns_topic_arns=[topic.arn],
                )
                for kind in ("ACTUAL", "FORECASTED")
            ]
        # The tag must be activated as a cost allocation tag in Billing before the budget sees spend.
        aws.budgets.Budget(
            f"{name}-monthly",
            name=f"llm-platform-{args.stack}-monthly",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{args.monthly_limit_usd:.2f}",
            limit_unit="USD",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[f"user:{args.cost_tag_key}${args.stack}"])
            ],
            notifications=notifications,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[topic]),
        )

        monitor = aws.costexplorer.AnomalyMonitor(
            f"{name}-anomalies",
            name=f"llm-platform-{args.stack}",
            monitor_type="CUSTOM",
            monitor_specification=json.dumps(
                {"Tags": {"Key": args.cost_tag_key, "Values": [args.stack], "MatchOptions": ["EQUALS"]}}
            ),
            opts=child,
        )
        aws.costexplorer.AnomalySubscription(
            f"{name}-anomalies",
            name=f"llm-platform-{args.stack}",
            frequency="IMMEDIATE",
            monitor_arn_lists=[monitor.arn],
            subscribers=[aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=topic.arn)],
            threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[f"{args.anomaly_threshold_usd:g}"],
                )
            ),
            opts=child,
        )
        self.topic_arn = topic.arn
        self.register_outputs({"topicArn": topic.arn})
