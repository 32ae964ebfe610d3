"""Recovery of Firehose's error output: read the error objects, put their records back on the stream, archive.

What each error record holds decides what is sent again:

- ``processing-failed`` records carry the producer's original bytes (``rawData``). ``Lambda.FunctionError``
  (and every other ``Lambda.*`` code but one) means the invocation failed, not the record: it is sent again
  as is. ``Lambda.ProcessingFailedStatus`` means the transform rejected the record: sent unchanged it fails
  again, so it is kept (reported) unless a fix function turns it into new bytes. The Lambda claims only what
  it stores, so these records hold no dedupe claim (but see "FunctionError after the claims" below).
- ``format-conversion-failed``, ``partitioning-failed`` and ``activePartitionExceeded`` records carry the
  Lambda's *transformed* row, which names its source record (``source_shard_id``,
  ``source_sequence_number``, and ``source_subsequence_number``: the user records of one KPL aggregate share
  the first two). The original bytes are taken from the raw backup (``raw/``) when it holds
  them, else rebuilt from the row (``event_uuid``, ``event_name``, ``created_at`` and the fields of
  ``payload``). The backup is preferred because it gives the bytes exactly as the producer sent them: the
  row keeps ``created_at`` only to the millisecond and not in its original JSON form, and the dedupe
  fingerprint hashes that value, so a rebuilt record could read as "a different event reusing the id" next
  to a delivered copy of the same event. The backup has no lineage, so a record is found there by content
  (same id, name, instant and payload; an aggregate in the backup is read as its user records), in the
  backup folders of its arrival hour and the hour before (a backup object sits in the folder of its oldest
  record). These records passed the Lambda, which claimed
  their ``event_uuid`` for them (holder: shard, sequence number, subsequence number). Sent again they get a
  new sequence number and would be marked duplicates of themselves, so their claims are released first: a
  conditional ``DeleteItem`` that deletes the claim only while *this* record holds it, never one another
  record holds.

An error object is archived (copied to ``errors-archive/<its key>``, then deleted) only after Kinesis
accepted every record sent from it. Records kept (malformed without a fix, or skipped by the fix) stay under
``errors/``: when some records of an object were sent and others kept, the kept lines are first written to a
new object beside it (``<key>.rest-<digest of its content>``), then the original is archived. Nothing is
deleted that is not archived or still under ``errors/``, and a failed put, release or copy leaves the object
as it was.

Running it again does no harm: archived objects are gone from ``errors/``, and a remainder holds only
records that are kept again. If a run dies half-way (after a put, before the archive), the next run sends
those records once more: copies of one event, which the dedupe marks (the claim is released only while the
failed record holds it) and the unique-events view (one row per event, its earliest arrival) absorb.

Aggregated input (KPL aggregates, which Firehose de-aggregates): every record here is a user record, named
by (shard, sequence number, subsequence number) wherever a lineage is compared (a row, a claim's holder, the
stream read back, de-aggregated as Firehose reads it). Each record is sent again on its own, not
re-aggregated: it is a handful of records, and the transform reads a lone record and a user record alike.

Records already in the table are not sent again. Before a record goes back on the stream, the table's rows
of its event's partition are read (``TableRows``: every Parquet object under the partition's original folder
and its compacted copies, a few columns, once per partition). A record that failed after the Lambda is in
the table when a row carries its lineage (Firehose redelivered its batch, and one delivery landed); a
``processing-failed`` record, which carries no lineage, when a row of the same event arrived in Kinesis at its
``arrivalTimestamp`` (to the millisecond). Such a record is archived, not sent: sent again it would be a
second row of one Kinesis record.

Claims of records that failed in the Lambda: an invocation that failed (``Lambda.FunctionError``: it raised
or timed out) after its claims were written leaves claims held by records that are nowhere in the table.
Their error records carry no lineage, so the holder cannot be compared; instead the claim of the record's id
is read, and released (conditionally, on that holder) when no row of the table carries the holder's lineage
and this run did not send the holder itself: nobody stored under that claim, so it marks nothing. A claim
whose holder has a row is left alone, and the re-sent record is marked a repeat of it, as it is.

What was re-sent is recorded: beside each archived object, ``<archive key>.reprocessed.json`` names each
line's outcome (sent again as which Kinesis record, with which bytes; or already in the table), so
``eventlake check`` follows a recovered record to its new row (``eventlake.checks``).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import io
import json
import math
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from aws_contract import kpl_aggregation, limits
from eventlake.checks.lake_contents import error_output_type, split_records
from eventlake.firehose_formats import backup, error_records, prefixes
from eventlake.firehose_formats.error_records import ErrorRecord
from eventlake.firehose_formats.source_records import deaggregated
from eventlake.traffic.producer import ProducerError, Sent, send
from eventlake.traffic.sample_events import Expect, Outgoing
from glue import schema
from glue.claim_items import HOLDER_ATTRIBUTE, KEY_ATTRIBUTE
from glue.errors import ErrorCode, ErrorOutputType
from infra.delivery_spec import DeliverySpec
from infra.processors import Processor

# A fix function: the record's original bytes and its error record in, the bytes to send out (None: keep it).
Fix = Callable[[bytes, ErrorRecord], bytes | None]

# Where the original bytes of records that failed after the Lambda come from (the error types whose records
# carry the processor's row: ``Processor.row_error_types``).
ORIGINALS = ("backup", "rebuild")
NEEDS_FIX = "rejected by the transform: sent unchanged it fails again (pass --fix)"
ALREADY_STORED = "already in the table (its row landed): archived, not sent"
# Beside an archived error object: what happened to each of its lines (``reprocessed_key``).
REPROCESSED_SUFFIX = schema.REPROCESSED_SUFFIX
REPROCESSED_VERSION = 1
RESENT, STORED = "resent", "stored"
# processor jq: the query could not compute the record's partition keys; unchanged it fails again.
NEEDS_FIX_QUERY = "no partition keys from the JQ query: sent unchanged it fails again (pass --fix)"
_REST = re.compile(r"\.rest-[0-9a-f]{16}$")
_HOUR_FOLDER = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/")

# Outcomes of one error object.
ARCHIVED = "archived"
SPLIT = "archived, kept records moved"  # the object's kept records now sit in a new object beside it
KEPT = "kept"
FAILED = "failed"
WOULD_ARCHIVE = "would archive"
WOULD_SPLIT = "would archive, keeping some"


@dataclass(frozen=True)
class HeldClaim:
    """The claim a record that failed after the Lambda holds: its id, and itself as holder."""

    key: str
    holder: str


@dataclass(frozen=True)
class Resend:
    """One record to put back on the stream, and where its bytes came from."""

    data: bytes
    partition_key: str
    origin: str  # "rawData", "raw backup", "rebuilt", plus " + fix" when the fix changed it
    claim: HeldClaim | None = None
    line: int = 0  # the line of its error object
    # A record that failed in the Lambda: the id whose claim is released when its holder stored nothing.
    unheld: tuple[str, dict[str, str]] | None = None  # (lower-cased id, partition values)
    arrival_ms: int | None = None  # when Kinesis accepted the failed record
    row: dict[str, Any] | None = None  # a record that failed after the Lambda: its transformed row


@dataclass(frozen=True)
class Kept:
    """A record left under errors/, and why."""

    line: bytes
    reason: str


@dataclass
class ObjectOutcome:
    """What happened to one error object."""

    key: str
    output_type: str
    records: int = 0
    resent: int = 0
    kept: int = 0
    claims_released: int = 0
    claims_not_held: int = 0  # the failed record held no claim (another record does, or none)
    already_stored: int = 0  # records whose row is in the table: archived, not sent
    action: str = KEPT
    notes: list[str] = field(default_factory=list)
    origins: Counter[str] = field(default_factory=Counter)
    kept_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def detail(self) -> str:
        return "; ".join(self.notes)

    @property
    def failed(self) -> bool:
        return self.action == FAILED


@dataclass(frozen=True)
class ReprocessTarget:
    """Where the error objects are and where their records go back: clients and names."""

    s3: Any
    kinesis: Any
    dynamodb: Any | None
    bucket: str
    stream_name: str
    claims_table: str | None  # None: the stack keeps no claims table (dedupe compaction or off)
    spec: DeliverySpec
    # The table's rows, read by partition from the bucket (None: records are sent without looking).
    table: TableRows | None = None
    # The stream's records of one millisecond, read back to tell byte-identical records apart (None: never).
    stream: StreamRecords | None = None


@dataclass(frozen=True)
class ReprocessOptions:
    types: tuple[str, ...] = tuple(t.value for t in ErrorOutputType)
    first_hour: datetime | None = None  # arrival hours (the error folders' yyyy/MM/dd/HH), both included
    last_hour: datetime | None = None
    fix: Fix | None = None
    originals: str = "backup"
    dry_run: bool = False


# --- the arguments -----------------------------------------------------------------------------------------

_HOUR = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::00(?::00)?)?)?(?:Z|[+-]00:?00)?")
HOUR_FORMAT = "%Y-%m-%dT%H"
HOUR_EXAMPLE = "2026-11-25T07 (an hour) or 2026-11-25 (the whole day)"


def parse_hours(text: str) -> tuple[datetime, datetime]:
    """The arrival hours ``text`` names, UTC, as (first, last), both included: an hour (``2026-11-25T07``;
    ``:00``, ``:00:00`` and a zero UTC offset allowed) is itself; a date (``2026-11-25``) is its whole day,
    00 to 23. The one parser of ``--from``/``--to`` (reprocess, replay): ``--from`` takes the first hour,
    ``--to`` the last, so ``--from D --to D`` is all of day D."""
    match = _HOUR.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"must be a UTC hour or date like {HOUR_EXAMPLE}, got {text!r}")
    year, month, day, hour = match.groups()
    try:
        first = datetime(int(year), int(month), int(day), int(hour or 0), tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"must be a UTC hour or date like {HOUR_EXAMPLE}, got {text!r} ({exc})") from None
    return first, first if hour is not None else first + timedelta(hours=23)


def hours_text(first: datetime | None, last: datetime | None) -> str:
    """The hours a run selected, as its title and JSON say them (``every hour`` when open at both ends)."""
    if first is None and last is None:
        return "every hour"
    low = f"{first:{HOUR_FORMAT}}" if first else "the first hour"
    high = f"{last:{HOUR_FORMAT}}" if last else "the last hour"
    return f"{low}..{high} UTC"


def load_fix(text: str) -> Fix:
    """``module:function`` (imported, the working directory first on the path), or
    ``path/to/file.py:function``."""
    module_name, sep, function_name = text.rpartition(":")
    if not sep or not module_name or not function_name:
        raise ValueError(f"must be module:function or file.py:function, got {text!r}")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            spec = importlib.util.spec_from_file_location(f"eventlake_fix_{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                raise ImportError(f"no such file {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))  # as `python -m` would
            module = importlib.import_module(module_name)
    except Exception as exc:  # whatever importing the user's module raises
        raise ValueError(f"cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ValueError(f"{module_name} has no function {function_name!r}")
    return function  # type: ignore[no-any-return]


# --- finding the error objects -----------------------------------------------------------------------------


def type_root(output_type: str) -> str:
    """``errors/<type>/``: where one error type's hour folders are (``schema.ERROR_PREFIX``)."""
    return f"{schema.ERROR_ROOT}{output_type}/"


