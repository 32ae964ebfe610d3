"""Alarms and the dashboard as the real ``__main__.py`` registers them for dev and prod: an alarm topic
encrypted with the lake key (e-mail subscription from stack config), every alarm on a documented metric with
its namespace and dimensions, its threshold from stack config and the topic as its action, and one dashboard
of the flow from stream to lake whose every metric is a documented one.

The expected alarms are written out here (metric, namespace, dimensions, statistic, comparison), and their
thresholds read from the stack files themselves, not from ``Settings``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ACCOUNT_ID, ONCALL_EMAIL, Deployment, cli_config

from glue.errors import Reject
from infra import alarm_spec
from infra.settings import Settings, SettingsError, stack_config

KEY = "aws:kms/key:Key"
STREAM = "aws:kinesis/stream:Stream"
FUNCTION = "aws:lambda/function:Function"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
CLAIMS = "aws:dynamodb/table:Table"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

GT, GE, LT = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"


def arn(d: Deployment, typ: str, name_part: str = "") -> str:
    return d.one(typ, name_part).state["arn"]


def config(d: Deployment, key: str) -> Any:
    """A stack's config as the program got it (its file, and the on-call address a protected stack needs)."""
    name = f"eventlake:{key}"
    return stack_config(d.stack).get(name, cli_config(d.stack).get(name))


def alarms(d: Deployment) -> dict[str, dict[str, Any]]:
    prefix = f"eventlake-{d.stack}-"
    return {r.inputs["name"].removeprefix(prefix): r.inputs for r in d.all(ALARM)}


def dimensions(d: Deployment) -> dict[str, dict[str, str]]:
    return {
        "delivery": {"DeliveryStreamName": d.one(FIREHOSE).inputs["name"]},
        "stream": {"StreamName": d.one(STREAM).inputs["name"]},
        "transform": {"FunctionName": d.one(FUNCTION, "processor").inputs["name"]},
        "registrar": {"FunctionName": d.one(FUNCTION, "registrar").inputs["name"]},
        "table": {"TableName": d.one(CLAIMS).inputs["name"]},
        "registrar-queue": {"QueueName": d.one("aws:sqs/queue:Queue", "registrar").inputs["name"]},
        "compactor-queue": {"QueueName": d.one("aws:sqs/queue:Queue", "compactor").inputs["name"]},
        "registrar-rule": {
            "RuleName": d.one("aws:cloudwatch/eventRule:EventRule", "registrar").inputs["name"]
        },
        "compactor-rule": {
            "RuleName": d.one("aws:cloudwatch/eventRule:EventRule", "compactor").inputs["name"]
        },
        "compactor": {"FunctionName": d.one(FUNCTION, "compactor").inputs["name"]},
    }


def single_metric_alarms(d: Deployment) -> dict[str, tuple[str, str, str, str, str, float, int]]:
    """slug: (namespace, metric, dimensions, statistic, comparison, threshold, evaluation periods)."""
    timeout_ms = config(d, "lambdaTimeoutSeconds") * 1000
    return {
        "delivery-freshness": (
            "AWS/Firehose",
            "DeliveryToS3.DataFreshness",
            "delivery",
            "Maximum",
            GT,
            config(d, "alarmFreshnessSeconds"),
            1,
        ),
        "delivery-success": ("AWS/Firehose", "DeliveryToS3.Success", "delivery", "Average", LT, 1, 3),
        "processing-success": ("AWS/Firehose", "ExecuteProcessing.Success", "delivery", "Average", LT, 1, 1),
        "format-conversion-failed": ("AWS/Firehose", "FailedConversion.Records", "delivery", "Sum", GT, 0, 1),
        "partition-count-exceeded": (
            "AWS/Firehose",
            "PartitionCountExceeded",
            "delivery",
            "Maximum",
            GE,
            1,
            1,
        ),
        "stream-iterator-age": (
            "AWS/Kinesis",
            "GetRecords.IteratorAgeMilliseconds",
            "stream",
            "Maximum",
            GT,
            config(d, "alarmIteratorAgeSeconds") * 1000,
            1,
        ),
        "stream-write-throttled": (
            "AWS/Kinesis",
            "WriteProvisionedThroughputExceeded",
            "stream",
            "Sum",
            GT,
            0,
            1,
        ),
        "transform-errors": ("AWS/Lambda", "Errors", "transform", "Sum", GT, 0, 1),
        "transform-throttles": ("AWS/Lambda", "Throttles", "transform", "Sum", GT, 0, 1),
        "transform-duration": (
            "AWS/Lambda",
            "Duration",
            "transform",
            "Maximum",
            GT,
            timeout_ms * config(d, "alarmDurationPercent") / 100,
            1,
        ),
        "registrar-errors": ("AWS/Lambda", "Errors", "registrar", "Sum", GT, 0, 1),
        "dedupe-not-checked": ("EventLake", "NotChecked", "transform", "Sum", GT, 0, 1),
        "claims-write-throttled": ("AWS/DynamoDB", "WriteThrottleEvents", "table", "Sum", GT, 0, 1),
        "claims-read-throttled": ("AWS/DynamoDB", "ReadThrottleEvents", "table", "Sum", GT, 0, 1),
        # Failures nobody else sees: a message in either failure queue, an invocation either rule gave up on.
        "registrar-failed-events": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "registrar-queue",
            "Maximum",
            GT,
            0,
            1,
        ),
        "registrar-rule-failed": ("AWS/Events", "FailedInvocations", "registrar-rule", "Sum", GT, 0, 1),
        "compactor-failed-runs": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "compactor-queue",
            "Maximum",
            GT,
            0,
            1,
        ),
        "compaction-schedule-failed": ("AWS/Events", "FailedInvocations", "compactor-rule", "Sum", GT, 0, 1),
        # What a compaction run tagged for expiry (its own embedded metrics).
        "compaction-tags-outside-manifests": (
            "EventLake",
            "TagsOutsideManifests",
            "compactor",
            "Sum",
            GT,
            0,
            1,
        ),
        "compaction-partition-tagged": (
            "EventLake",
            "MaxPartitionTaggedPercent",
            "compactor",
            "Maximum",
            GE,
            config(d, "alarmCompactionTaggedPercent") or 100,
            1,
        ),
    }


