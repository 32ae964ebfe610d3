"""The table as its Glue catalog describes it, for ``query`` and ``check``: which partitions Athena reads, and
at which locations (a compacted copy after a compaction, the original folder before).

Athena reads a Hive table through its catalog, never by listing the bucket: an object in a partition nobody
registered is invisible, and after a compaction switched a partition to its copy the originals are not read
(nor counted twice before their expiry). So does the local ``query``: from the stack's Glue catalog for a
bucket, or, for a local mirror, from the catalog the demo's run recorded beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_contract import limits
from eventlake.athena import engine as athena
from eventlake.checks import lake_contents, run_record
from glue import schema


class NoCatalog(ValueError):
    """A lake whose catalog cannot be known: reading its objects instead would answer what Athena does not."""


def recorded_catalog(root: Path) -> list[athena.CatalogPartition]:
    """The catalog of the run whose record (``eventlake demo``) is beside the mirror ``root``.

    A compacted run recorded its partitions' locations. Before compaction the registrar registers a partition
    at its folder with its first object, so the catalog is the folders of the data objects the mirror copied
    from the bucket (its manifest): a file added to the mirror later is in no registered partition.
    """
    header = _record_header(root)
    if header is None:
        raise NoCatalog(
            f"{root} has no run record ({run_record.RUN_RECORD}) to tell which partitions the catalog "
            "holds: query a mirror `eventlake demo` wrote, or the bucket (--bucket reads its Glue catalog)"
        )
    if header.get("compacted"):
        return locations_catalog(tuple(header.get("locations") or ()))
    try:
        files = lake_contents.mirrored_files(root)
    except lake_contents.MirrorRefused as exc:
        raise NoCatalog(str(exc)) from None
    if files is None:
        raise NoCatalog(f"{root} has a run record but no mirror manifest ({lake_contents.MIRROR_MARKER})")
    bucket = _manifest_bucket(root)
    keyed = (schema.partition_of_key(key) for key in files)
    folders = {schema.partition_folder(values) for values in keyed if values is not None}
    return locations_catalog(tuple(f"s3://{bucket}/{folder}" for folder in sorted(folders)))


def locations_catalog(locations: tuple[str, ...]) -> list[athena.CatalogPartition]:
    """Each partition at its location (its values read from the location's key)."""
    out = []
    for location in locations:
        values = lake_contents.hive_partition(location.removeprefix("s3://").partition("/")[2])
        out.append(athena.CatalogPartition(tuple(values[k] for k in schema.PARTITION_KEY_NAMES), location))
    return out


def glue_catalog(glue: Any, database: str, table: str) -> list[athena.CatalogPartition]:
    """Every partition of the table in a Glue catalog (real, or the embedded AWS's behind an endpoint)."""
    return athena.catalog_partitions(glue, database, table)


def _record_header(root: Path) -> dict[str, Any] | None:
    """The run record's first line only: a production hour's record holds a million sent records."""
    path = root / run_record.RUN_RECORD
    if not path.is_file():
        return None
    with path.open() as lines:
        header = json.loads(lines.readline() or "{}")
    return header if isinstance(header, dict) else None


def _manifest_bucket(root: Path) -> str:
    manifest = json.loads((root / lake_contents.MIRROR_MARKER).read_text())
    return str(manifest.get("bucket") or "lake")


# --- a bucket read straight from S3: the partitions a query's filters select; the objects check reads -----


def selected_partitions(sql: str, partitions: list[athena.CatalogPartition]) -> list[athena.CatalogPartition]:
    """The catalog's partitions a query's partition filters can select, as Athena prunes them: the conjuncts
    of the WHERE of a single-table query (``events`` or the ``unique_events`` view, whose filters reach the
    table) that compare a partition column with string literals (``=``, ``IN``, ``BETWEEN``). Anything else
    (an OR, a join, a subquery, a function of a column) selects every partition: never fewer than Athena."""
    values = _partition_filters(sql)
    if values is None:
        return list(partitions)
    index = {name: i for i, name in enumerate(schema.PARTITION_KEY_NAMES)}
    return [p for p in partitions if all(test(p.values[index[name]]) for name, test in values)]


def _partition_filters(sql: str) -> list[tuple[str, Any]] | None:
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except Exception:
        return None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        return None
    select = statements[0]
    tables = list(select.find_all(exp.Table))
    names = {athena.UNIQUE_EVENTS_VIEW, schema.TABLE_NAME}
    if (
        len(tables) != 1
        or tables[0].name not in names
        or select.args.get("joins")
        or select.find(exp.Subquery)
    ):
        return None
    where = select.args.get("where")
    if where is None:
        return []
    tests: list[tuple[str, Any]] = []
    for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        found = _partition_test(conjunct, exp)
        if found is not None:
            tests.append(found)
    return tests


def _partition_test(node: Any, exp: Any) -> tuple[str, Any] | None:
    """(partition column, a test of its value) for ``col = 'v'``, ``col IN ('a', 'b')``, ``col BETWEEN 'a'
    AND 'b'`` (either side of ``=``); None for anything else (it selects every partition)."""
    keys = set(schema.PARTITION_KEY_NAMES)

    def column(n: Any) -> str | None:
        return n.name if isinstance(n, exp.Column) and n.name in keys else None

    def text(n: Any) -> str | None:
        return n.this if isinstance(n, exp.Literal) and n.is_string else None

    if isinstance(node, exp.EQ):
        for a, b in ((node.left, node.right), (node.right, node.left)):
            name, value = column(a), text(b)
            if name and value is not None:
                return name, lambda v, value=value: v == value
    if isinstance(node, exp.In) and column(node.this) and not node.args.get("query"):
        choices = [text(e) for e in node.expressions]
        if all(c is not None for c in choices):
            return column(node.this) or "", lambda v, choices=frozenset(choices): v in choices
    if isinstance(node, exp.Between) and column(node.this):
        low, high = text(node.args["low"]), text(node.args["high"])
        if low is not None and high is not None:
            return column(node.this) or "", lambda v, low=low, high=high: low <= v <= high
    return None


def listed_objects(s3: Any, bucket: str, prefix: str = "", delimiter: str = "") -> list[tuple[str, int]]:
    """(key, size) of the bucket's objects under ``prefix`` (with ``delimiter`` "/": directly under it), in
    S3's order: one LIST a thousand keys, nothing read."""
    options = {"Delimiter": delimiter} if delimiter else {}
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **options)
    return [(str(o["Key"]), int(o["Size"])) for page in pages for o in page.get("Contents", [])]


