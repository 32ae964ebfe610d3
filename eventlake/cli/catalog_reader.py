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
