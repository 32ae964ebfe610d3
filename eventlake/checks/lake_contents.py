"""The delivered lake as files: mirror the bucket to a directory, then read it back as records.

The invariant and the DuckDB queries both read the mirror, so what they check is byte for byte what
Firehose (the model) put in S3. ``read`` takes its bytes from an ``ObjectReader``: the mirror's files, or
the bucket itself (``check --bucket``: a production month is too big to copy first), each object once.
"""

from __future__ import annotations

import base64
import bisect
import gzip
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, overload
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

from aws_contract import kpl_aggregation
from eventlake.firehose_formats import backup, conversion, error_records, prefixes
from glue import partition_query, schema


@dataclass(frozen=True)
class LakeObject:
    key: str
    size: int


class ObjectReader(Protocol):
    """Where ``read`` takes an object's bytes from. ``passes``: the exceptions that are the reader's own
    failure (the bucket unreachable, access denied), raised as they are, never blamed on the object."""

    @property
    def where(self) -> str: ...  # said in messages: a directory, or s3://bucket

    @property
    def passes(self) -> tuple[type[BaseException], ...]: ...

    def body(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


@dataclass(frozen=True)
class MirrorFiles:
    """A mirror's objects: the files under ``root``, at their keys."""

    root: Path
    passes: tuple[type[BaseException], ...] = ()

    @property
    def where(self) -> str:
        return str(self.root)

    def body(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def exists(self, key: str) -> bool:
        return (self.root / key).exists()


@dataclass(frozen=True)
class Row:
    key: str
    partition: dict[str, str]  # Hive key=value segments of the object's path
    values: dict[str, Any]

    @property
    def lineage(self) -> tuple[str, str, int]:
        """The record the row came from (shard, sequence number, subsequence number), as the Lambda wrote
        it: the subsequence number tells the user records of one KPL aggregate apart (0 for a record put on
        its own, and for a row written before the column existed)."""
        return (
            str(self.values.get("source_shard_id")),
            str(self.values.get("source_sequence_number")),
            self.values.get("source_subsequence_number") or 0,
        )


@dataclass(frozen=True)
class ErrorLine:
    key: str
    output_type: str
    record: error_records.ErrorRecord


@dataclass(frozen=True)
class RecoveredLine:
    """An archived error record that ``eventlake reprocess`` handled (its ``.reprocessed.json``): sent again
    as the Kinesis record ``lineage`` with ``data``, or left unsent because its row was already stored."""

    key: str  # the archived object
    output_type: str
    record: error_records.ErrorRecord
    outcome: str  # "resent" or "stored"
    lineage: tuple[str, str, int] | None = None  # reprocess puts each record on its own: subsequence 0
    data: bytes | None = None


class ParquetRows(Sequence[Row]):
    """The rows of a mirror's Parquet objects, read from their files each time they are iterated: ``read``
    checks every object once, and a production hour's million rows never sit in memory at once (as Python
    rows they took gigabytes). A sequence like a list: ``len``, indexing, slicing, ``==`` with a list.
    Over a bucket (an ``ObjectReader``) each iteration reads the objects again: ``len`` reads nothing."""

    def __init__(self, root: Path | ObjectReader) -> None:
        self._reader: ObjectReader = MirrorFiles(root) if isinstance(root, Path) else root
        self._objects: list[tuple[str, dict[str, str]]] = []
        self._ends: list[int] = []  # cumulative row counts, one per object

    def add(self, key: str, partition: dict[str, str], rows: int) -> None:
        if rows:
            self._objects.append((key, partition))
            self._ends.append((self._ends[-1] if self._ends else 0) + rows)

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __iter__(self) -> Iterator[Row]:
        for key, partition in self._objects:
            for values in self._table(key).to_pylist():
                yield Row(key, partition, values)

    def column(self, name: str) -> Iterator[Any]:
        """One column's values, row by row, in the order of iterating the rows (without building them)."""
        for key, _ in self._objects:
            table = self._table(key)
            if name in table.column_names:
                yield from table.column(name).to_pylist()
            else:
                yield from [None] * table.num_rows

    def _table(self, key: str) -> Any:
        return conversion.read_parquet(self._reader.body(key))

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...
    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row index out of range")
        at = bisect.bisect_right(self._ends, index)
        key, partition = self._objects[at]
        start = self._ends[at - 1] if at else 0
        return Row(key, partition, self._table(key).slice(index - start, 1).to_pylist()[0])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ParquetRows({len(self):,} rows in {len(self._objects):,} objects under {self._reader.where})"


def column_values(rows: Sequence[Row], name: str) -> Iterator[Any]:
    """``name``'s value in each row, in order: read column-wise from the files for a mirror's rows."""
    if isinstance(rows, ParquetRows):
        return rows.column(name)
    return (row.values.get(name) for row in rows)


@dataclass
class LakeContents:
    root: Path | str  # the mirror read, or the bucket (s3://name) read in place
    objects: list[LakeObject] = field(default_factory=list)
    rows: Sequence[Row] = field(default_factory=list)  # read(): a mirror's ParquetRows
    errors: list[ErrorLine] = field(default_factory=list)
    # Kinesis records found in the raw backup, as put (an aggregate whole: ``kpl_aggregation.split_records``).
    backed_up: Counter[bytes] = field(default_factory=Counter)
    backups: dict[str, list[bytes]] = field(default_factory=dict)  # each backup object's records, in order
    # processor jq: records stored as sent (JSON Lines objects under events/), with their object's key.
    lines: list[Row] = field(default_factory=list)
    recovered: list[RecoveredLine] = field(default_factory=list)  # archived error records reprocess handled
    # Keys the mirror's manifest names that are no longer there (``mirror_problems``): what a check blames.
    missing: list[str] = field(default_factory=list)
    # ``read(retain=False)``: records read and checked but not kept (the rows of jq's objects, counted here).
    lines_not_kept: int = 0

    @property
    def row_count(self) -> int:
        """The table's rows read: Parquet rows, or the records jq's objects hold (kept or only counted)."""
        return len(self.rows) + len(self.lines) + self.lines_not_kept


# Written into a mirror directory: the manifest of every file a mirror wrote there (key and size), the only
# files a later mirror removes or overwrites, and what `eventlake check` compares the directory with.
MIRROR_MARKER = ".eventlake-mirror.json"
MANIFEST_VERSION = 2


class MirrorRefused(ValueError):
    """The target directory holds files no mirror wrote where a mirror would write: nothing is deleted or
    overwritten there."""


def mirrored_files(root: Path) -> dict[str, int] | None:
    """The files the last mirror wrote under ``root``, by key, with their sizes (None: no manifest there)."""
    marker = root / MIRROR_MARKER
    if not marker.is_file():
        return None
    files = json.loads(marker.read_text()).get("files")
    if not isinstance(files, dict):
        raise MirrorRefused(
            f"--out {root} was mirrored by an older eventlake, whose marker {MIRROR_MARKER} names folders, "
            "not the files it wrote: remove the directory or choose a new one"
        )
    return {str(k): int(v) for k, v in files.items()}


def check_mirror_target(root: Path) -> None:
    """A mirror may write to a new or empty directory, or to one an earlier mirror wrote (its manifest)."""
    if root.exists() and not root.is_dir():
        raise MirrorRefused(f"--out {root} is a file, not a directory")
    if root.exists() and any(root.iterdir()) and mirrored_files(root) is None:
        raise MirrorRefused(
            f"--out {root} already holds files eventlake did not write: choose a new or empty directory"
        )


def mirror(s3: Any, bucket: str, root: Path) -> list[LakeObject]:
    """Copy every object of the bucket under ``root``. Of what is there, only the files the last mirror wrote
    (its manifest) are removed or overwritten: a file a person put anywhere under ``root`` stays, and one
    where an object would go stops the mirror before anything is changed."""
    check_mirror_target(root)
    earlier = mirrored_files(root) or {}
    listed = [
        (str(item["Key"]), int(item["Size"]))
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    resolved = root.resolve()
    for key, _ in listed:
        target = root / key
        if resolved not in target.resolve().parents:
            raise ValueError(f"object key {key!r} escapes the mirror directory")
        if key not in earlier and (target.exists() or target.is_symlink()):
            raise MirrorRefused(f"--out {root}: {key} would overwrite a file eventlake did not write")
    root.mkdir(parents=True, exist_ok=True)
    keys = {key for key, _ in listed}
    # Every file this mirror may leave behind, written first: an interrupted mirror is cleaned up next time.
    _write_manifest(root, bucket, {**earlier, **dict(listed)})
    for key in sorted(set(earlier) - keys):
        _remove(root, key)
    objects: list[LakeObject] = []
    for key, size in listed:
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        objects.append(LakeObject(key, size))
    _write_manifest(root, bucket, {o.key: o.size for o in objects})
    return objects


def _write_manifest(root: Path, bucket: str, files: dict[str, int]) -> None:
    manifest = {"version": MANIFEST_VERSION, "bucket": bucket, "files": dict(sorted(files.items()))}
    (root / MIRROR_MARKER).write_text(json.dumps(manifest, indent=0))


def _remove(root: Path, key: str) -> None:
    """An earlier mirror's file, and the folders it leaves empty (a folder holding anything else stays)."""
    target = root / key
    target.unlink(missing_ok=True)
    for folder in target.parents:
        if folder == root or root not in folder.parents:
            break
        try:
            folder.rmdir()  # only if empty
        except OSError:
            break


def mirror_problems(root: Path, objects: Sequence[LakeObject]) -> list[str]:
    """How the directory differs from what its mirror wrote (its manifest), one line per object key: an
    object deleted, changed in size, or added beside the mirror's (a stray copy). Empty without a manifest."""
    try:
        files = mirrored_files(root)
    except (MirrorRefused, ValueError):
        return []
    if files is None:
        return []
    problems: list[str] = []
    here = {o.key: o.size for o in objects}
    for key, size in files.items():
        if key not in here:
            problems.append(f"{key}: missing (the mirror wrote it, {size:,} bytes; deleted since)")
        elif here[key] != size:
            problems.append(f"{key}: {here[key]:,} bytes, the mirror wrote {size:,} (changed since)")
    problems += [
        f"{key}: not written by the mirror (not in its {MIRROR_MARKER}: a stray copy?)"
        for key in here
        if key not in files
    ]
    return problems


def hive_partition(key: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in key.split("/")[:-1] if "=" in part)


def local_objects(root: Path) -> list[LakeObject]:
    """The objects of a local mirror, by key (the mirror's own dot files are not lake objects)."""
    return [
        LakeObject(path.relative_to(root).as_posix(), path.stat().st_size)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    ]


def read(
    root: Path | ObjectReader,
    objects: list[LakeObject],
    problems: list[str] | None = None,
    *,
    retain: bool = True,
    advance: Callable[[int], None] | None = None,
) -> LakeContents:
    """Every object's rows, error records and backed-up records. With ``problems``, an object that cannot be
    read (truncated, corrupt, off the layout, a stray) is reported there and skipped instead of raising.

    ``root`` is a mirror's directory, or a reader of the bucket itself. Each object's bytes are read at most
    once, and only where they are checked: a stray is judged by its key, compacted copies and reprocess's
    records (read with their archive) are not read here. ``retain=False`` keeps no records (a bucket's
    month of backups would not fit in memory): each object is still read whole and checked, its records
    only counted. ``advance(1)`` after each object (a progress bar)."""
    reader: ObjectReader = MirrorFiles(root) if isinstance(root, Path) else root
    lake = LakeContents(root=root if isinstance(root, Path) else reader.where, objects=objects)
    lake.rows = ParquetRows(reader)
    for obj in objects:
        if problems is None:
            _read_one(lake, reader, obj, problems, retain)
        else:
            try:
                _read_one(lake, reader, obj, problems, retain)
            except reader.passes:
                raise
            except Exception as exc:  # whatever an unreadable object raises, it is that object's problem
                problems.append(f"{obj.key}: {type(exc).__name__}: {str(exc)[:200]}")
        if advance is not None:
            advance(1)
    return lake


def bodies_read(objects: Sequence[LakeObject]) -> list[LakeObject]:
    """The objects whose bytes ``read`` reads (a bucket's GETs, each once): not a compacted copy (its rows
    are the originals'), not a key off the layout (judged by the key), and reprocess's record of an archived
    error object only with its archive."""
    keys = {o.key for o in objects}
    out = []
    for o in objects:
        if o.key.startswith(schema.DATA_ROOT):
            read_here = schema.partition_of_key(o.key) is not None
        elif o.key.startswith(schema.ERROR_ROOT):
            read_here = any(p.fullmatch(o.key) for p in _ERROR_OBJECTS)
        elif o.key.startswith(schema.ERROR_ARCHIVE_ROOT):
            archive = o.key.removesuffix(schema.REPROCESSED_SUFFIX)
            read_here = archive == o.key or archive in keys
        else:
            read_here = o.key.startswith(schema.BACKUP_ROOT)
        if read_here:
            out.append(o)
    return out


# An arrival hour's folder (errors/, raw/, errors-archive/): Firehose's ``!{timestamp:yyyy/MM/dd/HH}/``.
_ARRIVAL_FOLDER = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


def object_hour(key: str, time_zone: str = "UTC") -> datetime | None:
    """The hour an object belongs to, in UTC: its partition's event hour (``events/``, ``compacted/``), or
    the arrival hour of its folder (``errors/``, ``raw/``, ``errors-archive/``, written in the delivery's
    ``time_zone``). None for a key that says no hour (a stray, off the layout)."""
    values = hive_partition(key)
    try:
        if "event_date" in values and "event_hour" in values:
            day = datetime.strptime(values["event_date"], "%Y-%m-%d")
            return day.replace(hour=int(values["event_hour"]), tzinfo=ZoneInfo("UTC"))
        match = _ARRIVAL_FOLDER.search(key)
        if match is None:
            return None
        year, month, day_of_month, hour = (int(g) for g in match.groups())
        local = datetime(year, month, day_of_month, hour, tzinfo=ZoneInfo(time_zone))
        return local.astimezone(ZoneInfo("UTC"))
    except ValueError:  # an impossible date or hour: no hour
        return None


def in_hours(key: str, first: datetime | None, last: datetime | None, time_zone: str = "UTC") -> bool:
    """``key``'s hour is within ``first`` .. ``last`` (both included; None: open). A key that says no hour
    is always in: a stray is a violation whatever the hours, and judged by its key alone (nothing read)."""
    hour = object_hour(key, time_zone)
    if hour is None:
        return True
    return (first is None or first <= hour) and (last is None or hour <= last)


def table_rows(root: Path, locations: Sequence[str]) -> ParquetRows:
    """The table's rows as its catalog reads them: the Parquet objects directly under each partition's
    location (``s3://bucket/<key prefix>/``, an original folder or a compacted copy), in the mirror ``root``.
    After compaction this is what Athena reads; ``read``'s rows are the originals Firehose wrote."""
    rows = ParquetRows(root)
    for location in sorted(locations):
        _, _, prefix = location.removeprefix("s3://").partition("/")
        for path in sorted((root / prefix).glob("*.parquet")):
            key = path.relative_to(root).as_posix()
            rows.add(key, hive_partition(key), _row_count(path.read_bytes(), whole=False))
    return rows


def _row_count(body: bytes, *, whole: bool) -> int:
    """A Parquet object's rows. ``whole``: every page read, so an object that cannot be read fails here and
    adds nothing (``read``'s ``problems``); else its footer alone (the rows are read when iterated)."""
    if whole:
        return int(conversion.read_parquet(body).num_rows)
    return int(pq.ParquetFile(io.BytesIO(body)).metadata.num_rows)


def _read_one(
    lake: LakeContents, reader: ObjectReader, obj: LakeObject, problems: list[str] | None, retain: bool
) -> None:
    """Judge one object by its key, then read it whole (where its bytes are checked) and add what it holds:
    an object that fails adds nothing."""
    if obj.key.startswith(schema.DATA_ROOT):
        if schema.partition_of_key(obj.key) is None:
            raise ValueError(f"data object off the partition layout {schema.DATA_PREFIX}")
        partition = hive_partition(obj.key)
        body = reader.body(obj.key)
        if obj.key.endswith(partition_query.OUTPUT_EXTENSION):  # processor jq: the records as sent
            records = split_records(gzip.decompress(body))
            if retain:
                lake.lines.extend(
                    Row(obj.key, partition, {partition_query.RECORD_COLUMN.name: line}) for line in records
                )
            else:
                lake.lines_not_kept += len(records)
            return
        assert isinstance(lake.rows, ParquetRows)
        lake.rows.add(obj.key, partition, _row_count(body, whole=problems is not None))
    elif obj.key.startswith(schema.ERROR_ROOT):
        output_type = error_output_type(obj.key)
        body = reader.body(obj.key)
        lines = [error_records.read_error_line(line) for line in body.splitlines() if line.strip()]
        if retain:
            lake.errors.extend(ErrorLine(obj.key, output_type, line) for line in lines)
    elif obj.key.startswith(schema.BACKUP_ROOT):
        records = split_records(backup.decode(reader.body(obj.key), obj.key))
        if retain:
            lake.backups[obj.key] = records
            lake.backed_up.update(records)
    elif obj.key.startswith(schema.ERROR_ARCHIVE_ROOT):
        # Error objects reprocess handled: their records went back to the stream, or were already stored. Read
        # through the record of what it did beside each (an archive without one is history only).
        if not obj.key.endswith(schema.REPROCESSED_SUFFIX):
            _read_recovered(lake, reader, obj.key, reader.body(obj.key), retain)
    elif obj.key.startswith((schema.COMPACTED_ROOT, schema.COMPACTION_STAGING_ROOT)):
        # Compacted copies (lake_compactor) and a batch's staging files repeat rows the originals under
        # events/ hold: counted there.
        pass
    else:
        raise ValueError("stray object outside events/, errors/, errors-archive/ and raw/")


def _read_recovered(
    lake: LakeContents, reader: ObjectReader, key: str, body: bytes, retain: bool = True
) -> None:
    manifest_key = key + schema.REPROCESSED_SUFFIX
    if not reader.exists(manifest_key):
        return
    manifest = json.loads(reader.body(manifest_key))
    lines = [line for line in body.split(b"\n") if line.strip()]  # as reprocess numbered them
    output_type = error_output_type(key.removeprefix(schema.ERROR_ARCHIVE_ROOT))
    for entry in manifest["lines"]:
        shard, sequence = entry.get("shard_id"), entry.get("sequence_number")
        subsequence = int(entry.get("subsequence_number") or 0)
        recovered = RecoveredLine(
            key=key,
            output_type=output_type,
            record=error_records.read_error_line(lines[entry["line"]]),
            outcome=entry["outcome"],
            lineage=(shard, sequence, subsequence) if shard and sequence else None,
            data=base64.b64decode(entry["data"]) if entry.get("data") else None,
        )
        if retain:
            lake.recovered.append(recovered)


# The delivery's error prefix and the raw backup's (both under errors/, both split by type).
_ERROR_OBJECTS = tuple(
    re.compile(prefixes.pattern(template) + r"[^/]+")
    for template in (schema.ERROR_PREFIX, schema.BACKUP_ERROR_PREFIX)
)


def error_output_type(key: str) -> str:
    """The error type of an object under an error prefix, read where ``schema.ERROR_PREFIX`` (or the
    backup's ``schema.BACKUP_ERROR_PREFIX``) puts it."""
    match = next((m for p in _ERROR_OBJECTS if (m := p.fullmatch(key))), None)
    if match is None:
        raise ValueError(f"error object {key!r} does not follow the error prefix {schema.ERROR_PREFIX}")
    return match["error_type"]


def split_records(blob: bytes) -> list[bytes]:
    """Records back from a concatenation: newline-terminated ones (the producer's terminator, kept) and KPL
    aggregates whole (the raw backup of an aggregating producer), as ``kpl_aggregation.split_records``."""
    return kpl_aggregation.split_records(blob)