def hour_folder(spec: DeliverySpec, output_type: str, hour: datetime) -> str:
    """The error folder of ``output_type`` for the arrival hour ``hour``, as Firehose evaluates it."""
    return prefixes.evaluate(
        spec.error_output_prefix, arrival=hour, error_output_type=output_type, time_zone=spec.custom_time_zone
    )


def error_object_keys(
    s3: Any, bucket: str, spec: DeliverySpec, options: ReprocessOptions
) -> list[tuple[str, str]]:
    """(key, type) of every error object in the hours, listed once before anything is sent (records that fail
    again during the run land in new objects, for the next run). Keys sort by hour within a type, so the
    listing starts after the first hour's folder and stops past the last's."""
    found: list[tuple[str, str]] = []
    paginator = s3.get_paginator("list_objects_v2")
    for output_type in options.types:
        root = type_root(output_type)
        low = hour_folder(spec, output_type, options.first_hour) if options.first_hour else None
        high = hour_folder(spec, output_type, options.last_hour) if options.last_hour else None
        arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": root}
        if low:
            arguments["StartAfter"] = low.rstrip("/")
        for page in paginator.paginate(**arguments):
            for item in page.get("Contents", []):
                key = item["Key"]
                if low and key[: len(low)] < low:
                    continue
                if high and key[: len(high)] > high:
                    break
                found.append((key, output_type))
            else:
                continue
            break
    return found


