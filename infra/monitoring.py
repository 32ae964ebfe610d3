"""Alarms and the dashboard: one SNS topic encrypted with the lake key (with an optional e-mail subscription),
every alarm of ``MonitoringSpec`` notifying it when it fires and when it recovers, and one CloudWatch
dashboard of the flow from stream to lake. Rendered from ``infra.alarm_spec``."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.account import Account
from infra.alarm_spec import AlarmSpec, MetricStat, MonitoringSpec
from infra.settings import placeholder_email

QueryArgs = aws.cloudwatch.MetricAlarmMetricQueryArgs
QueryMetricArgs = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs
EMAIL = "email"


class Monitoring(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        spec: MonitoringSpec,
        account: Account,
        *,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        alarm_arns = [account.alarm_arn(alarm) for alarm in spec.alarm_names]

        self.topic = aws.sns.Topic(
            f"{name}-topic",
            aws.sns.TopicArgs(name=spec.topic_name, kms_master_key_id=key_arn),
            opts=child,
        )
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            aws.sns.TopicPolicyArgs(
                arn=self.topic.arn,
                policy=self.topic.arn.apply(
                    lambda arn: json.dumps(
                        iam.alarm_topic_policy(
                            topic_arn=arn, account_id=account.account_id, alarm_arns=alarm_arns
                        )
                    )
                ),
            ),
            opts=child,
        )
        if placeholder_email(spec.email):
            pulumi.log.warn(
                f"alarmEmail {spec.email} is a placeholder (a reserved domain): alarms will reach nobody. "
                "Set your on-call address: pulumi config set eventlake:alarmEmail <address>",
                resource=self,
            )
        if spec.email is not None:
            aws.sns.TopicSubscription(
                f"{name}-email",
                aws.sns.TopicSubscriptionArgs(topic=self.topic.arn, protocol=EMAIL, endpoint=spec.email),
                opts=child,
            )

        # An alarm that fires before CloudWatch may publish to the topic would notify nobody.
        alarm_opts = pulumi.ResourceOptions(parent=self, depends_on=[topic_policy])
        self.alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm.name.removeprefix(spec.name_prefix + '-')}",
                _alarm_args(alarm, self.topic.arn),
                opts=alarm_opts,
            )
            for alarm in spec.alarms
        ]
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            aws.cloudwatch.DashboardArgs(
                dashboard_name=spec.dashboard_name,
                dashboard_body=json.dumps(spec.dashboard_body(account.region, alarm_arns)),
            ),
            opts=child,
        )
        self.topic_arn: pulumi.Output[str] = self.topic.arn
        self.dashboard_name: pulumi.Output[str] = self.dashboard.dashboard_name
        self.register_outputs({"topic_arn": self.topic_arn, "dashboard": self.dashboard_name})


def _alarm_args(alarm: AlarmSpec, topic_arn: pulumi.Input[str]) -> aws.cloudwatch.MetricAlarmArgs:
    common = {
        "name": alarm.name,
        "alarm_description": alarm.description,
        "comparison_operator": alarm.comparison,
        "threshold": alarm.threshold,
        "evaluation_periods": alarm.evaluation_periods,
        "datapoints_to_alarm": alarm.datapoints_to_alarm,
        "treat_missing_data": alarm.treat_missing_data,
        "alarm_actions": [topic_arn],
        "ok_actions": [topic_arn],
    }
    if alarm.metric is not None:
        stat = alarm.metric
        return aws.cloudwatch.MetricAlarmArgs(
            **common,
            namespace=stat.metric.namespace,
            metric_name=stat.metric.name,
            dimensions=stat.dimension_map,
            statistic=stat.statistic,
            period=alarm.period_seconds,
        )
    queries = [QueryArgs(id="result", expression=alarm.expression, label=alarm.description, return_data=True)]
    queries += [
        QueryArgs(id=query_id, metric=_query_metric(stat, alarm.period_seconds), return_data=False)
        for query_id, stat in alarm.inputs
    ]
    return aws.cloudwatch.MetricAlarmArgs(**common, metric_queries=queries)


def _query_metric(stat: MetricStat, period: int) -> aws.cloudwatch.MetricAlarmMetricQueryMetricArgs:
    return QueryMetricArgs(
        namespace=stat.metric.namespace,
        metric_name=stat.metric.name,
        dimensions=stat.dimension_map,
        stat=stat.statistic,
        period=period,
    )
