"""The lake's schema, partition layout and S3 prefixes: the one definition everything else reads.

The Pulumi program builds the Glue table and the Firehose prefixes from here, the Lambda builds its
output records and partition keys from here, the local runner writes Parquet with these columns, and
the tests check that all of them agree.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import NamedTuple

# The Glue database is per stack (Settings.glue_database), so dev and prod can share an account;
# queries name the table unqualified and run with the stack's database as their context.
TABLE_NAME = "events"

# The table's storage: Parquet, read and written through Hive's Parquet classes (what Athena and
# Firehose's format conversion expect); the Pulumi catalog and the local Glue both declare it so.
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
SERDE_PARAMETERS: dict[str, str] = {"serialization.format": "1"}
TABLE_TYPE = "EXTERNAL_TABLE"
TABLE_PARAMETERS: dict[str, str] = {"classification": "parquet", "EXTERNAL": "TRUE"}
# Firehose's schema configuration reads this table version: LATEST follows schema changes.
SCHEMA_VERSION_ID = "LATEST"

# Fields every producer must send; everything else is the type-specific payload.
INPUT_FIELDS = ("event_uuid", "event_name", "created_at")


class Column(NamedTuple):
    """One Glue column. ``type`` is the Glue/Hive type name, lower case as Glue stores it."""

    name: str
    type: str
    comment: str


# Data columns, in the order Glue declares them. The Lambda's output JSON has exactly these keys.
COLUMNS: tuple[Column, ...] = (
    Column("event_uuid", "string", "Producer-assigned id; duplicates share it"),
    Column("event_name", "string", "Full name, parts joined by ':' (e.g. payment:order:completed)"),
    Column("event_subtype", "string", "Second part of event_name, null when there is none"),
    Column("created_at", "bigint", "Event time, Unix seconds, as sent (fraction dropped)"),
    Column("created_datetime", "timestamp", "Event time in UTC (millisecond precision)"),
    Column(
        "is_duplicate",
        "boolean",
        "True: an earlier record carried this event_uuid with the same fingerprint (a repeat); "
        "null: not checked (the dedupe store was unavailable). Exact answer: the unique-events view",
    ),
    Column(
        "uuid_reused",
        "boolean",
        "True: an earlier, different event (other fingerprint) carried this event_uuid; null: not checked",
    ),
    Column("payload", "string", "JSON object of every field beyond event_uuid/event_name/created_at"),
    Column("source_shard_id", "string", "Kinesis shard the record came from"),
    Column("source_sequence_number", "string", "Kinesis sequence number, for replay and lineage"),
    Column(
        "source_subsequence_number",
        "bigint",
        "Place in its KPL aggregate (0, 1, ...; 0: put on its own): the user records of one aggregate share "
        "the sequence number",
    ),
    Column("source_arrival_datetime", "timestamp", "When Kinesis accepted the record (UTC)"),
)

# Partition columns: strings, as Glue declares them, emitted by the Lambda as partition keys.
PARTITION_KEYS: tuple[Column, ...] = (
    Column("event_type", "string", "First part of event_name"),
    Column("event_date", "string", "Event date, yyyy-MM-dd (UTC)"),
    Column("event_hour", "string", "Event hour, HH (UTC)"),
)

COLUMN_NAMES = tuple(c.name for c in COLUMNS)
PARTITION_KEY_NAMES = tuple(c.name for c in PARTITION_KEYS)
TIMESTAMP_COLUMNS = tuple(c.name for c in COLUMNS if c.type == "timestamp")

# S3 layout. Data is Hive-style (key=value) so Athena and MSCK REPAIR understand it as is.
DATA_ROOT = "events/"
ERROR_ROOT = "errors/"
BACKUP_ROOT = "raw/"
# Error objects `eventlake reprocess` handled (every record put back on the stream), each under its old key.
ERROR_ARCHIVE_ROOT = "errors-archive/"
# Beside each archived error object: what reprocess did with each of its lines (re-sent as which record, or
# already stored), so a check of the lake follows a recovered record to its new row.
REPROCESSED_SUFFIX = ".reprocessed.json"
# Compacted copies of closed partitions (lake_compactor): never under DATA_ROOT, so no original partition
# folder, Firehose prefix or registrar rule sees them; a partition reads one only once switched to it.
COMPACTED_ROOT = "compacted/"
# Where one UNLOAD of several small partitions lands before the compactor copies each partition's files
# into its own copy folder (lake_compactor.compaction_plan.BatchStatement); nothing reads it; it expires.
COMPACTION_STAGING_ROOT = "compaction-staging/"

DATA_PREFIX = DATA_ROOT + "".join(
    f"{name}=!{{partitionKeyFromLambda:{name}}}/" for name in PARTITION_KEY_NAMES
)
# Errors and raw backups go by *arrival* hour; an explicit timestamp keeps AWS from appending one.
_ARRIVAL_HOUR = "!{timestamp:yyyy/MM/dd/HH}/"
_BY_ERROR_TYPE = "!{firehose:error-output-type}/" + _ARRIVAL_HOUR
ERROR_PREFIX = ERROR_ROOT + _BY_ERROR_TYPE
BACKUP_PREFIX = BACKUP_ROOT + _ARRIVAL_HOUR
# Failed backup writes land under errors/ too, so the errors lifecycle rule expires them.
BACKUP_ERROR_PREFIX = ERROR_ROOT + "backup/" + _BY_ERROR_TYPE

# Event-time window accepted by the transform; outside it a value is almost surely a unit mistake.
MIN_CREATED_AT = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
MAX_CREATED_AT = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())

# A partition value must be a safe, short path segment.
PARTITION_VALUE_MAX_CHARS = 64
EVENT_TYPE_PATTERN = rf"[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{PARTITION_VALUE_MAX_CHARS - 1}}}"


def split_seconds(epoch_seconds: float) -> tuple[int, int]:
    """Whole seconds and milliseconds of an instant, both truncated toward the past, never rounded up: the
    row's ``created_at`` (``math.floor``), its ``created_datetime`` and its hour partition all come from
    here or agree with it, so the three always denote the same second.

    A JSON number means the double it parses to (orjson, jq's ``floor`` in the jq mode and Athena all read
    it so), written as its shortest decimal (``repr``: the number as sent whenever it has at most 15
    significant digits). ``1700002799.9999996`` is the double 1700002799.99999952..., second ...2799,
    22:59:59.999, hour 22. The millisecond is that decimal's, truncated: the last millisecond at or before
    the double, or the next one when the double is that millisecond's own (``...2799.123`` parses a hair
    below .123: it is .123, not .122); never the next second, which a double below it cannot be. Exact
    integer arithmetic (``as_integer_ratio``), then one correctly rounded division, as ``_hotpath.c`` does."""
    if type(epoch_seconds) is int:
        return epoch_seconds, 0
    numerator, denominator = epoch_seconds.as_integer_ratio()
    millis = numerator * 1000 // denominator  # floor(epoch_seconds * 1000), exactly
    if (millis + 1) / 1000 == epoch_seconds:  # the double is the next millisecond's decimal, as read
        millis += 1
    seconds, millis = divmod(millis, 1000)
    return seconds, millis


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with a ``Z``: the form Firehose's OpenX deserializer parses as a timestamp."""
    return iso_utc_at(*split_seconds(epoch_seconds))


