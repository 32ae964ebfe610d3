"""An embedded AWS with a few partitions landed the way Firehose lands them (several small Parquet objects per
partition, each registered through the registrar's EventBridge path), and the local compactor."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventlake.athena import engine as athena
from eventlake.firehose_formats.conversion import convert, to_parquet
from eventlake.simulator import local_compaction, local_lifecycle
from eventlake.simulator.embedded import eventbridge
from eventlake.simulator.embedded.aws import EmbeddedAws, embedded_aws
from eventlake.traffic import sample_events
from glue import schema
from glue.compactor_contract import SUPERSEDED_TAG
from infra.catalog_spec import CatalogSpec
from infra.compaction_spec import compaction_lifecycle_rules
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from lake_compactor import compaction_plan as plan
from lake_compactor.compactor import Compactor
from partition_registrar.registrar_handler import Registrar, created_objects
from transform_lambda.events import Lineage, enrich, parse_event, row_bytes

# Event hours 2026-11-25 08:00-09:59; "now" is well past the late window.
START = int(datetime(2026, 11, 25, 8, tzinfo=UTC).timestamp())
NOW = datetime(2026, 11, 25, 20, tzinfo=UTC)


@dataclass
class Lake:
    aws: EmbeddedAws
    workdir: Path
    rng: random.Random
    sequence: int = 0

    @property
    def database(self) -> str:
        return self.aws.spec.database_name

    @property
    def table(self) -> str:
        return self.aws.spec.table_name

    def land(self, rows: list[dict[str, Any]], values: dict[str, str]) -> str:
        """One object of ``rows`` in the partition's original folder, registered as the registrar would."""
        table, _, failures = convert([row_bytes(r) for r in rows])
        assert not failures
        self.sequence += 1
        key = schema.partition_folder(values) + (
            f"{self.aws.spec.delivery_stream_name}-1-2026-11-25-10-00-{self.sequence:02d}-{uuid.uuid4()}.parquet"
        )
        self.aws.s3.put_object(Bucket=self.aws.bucket, Key=key, Body=to_parquet(table, compression="SNAPPY"))
        event = eventbridge.object_created(
            bucket=self.aws.bucket,
            key=key,
            size=1,
            when_ms=1,
            account=self.aws.account.account_id,
            region=self.aws.region,
        )
        Registrar(self.aws.glue, self.database, self.table).register(created_objects(event))
        return key

    def events(
        self, count: int, hours: int = 2, start: int = START
    ) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """(partition, stored row) of ``count`` sample events over ``hours`` event hours from ``start``."""
        out = []
        for _ in range(count):
            event = parse_event(sample_events.valid_event(self.rng, start, hours))
            self.sequence += 1
            lineage = Lineage("shardId-000000000000", str(10**20 + self.sequence), (START + 7200) * 1000)
            row = enrich(event, lineage, is_duplicate=False, uuid_reused=False)  # a first arrival, as stored
            out.append((schema.partition_values(event.event_type, event.created_at), row))
        return out

    def land_events(
        self, count: int, *, objects_per_partition: int = 4, hours: int = 2, start: int = START
    ) -> list[str]:
        """``count`` events, split into several objects per partition (Firehose's buffer flushes)."""
        by_partition: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values, row in self.events(count, hours, start):
            by_partition.setdefault(tuple(values[k] for k in schema.PARTITION_KEY_NAMES), []).append(row)
        keys = []
        for ordered, rows in sorted(by_partition.items()):
            values = dict(zip(schema.PARTITION_KEY_NAMES, ordered, strict=True))
            step = max(1, -(-len(rows) // objects_per_partition))
            for start in range(0, len(rows), step):
                keys.append(self.land(rows[start : start + step], values))
        return keys

    def compactor(self, **config: Any) -> Compactor:
        return local_compaction.local_compactor(
            self.aws.glue,
            self.aws.s3,
            database=self.database,
            table=self.table,
            bucket=self.aws.bucket,
            workdir=self.workdir,
            **config,
        )

    def query(self, athena_sql: str) -> list[tuple[Any, ...]]:
        _, rows = local_compaction.query_lake(
            self.aws.s3,
            self.aws.glue,
            bucket=self.aws.bucket,
            database=self.database,
            table=self.table,
            athena_sql=athena_sql,
            workdir=self.workdir,
        )
        return rows

    def table_rows(self) -> list[tuple[Any, ...]]:
        """The whole table, every column (partition keys included), as a sorted list: order-free equality."""
        columns = ", ".join((*schema.COLUMN_NAMES, *schema.PARTITION_KEY_NAMES))
        return sorted(self.query(f"SELECT {columns} FROM events"), key=repr)

    def locations(self) -> dict[tuple[str, ...], str]:
        return {
            p.values: p.location for p in athena.catalog_partitions(self.aws.glue, self.database, self.table)
        }

    def keys(self, prefix: str) -> list[str]:
        pages = self.aws.s3.get_paginator("list_objects_v2").paginate(Bucket=self.aws.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def current_objects(self) -> set[str]:
        """What readers and the compactor need now: every current copy's files and manifest."""
        keys = set()
        for location in self.locations().values():
            _, folder = plan.key_of(location)
            keys |= set(self.keys(folder)) | {folder.rstrip("/") + ".json"}
        return keys

    def superseded(self, prefix: str = "") -> set[str]:
        """Keys (current versions) carrying the compactor's superseded tag."""
        key, value = SUPERSEDED_TAG
        out = set()
        for k in self.keys(prefix):
            tags = self.aws.s3.get_object_tagging(Bucket=self.aws.bucket, Key=k)["TagSet"]
            if {"Key": key, "Value": value} in tags:
                out.add(k)
        return out

    def expire(self, after_days: int) -> local_lifecycle.ExpiryOutcome:
        """What the bucket's lifecycle rules have done ``after_days`` from now (real time, as S3 dates
        objects)."""
        now = datetime.now(UTC) + timedelta(days=after_days)
        return local_lifecycle.apply_expiry(self.aws.s3, self.aws.bucket, now)

    def stored_bytes(self, prefix: str = "") -> int:
        return local_lifecycle.stored_bytes(self.aws.s3, self.aws.bucket, prefix)


def open_lake(tmp_path: Path) -> Iterator[Lake]:
    """A fresh embedded AWS with the stack's catalog and the compactor's source table (as deployed)."""
    settings = Settings.from_stack_file("dev")
    spec = DeliverySpec.from_settings(settings)
    with embedded_aws(settings, spec, region="eu-west-1") as aws:
        local_compaction.ensure_source_table(aws.glue, CatalogSpec.from_settings(settings), aws.bucket)
        # As deployed (infra/lake_bucket.py): versioned, with the rules expiring what compaction superseded,
        # whose noncurrent versions are kept the stack's noncurrentVersionDays.
        aws.s3.put_bucket_versioning(Bucket=aws.bucket, VersioningConfiguration={"Status": "Enabled"})
        rules = compaction_lifecycle_rules(
            settings.compacts, settings.compaction_expiry_days, settings.noncurrent_version_days
        )
        aws.s3.put_bucket_lifecycle_configuration(Bucket=aws.bucket, LifecycleConfiguration={"Rules": rules})
        yield Lake(aws, tmp_path, random.Random(16))
