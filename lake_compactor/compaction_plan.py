"""What one compaction of one partition is, as plain data: where its copy goes, what it reads, and the one
Athena statement that writes it. No AWS calls here, so the Lambda, the local runner and the tests share it.

Layout (``glue.schema`` owns the roots):

- a partition's original objects stay where Firehose wrote them, ``events/<partition>/``;
- each compaction run writes a new copy to ``compacted/<partition>/<run id>/`` (UNLOAD refuses a
  non-empty target, so a run never writes into another's folder; no ``key=value`` segment, so the path
  keeps exactly the table's partition keys) and, beside it, the run's manifest
  ``compacted/<partition>/<run id>.json`` naming every original object whose rows the copy holds;
- the catalog's partition location says which copy readers see; the switch is one Glue ``UpdatePartition``;
- partitions too small to bill Athena's 10 MB minimum on their own share one UNLOAD (``BatchStatement``),
  written ``partitioned_by`` the partition keys into ``compaction-staging/<batch id>/`` and copied from there
  into each partition's own copy folder, so everything after the write is as for a partition on its own.

The copy reads originals through the compactor's own table (``glue.compactor_contract.SOURCE_TABLE``: same
columns, partitions at the original folders, restricted to the listed objects with Athena's ``"$path"``), so
an object Firehose writes while a run is under way is not in that run's copy and not in its manifest: the
next run adds it.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_contract import limits
from glue import marks, schema
from glue.compactor_contract import DEFAULT_COMPRESSION, SWEEP_GRACE
from glue.marks import DEFAULT_FINGERPRINT_FIELDS

# Rows sorted so that events of one name (alike payloads) and close times sit together: measured by
# ``benchmarks.compaction`` to compress best of the orders tried. Every other column follows, so the
# order is total and the same rows always give the same file, whatever order they were read in.
SORT_COLUMNS = ("event_name", "created_at", "event_uuid")
MARK_COLUMNS = ("is_duplicate", "uuid_reused")
# UNLOAD's ZSTD level (its codec: ``glue.compactor_contract.DEFAULT_COMPRESSION``), chosen by
# ``benchmarks.compaction`` (see BENCHMARKS.md). Level 19 measured ~6 % smaller than 9 at several times the
# write time; 9 meets the 30 % target with room and is in the range Athena advises (3, or 6-9).
ZSTD_LEVEL = 9
# The Glue partition parameter naming the run whose copy the partition reads (absent: the originals).
RUN_PARAMETER = "eventlake.compaction.run"
SECONDS_PER_HOUR = 3600
_RUN_ID = r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}"
_RUN_FOLDER = re.compile(rf"/(?P<run>{_RUN_ID})/$")
MANIFEST_VERSION = 1
RETIRED_SUFFIX = ".retired"
ABANDONED_SUFFIX = ".abandoned"
# What one run writes beside its copy folder, named by its run id: what a listing of a partition's compacted
# folder attributes to a run (anything else there is not the compactor's and is left alone).
_RUN_KEY = re.compile(
    rf"(?P<run>{_RUN_ID})(?:/.*|\.json|{re.escape(RETIRED_SUFFIX)}|{re.escape(ABANDONED_SUFFIX)})", re.DOTALL
)


def new_run_id(now: datetime, token: str | None = None) -> str:
    """``20261125T130501Z-1a2b3c4d``: sortable by start time, unique per attempt."""
    m = now.astimezone(UTC)  # %Y does not zero-pad years below 1000 on every platform: spell it out
    stamp = f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"
    return f"{stamp}-{token or secrets.token_hex(4)}"


def partition_path(values: dict[str, str]) -> str:
    """``event_type=a/event_date=2026-11-25/event_hour=07/``: the partition's folder below a root."""
    return "".join(f"{name}={values[name]}/" for name in schema.PARTITION_KEY_NAMES)


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def key_of(uri: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://`` URI."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def original_folder(values: dict[str, str]) -> str:
    return schema.partition_folder(values)


def compacted_partition_folder(values: dict[str, str]) -> str:
    """``compacted/<partition>/``: every run's copy folder, manifest and markers for the partition."""
    return f"{schema.COMPACTED_ROOT}{partition_path(values)}"


def compacted_folder(values: dict[str, str], run_id: str) -> str:
    return f"{compacted_partition_folder(values)}{run_id}/"


def manifest_key(values: dict[str, str], run_id: str) -> str:
    return f"{schema.COMPACTED_ROOT}{partition_path(values)}{run_id}.json"


def retired_marker_key(values: dict[str, str], run_id: str) -> str:
    """``compacted/<partition>/<run id>.retired``: written once everything the run's copy superseded is
    tagged, so later runs know there is nothing left to tag behind it."""
    return f"{schema.COMPACTED_ROOT}{partition_path(values)}{run_id}{RETIRED_SUFFIX}"


def abandoned_marker_key(values: dict[str, str], run_id: str) -> str:
    """``compacted/<partition>/<run id>.abandoned``: written once a copy that was never switched in (its run
    lost the switch, or died before it) is tagged superseded, so no later sweep tags it again."""
    return f"{schema.COMPACTED_ROOT}{partition_path(values)}{run_id}{ABANDONED_SUFFIX}"


def run_objects_prefix(values: dict[str, str], run_id: str) -> str:
    """What one run wrote sits under this prefix: its copy folder, its manifest and its retired marker
    (run ids have one length, so no other run's keys share it)."""
    return f"{schema.COMPACTED_ROOT}{partition_path(values)}{run_id}"


def run_of_location(location: str) -> str | None:
    """The run id of a compacted copy's location; None for an original folder (or anything else)."""
    _, key = key_of(location)
    if not key.startswith(schema.COMPACTED_ROOT):
        return None
    match = _RUN_FOLDER.search(key)
    return match.group("run") if match else None


def run_started(run_id: str) -> datetime:
    """When a run started, from its id (``new_run_id``)."""
    return datetime.strptime(run_id.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def runs_in_folder(values: dict[str, str], keys: Iterable[str]) -> dict[str, list[str]]:
    """The keys listed under a partition's compacted folder, by the run that wrote them (its copy's files,
    manifest and markers); keys of no run are left out."""
    folder = compacted_partition_folder(values)
    runs: dict[str, list[str]] = {}
    for key in keys:
        match = _RUN_KEY.fullmatch(key.removeprefix(folder)) if key.startswith(folder) else None
        if match:
            runs.setdefault(match.group("run"), []).append(key)
    return runs


def runs_to_sweep(
    values: dict[str, str],
    runs: Mapping[str, Sequence[str]],
    current_run: str | None,
    now: datetime,
    grace: timedelta = SWEEP_GRACE,
) -> list[str]:
    """The runs of ``runs_in_folder`` whose copy nothing reads and no one else will tag: not the partition's
    current copy, started more than ``grace`` before ``now`` (neither in flight nor about to switch), not
    retired (a copy that was switched in and retired is tagged by the retirement of the copy that superseded
    it) and not already swept or abandoned (its ``.abandoned`` marker). Oldest first."""
    cutoff = now - grace
    return sorted(
        run_id
        for run_id, keys in runs.items()
        if run_id != current_run
        and run_started(run_id) < cutoff
        and retired_marker_key(values, run_id) not in keys
        and abandoned_marker_key(values, run_id) not in keys
    )


def hour_start(values: dict[str, str]) -> datetime:
    return datetime.strptime(f"{values['event_date']}T{values['event_hour']}", "%Y-%m-%dT%H").replace(
        tzinfo=UTC
    )


def is_closed(values: dict[str, str], now: datetime, late_window_hours: int) -> bool:
    """A partition is closed once its hour ended ``late_window_hours`` ago: Firehose has delivered what
    arrived on time (its buffers flush within minutes), so a copy made now is rarely redone."""
    ended = hour_start(values).timestamp() + SECONDS_PER_HOUR
    return ended + late_window_hours * SECONDS_PER_HOUR <= now.timestamp()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def partition_filter(values: dict[str, str]) -> str:
    return " AND ".join(f"{name} = {_literal(values[name])}" for name in schema.PARTITION_KEY_NAMES)


@dataclass(frozen=True)
class CompactionStatement:
    """One UNLOAD: the rows of ``current`` (the partition's copy readers see now, when it is already a
    compacted one) plus the rows of the listed original objects, sorted, written as Parquet to ``target``."""

    database: str
    table: str
    source_table: str
    values: dict[str, str]
    include_current: bool
    sources: tuple[str, ...]  # s3:// URIs of original objects
    target: str  # s3://.../<run id>/
    compression: str = DEFAULT_COMPRESSION
    zstd_level: int = ZSTD_LEVEL
    sort_columns: tuple[str, ...] = SORT_COLUMNS
    # Recompute the duplicate marks over all the partition's rows (``glue.marks``: every mode but ``off``).
    mark: bool = True
    fingerprint_fields: tuple[str, ...] = DEFAULT_FINGERPRINT_FIELDS

    def select_sql(self) -> str:
        """The SELECT inside the UNLOAD, in Athena SQL (the local runner translates this very text).

        With ``mark``, the marks are computed from the rows alone, never from the marks they carry: each row
        is ranked among its id's copies by arrival (``glue.marks.ARRIVAL_ORDER``, then every data column, so
        copies that tie are identical rows), and its fingerprint's first rank decides. ``is_duplicate``: a
        later copy of the same fingerprint; ``uuid_reused``: a fingerprint the id's earliest copy does not
        have. So the same rows get the same marks whatever their order, and compacting again changes
        nothing."""
        rows = self._union()
        order = ", ".join(f"{c} ASC NULLS LAST" for c in self.order_columns())
        columns = ", ".join(schema.COLUMN_NAMES)
        if not self.mark:
            return f"SELECT {columns} FROM (\n{rows}\n) AS rows_to_compact\nORDER BY {order}"
        data = [c for c in schema.COLUMN_NAMES if c not in MARK_COLUMNS]
        arrival = ", ".join((*marks.ARRIVAL_ORDER, *(f"{c} ASC NULLS LAST" for c in data)))
        prints = ", ".join(fingerprint_expression(f) for f in self.fingerprint_fields)
        marked = {
            "is_duplicate": "arrival_rank <> print_rank AS is_duplicate",
            "uuid_reused": "print_rank <> 1 AS uuid_reused",
        }
        output = ", ".join(marked.get(c, c) for c in schema.COLUMN_NAMES)
        return (
            f"SELECT {output} FROM (\n"
            f"SELECT *, min(arrival_rank) OVER (PARTITION BY lower(event_uuid), {prints}) AS print_rank "
            "FROM (\n"
            f"SELECT {', '.join(data)}, "
            f"row_number() OVER (PARTITION BY lower(event_uuid) ORDER BY {arrival}) AS arrival_rank FROM (\n"
            f"{rows}\n) AS rows_to_compact\n) AS ranked\n) AS marked\nORDER BY {order}"
        )

    def order_columns(self) -> tuple[str, ...]:
        """Every column, the sort columns first: the copy's total row order (ascending, nulls last)."""
        rest = tuple(c for c in schema.COLUMN_NAMES if c not in self.sort_columns)
        return (*self.sort_columns, *rest)

    def _union(self) -> str:
        columns = ", ".join(schema.COLUMN_NAMES)
        where = partition_filter(self.values)
        parts = []
        if self.include_current:
            parts.append(f"SELECT {columns} FROM {self._qualified(self.table)} WHERE {where}")
        if self.sources:
            paths = ", ".join(_literal(uri) for uri in self.sources)
            source = self._qualified(self.source_table)
            parts.append(f'SELECT {columns} FROM {source} WHERE {where} AND "$path" IN ({paths})')
        if not parts:
            raise ValueError("a compaction reads the current copy, original objects, or both")
        return "\nUNION ALL\n".join(parts)

    def properties(self) -> dict[str, str]:
        props = {"format": "PARQUET", "compression": self.compression}
        if self.compression == "ZSTD":
            props["compression_level"] = str(self.zstd_level)
        return props

    def athena_sql(self) -> str:
        """``UNLOAD (SELECT ...) TO 's3://...' WITH (format = 'PARQUET', compression = ...)``
        (https://docs.aws.amazon.com/athena/latest/ug/unload.html)."""
        props = ", ".join(f"{name} = {_literal(value)}" for name, value in self.properties().items())
        return f"UNLOAD (\n{self.select_sql()}\n) TO {_literal(self.target)} WITH ({props})"

    def _qualified(self, table: str) -> str:
        return f"{_identifier(self.database)}.{_identifier(table)}"


def fingerprint_expression(field_name: str) -> str:
    """A fingerprint field as the stored row holds it: the three common fields from their columns
    (``created_at`` at the stored millisecond, ``created_datetime``), any other as the JSON text of the
    payload's top-level member of that name (NULL when absent), as the transform reads it from the event."""
    if field_name == "created_at":
        return "created_datetime"
    if field_name in schema.INPUT_FIELDS:
        return _identifier(field_name)
    path = '$["' + field_name.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return f"json_format(json_extract(payload, {_literal(path)}))"


def statement_fits(statement: CompactionStatement | BatchStatement) -> bool:
    return len(statement.athena_sql()) <= limits.ATHENA_QUERY_MAX_CHARS


def staging_folder(batch_id: str) -> str:
    """``compaction-staging/<batch id>/``: where a batch's UNLOAD writes, one Hive folder per partition."""
    return f"{schema.COMPACTION_STAGING_ROOT}{batch_id}/"


def staged_partition_folder(batch_id: str, values: dict[str, str]) -> str:
    """Where a batch's UNLOAD (``partitioned_by`` the partition keys) put one partition's files."""
    return f"{staging_folder(batch_id)}{partition_path(values)}"


@dataclass(frozen=True)
class BatchStatement:
    """One UNLOAD of several partitions' copies: each member's rows, marked and ordered exactly as its own
    statement would (``CompactionStatement.select_sql``: the marks are computed within a partition), with the
    partition's values as the last columns, written ``partitioned_by`` the partition keys under ``target``
    (a staging folder): Athena writes one Hive folder per partition
    (https://docs.aws.amazon.com/athena/latest/ug/unload.html, ``partitioned_by``), whose files the compactor
    then copies into each partition's own copy folder. The members share the database, tables and codec."""

    members: tuple[CompactionStatement, ...]
    target: str  # s3://.../compaction-staging/<batch id>/

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("a batch holds at least one partition")
        shared = {(m.database, m.table, m.source_table, m.compression, m.zstd_level) for m in self.members}
        if len(shared) != 1:
            raise ValueError("a batch's partitions share their database, tables and codec")
        paths = [partition_path(m.values) for m in self.members]
        if len(set(paths)) != len(paths):
            raise ValueError("a partition appears once in a batch")

    @property
    def database(self) -> str:
        return self.members[0].database

    @property
    def compression(self) -> str:
        return self.members[0].compression

    @property
    def zstd_level(self) -> int:
        return self.members[0].zstd_level

    def select_sql(self) -> str:
        keys = ", ".join(_identifier(k) for k in schema.PARTITION_KEY_NAMES)
        parts = []
        for i, member in enumerate(self.members):
            literals = ", ".join(
                f"{_literal(member.values[k])} AS {_identifier(k)}" for k in schema.PARTITION_KEY_NAMES
            )
            parts.append(f"SELECT member_{i}.*, {literals} FROM (\n{member.select_sql()}\n) AS member_{i}")
        order = ", ".join((*(f"{k} ASC" for k in schema.PARTITION_KEY_NAMES), *self._member_order()))
        columns = ", ".join((*schema.COLUMN_NAMES, keys))
        union = "\nUNION ALL\n".join(parts)
        return f"SELECT {columns} FROM (\n{union}\n) AS batch\nORDER BY {order}"

    def _member_order(self) -> tuple[str, ...]:
        return tuple(f"{c} ASC NULLS LAST" for c in self.members[0].order_columns())

    def file_order(self) -> tuple[str, ...]:
        """The order of rows within each written file: a partition's own (``CompactionStatement``). Athena
        keeps the SELECT's sort within each file an UNLOAD writes; an engine that writes partitions in
        parallel must be told it per file (the local runner's DuckDB: ``COPY ... ORDER_BY``)."""
        return self._member_order()

    def properties(self) -> dict[str, str]:
        return self.members[0].properties()

    def athena_sql(self) -> str:
        props = ", ".join(f"{name} = {_literal(value)}" for name, value in self.properties().items())
        keys = ", ".join(_literal(k) for k in schema.PARTITION_KEY_NAMES)
        return (
            f"UNLOAD (\n{self.select_sql()}\n) TO {_literal(self.target)} "
            f"WITH ({props}, partitioned_by = ARRAY[{keys}])"
        )


@dataclass(frozen=True)
class RunManifest:
    """What a run's copy holds: the rows of exactly these original objects (cumulative over the runs that
    led to it). Written before the switch; the next run reads the current copy's manifest to find objects
    that landed since (late events) and adds only those."""

    run_id: str
    values: dict[str, str]
    location: str
    previous_location: str
    sources: tuple[str, ...]  # object keys under the original folder
    created: str = field(default="")

    def to_json(self) -> bytes:
        body = {
            "version": MANIFEST_VERSION,
            "run_id": self.run_id,
            "partition": self.values,
            "location": self.location,
            "previous_location": self.previous_location,
            "sources": sorted(self.sources),
            "created": self.created,
        }
        return json.dumps(body, sort_keys=True, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> RunManifest:
        body: dict[str, Any] = json.loads(data)
        if body.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unknown compaction manifest version {body.get('version')!r}")
        return cls(
            run_id=str(body["run_id"]),
            values={str(k): str(v) for k, v in body["partition"].items()},
            location=str(body["location"]),
            previous_location=str(body["previous_location"]),
            sources=tuple(str(k) for k in body["sources"]),
            created=str(body.get("created", "")),
        )
