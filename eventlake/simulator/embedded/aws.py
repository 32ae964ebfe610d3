"""The embedded AWS: moto in-process, with the stack's resources created from settings.

Every name, prefix, size and column comes from ``Settings`` and the specs the Pulumi program renders too
(``DeliverySpec``, ``CatalogSpec``, ``ClaimsTableSpec``); this module only translates them into API
calls, so the local run uses the deployed configuration.
The boto3 clients are created here, once, and handed to the producer and the Firehose model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from eventlake.simulator.embedded import dynamodb_direct, dynamodb_partiql, kinesis_direct, s3_direct
from glue import schema
from infra.account import Account
from infra.catalog_spec import CatalogSpec
from infra.claims_spec import ClaimsTableSpec
from infra.delivery_spec import DeliverySpec
from infra.lake_bucket import bucket_name
from infra.processors import FormatConversion
from infra.settings import PROJECT_ROOT, Settings, stack_config

ACCOUNT_ID = "123456789012"  # moto's default account
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"
DEFAULT_REGION = "us-east-1"  # what the AWS provider uses when a stack sets no aws:region
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class EmbeddedAws:
    """The clients and resource names of one embedded AWS session."""

    account: Account
    spec: DeliverySpec
    kinesis: Any
    s3: Any
    firehose: Any
    glue: Any
    dynamodb: Any
    stream_name: str
    stream_arn: str
    bucket: str
    delivery_stream_arn: str
    lambda_arn: str
    claims_table: str | None

    @property
    def region(self) -> str:  # what the Firehose model's Lambda requests carry
        return self.account.region

    def catalog_table(self) -> dict[str, str]:
        """The ``dataCatalogTable`` Firehose writes into format-conversion error records."""
        return {
            "catalogId": self.account.account_id,
            "databaseName": self.spec.database_name,
            "tableName": self.spec.table_name,
            "region": self.account.region,
            "versionId": schema.SCHEMA_VERSION_ID,
            "catalogArn": self.account.glue_catalog_arn,
        }


def stack_region(stack: str, root: Path = PROJECT_ROOT) -> str:
    return str(stack_config(stack, root).get("aws:region") or DEFAULT_REGION)


@contextmanager
def embedded_aws(settings: Settings, spec: DeliverySpec, *, region: str) -> Iterator[EmbeddedAws]:
    """Start moto in-process and create the stack's resources; everything vanishes on exit.

    Fake credentials are set only for the duration, so a real profile can never be used by mistake.
    """
    # moto's PartiQL INSERT overwrites instead of failing with DuplicateItem: the claim store needs AWS's.
    # The pipeline's hot calls (PutRecords, GetRecords, the claim store's) skip moto's request layer and
    # its O(shard) Kinesis scans (kinesis_direct, dynamodb_direct), and so do the objects Firehose writes
    # and the mirror reads (s3_direct): same clients, same backend state.
    with fake_credentials(region), ExitStack() as stack:
        for context in (
            mock_aws(),
            dynamodb_partiql.installed(),
            kinesis_direct.installed(),
            dynamodb_direct.installed(),
        ):
            stack.enter_context(context)
        aws = create_stack_resources(settings, spec, region)
        stack.enter_context(kinesis_direct.attached(aws.kinesis, ACCOUNT_ID))
        stack.enter_context(dynamodb_direct.attached(aws.dynamodb, ACCOUNT_ID))
        stack.enter_context(s3_direct.attached(aws.s3, ACCOUNT_ID))
        yield aws


@contextmanager
def fake_credentials(region: str) -> Iterator[None]:
    """moto's fake credentials and ``region`` in the environment for the duration, restored after: a real
    profile can never be used by mistake."""
    saved = {key: os.environ.get(key) for key in [*_FAKE_CREDENTIALS, "AWS_DEFAULT_REGION"]}
    os.environ.update(_FAKE_CREDENTIALS)
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def create_stack_resources(
    settings: Settings, spec: DeliverySpec, region: str, endpoint_url: str | None = None
) -> EmbeddedAws:
    session = boto3.session.Session(region_name=region)
    clients = {
        name: session.client(name, endpoint_url=endpoint_url)
        for name in ("kinesis", "s3", "firehose", "glue", "dynamodb", "kms")
    }
    # The lake's key (infra/keys.py): the claims table is encrypted with it, as deployed.
    key_arn = clients["kms"].create_key(Description=f"{settings.name_prefix} event lake")["KeyMetadata"][
        "Arn"
    ]

    stream_name = settings.stream_name
    _create_stream(clients["kinesis"], settings, stream_name)
    stream_arn = clients["kinesis"].describe_stream_summary(StreamName=stream_name)[
        "StreamDescriptionSummary"
    ]["StreamARN"]

    account = Account(ACCOUNT_ID, region, PARTITION, DNS_SUFFIX)
    bucket = bucket_name(settings, account)
    if region == "us-east-1":
        clients["s3"].create_bucket(Bucket=bucket)
    else:
        clients["s3"].create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})

    _create_catalog(clients["glue"], CatalogSpec.from_settings(settings), bucket)

    claims_spec = ClaimsTableSpec.from_settings(settings) if settings.uses_claims else None
    claims_table = claims_spec.table_name if claims_spec else None
    if claims_spec:
        _create_claims_table(clients["dynamodb"], claims_spec, key_arn)

    function_arn = account.lambda_function_arn(settings.function_name)
    # infra/delivery.py names the Firehose role after the delivery stream (RoleArgs(name=
    # spec.delivery_stream_name)): the same DeliverySpec field here, not a copy of the rule.
    role_arn = account.role_arn(spec.delivery_stream_name)
    clients["firehose"].create_delivery_stream(
        DeliveryStreamName=spec.delivery_stream_name,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": role_arn},
        ExtendedS3DestinationConfiguration=destination_configuration(
            spec, bucket=bucket, role_arn=role_arn, function_arn=function_arn, account=account
        ),
    )
    delivery_arn = clients["firehose"].describe_delivery_stream(DeliveryStreamName=spec.delivery_stream_name)[
        "DeliveryStreamDescription"
    ]["DeliveryStreamARN"]

    return EmbeddedAws(
        account=account,
        spec=spec,
        kinesis=clients["kinesis"],
        s3=clients["s3"],
        firehose=clients["firehose"],
        glue=clients["glue"],
        dynamodb=clients["dynamodb"],
        stream_name=stream_name,
        stream_arn=stream_arn,
        bucket=bucket,
        delivery_stream_arn=delivery_arn,
        lambda_arn=spec.processor_lambda_arn(function_arn),
        claims_table=claims_table,
    )


def _create_stream(kinesis: Any, settings: Settings, name: str) -> None:
    """PROVISIONED gets the stack's shard count; ON_DEMAND opens with 4 shards, on AWS as in moto."""
    if settings.stream_mode == "PROVISIONED":
        kinesis.create_stream(
            StreamName=name,
            ShardCount=settings.stream_shard_count,
            StreamModeDetails={"StreamMode": "PROVISIONED"},
        )
    else:
        kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    if settings.stream_retention_hours > 24:
        kinesis.increase_stream_retention_period(
            StreamName=name, RetentionPeriodHours=settings.stream_retention_hours
        )