def iso_utc_at(seconds: int, millis: int = 0) -> str:
    """``iso_utc`` of whole Unix seconds plus milliseconds (Kinesis arrival times are epoch milliseconds)."""
    text = _SECOND_TEXTS.get(seconds)
    if text is None:
        text = _second_text(seconds)
    return f"{text}.{millis:03d}Z" if millis else text + "Z"


def partition_values(event_type: str, epoch_seconds: float) -> dict[str, str]:
    """Partition keys for one event: its type and its *event* hour (not the arrival hour)."""
    seconds = epoch_seconds if type(epoch_seconds) is int else split_seconds(epoch_seconds)[0]
    days, hour = divmod(seconds // 3600, 24)  # the transform calls this per record
    date_text = _DATES.get(days) or _date_of(days)
    return {"event_type": event_type, "event_date": date_text, "event_hour": _TWO_DIGITS[hour]}


SECONDS_PER_DAY = 86_400
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Formatting dates is most of a timestamp's cost, and the events of an hour share 3,600 seconds: both are
# remembered, bounded (a Lambda container lives for hours at most).
_DATES: dict[int, str] = {}  # days since the epoch -> yyyy-MM-dd
_SECOND_TEXTS: dict[int, str] = {}  # Unix seconds -> yyyy-MM-ddTHH:mm:ss
_TEXTS_KEPT = 100_000
SECOND_TEXTS = _SECOND_TEXTS  # read by the transform's inline path; ``iso_utc_at`` fills it


def _date_of(days: int) -> str:
    text = _DATES.get(days)
    if text is None:
        if len(_DATES) >= _TEXTS_KEPT:
            _DATES.clear()
        text = _DATES[days] = date.fromordinal(_EPOCH_ORDINAL + days).isoformat()
    return text


def _second_text(seconds: int) -> str:
    days, rest = divmod(seconds, SECONDS_PER_DAY)
    hour, minute, second = _TWO_DIGITS[rest // 3600], _TWO_DIGITS[rest // 60 % 60], _TWO_DIGITS[rest % 60]
    if len(_SECOND_TEXTS) >= _TEXTS_KEPT:
        _SECOND_TEXTS.clear()
    text = _SECOND_TEXTS[seconds] = f"{_date_of(days)}T{hour}:{minute}:{second}"
    return text


# A data object's key: the partition's folder (DATA_PREFIX evaluated), then the object's name.
_PARTITION_FOLDER = re.compile(
    re.escape(DATA_ROOT) + "".join(f"{name}=(?P<{name}>[^/]+)/" for name in PARTITION_KEY_NAMES) + r"[^/]+"
)


def partition_of_key(key: str) -> dict[str, str] | None:
    """The partition values of a data object's key (``events/event_type=a/.../file``), else None."""
    match = _PARTITION_FOLDER.fullmatch(key)
    return match.groupdict() if match else None


def partition_folder(values: dict[str, str]) -> str:
    """``events/event_type=a/event_date=2026-11-25/event_hour=07/``: where a partition's objects live."""
    return DATA_ROOT + "".join(f"{name}={values[name]}/" for name in PARTITION_KEY_NAMES)
