"""The processor Firehose runs between the stream and the lake, one object per mode (issue 26 item 3).

As the CDK's ``IDataProcessor.bind()``, each mode owns what differs between modes: its Firehose processor and
whether records are converted to Parquet, where and how its objects are written, the Glue table's shape and
the unique_events view's columns, its saved queries, which Lambda it runs, and what the operators' policy
reads. Everything else asks the stack's processor (``processor_for``) instead of testing the mode, so the
mode is chosen here, once, and a third mode is one more class in this module. Plain data: the Pulumi program
and the local runner both read it (no Pulumi here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from glue import partition_query, schema
from infra.settings import PROCESSOR_JQ, PROCESSOR_LAMBDA, PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from infra.delivery_spec import DeliverySpec


@dataclass(frozen=True)
class TableShape:
    """What a mode's Glue table stores and how it is read (name, layout and partition keys are shared)."""

    description: str
    parameters: Mapping[str, str]
    columns: tuple[schema.Column, ...]
    input_format: str
    output_format: str
    serde_library: str


@dataclass(frozen=True)
class Processor:
    """One processor mode. ``records_as_sent``: the table holds the records as sent (one text column), not
    the transform's rows; the local engine and the checks read it so. ``converts_format``: Firehose converts
    records to Parquet with the Glue table's schema (so its role reads the schema)."""

    name: str  # the stack's ``processor`` value
    firehose_processor_type: str
    converts_format: bool
    records_as_sent: bool
    data_prefix: str
    data_compression: str  # S3-level: none with Parquet (it compresses inside the file)
    file_extension: str
    sql_dir: Path  # the saved queries and the view, as deployed and as run locally
    table: TableShape
    # The partition folders of the table the operators' policy reads, so a record whose row landed is not
    # sent again; none when the table has no lineage to compare.
    table_prefixes: tuple[str, ...]

    def processor_parameters(self, spec: DeliverySpec, function_arn: str | None) -> list[tuple[str, str]]:
        """The Firehose processor's parameters (``ProcessingConfiguration``)."""
        raise NotImplementedError

    def function_name(self, settings: Settings) -> str | None:
        """The transform Lambda this mode runs, or None."""
        raise NotImplementedError

    def view_columns(self, table_columns: tuple[schema.Column, ...]) -> tuple[schema.Column, ...]:
        """unique_events' columns before the partition keys, given the catalog's (lower-cased) columns."""
        raise NotImplementedError


class LambdaTransform(Processor):
    """The transform Lambda writes one row per event; Firehose converts the rows to Parquet."""

    def processor_parameters(self, spec: DeliverySpec, function_arn: str | None) -> list[tuple[str, str]]:
        if function_arn is None:
            raise ValueError("the Lambda processor needs the transform's ARN")
        return spec.processor_parameters(function_arn)

    def function_name(self, settings: Settings) -> str | None:
        return settings.function_name

    def view_columns(self, table_columns: tuple[schema.Column, ...]) -> tuple[schema.Column, ...]:
        return table_columns


class JqPartitioning(Processor):
    """Firehose's JQ ``MetadataExtraction`` partitions the records, delivered as sent (JSON Lines, GZIP)."""

    def processor_parameters(self, spec: DeliverySpec, function_arn: str | None) -> list[tuple[str, str]]:
        return spec.query_parameters()

    def function_name(self, settings: Settings) -> str | None:
        return None

    def view_columns(self, table_columns: tuple[schema.Column, ...]) -> tuple[schema.Column, ...]:
        return partition_query.VIEW_COLUMNS


LAMBDA = LambdaTransform(
    name=PROCESSOR_LAMBDA,
    firehose_processor_type="Lambda",
    converts_format=True,
    records_as_sent=False,
    data_prefix=schema.DATA_PREFIX,
    data_compression="UNCOMPRESSED",
    file_extension=".parquet",
    sql_dir=PROJECT_ROOT / "glue" / "sql",
    table=TableShape(
        description="Event lake (Firehose-written Parquet)",
        parameters=MappingProxyType(dict(schema.TABLE_PARAMETERS)),
        columns=schema.COLUMNS,
        input_format=schema.PARQUET_INPUT_FORMAT,
        output_format=schema.PARQUET_OUTPUT_FORMAT,
        serde_library=schema.PARQUET_SERDE,
    ),
    table_prefixes=tuple(
        f"{root}{schema.PARTITION_KEY_NAMES[0]}=" for root in (schema.DATA_ROOT, schema.COMPACTED_ROOT)
    ),
)
JQ = JqPartitioning(
    name=PROCESSOR_JQ,
    firehose_processor_type=partition_query.METADATA_EXTRACTION,
    converts_format=False,
    records_as_sent=True,
    data_prefix=partition_query.DATA_PREFIX,
    data_compression=partition_query.OUTPUT_COMPRESSION,
    file_extension=partition_query.OUTPUT_EXTENSION,
    sql_dir=PROJECT_ROOT / "glue" / "sql_jq",  # over the records as sent (one ``record`` column)
    table=TableShape(
        description="Event lake (records as sent, JSON Lines, partitioned by Firehose's JQ)",
        parameters=MappingProxyType(dict(partition_query.TABLE_PARAMETERS)),
        columns=partition_query.COLUMNS,
        input_format=partition_query.TEXT_INPUT_FORMAT,
        output_format=partition_query.TEXT_OUTPUT_FORMAT,
        serde_library=partition_query.TEXT_SERDE,
    ),
    table_prefixes=(),
)
PROCESSORS: Mapping[str, Processor] = MappingProxyType({p.name: p for p in (LAMBDA, JQ)})


def processor_named(name: str) -> Processor:
    """The processor of a ``processor`` value (settings validate it: ``infra.settings.PROCESSORS``)."""
    return PROCESSORS[name]


def processor_for(settings: Settings) -> Processor:
    """The stack's processor."""
    return processor_named(settings.processor)
