"""The Firehose delivery configuration as plain data, derived from settings and the schema.

The Pulumi program turns it into pulumi-aws Args; the local runner's Firehose model executes it.
Both read the same object, so what runs locally is what is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_contract import limits
from glue import partition_query, schema
from infra import sizing
from infra.processors import LAMBDA, Processor, processor_for, processor_named
from infra.settings import Settings, reads, settings_args


@dataclass(frozen=True)
class DeliverySpec:
    delivery_stream_name: str
    prefix: str
    error_output_prefix: str
    backup_prefix: str
    backup_error_output_prefix: str
    buffering_size_mib: int = reads("buffering_size_mib")
    buffering_interval_seconds: int = reads("buffering_interval_seconds")
    processor_buffer_mb: float
    processor_buffer_interval_seconds: int = reads("processor_buffer_interval_seconds")
    processor_retries: int = reads("processor_retries")
    retry_duration_seconds: int = reads("delivery_retry_seconds")
    parquet_compression: str = reads("parquet_compression")
    database_name: str = reads("glue_database")
    table_name: str
    source_backup: bool = reads("source_backup")
    # Raw records are JSON text: GZIP shrinks them ~4x and S3 stores them as-is (.gz objects).
    backup_compression: str = "GZIP"
    custom_time_zone: str = "UTC"
    file_extension: str = ".parquet"
    # OpenX: keys are already lower case; keep the default case-insensitive matching explicit.
    deserializer_case_insensitive: bool = True
    # Firehose invokes a qualified ARN (AWS's own examples use $LATEST); IAM grants fn and fn:*.
    lambda_qualifier: str = "$LATEST"
    # lambda: the transform Lambda and Parquet conversion; jq: Firehose's JQ partitioning, records as sent
    # (``processing`` is its object).
    processor: str = LAMBDA.name
    # S3-level compression: none with Parquet (it compresses inside the file), GZIP for the JSON of jq mode.
    data_compression: str = "UNCOMPRESSED"

    @property
    def written_roots(self) -> tuple[str, ...]:
        """The lake's roots Firehose writes under (the roots its data, error and backup prefixes start with):
        its role may put objects there and nowhere else."""
        prefixes = (
            self.prefix,
            self.error_output_prefix,
            self.backup_prefix,
            self.backup_error_output_prefix,
        )
        roots = (schema.DATA_ROOT, schema.ERROR_ROOT, schema.BACKUP_ROOT)
        return tuple(root for root in roots if any(p.startswith(root) for p in prefixes))

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliverySpec:
        processing = processor_for(settings)
        return settings_args(
            cls,
            settings,
            delivery_stream_name=settings.resource_name("delivery"),
            prefix=processing.data_prefix,
            error_output_prefix=schema.ERROR_PREFIX,
            backup_prefix=schema.BACKUP_PREFIX,
            backup_error_output_prefix=schema.BACKUP_ERROR_PREFIX,
            processor_buffer_mb=sizing.processor_buffer_mb(),
            table_name=schema.TABLE_NAME,
            processor=processing.name,
            data_compression=processing.data_compression,
            file_extension=processing.file_extension,
        )

    @property
    def processing(self) -> Processor:
        """The processor object: what runs between the stream and the lake, and what follows from it."""
        return processor_named(self.processor)

    def query_parameters(self) -> list[tuple[str, str]]:
        """The ``MetadataExtraction`` processor's parameters (jq mode): the query and AWS's only engine."""
        return [
            (partition_query.QUERY_PARAMETER, partition_query.QUERY),
            (partition_query.ENGINE_PARAMETER, partition_query.JSON_PARSING_ENGINE),
        ]

    def processor_lambda_arn(self, function_arn: str) -> str:
        """The ARN Firehose calls, and writes as ``lambdaARN`` into processing-failed records."""
        return f"{function_arn}:{self.lambda_qualifier}"

    def processor_parameters(self, function_arn: str) -> list[tuple[str, str]]:
        """Only values that differ from AWS's defaults: AWS does not store defaults, and sending
        them makes every ``pulumi up`` show a diff."""
        params = [("LambdaArn", self.processor_lambda_arn(function_arn))]
        if self.processor_buffer_mb != limits.PROCESSOR_BUFFER_DEFAULT_MB:
            params.append(("BufferSizeInMBs", _number(self.processor_buffer_mb)))
        if self.processor_buffer_interval_seconds != limits.PROCESSOR_INTERVAL_DEFAULT_S:
            params.append(("BufferIntervalInSeconds", str(self.processor_buffer_interval_seconds)))
        if self.processor_retries != limits.PROCESSOR_RETRIES_DEFAULT:
            params.append(("NumberOfRetries", str(self.processor_retries)))
        return params


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
