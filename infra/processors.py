"""The processor Firehose runs between the stream and the lake, one object per mode (issue 26 item 3).

As the CDK's ``IDataProcessor.bind()``, each mode owns what differs between modes: its Firehose processor and
its format conversion (if any), where and how its objects are written, the Glue table's shape, the
unique_events view's columns and the typed views' envelope, its saved queries, which Lambda it runs, which
duplicate marks it can make and whether it compacts, what its error records carry and what of its table
reprocess and the operators' policy read, how long a record waits in its buffer (the freshness alarm) and its
terms in the sizing plan (``infra/capacity/``).
Everything else asks the stack's processor (``Settings.processing``, ``processor_for``) instead of testing the
mode, so the mode is chosen here, once, and a third mode is one more class in this module. No Pulumi here:
the Pulumi program, the local runner and sizing all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from glue import marks, partition_query, schema
from glue.errors import ErrorCode, ErrorOutputType
from infra.capacity import active_partitions
from infra.capacity.calibration import (
    AS_SENT_BYTES_PER_RAW_BYTE,
    JQ_SECONDS_PER_RECORD,
    PARQUET_BYTES_PER_RAW_BYTE,
    PARQUET_OBJECT_OVERHEAD_BYTES,
    TRANSFORMED_BYTES_PER_RAW_BYTE,
)
from infra.capacity.plan_model import CostLine, PriceTable, cost_line, per_month
from infra.settings import PROCESSOR_JQ, PROCESSOR_LAMBDA, PROJECT_ROOT, SECONDS_PER_HOUR, Settings

if TYPE_CHECKING:
    from infra.delivery_spec import DeliverySpec

# The dedupe mode sizing recommends (None where the processor marks nothing whatever dedupe says), and why.
DedupeChoice = tuple[str | None, str]


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
class FormatConversion:
    """Firehose's record format conversion (``DataFormatConversionConfiguration``): OpenX JSON in, Parquet
    out, with the Glue table's schema (so Firehose's role reads the schema). The program and the embedded
    Firehose each render it."""

    database_name: str
    table_name: str
    case_insensitive: bool
    compression: str
    version_id: str = schema.SCHEMA_VERSION_ID


@dataclass(frozen=True)
class Processor:
    """One processor mode: what it answers is all that differs between modes (no flag says which it is)."""

    name: str  # the stack's ``processor`` value
    firehose_processor_type: str
    data_prefix: str
    data_compression: str  # S3-level: none with Parquet (it compresses inside the file)
    file_extension: str
    sql_dir: Path  # the saved queries and the view, as deployed and as run locally
    table: TableShape
    # The roots of the table's objects whose rows carry each record's lineage (shard, sequence and
    # subsequence numbers): reprocess reads them so a record whose row landed is not sent again; none when
    # the table holds the records as sent, with no lineage to compare.
    lineage_roots: tuple[str, ...]
    # Firehose's error types whose records carry the processor's output row (its lineage, and the dedupe
    # claim taken for it) rather than the record as sent: reprocess finds their originals in the raw backup
    # (else rebuilds them from the row) and releases their claims.
    row_error_types: frozenset[str]
    # unique_events' column holding each event's fields as JSON (what the typed views and catalog read).
    json_column: str
    # The duplicate marks the table carries (the typed views' envelope keeps them).
    mark_columns: tuple[str, ...]
    # What the data objects are, as the sizing plan's storage line names them.
    stored_format: str
    # What Firehose's S3 buffers hold per byte sent (sizing: when a partition's buffer fills).
    buffered_per_raw_byte: float
    # How ``alarmFreshnessSeconds``' message names the processor's own wait ("" when it has none).
    freshness_note: str

    @property
    def table_prefixes(self) -> tuple[str, ...]:
        """The partition folders under ``lineage_roots``: what the operators' policy lets reprocess read."""
        return tuple(f"{root}{schema.PARTITION_KEY_NAMES[0]}=" for root in self.lineage_roots)

    def processor_parameters(self, spec: DeliverySpec, function_arn: str | None) -> list[tuple[str, str]]:
        """The Firehose processor's parameters (``ProcessingConfiguration``)."""
        raise NotImplementedError

    def invocation_failed(self, error_code: str) -> bool:
        """Whether a record whose error record carries it as sent failed with its whole invocation, not on
        its own: such an invocation may have claimed ids, and another delivery of its batch may have landed
        (reprocess checks both before sending it again)."""
        raise NotImplementedError

    def conversion(self, spec: DeliverySpec) -> FormatConversion | None:
        """Firehose's format conversion of the processed records, or None: delivered as they are."""
        raise NotImplementedError

    def function_name(self, settings: Settings) -> str | None:
        """The transform Lambda this mode runs, or None."""
        raise NotImplementedError

    def view_columns(self, table_columns: tuple[schema.Column, ...]) -> tuple[schema.Column, ...]:
        """unique_events' columns before the partition keys, given the catalog's (lower-cased) columns."""
        raise NotImplementedError

    def marks(self, dedupe: marks.DedupeMode) -> marks.DedupeMode:
        """The dedupe mode the stack's ``dedupe`` amounts to here: what is deployed (a claims table) and
        marked (within a batch, at compaction)."""
        raise NotImplementedError

    def compacts(self, settings: Settings) -> bool:
        """Whether the compactor runs over this mode's table."""
        raise NotImplementedError

    def buffer_wait_seconds(self, settings: Settings) -> int:
        """How long a record can wait in the processor's own buffer before it reaches the S3 buffers."""
        raise NotImplementedError

    # --- sizing (infra/capacity/) ---------------------------------------------------------------------------

    def object_bytes(self, settings: Settings) -> tuple[float, float]:
        """One data object: its bytes per raw event byte and its fixed bytes (calibration's measurements)."""
        raise NotImplementedError

    def processor_buffer_mb(self) -> float:
        """The Firehose processor buffer that batches records per shard; 0 when records are not batched."""
        raise NotImplementedError

    def batch_seconds(self, raw_ps: float, shards: int, settings: Settings) -> float:
        """How often each shard's processor batch is delivered (0: records reach the S3 buffers as they
        arrive)."""
        raise NotImplementedError

    def invocations_per_second(self, raw_ps: float, eps: float, shards: int, settings: Settings) -> float:
        """The transform Lambda's invocations a second."""
        raise NotImplementedError

    def firehose_processing(self, eps: float, ingested_gb: float, per: str, prices: PriceTable) -> CostLine:
        """Firehose's charge for this mode's processing of a month: format conversion on the GBs ingested
        (``per`` names its 5 KB step), or JQ processing hours."""
        raise NotImplementedError

    def dedupe_choice(self, recommend: Callable[[], DedupeChoice]) -> DedupeChoice:
        """The dedupe mode sizing recommends (``recommend`` weighs the modes' plans), and why."""
        raise NotImplementedError


