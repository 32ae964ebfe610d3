"""``processor: jq``: the real program under Pulumi mocks with the dev stack's config plus that one setting.

No transform Lambda, no claims table, no Lambda permissions; the delivery stream partitions with Firehose's
``MetadataExtraction`` processor (jq 1.6) into the same layout as the Lambda mode, delivers the records as
sent (GZIP, no Parquet conversion), and its role can no longer invoke a function or read the schema.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any

import pulumi
import pytest
from conftest import PROJECT, Deployment, RecordingMocks, RecordingMonitor, cli_config
from pulumi.runtime import settings as pulumi_settings

from glue import partition_query, schema
from infra import iam, rules
from infra.catalog_spec import CatalogSpec
from infra.settings import PROJECT_ROOT, Settings, stack_config

FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


def _deploy_jq(stack: str) -> Deployment:
    """``conftest.deploy`` with ``eventlake:processor`` set to ``jq`` on top of the stack file's config."""
    config = {**cli_config(stack), "eventlake:processor": "jq"}
    mocks = RecordingMocks()
    outputs: dict[str, Any] = {}
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )
    pulumi.runtime.set_all_config(config)

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__main__")
        exported = getattr(pulumi.runtime.get_root_resource(), "outputs", {})
        if not exported:
            return pulumi.Output.from_input(None)
        return pulumi.Output.all(**exported).apply(outputs.update)

    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    try:
        program()
    finally:
        os.chdir(cwd)
        sys.path.remove(str(PROJECT_ROOT))
    file_config = stack_config(stack)
    settings = Settings.from_lookup(
        stack, lambda key: {**file_config, "eventlake:processor": "jq"}.get(f"eventlake:{key}")
    )
    return Deployment(stack, settings, mocks.resources, outputs, mocks.invokes)


@pytest.fixture(scope="module")
def jq_dev() -> Deployment:
    return _deploy_jq("dev")


def _s3(deployment: Deployment) -> dict[str, Any]:
    return deployment.one(FIREHOSE).inputs["extendedS3Configuration"]


def test_setting_is_validated_with_the_closest_values() -> None:
    with pytest.raises(ValueError, match="eventlake:processor must be lambda or jq"):
        Settings(stack="dev", processor="JQ")
    assert Settings(stack="dev").processor == "lambda"  # the default keeps the Lambda


def test_no_lambda_no_claims_table_no_lambda_permissions(jq_dev: Deployment, dev: Deployment) -> None:
    # The Lambda mode has the transform and its claims table; jq mode neither (the registrar Lambda stays).
    assert dev.one("aws:lambda/function:Function", "processor")
    assert dev.all("aws:dynamodb/table:Table")
    functions = [r.name for r in jq_dev.all("aws:lambda/function:Function")]
    assert functions and all("processor" not in name for name in functions), functions
    assert jq_dev.all("aws:dynamodb/table:Table") == []
    assert jq_dev.all("aws:lambda/permission:Permission") == [] or all(
        "processor" not in r.name for r in jq_dev.all("aws:lambda/permission:Permission")
    )
    assert jq_dev.outputs["lambda_name"] == ""


def test_the_query_processor_with_its_parameters(jq_dev: Deployment) -> None:
    s3 = _s3(jq_dev)
    (processor,) = s3["processingConfiguration"]["processors"]
    assert processor["type"] == "MetadataExtraction"
    params = {p["parameterName"]: p["parameterValue"] for p in processor["parameters"]}
    assert params == {"MetadataExtractionQuery": partition_query.QUERY, "JsonParsingEngine": "JQ-1.6"}
    assert s3["dynamicPartitioningConfiguration"]["enabled"] is True
    # Same folders as the Lambda mode, keys from the query.
    assert s3["prefix"] == schema.DATA_PREFIX.replace("partitionKeyFromLambda", "partitionKeyFromQuery")
    assert s3["errorOutputPrefix"] == schema.ERROR_PREFIX
    # Records as sent: no Parquet conversion, S3-level GZIP, a matching extension.
    assert "dataFormatConversionConfiguration" not in s3
    assert s3["compressionFormat"] == "GZIP"
    assert s3["fileExtension"] == ".json.gz"
    assert rules.check_firehose(jq_dev.one(FIREHOSE).inputs) == []