def math_alarms(d: Deployment) -> dict[str, tuple[str, dict[str, tuple[str, str, str, str]], float]]:
    """slug: (expression, {id: (namespace, metric, dimensions, stat)}, threshold); all "greater than"."""
    return {
        "partition-headroom": (
            "100 * partitions / limit",
            {
                "partitions": ("AWS/Firehose", "PartitionCount", "delivery", "Maximum"),
                "limit": ("AWS/Firehose", "ActivePartitionsLimit", "delivery", "Maximum"),
            },
            config(d, "alarmPartitionPercent"),
        ),
        "transform-rejected": (
            "100 * rejected / records",
            {
                "rejected": ("EventLake", "RecordsRejected", "transform", "Sum"),
                "records": ("EventLake", "Records", "transform", "Sum"),
            },
            config(d, "alarmRejectedPercent"),
        ),
    }


# --- the topic ------------------------------------------------------------------------------------


def test_the_alarm_topic_is_encrypted_with_the_lake_key_and_only_the_stacks_alarms_publish(
    deployment: Deployment,
) -> None:
    d = deployment
    topic = d.one(TOPIC)
    assert topic.inputs == {"name": f"eventlake-{d.stack}-alarms", "kmsMasterKeyId": arn(d, KEY)}
    assert d.outputs["alarm_topic_arn"] == topic.state["arn"]
    policy = d.one(TOPIC_POLICY).inputs
    assert policy["arn"] == topic.state["arn"]
    document = json.loads(policy["policy"])
    (statement,) = document["Statement"]
    sources = statement["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sorted(sources) == sorted(a.state["arn"] for a in d.all(ALARM))
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StackAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["sns:Publish"],
                "Resource": [topic.state["arn"]],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": sources},
                },
            }
        ],
    }


def test_prod_subscribes_the_configured_address_and_dev_none(dev: Deployment, prod: Deployment) -> None:
    assert dev.all(SUBSCRIPTION) == []
    assert "eventlake:alarmEmail" not in stack_config("dev")
    (subscription,) = prod.all(SUBSCRIPTION)
    assert subscription.inputs == {
        "topic": arn(prod, TOPIC),
        "protocol": "email",
        "endpoint": config(prod, "alarmEmail"),
    }


# --- alarms ---------------------------------------------------------------------------------------


def test_every_alarm_is_expected_and_notifies_the_topic(deployment: Deployment) -> None:
    d = deployment
    registered = alarms(d)
    assert set(registered) == set(single_metric_alarms(d)) | set(math_alarms(d))
    topic = arn(d, TOPIC)
    for slug, alarm in registered.items():
        assert alarm["alarmActions"] == [topic], slug
        assert alarm["okActions"] == [topic], slug
        assert alarm["treatMissingData"] == "notBreaching", slug
        assert alarm["alarmDescription"], slug
        assert alarm["datapointsToAlarm"] == alarm["evaluationPeriods"], slug
        # The topic policy exists before an alarm can publish.
        assert d.one(TOPIC_POLICY).urn in d.one(ALARM, slug).dependencies, slug