def _arrival_hour(key: str, output_type: str) -> str:
    """The ``yyyy/MM/dd/HH/`` folder of an error object's key ("" when the key is off that layout)."""
    match = _HOUR_FOLDER.match(key, len(type_root(output_type)))
    return match.group(0) if match else ""


# --- the original bytes ------------------------------------------------------------------------------------


def transformed_row(raw: bytes) -> dict[str, Any]:
    """The Lambda's row in an error record of a stage after the Lambda."""
    try:
        row = json.loads(raw)
    except ValueError:
        raise ValueError("its rawData is not the Lambda's JSON row") from None
    if not isinstance(row, dict) or not all(
        isinstance(row.get(f), str) for f in ("event_uuid", "event_name")
    ):
        raise ValueError("its rawData is not the Lambda's row (no event_uuid/event_name)")
    if not isinstance(row.get("payload"), str) or not isinstance(_json(row["payload"]), dict):
        raise ValueError("its row has no JSON object in payload")
    if not isinstance(row.get("created_at"), int) or isinstance(row.get("created_at"), bool):
        raise ValueError("its row has no whole-second created_at")
    return row


def rebuild(row: dict[str, Any]) -> bytes:
    """The original event from the Lambda's row: ``event_uuid``, ``event_name``, ``created_at`` (to the
    millisecond, from ``created_datetime`` when it agrees with ``created_at``) and the payload's fields, as
    one newline-terminated JSON line (the producer contract)."""
    created: int | float = row["created_at"]
    moment = _instant(row.get("created_datetime"))
    if moment is not None:
        millis = round(moment.timestamp() * 1000)
        if millis // 1000 == created and millis % 1000:
            created = millis / 1000
    event = {
        "event_uuid": row["event_uuid"],
        "event_name": row["event_name"],
        "created_at": created,
        **json.loads(row["payload"]),
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def same_event(original: bytes, row: dict[str, Any]) -> bool:
    """Whether ``original`` is the record the Lambda turned into ``row``: same id, name, instant (to the
    millisecond) and payload (type-strict)."""
    event = _json(original)
    if not isinstance(event, dict):
        return False
    created = event.get("created_at")
    if isinstance(created, bool) or not isinstance(created, int | float) or not math.isfinite(created):
        return False
    if event.get("event_uuid") != row["event_uuid"] or event.get("event_name") != row["event_name"]:
        return False
    if math.floor(created) != row["created_at"]:
        return False
    sent, stored = _instant(schema.iso_utc(created)), _instant(row.get("created_datetime"))
    if stored is not None and sent != stored:
        return False
    payload = {k: v for k, v in event.items() if k not in schema.INPUT_FIELDS}
    return _canonical(payload) == _canonical(_json(row["payload"]))


class RawOriginals:
    """The raw backup's records, looked up by content; each backup folder is read at most once per call of
    :meth:`load`, and only records naming a wanted id are kept."""

    def __init__(self, s3: Any, bucket: str, spec: DeliverySpec) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._spec = spec
        self._found: dict[str, list[bytes]] = {}

    def folders(self, arrival_ms: int) -> list[str]:
        """Backup folders that may hold a record that arrived at ``arrival_ms``: its hour's, and the one
        before when a buffer opened then could still be taking records."""
        arrival = datetime.fromtimestamp(arrival_ms / 1000, tz=UTC)
        opened = arrival - timedelta(seconds=self._spec.buffering_interval_seconds)
        return sorted({self._folder(opened), self._folder(arrival)})

    def _folder(self, moment: datetime) -> str:
        return prefixes.evaluate(
            self._spec.backup_prefix,
            arrival=moment,
            dynamic_partitioning=False,
            time_zone=self._spec.custom_time_zone,
        )

    def load(self, wanted: dict[str, set[str]]) -> None:
        """Read the backup folders in ``wanted`` (folder -> event ids), keeping the records naming those
        ids."""
        self._found = {}
        paginator = self._s3.get_paginator("list_objects_v2")
        for folder, ids in sorted(wanted.items()):
            needles = {i.encode("utf-8") for i in ids}
            for page in paginator.paginate(Bucket=self._bucket, Prefix=folder):
                for item in page.get("Contents", []):
                    body = self._s3.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
                    for record in _user_records(split_records(backup.decode(body, item["Key"]))):
                        for needle in needles:
                            if needle in record:
                                self._found.setdefault(needle.decode(), []).append(record)

    def original(self, row: dict[str, Any]) -> bytes | None:
        """The backed-up record the Lambda turned into ``row``, if the backup holds it."""
        return next((r for r in self._found.get(row["event_uuid"], []) if same_event(r, row)), None)


@dataclass(frozen=True)
class StoredRow:
    """What recovery needs of one row of the table: its Kinesis record and its event."""

    lineage: tuple[str, str, int]  # (source_shard_id, source_sequence_number, source_subsequence_number)
    arrival_ms: int | None
    row: dict[str, Any]  # event_uuid, event_name, created_at, created_datetime (ISO text), payload


class TableRows:
    """The rows the table holds for a partition: every Parquet object under the partition's folder of each of
    the processor's ``lineage_roots`` (what Firehose wrote, and the compactor's copies, which hold originals
    that may have expired), read once per partition, only the columns recovery compares. A row in any of them
    was delivered; the union is read because which copy the catalog reads does not matter to that question.
    Without roots (a table of records as sent) it holds no rows."""

    COLUMNS = (
        "event_uuid",
        "event_name",
        "created_at",
        "created_datetime",
        "payload",
        "source_shard_id",
        "source_sequence_number",
        "source_subsequence_number",
        "source_arrival_datetime",
    )

    def __init__(self, s3: Any, bucket: str, roots: Sequence[str]) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._roots = tuple(roots)
        self._by_partition: dict[tuple[str, ...], dict[str, list[StoredRow]]] = {}

    def of(self, values: dict[str, str], event_id: str) -> list[StoredRow]:
        """The rows of ``event_id`` (lower-cased) in the partition ``values``."""
        key = tuple(values[k] for k in schema.PARTITION_KEY_NAMES)
        if key not in self._by_partition:
            self._by_partition[key] = self._read(values)
        return self._by_partition[key].get(event_id.lower(), [])

    def _read(self, values: dict[str, str]) -> dict[str, list[StoredRow]]:
        folder = "".join(f"{k}={values[k]}/" for k in schema.PARTITION_KEY_NAMES)
        found: dict[str, list[StoredRow]] = defaultdict(list)
        seen: set[tuple[Any, ...]] = set()
        paginator = self._s3.get_paginator("list_objects_v2")
        for root in self._roots:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=root + folder):
                for item in page.get("Contents", []):
                    if not item["Key"].endswith(".parquet"):
                        continue
                    body = self._s3.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
                    parquet = pq.ParquetFile(io.BytesIO(body))
                    present = set(parquet.schema_arrow.names)  # an object from before a column has none
                    table = parquet.read(columns=[c for c in self.COLUMNS if c in present])
                    for values_of_row in table.to_pylist():
                        stored = _stored_row(values_of_row)
                        identity = (stored.lineage, stored.arrival_ms, stored.row["payload"])
                        if identity not in seen:  # a copy repeats its originals' rows
                            seen.add(identity)
                            found[str(stored.row["event_uuid"]).lower()].append(stored)
        return found


