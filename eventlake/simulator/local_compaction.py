"""Compaction in the local runner: the Lambda's own protocol (``lake_compactor.compactor``) over the embedded
AWS's Glue and S3, with the UNLOAD run on DuckDB.

``DuckDbUnload`` is the statement engine: it reads what Athena would read for the statement (the events
partition's files at the location the embedded Glue holds at that moment, and exactly the listed original
objects of the source table, each with its ``"$path"``), translates the statement's SELECT with the same
sqlglot path as every other local query (``eventlake.athena.engine.to_duckdb``), runs it as DuckDB ``COPY ...
TO`` Parquet with the statement's codec, and puts the file under the statement's target in the embedded S3;
like Athena, it refuses a target that already holds objects.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from eventlake.athena import engine as athena
from eventlake.checks.lake_contents import mirror
from eventlake.simulator.embedded.aws import catalog_table_request
from glue import schema
from glue.compactor_contract import SOURCE_TABLE
from infra.catalog_spec import CatalogSpec
from lake_compactor import compaction_plan as plan
from lake_compactor.compaction_plan import BatchStatement, CompactionStatement
from lake_compactor.compactor import CompactionFailed, Compactor, CompactorConfig

# DuckDB's COPY codec names for UNLOAD's Parquet compressions.
DUCKDB_CODECS = {"SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd"}
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def source_table_request(spec: CatalogSpec, bucket: str, name: str = SOURCE_TABLE) -> dict[str, Any]:
    """``create_table``'s arguments for the compactor's source table: the events table's columns, partition
    keys and storage, under its own name (no partition indexes: the compactor reads it by exact values)."""
    request = catalog_table_request(spec, bucket)
    request.pop("PartitionIndexes", None)
    request["TableInput"] = {**request["TableInput"], "Name": name}
    return request


def ensure_source_table(glue: Any, spec: CatalogSpec, bucket: str) -> None:
    """Create the source table in the embedded Glue, as the Pulumi program does on AWS (once)."""
    try:
        glue.get_table(DatabaseName=spec.database_name, Name=SOURCE_TABLE)
    except glue.exceptions.EntityNotFoundException:
        glue.create_table(**source_table_request(spec, bucket))


def local_compactor(
    aws_glue: Any, aws_s3: Any, *, database: str, table: str, bucket: str, workdir: Path, **config: Any
) -> Compactor:
    """The compactor the Lambda runs, with DuckDB as its statement engine."""
    engine = DuckDbUnload(s3=aws_s3, glue=aws_glue, bucket=bucket, workdir=workdir)
    return Compactor(
        glue=aws_glue, s3=aws_s3, engine=engine, config=CompactorConfig(database, table, bucket, **config)
    )


@dataclass
class DuckDbUnload:
    s3: Any
    glue: Any
    bucket: str
    workdir: Path
    written: dict[str, list[str]] = field(default_factory=dict)  # handle -> keys written

    def start(self, statement: CompactionStatement | BatchStatement, token: str) -> str:
        _, target = plan.key_of(statement.target)
        if self.s3.list_objects_v2(Bucket=self.bucket, Prefix=target, MaxKeys=1).get("KeyCount", 0):
            raise CompactionFailed(f"UNLOAD target {statement.target} is not empty")
        members = statement.members if isinstance(statement, BatchStatement) else (statement,)
        root = Path(tempfile.mkdtemp(prefix=_SAFE.sub("_", token)[:60] + "-", dir=self.workdir))
        conn = duckdb.connect(":memory:")
        try:
            conn.execute("SET TimeZone = 'UTC'")
            partitions = []
            for member in (m for m in members if m.include_current):
                partition = self.glue.get_partition(
                    DatabaseName=member.database,
                    TableName=member.table,
                    PartitionValues=[member.values[k] for k in schema.PARTITION_KEY_NAMES],
                )["Partition"]
                location = partition["StorageDescriptor"]["Location"]
                self._download_folder(location, root)
                columns = tuple(c["Name"] for c in partition["StorageDescriptor"].get("Columns", []))
                values = tuple(partition["Values"])
                partitions.append(athena.CatalogPartition(values, location, columns))
            athena.create_view(conn, root, statement.database, partitions)
            self._source_view(conn, members, root)
            codec = DUCKDB_CODECS[statement.compression]
            level = f", COMPRESSION_LEVEL {statement.zstd_level}" if statement.compression == "ZSTD" else ""
            select = athena.to_duckdb(statement.select_sql())
            if isinstance(statement, BatchStatement):
                # UNLOAD's partitioned_by: a Hive folder per partition, its columns not in the files, each
                # file sorted as the SELECT says (Athena's UNLOAD keeps it per file; DuckDB's partitioned
                # COPY writes in parallel and keeps it only when told, so ORDER_BY names it again).
                out = root / "batch"
                keys = ", ".join(schema.PARTITION_KEY_NAMES)
                order = ", ".join(statement.file_order())
                conn.execute(
                    f"COPY ({select}) TO '{_quote(out)}' "
                    f"(FORMAT parquet, COMPRESSION {codec}{level}, PARTITION_BY ({keys}), ORDER_BY ({order}))"
                )
                files = {
                    f"{target}{f.relative_to(out).as_posix()}": f for f in sorted(out.rglob("*.parquet"))
                }
            else:
                out = root / "compacted.parquet"
                conn.execute(
                    f"COPY ({select}) TO '{_quote(out)}' (FORMAT parquet, COMPRESSION {codec}{level})"
                )
                files = {f"{target}{_SAFE.sub('_', token)[-40:]}.parquet": out}
        finally:
            conn.close()
        for key, path in files.items():
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
        self.written[token] = list(files)
        return token

    def wait(self, handle: str) -> None:
        if handle not in self.written:
            raise CompactionFailed(f"no statement {handle}")

    def _download_folder(self, location: str, root: Path) -> None:
        """The objects directly under a location (what Athena reads of a partition), mirrored under root."""
        _, prefix = plan.key_of(location)
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                if "/" not in item["Key"][len(prefix) :]:
                    self._download(item["Key"], root)

    def _download(self, key: str, root: Path) -> Path:
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        return target

    def _source_view(
        self, conn: duckdb.DuckDBPyConnection, members: Sequence[CompactionStatement], root: Path
    ) -> None:
        """The source table as Athena reads it for these statements: the listed objects only, each row with
        its object's ``"$path"`` and the partition values of its folder.

        Materialised once (a table, not a view): a batch's statement reads the source once per member, and
        over a view DuckDB binds every member's files again for each (115 members of one file each took
        120 s where the table takes 7, for the same rows). The objects do not change while it runs."""
        types = {c.name: athena.DUCKDB_TYPES[c.type] for c in schema.COLUMNS}
        select = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind in types.items())
        parts = []
        for member in members:
            files = [self._download(plan.key_of(uri)[1], root) for uri in member.sources]
            keys = ", ".join(f"'{member.values[k]}' AS \"{k}\"" for k in schema.PARTITION_KEY_NAMES)
            if files:
                paths = ", ".join(f"'{_quote(f)}'" for f in files)
                prefix = len(root.as_posix()) + 2
                parts.append(
                    f"SELECT {select}, {keys}, 's3://{self.bucket}/' || substr(filename, {prefix}) "
                    f'AS "$path" FROM read_parquet([{paths}], filename = true, union_by_name = true)'
                )
            else:
                parts.append(f'SELECT {select}, {keys}, NULL::VARCHAR AS "$path" FROM (SELECT 1) WHERE false')
        view = f'{members[0].database}."{members[0].source_table}"'
        conn.execute(f"CREATE OR REPLACE TABLE {view} AS {' UNION ALL '.join(parts)}")


def _quote(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def query_lake(
    s3: Any, glue: Any, *, bucket: str, database: str, table: str, athena_sql: str, workdir: Path
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run Athena SQL on the embedded lake now: the bucket mirrored, the catalog's partitions as they are."""
    root = Path(tempfile.mkdtemp(prefix="query-", dir=workdir))
    mirror(s3, bucket, root)
    conn = athena.connect(root, database, athena.catalog_partitions(glue, database, table))
    try:
        return athena.run(conn, athena_sql)
    finally:
        conn.close()