def _create_catalog(glue: Any, spec: CatalogSpec, bucket: str) -> None:
    """The database and table the delivery spec's format conversion reads."""
    glue.create_database(DatabaseInput=catalog_database_input(spec))
    glue.create_table(**catalog_table_request(spec, bucket))


def catalog_database_input(spec: CatalogSpec) -> dict[str, Any]:
    """``DatabaseInput`` mirroring the spec, as the Pulumi program sends it."""
    return {"Name": spec.database_name, "Description": spec.database_description}


def catalog_table_request(spec: CatalogSpec, bucket: str) -> dict[str, Any]:
    """``create_table``'s arguments (database, ``TableInput`` and the partition indexes) mirroring the spec,
    as Pulumi sends them (Pulumi adds the indexes to the created table; moto accepts and ignores them)."""
    return {
        "DatabaseName": spec.database_name,
        "PartitionIndexes": [{"IndexName": i.name, "Keys": list(i.keys)} for i in spec.partition_indexes],
        "TableInput": {
            "Name": spec.table_name,
            "TableType": spec.table_type,
            "Parameters": dict(spec.table_parameters),
            "PartitionKeys": [_glue_column(c) for c in spec.partition_keys],
            "StorageDescriptor": {
                "Columns": [_glue_column(c) for c in spec.columns],
                "Location": spec.location(bucket),
                "InputFormat": spec.input_format,
                "OutputFormat": spec.output_format,
                "SerdeInfo": {
                    "SerializationLibrary": spec.serde_library,
                    "Parameters": dict(spec.serde_parameters),
                },
            },
        },
    }


def _glue_column(column: schema.Column) -> dict[str, str]:
    return {"Name": column.name, "Type": column.type, "Comment": column.comment}


def _create_claims_table(dynamodb: Any, spec: ClaimsTableSpec, key_arn: str) -> None:
    dynamodb.create_table(**claims_table_request(spec, key_arn))
    dynamodb.update_time_to_live(**claims_ttl_request(spec))
    dynamodb.update_continuous_backups(**claims_backups_request(spec))