def test_single_metric_alarms_watch_the_documented_metric_with_the_configured_threshold(
    deployment: Deployment,
) -> None:
    d = deployment
    registered, dims = alarms(d), dimensions(d)
    for slug, (namespace, metric, dims_of, stat, comparison, threshold, periods) in single_metric_alarms(
        d
    ).items():
        alarm = registered[slug]
        assert (alarm["namespace"], alarm["metricName"]) == (namespace, metric), slug
        assert alarm["dimensions"] == dims[dims_of], slug
        assert alarm["statistic"] == stat, slug
        assert (alarm["comparisonOperator"], alarm["threshold"]) == (comparison, threshold), slug
        assert (alarm["period"], alarm["evaluationPeriods"]) == (300, periods), slug
        assert "metricQueries" not in alarm, slug


def test_ratio_alarms_compute_a_percentage_of_two_documented_metrics(deployment: Deployment) -> None:
    d = deployment
    registered, dims = alarms(d), dimensions(d)
    for slug, (expression, inputs, threshold) in math_alarms(d).items():
        alarm = registered[slug]
        assert (alarm["comparisonOperator"], alarm["threshold"]) == (GT, threshold), slug
        assert not {"namespace", "metricName", "statistic", "dimensions"} & set(alarm), slug
        result, *queries = alarm["metricQueries"]
        assert (result["id"], result["expression"], result["returnData"]) == ("result", expression, True), (
            slug
        )
        assert {q["id"]: q for q in queries}.keys() == inputs.keys(), slug
        for query in queries:
            namespace, metric, dims_of, stat = inputs[query["id"]]
            assert query["returnData"] is False, slug
            assert query["metric"] == {
                "namespace": namespace,
                "metricName": metric,
                "dimensions": dims[dims_of],
                "stat": stat,
                "period": 300,
            }, slug


def test_thresholds_follow_each_stacks_config(dev: Deployment, prod: Deployment) -> None:
    assert alarms(dev)["delivery-freshness"]["threshold"] == 600
    assert alarms(prod)["delivery-freshness"]["threshold"] == 1800
    assert alarms(dev)["transform-rejected"]["threshold"] == 5
    assert alarms(prod)["transform-rejected"]["threshold"] == 1
    # 80 % of each stack's Lambda timeout (120 s and 300 s), in milliseconds.
    assert alarms(dev)["transform-duration"]["threshold"] == 96_000
    assert alarms(prod)["transform-duration"]["threshold"] == 240_000


def test_every_alarm_metric_is_in_the_documented_catalog(deployment: Deployment) -> None:
    documented = {(m.namespace, m.name): m for m in alarm_spec.METRICS}
    watched = []
    for alarm in alarms(deployment).values():
        if "metricName" in alarm:
            watched.append((alarm["namespace"], alarm["metricName"], alarm["dimensions"]))
        for query in alarm.get("metricQueries", []):
            if "metric" in query:
                metric = query["metric"]
                watched.append((metric["namespace"], metric["metricName"], metric["dimensions"]))
    for namespace, name, dims in watched:
        metric = documented[(namespace, name)]
        assert tuple(dims) == metric.dimensions, name


def test_the_catalog_cites_where_each_metric_is_documented() -> None:
    for metric in alarm_spec.METRICS:
        if metric.namespace.startswith("AWS/"):
            assert metric.doc.startswith("https://docs.aws.amazon.com/"), metric
        else:
            # The transform's own metrics: named in glue/errors.py, published with the embedded metric format.
            assert metric.namespace == "EventLake" and "Embedded_Metric_Format" in metric.doc, metric
    assert len({(m.namespace, m.name) for m in alarm_spec.METRICS}) == len(alarm_spec.METRICS)


# --- the dashboard --------------------------------------------------------------------------------


def dashboard_body(d: Deployment) -> dict[str, Any]:
    return json.loads(d.one(DASHBOARD).inputs["dashboardBody"])


def test_the_dashboard_shows_the_flow_with_documented_metrics_only(deployment: Deployment) -> None:
    d = deployment
    dashboard = d.one(DASHBOARD)
    assert dashboard.inputs["dashboardName"] == f"eventlake-{d.stack}-flow"
    assert d.outputs["dashboard_name"] == dashboard.inputs["dashboardName"]
    body = dashboard_body(d)
    titles = [w["properties"]["title"] for w in body["widgets"]]
    for stage in ("In", "Processed", "Rejected", "Delivered", "Freshness", "Errors", "Dedupe"):
        assert any(stage in title for title in titles), stage
    documented = {(m.namespace, m.name): m.dimensions for m in alarm_spec.METRICS}
    names = dimensions(d)
    known_values = {value for dims in names.values() for value in dims.values()} | {r.value for r in Reject}
    lines = alarm_spec.metric_stats(body)
    assert len(lines) >= 30
    for namespace, name, dims in lines:
        assert tuple(dims) == documented[(namespace, name)], name
        assert set(dims.values()) <= known_values, (name, dims)
    for widget in body["widgets"]:
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "eu-west-1"