def say_reading(console: Any, command: str, objects: int, size: int, what: str) -> None:
    """The count and size about to be read, on stderr before the first GET: at prod's size a run's cost
    (GETs, bytes) should be known before it is paid."""
    console.print(
        f"eventlake {command}: reading {objects:,} objects ({size / limits.MIB:,.1f} MiB) of {what}",
        markup=False,
        highlight=False,
        emoji=False,
    )


class BucketObjects:
    """A bucket's objects read in place (``lake_contents.ObjectReader``), one GET each, the body in memory
    only while it is checked: ``check --bucket`` copies nothing to disk. ``exists`` answers from the
    listing it was given (no HEAD). S3's own failures pass through ``read`` (they are not the object's)."""

    def __init__(self, s3: Any, bucket: str, keys: set[str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self._s3, self._bucket, self._keys = s3, bucket, keys
        self.where = f"s3://{bucket}"
        self.passes: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)

    def body(self, key: str) -> bytes:
        return bytes(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())

    def exists(self, key: str) -> bool:
        return key in self._keys


def download_partitions(
    s3: Any, bucket: str, partitions: list[athena.CatalogPartition], root: Path, console: Any
) -> tuple[int, int]:
    """The objects directly under each partition's location, fetched from S3 into ``root`` at their keys
    (what Athena reads of them; nothing else of the bucket): (objects, bytes). Their count and size are said
    on stderr before the first byte is read, then a progress bar."""
    from eventlake.cli import progress

    listed: list[tuple[str, int]] = []
    for partition in partitions:
        prefix = partition.location.removeprefix("s3://").partition("/")[2]
        listed += listed_objects(s3, bucket, prefix, delimiter="/")
    total = sum(size for _, size in listed)
    say_reading(console, "query", len(listed), total, f"{len(partitions):,} partitions from s3://{bucket}")
    with progress.bar(console, "Reading the selected partitions", len(listed)) as advance:
        for key, _ in listed:
            target = root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            advance(1)
    return len(listed), total