def _stored_row(values: dict[str, Any]) -> StoredRow:
    arrival = values.get("source_arrival_datetime")
    created = values.get("created_datetime")
    return StoredRow(
        lineage=(
            str(values.get("source_shard_id")),
            str(values.get("source_sequence_number")),
            values.get("source_subsequence_number") or 0,
        ),
        arrival_ms=None if arrival is None else _epoch_ms(arrival),
        row={
            "event_uuid": values.get("event_uuid"),
            "event_name": values.get("event_name"),
            "created_at": values.get("created_at"),
            "created_datetime": None if created is None else schema.iso_utc(_epoch_ms(created) / 1000),
            "payload": values.get("payload"),
        },
    )


def _epoch_ms(moment: datetime) -> int:
    """A Parquet timestamp (zoneless: UTC) as epoch milliseconds."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return round(aware.timestamp() * 1000)


class StreamRecords:
    """The records Kinesis accepted at one millisecond, read back from the stream while it retains them: the
    one way to tell byte-identical records apart when one failed in the Lambda (its error record carries its
    bytes and arrival, no sequence number). Per shard, a shard iterator ``AT_TIMESTAMP`` then ``GetRecords``
    until a record arrived later (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html).
    A KPL aggregate is read as Firehose reads it: its user records, each with its subsequence number."""

    PAGE = 1000

    def __init__(self, kinesis: Any, stream_name: str) -> None:
        self._kinesis = kinesis
        self._stream = stream_name
        self._shards: list[str] | None = None
        self._found: dict[int, list[tuple[tuple[str, str, int], bytes]] | None] = {}

    def at(self, arrival_ms: int) -> list[tuple[tuple[str, str, int], bytes]] | None:
        """((shard, sequence number, subsequence number), data) of every record (user record) that arrived at
        ``arrival_ms``; None when the stream cannot say (past its retention, or unreadable)."""
        if arrival_ms not in self._found:
            try:
                self._found[arrival_ms] = self._read(arrival_ms)
            except Exception:  # denied, throttled past retries, trimmed: the caller must not guess
                self._found[arrival_ms] = None
        return self._found[arrival_ms]

    def _read(self, arrival_ms: int) -> list[tuple[tuple[str, str, int], bytes]] | None:
        moment = datetime.fromtimestamp(arrival_ms / 1000, tz=UTC)
        if self._shards is None:
            self._shards = []
            for page in self._kinesis.get_paginator("list_shards").paginate(StreamName=self._stream):
                self._shards += [shard["ShardId"] for shard in page["Shards"]]
        found: list[tuple[tuple[str, str, int], bytes]] = []
        for shard in self._shards:
            iterator = self._kinesis.get_shard_iterator(
                StreamName=self._stream, ShardId=shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=moment
            )["ShardIterator"]
            while iterator:
                response = self._kinesis.get_records(ShardIterator=iterator, Limit=self.PAGE)
                later = False
                for record in response["Records"]:
                    ms = _epoch_ms(record["ApproximateArrivalTimestamp"])
                    if ms > arrival_ms:
                        later = True
                        break
                    if ms == arrival_ms:
                        found += [(user.lineage, user.data) for user in deaggregated(shard, record)]
                if later or not response["Records"]:
                    break
                iterator = response.get("NextShardIterator")
        return found


def event_partition(event: Any) -> tuple[str, dict[str, str]] | None:
    """(lower-cased id, partition values) of a sent event whose three common fields look valid, else None
    (the transform will judge it)."""
    if not isinstance(event, dict):
        return None
    event_uuid, name, created = event.get("event_uuid"), event.get("event_name"), event.get("created_at")
    if not (isinstance(event_uuid, str) and event_uuid and isinstance(name, str) and name):
        return None
    if isinstance(created, bool) or not isinstance(created, int | float) or not math.isfinite(created):
        return None
    if not schema.MIN_CREATED_AT <= created < schema.MAX_CREATED_AT:
        return None
    return event_uuid.lower(), schema.partition_values(name.split(":")[0], created)


# --- one error object --------------------------------------------------------------------------------------


@dataclass
class _Planned:
    key: str
    output_type: str
    lines: list[bytes]
    records: list[ErrorRecord | None]  # None: the line is not an error record
    resend: list[Resend] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    stored: list[int] = field(default_factory=list)  # lines whose record is already in the table


def partition_key(data: bytes) -> str:
    """The event's own ``event_uuid`` (copies of an event share a shard, as the producer sends them), else a
    digest of the bytes."""
    event = _json(data)
    value = event.get("event_uuid") if isinstance(event, dict) else None
    if isinstance(value, str) and 0 < len(value) <= limits.PARTITION_KEY_MAX_CHARS:
        return value
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _plan_record(
    output_type: str,
    record: ErrorRecord,
    options: ReprocessOptions,
    originals: RawOriginals | None,
    processor: Processor,
    *,
    table: TableRows | None = None,
    line: int = 0,
) -> tuple[Resend | None, str]:
    """What to send for one error record (None: keep it, for the reason given; ``ALREADY_STORED``: its row
    is in the table, archive it unsent). The processor says which error records carry its row; every other
    record's ``rawData`` is the original."""
    claim: HeldClaim | None = None
    unheld: tuple[str, dict[str, str]] | None = None
    if output_type in processor.row_error_types:
        try:
            row = transformed_row(record.raw)
        except ValueError as exc:
            return None, f"cannot recover the original: {exc}"
        shard, sequence = row.get("source_shard_id"), row.get("source_sequence_number")
        subsequence = _subsequence(row, record)
        if shard and sequence and table is not None:
            values = schema.partition_values(row["event_name"].split(":")[0], row["created_at"])
            if any(r.lineage == (shard, sequence, subsequence) for r in table.of(values, row["event_uuid"])):
                return None, ALREADY_STORED
        if shard and sequence:
            claim = HeldClaim(row["event_uuid"].lower(), f"{shard}:{sequence}:{subsequence}")
        found = originals.original(row) if originals else None
        data, origin = (found, "raw backup") if found is not None else (rebuild(row), "rebuilt")
    else:
        data, origin = record.raw, "rawData"
        if record.error_code == ErrorCode.PROCESSING_FAILED_STATUS and options.fix is None:
            return None, NEEDS_FIX
        if record.error_code == ErrorCode.METADATA_EXTRACTION_FAILED and options.fix is None:
            return None, NEEDS_FIX_QUERY
        if processor.invocation_failed(record.error_code):
            # Failed in the Lambda (the invocation, not the record): claims it took may be left behind, and
            # its row may have landed from another delivery of its batch (``_send_once`` decides).
            unheld = event_partition(_json(record.raw))
    if options.fix is not None:
        try:
            fixed = options.fix(data, record)
        except Exception as exc:  # the user's code: its failure keeps that record, never stops the run
            return None, f"the fix raised {type(exc).__name__}"
        if fixed is None:
            return None, "the fix skipped it"
        if not isinstance(fixed, bytes):
            return None, f"the fix returned {type(fixed).__name__}, not bytes"
        if fixed != data:
            data, origin = fixed, f"{origin} + fix"
    key = partition_key(data)
    if len(data) + len(key.encode("utf-8")) > limits.KINESIS_RECORD_MAX_BYTES:
        return None, "over Kinesis's record size limit"
    row_of = transformed_row(record.raw) if claim is not None else None
    return Resend(data, key, origin, claim, line, unheld, record.arrival_ms, row_of), ""