def test_rules_catch_a_wrong_engine_and_a_query_without_the_prefix_keys(jq_dev: Deployment) -> None:
    inputs = json.loads(json.dumps(jq_dev.one(FIREHOSE).inputs))
    (processor,) = inputs["extendedS3Configuration"]["processingConfiguration"]["processors"]
    processor["parameters"] = [
        {"parameterName": "JsonParsingEngine", "parameterValue": "JQ-1.7"},
        {"parameterName": "MetadataExtractionQuery", "parameterValue": "{event_type:.event_name}"},
    ]
    problems = rules.check_firehose(inputs)
    assert any("JQ-1.6" in p for p in problems), problems
    assert any("['event_date', 'event_hour']" in p for p in problems), problems
    inputs["extendedS3Configuration"]["processingConfiguration"]["processors"] = []
    assert any("needs a MetadataExtraction processor" in p for p in rules.check_firehose(inputs))


def test_firehose_role_keeps_only_what_jq_mode_uses(jq_dev: Deployment) -> None:
    policy = json.loads(jq_dev.one("aws:iam/rolePolicy:RolePolicy", "delivery-policy").inputs["policy"])
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert sids == ["LakeBucket", "LakeObjects", "SourceStream", "DeliveryLogs", "LakeKey"]
    actions = {a for statement in policy["Statement"] for a in statement["Action"]}
    assert not any(a.startswith(("lambda:", "glue:", "dynamodb:")) for a in actions)
    assert set(iam.FIREHOSE_S3_ACTIONS) | set(iam.FIREHOSE_KINESIS_ACTIONS) <= actions


def test_table_reads_the_records_as_sent_in_the_same_layout(jq_dev: Deployment) -> None:
    table = jq_dev.one("aws:glue/catalogTable:CatalogTable", "catalog-table").inputs
    spec = CatalogSpec.from_settings(jq_dev.settings)
    assert table["name"] == schema.TABLE_NAME
    assert [c["name"] for c in table["storageDescriptor"]["columns"]] == ["record"]
    assert [c["name"] for c in table["partitionKeys"]] == list(schema.PARTITION_KEY_NAMES)
    assert table["storageDescriptor"]["inputFormat"] == spec.input_format == partition_query.TEXT_INPUT_FORMAT
    assert table["storageDescriptor"]["serDeInfo"]["serializationLibrary"] == partition_query.TEXT_SERDE
    # The view the stack deploys is jq mode's (over ``record``), with the columns it computes.
    view = jq_dev.one("aws:glue/catalogTable:CatalogTable", "view-unique_events").inputs
    names = [c["name"] for c in view["storageDescriptor"]["columns"]]
    assert names == [c.name for c in partition_query.VIEW_COLUMNS] + list(schema.PARTITION_KEY_NAMES)


# --- monitoring: only what exists, and what this mode needs ------------------------------------------------

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