def test_the_dashboard_breaks_rejections_down_by_every_reason(deployment: Deployment) -> None:
    reasons = {
        dims["Reason"]
        for _, name, dims in alarm_spec.metric_stats(dashboard_body(deployment))
        if name == "RecordsRejectedByReason"
    }
    assert reasons == {r.value for r in Reject}


def test_the_dashboard_shows_every_alarm(deployment: Deployment) -> None:
    (widget,) = [w for w in dashboard_body(deployment)["widgets"] if w["type"] == "alarm"]
    assert sorted(widget["properties"]["alarms"]) == sorted(a.state["arn"] for a in deployment.all(ALARM))


def test_dashboard_widgets_do_not_overlap(deployment: Deployment) -> None:
    cells = set()
    for widget in dashboard_body(deployment)["widgets"]:
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells
                cells.add((x, y))
        assert widget["x"] + widget["width"] <= 24


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"alarmEmail": "not-an-address"}, "alarmEmail must be an e-mail address"),
        # dev's 60 s buffer: 1.5 x 60 + the processor's 60 s = 150 s is reached by healthy delivery.
        ({"alarmFreshnessSeconds": 150, "bufferingIntervalSeconds": 60}, "alarmFreshnessSeconds must be 0"),
        (
            {"alarmIteratorAgeSeconds": 24 * 3600, "streamRetentionHours": 24},
            "alarmIteratorAgeSeconds must be",
        ),
        ({"alarmRejectedPercent": 101}, "alarmRejectedPercent must be between 0 and 100"),
        ({"alarmDurationPercent": 0}, "alarmDurationPercent must be between 1 and 100"),
        ({"alarmPartitionPercent": 120}, "alarmPartitionPercent must be between 1 and 100"),
    ],
)
def test_bad_alarm_settings_name_the_key(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_lookup("dev", values.get)


def test_the_automatic_freshness_threshold_is_twice_what_healthy_delivery_reaches() -> None:
    # 1.5 x 300 s + 60 s = 510 s; twice that.
    assert Settings(stack="x").freshness_alarm_seconds == 1020
    assert Settings(stack="x", alarm_freshness_seconds=900).freshness_alarm_seconds == 900
    assert Settings.from_lookup("x", {"bufferingIntervalSeconds": "900"}.get).freshness_alarm_seconds == 2820


@pytest.mark.parametrize(
    ("email", "placeholder"),
    [
        ("eventlake-oncall@example.com", True),
        ("oncall@EXAMPLE.org.", True),
        ("a@team.test", True),
        ("a@mail.example", True),
        ("oncall@example.company.com", False),
        ("oncall@acme.com", False),
        ("", False),
        (None, False),
    ],
)
def test_placeholder_addresses_are_the_reserved_domains(email: str | None, placeholder: bool) -> None:
    assert alarm_spec.placeholder_email(email) is placeholder


def test_a_protected_stack_without_a_real_alarm_address_fails_to_deploy_with_one_line() -> None:
    """prod names no address and protects its data: preview and up fail, in one line, until a team sets its
    own (missing, or in a reserved domain); sizing and the local runner read the same file and still work."""
    from conftest import deploy

    assert "eventlake:alarmEmail" not in stack_config("prod") and "eventlake:alarmEmail" not in stack_config(
        "huge"
    )
    without = {k: v for k, v in cli_config("prod").items() if k != "eventlake:alarmEmail"}
    for config in (without, {**without, "eventlake:alarmEmail": "eventlake-oncall@example.com"}):
        with pytest.raises(SettingsError) as raised:
            deploy("prod", config)
        assert "\n" not in str(raised.value)
        assert "alarmEmail" in str(raised.value) and "pulumi config set eventlake:alarmEmail" in str(
            raised.value
        )
    assert Settings.from_stack_file("prod").alarm_email == ""  # not a deployment: no rule
    deploy("prod", {**without, "eventlake:alarmEmail": ONCALL_EMAIL})


def test_an_unprotected_stack_only_warns_about_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi
    from conftest import deploy

    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    deploy("dev", {**cli_config("dev"), "eventlake:alarmEmail": "me@example.com"})
    assert [w for w in warnings if "alarmEmail" in w] == [
        "alarmEmail me@example.com is a placeholder (a reserved domain): alarms will reach "
        "nobody. Set your on-call address: pulumi config set eventlake:alarmEmail <address>"
    ]