def _plan(
    target: ReprocessTarget,
    objects: list[tuple[str, str]],
    options: ReprocessOptions,
    outcomes: dict[str, ObjectOutcome],
    after_lambda: dict[tuple[str, int], list[tuple[str, str, int]]] | None = None,
) -> list[_Planned]:
    """Read one hour's error objects and decide, record by record, what to send and what to keep."""
    planned: list[_Planned] = []
    for key, output_type in objects:
        outcome = outcomes[key]
        try:
            error_output_type(key)
        except ValueError:
            outcome.notes.append("off the error layout: left alone")
            continue
        try:
            body = target.s3.get_object(Bucket=target.bucket, Key=key)["Body"].read()
        except Exception as exc:  # gone since the listing, or unreadable: leave it, say so
            outcome.action = FAILED
            outcome.notes.append(f"cannot read: {_error_text(exc)}")
            continue
        lines = [line for line in body.split(b"\n") if line.strip()]
        records: list[ErrorRecord | None] = []
        for line in lines:
            try:
                records.append(error_records.read_error_line(line))
            except ValueError:
                records.append(None)
        planned.append(_Planned(key, output_type, lines, records))
        outcome.records = len(lines)

    processor = target.spec.processing
    originals: RawOriginals | None = None
    # Only the error records carrying the processor's row need their originals (the others' rawData is one).
    if options.originals == "backup" and target.spec.source_backup:
        originals = RawOriginals(target.s3, target.bucket, target.spec)
        wanted: dict[str, set[str]] = defaultdict(set)
        for item in planned:
            if item.output_type not in processor.row_error_types:
                continue
            for record in item.records:
                if record is None or record.arrival_ms is None:
                    continue
                try:
                    row = transformed_row(record.raw)
                except ValueError:
                    continue
                for folder in originals.folders(record.arrival_ms):
                    wanted[folder].add(row["event_uuid"])
        if wanted:
            try:
                originals.load(wanted)
            except Exception as exc:  # no access to raw/, a corrupt object: rebuild instead, and say so
                originals = None
                for item in planned:
                    if item.output_type in processor.row_error_types:
                        outcomes[item.key].notes.append(
                            f"raw backup unreadable ({_error_text(exc)}): rebuilt"
                        )

    for item in planned:
        for index, (line, record) in enumerate(zip(item.lines, item.records, strict=True)):
            if record is None:
                item.kept.append(Kept(line, "not an error record"))
                continue
            try:
                resend, reason = _plan_record(
                    item.output_type,
                    record,
                    options,
                    originals,
                    processor,
                    table=target.table,
                    line=index,
                )
            except Exception as exc:  # the table unreadable: send nothing from this object, say why
                outcomes[item.key].action = FAILED
                outcomes[item.key].notes.append(f"reading the table: {_error_text(exc)}; left in place")
                item.resend, item.stored, item.kept = [], [], [Kept(raw, "") for raw in item.lines]
                break
            if resend is not None:
                item.resend.append(resend)
            elif reason == ALREADY_STORED:
                item.stored.append(index)
            else:
                item.kept.append(Kept(line, reason))
    _send_once(target, planned, {} if after_lambda is None else after_lambda, outcomes)
    return planned