class LambdaTransform(Processor):
    """The transform Lambda writes one row per event; Firehose converts the rows to Parquet."""

    def processor_parameters(self, spec: DeliverySpec, function_arn: str | None) -> list[tuple[str, str]]:
        if function_arn is None:
            raise ValueError("the Lambda processor needs the transform's ARN")
        return spec.processor_parameters(function_arn)

    def invocation_failed(self, error_code: str) -> bool:
        # The transform rejected this record itself (it claims only what it stores); any other code is the
        # invocation's (it raised or timed out, possibly after its claims were written).
        return error_code != ErrorCode.PROCESSING_FAILED_STATUS

    def conversion(self, spec: DeliverySpec) -> FormatConversion | None:
        return FormatConversion(
            database_name=spec.database_name,
            table_name=spec.table_name,
            case_insensitive=spec.deserializer_case_insensitive,
            compression=spec.parquet_compression,
        )

    def function_name(self, settings: Settings) -> str | None:
        return settings.function_name

    def view_columns(self, table_columns: tuple[schema.Column, ...]) -> tuple[schema.Column, ...]:
        return table_columns

    def marks(self, dedupe: marks.DedupeMode) -> marks.DedupeMode:
        return dedupe

    def compacts(self, settings: Settings) -> bool:
        return settings.compaction_enabled

    def buffer_wait_seconds(self, settings: Settings) -> int:
        return settings.processor_buffer_interval_seconds

    def object_bytes(self, settings: Settings) -> tuple[float, float]:
        compression = settings.parquet_compression
        return PARQUET_BYTES_PER_RAW_BYTE[compression], PARQUET_OBJECT_OVERHEAD_BYTES[compression]

    def processor_buffer_mb(self) -> float:
        return active_partitions.processor_buffer_mb()

    def batch_seconds(self, raw_ps: float, shards: int, settings: Settings) -> float:
        return active_partitions.processor_batch_seconds(raw_ps, shards, settings)

    def invocations_per_second(self, raw_ps: float, eps: float, shards: int, settings: Settings) -> float:
        buffer_mb = self.processor_buffer_mb()
        return active_partitions.invocations_per_second(raw_ps, eps, shards, buffer_mb, settings)

    def firehose_processing(self, eps: float, ingested_gb: float, per: str, prices: PriceTable) -> CostLine:
        return cost_line(
            "Firehose",
            f"Parquet conversion ({per})",
            ingested_gb,
            "GB",
            "firehose_format_conversion_gb",
            prices,
        )

    def dedupe_choice(self, recommend: Callable[[], DedupeChoice]) -> DedupeChoice:
        return recommend()