def _watched(deployment: Deployment) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every alarm input and every dashboard line."""
    from infra import alarm_spec

    found = []
    for alarm in deployment.all(ALARM):
        inputs = alarm.inputs
        if "metricName" in inputs:
            found.append((inputs["namespace"], inputs["metricName"], inputs["dimensions"]))
        for query in inputs.get("metricQueries", []):
            if "metric" in query:
                m = query["metric"]
                found.append((m["namespace"], m["metricName"], m["dimensions"]))
    body = json.loads(deployment.one(DASHBOARD).inputs["dashboardBody"])
    return found + alarm_spec.metric_stats(body)


def test_alarms_and_dashboard_watch_only_resources_jq_mode_has(jq_dev: Deployment, dev: Deployment) -> None:
    from infra import alarm_spec

    slugs = {a.inputs["name"].removeprefix("eventlake-dev-") for a in jq_dev.all(ALARM)}
    assert slugs == {
        "delivery-freshness",
        "delivery-success",
        "partition-count-exceeded",
        "partition-headroom",
        "stream-iterator-age",
        "stream-write-throttled",
        "registrar-errors",
        # The registrar's failures; no compactor in jq mode (Settings.compacts), so none of its alarms.
        "registrar-failed-events",
        "registrar-rule-failed",
    }
    assert not [f for f in jq_dev.all("aws:lambda/function:Function") if "compactor" in f.name]
    assert not [q for q in jq_dev.all("aws:sqs/queue:Queue") if "compactor" in q.inputs["name"]]
    # The Lambda mode keeps its transform, conversion and claims alarms (same stack file, default processor).
    lambda_slugs = {a.inputs["name"].removeprefix("eventlake-dev-") for a in dev.all(ALARM)}
    assert {"transform-errors", "format-conversion-failed", "claims-write-throttled"} <= lambda_slugs
    assert slugs < lambda_slugs
    # Every dimension value names a resource this deployment has; nothing reads the transform's metrics nor
    # the compactor's (jq mode has neither).
    existing = {
        jq_dev.one(FIREHOSE).inputs["name"],
        jq_dev.one("aws:kinesis/stream:Stream").inputs["name"],
        *(f.inputs["name"] for f in jq_dev.all("aws:lambda/function:Function")),
        *(q.inputs["name"] for q in jq_dev.all("aws:sqs/queue:Queue")),
        *(r.inputs["name"] for r in jq_dev.all("aws:cloudwatch/eventRule:EventRule")),
    }
    documented = {(m.namespace, m.name): m.dimensions for m in alarm_spec.METRICS}
    lines = _watched(jq_dev)
    for namespace, name, dims in lines:
        assert namespace not in {"AWS/DynamoDB"}, name
        assert namespace != "EventLake", (name, dims)
        assert tuple(dims) == documented[(namespace, name)], name
        assert set(dims.values()) <= existing, (name, dims)
    assert not any(name in {"FailedConversion.Records", "ExecuteProcessing.Success"} for _, name, _ in lines)
    # What this mode adds: Firehose's JQ run time, on the dashboard.
    assert (
        "AWS/Firehose",
        "JQProcessing.Duration",
        {"DeliveryStreamName": jq_dev.one(FIREHOSE).inputs["name"]},
    ) in lines
    widgets = json.loads(jq_dev.one(DASHBOARD).inputs["dashboardBody"])["widgets"]
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(a.state["arn"] for a in jq_dev.all(ALARM))


def test_freshness_minimum_follows_the_mode() -> None:
    # Lambda: 1.5 x 300 s + the processor's 60 s buffer; jq: no processor buffer, 1.5 x 300 s only.
    assert Settings(stack="x").min_alarm_freshness_seconds == 510
    assert Settings(stack="x", processor="jq").min_alarm_freshness_seconds == 450
    assert Settings(stack="x", processor="jq").freshness_alarm_seconds == 900
    # 480 s is below what a healthy Lambda stack reaches, but above a healthy jq stack's 450 s.
    with pytest.raises(ValueError, match=r"alarmFreshnessSeconds must be 0 .* more than 510 s"):
        Settings(stack="x", alarm_freshness_seconds=480)
    assert Settings(stack="x", processor="jq", alarm_freshness_seconds=480).freshness_alarm_seconds == 480
    with pytest.raises(ValueError, match="more than 450 s") as refused:
        Settings(stack="x", processor="jq", alarm_freshness_seconds=450)
    assert "processorBufferIntervalSeconds" not in str(refused.value)
