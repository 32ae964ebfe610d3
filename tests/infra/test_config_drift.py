"""The Firehose configuration is rendered twice from one ``DeliverySpec``: as pulumi-aws Args by
``infra/delivery.py`` (seen here as the camelCase inputs the mocks record) and as the
``ExtendedS3DestinationConfiguration`` API dict by
``eventlake.simulator.embedded.aws.destination_configuration``, which the local runner creates its delivery
stream with. They must agree field by field.

``pulumi_as_api`` translates the Pulumi inputs into the API's shape one field at a time and fails on a
field it does not know, and the comparison is of the whole API dict, so a field added to, dropped from
or changed in either rendering alone fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ACCOUNT_ID, PARTITION, REGION, Deployment
from drift_compare import Fields, canonical, changed, leaves, number

from eventlake.simulator.embedded.aws import DNS_SUFFIX, destination_configuration
from infra.account import Account
from infra.delivery_spec import DeliverySpec

FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
FUNCTION = "aws:lambda/function:Function"
BUCKET = "aws:s3/bucket:Bucket"

ACCOUNT = Account(ACCOUNT_ID, REGION, PARTITION, DNS_SUFFIX)  # the mocks' account

# Deployed only: the local model writes no CloudWatch logs (the program's own tests check these).
PULUMI_ONLY = frozenset({"cloudwatchLoggingOptions"})


def pulumi_as_api(s3_inputs: dict[str, Any]) -> dict[str, Any]:
    """``extendedS3Configuration`` (Pulumi inputs) as ``ExtendedS3DestinationConfiguration``."""
    s3 = Fields("extendedS3Configuration", s3_inputs, ignore=PULUMI_ONLY)
    out: dict[str, Any] = {
        "RoleARN": s3.take("roleArn"),
        "BucketARN": s3.take("bucketArn"),
        "Prefix": s3.take("prefix"),
        "ErrorOutputPrefix": s3.take("errorOutputPrefix"),
        "BufferingHints": {
            "SizeInMBs": number(s3.take("bufferingSize")),
            "IntervalInSeconds": number(s3.take("bufferingInterval")),
        },
        "CompressionFormat": s3.take("compressionFormat"),
        "CustomTimeZone": s3.take("customTimeZone"),
        "FileExtension": s3.take("fileExtension"),
        "S3BackupMode": s3.take("s3BackupMode"),
    }

    processing = Fields("processingConfiguration", s3.take("processingConfiguration"))
    processors = []
    for i, inputs in enumerate(processing.take("processors")):
        processor = Fields(f"processors[{i}]", inputs)
        parameters = []
        for j, parameter_inputs in enumerate(processor.take("parameters")):
            parameter = Fields(f"processors[{i}].parameters[{j}]", parameter_inputs)
            parameters.append(
                {
                    "ParameterName": parameter.take("parameterName"),
                    "ParameterValue": parameter.take("parameterValue"),
                }
            )
            parameter.done()
        processors.append({"Type": processor.take("type"), "Parameters": parameters})
        processor.done()
    out["ProcessingConfiguration"] = {"Enabled": processing.take("enabled"), "Processors": processors}
    processing.done()

    partitioning = Fields("dynamicPartitioningConfiguration", s3.take("dynamicPartitioningConfiguration"))
    out["DynamicPartitioningConfiguration"] = {
        "Enabled": partitioning.take("enabled"),
        "RetryOptions": {"DurationInSeconds": number(partitioning.take("retryDuration"))},
    }
    partitioning.done()

    conversion = Fields("dataFormatConversionConfiguration", s3.take("dataFormatConversionConfiguration"))
    schema_config = Fields("schemaConfiguration", conversion.take("schemaConfiguration"))
    input_format = Fields("inputFormatConfiguration", conversion.take("inputFormatConfiguration"))
    deserializer = Fields("deserializer", input_format.take("deserializer"))
    openx = Fields("openXJsonSerDe", deserializer.take("openXJsonSerDe"))
    output_format = Fields("outputFormatConfiguration", conversion.take("outputFormatConfiguration"))
    serializer = Fields("serializer", output_format.take("serializer"))
    parquet = Fields("parquetSerDe", serializer.take("parquetSerDe"))
    out["DataFormatConversionConfiguration"] = {
        "Enabled": conversion.take("enabled"),
        "SchemaConfiguration": {
            "RoleARN": schema_config.take("roleArn"),
            "DatabaseName": schema_config.take("databaseName"),
            "TableName": schema_config.take("tableName"),
            "Region": schema_config.take("region"),
            "VersionId": schema_config.take("versionId"),
        },
        "InputFormatConfiguration": {
            "Deserializer": {"OpenXJsonSerDe": {"CaseInsensitive": openx.take("caseInsensitive")}}
        },
        "OutputFormatConfiguration": {
            "Serializer": {"ParquetSerDe": {"Compression": parquet.take("compression")}}
        },
    }
    for part in (
        schema_config,
        openx,
        deserializer,
        input_format,
        parquet,
        serializer,
        output_format,
        conversion,
    ):
        part.done()

    if "s3BackupConfiguration" in s3.left:
        backup = Fields("s3BackupConfiguration", s3.take("s3BackupConfiguration"), ignore=PULUMI_ONLY)
        out["S3BackupConfiguration"] = {
            "RoleARN": backup.take("roleArn"),
            "BucketARN": backup.take("bucketArn"),
            "Prefix": backup.take("prefix"),
            "ErrorOutputPrefix": backup.take("errorOutputPrefix"),
            "CompressionFormat": backup.take("compressionFormat"),
            "BufferingHints": {
                "SizeInMBs": number(backup.take("bufferingSize")),
                "IntervalInSeconds": number(backup.take("bufferingInterval")),
            },
        }
        backup.done()
    s3.done()
    return out


def renderings(d: Deployment) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Pulumi inputs as the API dict, the local runner's API dict), for the same resources."""
    spec = DeliverySpec.from_settings(d.settings)
    firehose = d.one(FIREHOSE)
    s3 = firehose.inputs["extendedS3Configuration"]
    local = destination_configuration(
        spec,
        bucket=d.one(BUCKET, "-lake").state["bucket"],
        role_arn=s3["roleArn"],
        function_arn=d.one(FUNCTION, "processor").state["arn"],  # one function ARN for both renderings
        account=ACCOUNT,
    )
    return pulumi_as_api(s3), local


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pulumi_and_the_local_runner_configure_the_same_firehose(
    stack: str, request: pytest.FixtureRequest
) -> None:
    d: Deployment = request.getfixturevalue(stack)
    deployed, local = renderings(d)
    assert canonical(deployed) == canonical(local)
    # Everything that matters is present, so the equality above covers it (a sample of the leaves).
    assert local["ProcessingConfiguration"]["Processors"][0]["Parameters"][0]["ParameterName"] == "LambdaArn"
    assert "S3BackupConfiguration" in local and local["S3BackupMode"] == "Enabled"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_role_is_the_one_the_local_runner_names(stack: str, request: pytest.FixtureRequest) -> None:
    d: Deployment = request.getfixturevalue(stack)
    spec = DeliverySpec.from_settings(d.settings)
    firehose = d.one(FIREHOSE).inputs
    expected = ACCOUNT.role_arn(spec.delivery_stream_name)
    assert firehose["name"] == spec.delivery_stream_name
    assert firehose["kinesisSourceConfiguration"]["roleArn"] == expected
    assert firehose["extendedS3Configuration"]["roleArn"] == expected


def test_a_change_to_either_rendering_alone_is_caught(dev: Deployment) -> None:
    deployed_inputs = dev.one(FIREHOSE).inputs["extendedS3Configuration"]
    deployed, local = renderings(dev)
    local_paths = list(leaves(local))
    assert len(local_paths) >= 30
    for path in local_paths:
        assert canonical(deployed) != canonical(changed(local, path)), path
    for path in leaves(deployed_inputs):
        if PULUMI_ONLY.intersection(map(str, path)):
            continue
        assert canonical(pulumi_as_api(changed(deployed_inputs, path))) != canonical(local), path
    # A field only one side sets fails too.
    with pytest.raises(AssertionError, match="unknown to this comparison"):
        pulumi_as_api({**deployed_inputs, "newSetting": 1})
    assert canonical(deployed) != canonical({**local, "NewSetting": 1})