class JqPartitioning(Processor):
    """Firehose's JQ ``MetadataExtraction`` partitions the records, delivered as sent (JSON Lines, GZIP)."""

    def processor_parameters(self, spec: DeliverySpec, function_arn: str | None) -> list[tuple[str, str]]:
        return spec.query_parameters()

    def invocation_failed(self, error_code: str) -> bool:
        return False  # Firehose's own query, per record: it claims nothing and lands no row of a failed batch

    def conversion(self, spec: DeliverySpec) -> FormatConversion | None:
        return None

    def function_name(self, settings: Settings) -> str | None:
        return None

    def view_columns(self, table_columns: tuple[schema.Column, ...]) -> tuple[schema.Column, ...]:
        return partition_query.VIEW_COLUMNS

    def marks(self, dedupe: marks.DedupeMode) -> marks.DedupeMode:
        return marks.OFF  # no Lambda: no claims, no batch marks, and no compactor to mark later

    def compacts(self, settings: Settings) -> bool:
        # Its table is the records as sent (text, JSON Lines), which an UNLOAD to Parquet would turn into
        # files its text SerDe cannot read, and it carries no marks to recompute.
        return False

    def buffer_wait_seconds(self, settings: Settings) -> int:
        return 0  # the query runs as records arrive

    def object_bytes(self, settings: Settings) -> tuple[float, float]:
        return AS_SENT_BYTES_PER_RAW_BYTE, 0  # the records as sent, GZIP

    def processor_buffer_mb(self) -> float:
        return 0.0

    def batch_seconds(self, raw_ps: float, shards: int, settings: Settings) -> float:
        # As a Lambda's batch closed by its interval: records reach the S3 buffers about as they arrive.
        return 0.0

    def invocations_per_second(self, raw_ps: float, eps: float, shards: int, settings: Settings) -> float:
        return 0.0

    def firehose_processing(self, eps: float, ingested_gb: float, per: str, prices: PriceTable) -> CostLine:
        jq_hours = per_month(eps) * JQ_SECONDS_PER_RECORD / SECONDS_PER_HOUR  # on each de-aggregated event
        return cost_line(
            "Firehose",
            "JQ processing (assumed 0.25 ms a record)",
            jq_hours,
            "hours",
            "firehose_jq_processing_hour",
            prices,
        )

    def dedupe_choice(self, recommend: Callable[[], DedupeChoice]) -> DedupeChoice:
        return None, "processor jq: no transform and no claims table, so the dedupe mode is not sized here"


LAMBDA = LambdaTransform(
    name=PROCESSOR_LAMBDA,
    firehose_processor_type="Lambda",
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
    # What Firehose wrote and the compactor's copies (which hold originals that may have expired).
    lineage_roots=(schema.DATA_ROOT, schema.COMPACTED_ROOT),
    row_error_types=frozenset(
        {
            ErrorOutputType.FORMAT_CONVERSION_FAILED,
            ErrorOutputType.PARTITIONING_FAILED,
            ErrorOutputType.ACTIVE_PARTITION_EXCEEDED,
        }
    ),
    json_column="payload",
    mark_columns=("is_duplicate", "uuid_reused"),
    stored_format="Parquet",
    buffered_per_raw_byte=TRANSFORMED_BYTES_PER_RAW_BYTE,
    freshness_note=", after the processor's processorBufferIntervalSeconds",
)
JQ = JqPartitioning(
    name=PROCESSOR_JQ,
    firehose_processor_type=partition_query.METADATA_EXTRACTION,
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
    lineage_roots=(),
    row_error_types=frozenset(),  # every error record's rawData is the record as sent
    # The same paths as the Lambda's payload: that is the record without its three envelope fields.
    json_column=partition_query.RECORD_COLUMN.name,
    mark_columns=(),
    stored_format="JSON Lines, GZIP",
    buffered_per_raw_byte=1.0,  # the record itself
    freshness_note="",
)
PROCESSORS: Mapping[str, Processor] = MappingProxyType({p.name: p for p in (LAMBDA, JQ)})


def processor_named(name: str) -> Processor:
    """The processor of a ``processor`` value (settings validate it: ``infra.settings.PROCESSORS``)."""
    return PROCESSORS[name]


def processor_for(settings: Settings) -> Processor:
    """The stack's processor; the default one while ``processor`` is misspelled (settings report that, with
    every other problem of the stack, so the other checks still run)."""
    return PROCESSORS.get(settings.processor, LAMBDA)


def reading(columns: set[str]) -> Processor:
    """The processor whose unique_events has these columns (the one holding its event JSON column), the
    Lambda's when none does."""
    return next((p for p in PROCESSORS.values() if p.json_column in columns), LAMBDA)