def _send_once(
    target: ReprocessTarget,
    planned: list[_Planned],
    after_lambda: dict[tuple[str, int], list[tuple[str, str, int]]],
    outcomes: dict[str, ObjectOutcome],
) -> None:
    """Records that failed in the Lambda (``processing-failed``, no lineage), sent again once each.

    Their lines are grouped by bytes and arrival millisecond. A group is plain when no row of the table, no
    record this run sends from a later stage (``after_lambda``: id and arrival -> lineages) and no other
    line has that event at that millisecond: each line is its own record. Otherwise byte-identical records
    share the millisecond (a batch Firehose redelivered, which failed again or landed too; a producer's
    copies in one call), and the stream is read back (``StreamRecords``): exactly the records of those bytes
    that are neither in the table nor sent from a later stage are sent again, one per line; the other lines
    are already handled. When the stream cannot say (past its retention), every line is sent: a copy too
    many, which the marks and the unique-events view absorb, rather than a record lost."""
    for item in planned:
        for r in item.resend:
            if r.row is not None and r.row.get("source_arrival_datetime"):
                moment = _instant(r.row["source_arrival_datetime"])
                if moment is not None:
                    key = (str(r.row["event_uuid"]).lower(), _epoch_ms(moment))
                    lineage = (
                        str(r.row["source_shard_id"]),
                        str(r.row["source_sequence_number"]),
                        _subsequence(r.row, None),
                    )
                    after_lambda.setdefault(key, []).append(lineage)
    groups: dict[tuple[bytes, int], list[tuple[_Planned, Resend]]] = defaultdict(list)
    for item in planned:
        for r in item.resend:
            if r.unheld is not None and r.arrival_ms is not None and r.origin == "rawData":
                groups[(r.data, r.arrival_ms)].append((item, r))
    for (data, arrival_ms), lines in groups.items():
        event_id, values = lines[0][1].unheld  # type: ignore[misc]
        stored = {
            row.lineage
            for row in (target.table.of(values, event_id) if target.table else [])
            if row.arrival_ms == arrival_ms and same_event(data, row.row)
        }
        handled = set(after_lambda.get((event_id, arrival_ms), []))
        if not stored and not handled and len(lines) == 1:
            continue
        records = target.stream.at(arrival_ms) if target.stream is not None else None
        if records is None:
            for item, _ in lines:
                outcomes[item.key].notes.append(
                    "byte-identical records at one millisecond, the stream no longer holds them: all sent"
                )
            continue
        unsent = [lineage for lineage, body in records if body == data and lineage not in stored | handled]
        for item, r in lines[len(unsent) :]:  # more lines than records still missing: those are handled
            item.resend.remove(r)
            item.stored.append(r.line)