def claims_table_request(spec: ClaimsTableSpec, key_arn: str) -> dict[str, Any]:
    """``create_table``'s arguments mirroring the spec, as the Pulumi program sends them (a provisioned
    table starts at each dimension's minimum; auto scaling moves it from there)."""
    request = {
        "TableName": spec.table_name,
        "KeySchema": [{"AttributeName": spec.hash_key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": spec.hash_key, "AttributeType": spec.hash_key_type}],
        "BillingMode": spec.billing_mode,
        "SSESpecification": {"Enabled": True, "SSEType": spec.sse_type, "KMSMasterKeyId": key_arn},
        "DeletionProtectionEnabled": spec.deletion_protection,
    }
    if spec.capacity is not None:
        request["ProvisionedThroughput"] = {
            "ReadCapacityUnits": spec.capacity.reads.min_units,
            "WriteCapacityUnits": spec.capacity.writes.min_units,
        }
    return request


def claims_backups_request(spec: ClaimsTableSpec) -> dict[str, Any]:
    """``update_continuous_backups``'s arguments: point-in-time recovery is set apart from create_table."""
    return {
        "TableName": spec.table_name,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": spec.point_in_time_recovery},
    }


def claims_ttl_request(spec: ClaimsTableSpec) -> dict[str, Any]:
    """``update_time_to_live``'s arguments: DynamoDB sets TTL apart from ``create_table``."""
    return {
        "TableName": spec.table_name,
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": spec.ttl_attribute},
    }


def _conversion(conversion: FormatConversion, role_arn: str, account: Account) -> dict[str, Any]:
    """``DataFormatConversionConfiguration`` of the processor's conversion, as the program renders it."""
    return {
        "Enabled": True,
        "SchemaConfiguration": {
            "RoleARN": role_arn,
            "DatabaseName": conversion.database_name,
            "TableName": conversion.table_name,
            "Region": account.region,
            "VersionId": conversion.version_id,
        },
        "InputFormatConfiguration": {
            "Deserializer": {"OpenXJsonSerDe": {"CaseInsensitive": conversion.case_insensitive}}
        },
        "OutputFormatConfiguration": {
            "Serializer": {"ParquetSerDe": {"Compression": conversion.compression}}
        },
    }


def destination_configuration(
    spec: DeliverySpec, *, bucket: str, role_arn: str, function_arn: str, account: Account
) -> dict[str, Any]:
    """``ExtendedS3DestinationConfiguration`` mirroring the spec, as the Pulumi program sends it."""
    bucket_arn = account.bucket_arn(bucket)
    processing = spec.processing
    conversion = processing.conversion(spec)  # None: records delivered as they are (processor jq)
    config: dict[str, Any] = {
        "RoleARN": role_arn,
        "BucketARN": bucket_arn,
        "Prefix": spec.prefix,
        "ErrorOutputPrefix": spec.error_output_prefix,
        "BufferingHints": {
            "SizeInMBs": spec.buffering_size_mib,
            "IntervalInSeconds": spec.buffering_interval_seconds,
        },
        # Format conversion requires UNCOMPRESSED here (the Parquet serializer compresses); jq mode's JSON
        # Lines are GZIP'd by S3-level compression.
        "CompressionFormat": spec.data_compression,
        "ProcessingConfiguration": {
            "Enabled": True,
            "Processors": [
                {
                    "Type": processing.firehose_processor_type,
                    "Parameters": [
                        {"ParameterName": name, "ParameterValue": value}
                        for name, value in processing.processor_parameters(spec, function_arn)
                    ],
                }
            ],
        },
        "DynamicPartitioningConfiguration": {
            "Enabled": True,
            "RetryOptions": {"DurationInSeconds": spec.retry_duration_seconds},
        },
        **(
            {}
            if conversion is None
            else {"DataFormatConversionConfiguration": _conversion(conversion, role_arn, account)}
        ),
        "CustomTimeZone": spec.custom_time_zone,
        "FileExtension": spec.file_extension,
        "S3BackupMode": "Enabled" if spec.source_backup else "Disabled",
    }
    if spec.source_backup:
        config["S3BackupConfiguration"] = {
            "RoleARN": role_arn,
            "BucketARN": bucket_arn,
            "Prefix": spec.backup_prefix,
            "ErrorOutputPrefix": spec.backup_error_output_prefix,
            "CompressionFormat": spec.backup_compression,
            "BufferingHints": {
                "SizeInMBs": spec.buffering_size_mib,
                "IntervalInSeconds": spec.buffering_interval_seconds,
            },
        }
    return config
