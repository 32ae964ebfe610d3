"""The Firehose delivery stream, rendered from ``DeliverySpec`` (the same plain data the local
runner executes), plus its role and its CloudWatch log group."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from pulumi_aws import kinesis

from infra import iam
from infra.account import Account
from infra.catalog import Catalog
from infra.delivery_spec import DeliverySpec
from infra.log_groups import firehose_log_group
from infra.protection import renamed_from
from infra.settings import Settings, reads, settings_args

# Short names for the nested Args classes (each carries its whole path in its name).
ExtendedS3Args = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs
LoggingArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs
ConversionArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationArgs
InputFormatArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationArgs  # noqa: E501
DeserializerArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerArgs  # noqa: E501
OpenXJsonArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerOpenXJsonSerDeArgs  # noqa: E501
OutputFormatArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationArgs  # noqa: E501
SerializerArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerArgs  # noqa: E501
ParquetArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerParquetSerDeArgs  # noqa: E501
SchemaArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationSchemaConfigurationArgs  # noqa: E501
PartitioningArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDynamicPartitioningConfigurationArgs
ProcessingArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs
ProcessorArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs
ParameterArgs = (
    kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs
)
BackupArgs = kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationS3BackupConfigurationArgs
BackupLoggingArgs = (
    kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationS3BackupConfigurationCloudwatchLoggingOptionsArgs
)
KinesisSourceArgs = kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs

FIREHOSE_SERVICE = "firehose.amazonaws.com"
DESTINATION_LOG_STREAM = "DestinationDelivery"
BACKUP_LOG_STREAM = "BackupDelivery"


@dataclass(frozen=True)
class DeliveryStreamArgs:
    spec: DeliverySpec
    log_retention_days: int = reads("log_retention_days")

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryStreamArgs:
        return settings_args(cls, settings, spec=DeliverySpec.from_settings(settings))


class DeliveryStream(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: DeliveryStreamArgs,
        account: Account,
        *,
        stream_arn: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        function_arn: pulumi.Input[str] | None,
        catalog: Catalog,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "eventlake:index:DeliveryStream", name, None, renamed_from("eventlake:index:Delivery", opts)
        )
        child = pulumi.ResourceOptions(parent=self)
        spec = args.spec

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=firehose_log_group(spec.delivery_stream_name),
                retention_in_days=args.log_retention_days,
                # Delivery errors quote records: encrypted with the lake key like the records themselves.
                kms_key_id=key_arn,
            ),
            opts=child,
        )
        log_streams = [DESTINATION_LOG_STREAM] + ([BACKUP_LOG_STREAM] if spec.source_backup else [])
        streams = {
            s: aws.cloudwatch.LogStream(
                f"{name}-{s}", aws.cloudwatch.LogStreamArgs(name=s, log_group_name=log_group.name), opts=child
            )
            for s in log_streams
        }

        self.role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                name=spec.delivery_stream_name,
                assume_role_policy=json.dumps(
                    iam.assume_role_policy(
                        FIREHOSE_SERVICE,
                        source_account=account.account_id,
                        source_arns=[account.firehose_stream_arn(spec.delivery_stream_name)],
                        external_id=account.account_id,
                    )
                ),
            ),
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            aws.iam.RolePolicyArgs(
                role=self.role.id,
                policy=pulumi.Output.all(
                    bucket_arn=bucket_arn,
                    stream_arn=stream_arn,
                    function_arn=function_arn,
                    log_stream_arns=pulumi.Output.all(*(s.arn for s in streams.values())),
                    glue_database_arn=catalog.database.arn,
                    glue_table_arn=catalog.table.arn,
                    key_arn=key_arn,
                ).apply(
                    lambda a: json.dumps(
                        iam.firehose_policy(
                            **a,
                            glue_catalog_arn=account.glue_catalog_arn,
                            kms_via_services=[account.service_host("s3"), account.service_host("kinesis")],
                            reads_schema=spec.processing.conversion(spec) is not None,
                            written_roots=spec.written_roots,
                        )
                    )
                ),
            ),
            opts=child,
        )

        def logging(stream: str) -> LoggingArgs:
            return LoggingArgs(
                enabled=True, log_group_name=log_group.name, log_stream_name=streams[stream].name
            )

        backup = None
        if spec.source_backup:
            backup = BackupArgs(
                bucket_arn=bucket_arn,
                role_arn=self.role.arn,
                prefix=spec.backup_prefix,
                error_output_prefix=spec.backup_error_output_prefix,
                buffering_size=spec.buffering_size_mib,
                buffering_interval=spec.buffering_interval_seconds,
                compression_format=spec.backup_compression,
                cloudwatch_logging_options=BackupLoggingArgs(
                    enabled=True,
                    log_group_name=log_group.name,
                    log_stream_name=streams[BACKUP_LOG_STREAM].name,
                ),
            )

        processors, conversion = _processing(spec, function_arn, catalog, self.role.arn, account.region)
        self.stream = aws.kinesis.FirehoseDeliveryStream(
            name,
            aws.kinesis.FirehoseDeliveryStreamArgs(
                name=spec.delivery_stream_name,
                destination="extended_s3",
                kinesis_source_configuration=KinesisSourceArgs(
                    kinesis_stream_arn=stream_arn, role_arn=self.role.arn
                ),
                extended_s3_configuration=ExtendedS3Args(
                    bucket_arn=bucket_arn,
                    role_arn=self.role.arn,
                    prefix=spec.prefix,
                    error_output_prefix=spec.error_output_prefix,
                    buffering_size=spec.buffering_size_mib,
                    buffering_interval=spec.buffering_interval_seconds,
                    # Parquet compresses inside the file (S3-level compression must stay off); jq mode's
                    # JSON Lines are compressed by S3-level GZIP.
                    compression_format=spec.data_compression,
                    custom_time_zone=spec.custom_time_zone,
                    file_extension=spec.file_extension,
                    processing_configuration=ProcessingArgs(enabled=True, processors=processors),
                    dynamic_partitioning_configuration=PartitioningArgs(
                        enabled=True, retry_duration=spec.retry_duration_seconds
                    ),
                    data_format_conversion_configuration=conversion,
                    s3_backup_mode="Enabled" if spec.source_backup else "Disabled",
                    s3_backup_configuration=backup,
                    cloudwatch_logging_options=logging(DESTINATION_LOG_STREAM),
                ),
            ),
            # IAM is eventually consistent: create the stream only once its permissions exist.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy, *(depends_on or [])]),
        )
        self.name: pulumi.Output[str] = self.stream.name
        self.arn: pulumi.Output[str] = self.stream.arn
        self.register_outputs({"name": self.name, "arn": self.arn})


def _processing(
    spec: DeliverySpec,
    function_arn: pulumi.Input[str] | None,
    catalog: Catalog,
    role_arn: pulumi.Input[str],
    region: str,
) -> tuple[list[ProcessorArgs], ConversionArgs | None]:
    """The processor and the format conversion, as the stack's processor says: the Lambda and Parquet, or
    (jq mode) only Firehose's JQ ``MetadataExtraction`` (its query and engine), records as they came."""
    processing = spec.processing
    # The Lambda's: a qualified ARN pins what Firehose calls (the role grants both fn and fn:*).
    parameters = pulumi.Output.from_input(function_arn).apply(
        lambda arn: [
            ParameterArgs(parameter_name=key, parameter_value=value)
            for key, value in processing.processor_parameters(spec, arn)
        ]
    )
    processors = [ProcessorArgs(type=processing.firehose_processor_type, parameters=parameters)]
    conversion = processing.conversion(spec)
    if conversion is None:
        return processors, None
    return processors, ConversionArgs(
        enabled=True,
        input_format_configuration=InputFormatArgs(
            deserializer=DeserializerArgs(
                open_x_json_ser_de=OpenXJsonArgs(case_insensitive=conversion.case_insensitive)
            )
        ),
        output_format_configuration=OutputFormatArgs(
            serializer=SerializerArgs(parquet_ser_de=ParquetArgs(compression=conversion.compression))
        ),
        schema_configuration=SchemaArgs(
            database_name=catalog.database_name,
            table_name=catalog.table_name,
            role_arn=role_arn,
            region=region,
            version_id=conversion.version_id,
        ),
    )