def rest_key(key: str, kept: Sequence[Kept]) -> str:
    """Where the kept lines of a partly sent object go: beside it, named by their content (a run that dies
    and runs again writes the same object)."""
    body = b"".join(k.line + b"\n" for k in kept)
    return f"{_REST.sub('', key)}.rest-{hashlib.blake2b(body, digest_size=8).hexdigest()}"


def archive_key(key: str) -> str:
    return schema.ERROR_ARCHIVE_ROOT + key


def reprocessed_key(key: str) -> str:
    """Beside an error object's archived copy: what reprocess did with each of its lines."""
    return archive_key(key) + REPROCESSED_SUFFIX


def reprocessed_manifest(key: str, resent: Sequence[tuple[Resend, Sent]], stored: Sequence[int]) -> bytes:
    """Each handled line of ``key``: sent again (as which Kinesis record, with which bytes) or already in
    the table. Kept lines are not named: they stay under errors/."""
    lines: list[dict[str, Any]] = [
        {
            "line": r.line,
            "outcome": RESENT,
            "shard_id": s.shard_id,
            "sequence_number": s.sequence_number,
            "subsequence_number": s.subsequence_number,
            "data": base64.b64encode(s.data).decode("ascii"),
        }
        for r, s in resent
    ]
    lines += [{"line": index, "outcome": STORED} for index in stored]
    body = {"version": REPROCESSED_VERSION, "key": key, "lines": sorted(lines, key=lambda x: x["line"])}
    return json.dumps(body, indent=1).encode("utf-8")


def _matched(resend: Sequence[Resend], sent: Sequence[Sent]) -> list[tuple[Resend, Sent]]:
    """Each sent record beside the planned record it was (same bytes and partition key; equal ones are
    interchangeable), whatever order the producer's retries accepted them in."""
    waiting: dict[tuple[bytes, str], list[Resend]] = defaultdict(list)
    for r in resend:
        waiting[(r.data, r.partition_key)].append(r)
    return [(waiting[(s.data, s.partition_key)].pop(0), s) for s in sent]


def _release(target: ReprocessTarget, claim: HeldClaim, outcome: ObjectOutcome, dry_run: bool) -> None:
    """Delete the claim if (and only if) the failed record still holds it."""
    assert target.dynamodb is not None and target.claims_table is not None
    if dry_run:
        item = target.dynamodb.get_item(
            TableName=target.claims_table, Key={KEY_ATTRIBUTE: {"S": claim.key}}, ConsistentRead=True
        ).get("Item")
        held = item is not None and item.get(HOLDER_ATTRIBUTE, {}).get("S") == claim.holder
        outcome.claims_released += held
        outcome.claims_not_held += not held
        return
    try:
        target.dynamodb.delete_item(
            TableName=target.claims_table,
            Key={KEY_ATTRIBUTE: {"S": claim.key}},
            ConditionExpression="#h = :holder",
            ExpressionAttributeNames={"#h": HOLDER_ATTRIBUTE},
            ExpressionAttributeValues={":holder": {"S": claim.holder}},
        )
    except Exception as exc:
        if _error_code(exc) != "ConditionalCheckFailedException":
            raise
        outcome.claims_not_held += 1
    else:
        outcome.claims_released += 1


def _release_unheld(
    target: ReprocessTarget,
    unheld: tuple[str, dict[str, str]],
    ours: set[str],
    outcome: ObjectOutcome,
    dry_run: bool,
) -> None:
    """For a record that failed in the Lambda: release its id's claim if the holder stored nothing (no row of
    the table carries the holder's lineage) and is not a record this run sent (in flight, not yet stored)."""
    assert target.dynamodb is not None and target.claims_table is not None and target.table is not None
    event_id, values = unheld
    item = target.dynamodb.get_item(
        TableName=target.claims_table, Key={KEY_ATTRIBUTE: {"S": event_id}}, ConsistentRead=True
    ).get("Item")
    holder = (item or {}).get(HOLDER_ATTRIBUTE, {}).get("S")
    if holder is None:
        return  # no claim: the re-sent record will take it
    shard, _, rest = holder.partition(":")
    sequence, _, subsequence = rest.partition(":")
    lineage = (shard, sequence, int(subsequence) if subsequence.isdigit() else 0)
    if holder in ours or any(r.lineage == lineage for r in target.table.of(values, event_id)):
        outcome.claims_not_held += 1  # a stored or in-flight record holds it: the re-send is its repeat
        return
    _release(target, HeldClaim(event_id, holder), outcome, dry_run)


def _handle(
    target: ReprocessTarget,
    item: _Planned,
    options: ReprocessOptions,
    outcome: ObjectOutcome,
    ours: set[str] | None = None,
) -> None:
    """Release, send, record and archive one error object. ``ours``: the holders (``shard:sequence:sub``) of
    the records this run sent, which may be in flight: their claims are theirs."""
    ours = set() if ours is None else ours
    if outcome.failed:
        return
    outcome.kept_reasons.update(k.reason for k in item.kept)
    outcome.kept = len(item.kept)
    outcome.already_stored = len(item.stored)
    if not item.resend and not item.stored:
        outcome.action = KEPT
        return
    dry_run = options.dry_run
    if target.claims_table is not None:
        try:
            for resend in item.resend:
                if resend.claim is not None:
                    _release(target, resend.claim, outcome, dry_run)
                elif resend.unheld is not None and target.table is not None:
                    _release_unheld(target, resend.unheld, ours, outcome, dry_run)
        except Exception as exc:  # the put waits: sent now, the record would be marked duplicate of itself
            outcome.action = FAILED
            outcome.notes.append(f"releasing claims: {_error_text(exc)}; nothing sent")
            return
    rest = rest_key(item.key, item.kept) if item.kept else ""
    if dry_run:
        outcome.resent = len(item.resend)
        outcome.origins.update(r.origin for r in item.resend)
        outcome.action = WOULD_SPLIT if rest else WOULD_ARCHIVE
        if rest:
            outcome.notes.append(f"would move the kept records to {rest}")
        return
    outgoing = [Outgoing(r.data, r.partition_key, Expect.VALID) for r in item.resend]
    try:
        ledger = send(target.kinesis, target.stream_name, outgoing, rng=random.Random()) if outgoing else None
    except ProducerError as exc:
        outcome.action = FAILED
        outcome.notes.append(f"put: {exc}; left in place")
        return
    except Exception as exc:  # a missing stream, denied access, no connection
        outcome.action = FAILED
        outcome.notes.append(f"put: {_error_text(exc)}; left in place")
        return
    sent = ledger.records if ledger is not None else []
    outcome.resent = len(sent)
    outcome.origins.update(r.origin for r in item.resend)
    ours.update(f"{s.shard_id}:{s.sequence_number}:{s.subsequence_number}" for s in sent)
    try:
        if rest:
            body = b"".join(k.line + b"\n" for k in item.kept)
            target.s3.put_object(Bucket=target.bucket, Key=rest, Body=body)
        target.s3.put_object(
            Bucket=target.bucket,
            Key=reprocessed_key(item.key),
            Body=reprocessed_manifest(item.key, _matched(item.resend, sent), item.stored),
            ContentType="application/json",
        )
        target.s3.copy_object(
            Bucket=target.bucket,
            Key=archive_key(item.key),
            CopySource={"Bucket": target.bucket, "Key": item.key},
        )
        target.s3.delete_object(Bucket=target.bucket, Key=item.key)
    except Exception as exc:
        outcome.action = FAILED
        outcome.notes.append(f"records sent, archiving failed: {_error_text(exc)}; a rerun sends them again")
        return
    outcome.action = SPLIT if rest else ARCHIVED
    if rest:
        outcome.notes.append(f"kept records moved to {rest}")


def reprocess(
    target: ReprocessTarget, options: ReprocessOptions, *, progress: Callable[[int], None] | None = None
) -> list[ObjectOutcome]:
    """Handle every error object in the hours, one arrival hour at a time (the raw backup is read for the
    hours that need it), and return what happened to each."""
    if options.originals not in ORIGINALS:
        raise ValueError(f"originals must be one of {ORIGINALS}, got {options.originals!r}")
    keys = error_object_keys(target.s3, target.bucket, target.spec, options)
    outcomes = {key: ObjectOutcome(key, output_type) for key, output_type in keys}
    ours: set[str] = set()
    after_lambda: dict[tuple[str, int], list[tuple[str, str, int]]] = {}
    for _, objects in _by_hour(keys):
        for item in _plan(target, objects, options, outcomes, after_lambda):
            _handle(target, item, options, outcomes[item.key], ours)
        if progress:
            progress(len(objects))
    return list(outcomes.values())


def _by_hour(keys: list[tuple[str, str]]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, output_type in keys:
        groups[_arrival_hour(key, output_type)].append((key, output_type))
    yield from sorted(groups.items())


# --- helpers -----------------------------------------------------------------------------------------------


def _subsequence(row: dict[str, Any], record: ErrorRecord | None) -> int:
    """The user record's place in its KPL aggregate: the Lambda's row says it (``source_subsequence_number``),
    a conversion failure's error record too; 0 for a row from before that column, a record put on its own."""
    value = row.get("source_subsequence_number")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return (record.subsequence_number if record is not None else None) or 0


def _user_records(records: Sequence[bytes]) -> Iterator[bytes]:
    """Backed-up Kinesis records as the Lambda saw them: an aggregate's user records, any other as it is."""
    for record in records:
        users = kpl_aggregation.deaggregate(record)
        yield from [record] if users is None else (u.data for u in users)


def _json(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _canonical(value: Any) -> str:
    """Type-strict JSON: ``1``, ``1.0`` and ``true`` differ here."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _error_text(exc: Exception) -> str:
    code = _error_code(exc)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{code}: {message}" if code else f"{type(exc).__name__}: {message}"
