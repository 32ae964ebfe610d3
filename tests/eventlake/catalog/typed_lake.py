"""A small lake of the sample generator's events, written as Firehose writes each mode's objects (the Lambda's
Parquet rows, or the jq mode's records as sent, GZIP JSON Lines) in the Hive partition layout, without running
the pipeline: the typed-view tests need rows whose payloads they choose (wrong-typed values among them)."""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from eventlake.athena import engine as athena
from eventlake.traffic.sample_events import CATALOGUE
from glue import partition_query, schema
from infra import processors

START = 1_795_000_000  # 2026-11-18T09:46:40Z
Event = dict[str, Any]  # event_uuid, event_name, created_at and the payload's fields


def sample_events(per_name: int, seed: int = 7) -> list[Event]:
    """``per_name`` events of every sample name, over three hours, as the producer would send them."""
    rng = random.Random(seed)
    events = []
    for name, build in CATALOGUE.items():
        for _ in range(per_name):
            payload = json.loads(json.dumps(build(rng)))
            events.append(
                {
                    "event_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "event_name": name,
                    "created_at": START + rng.randrange(3 * 3600),
                    **payload,
                }
            )
    return events


def payload_of(event: Event) -> Event:
    return {k: v for k, v in event.items() if k not in schema.INPUT_FIELDS}


def _partition(event: Event) -> dict[str, str]:
    return schema.partition_values(event["event_name"].split(":")[0], event["created_at"])


def write_lake(
    root: Path, events: list[Event], *, as_sent: bool, copies: Callable[[int], int] = lambda i: 1
) -> None:
    """One object per partition. ``copies(i)``: how many times event ``i`` was delivered (a re-send is a
    second row with a later arrival, which ``unique_events`` drops)."""
    by_partition: dict[str, list[tuple[Event, int]]] = {}
    for index, event in enumerate(events):
        for copy in range(copies(index)):
            by_partition.setdefault(schema.partition_folder(_partition(event)), []).append((event, copy))
    for folder, rows in by_partition.items():
        target = root / folder
        target.mkdir(parents=True, exist_ok=True)
        if as_sent:
            text = "".join(json.dumps(event, ensure_ascii=False) + "\n" for event, _ in rows)
            (target / f"part-0{partition_query.OUTPUT_EXTENSION}").write_bytes(gzip.compress(text.encode()))
        else:
            pq.write_table(_parquet_rows(rows), target / "part-0.parquet")


def _parquet_rows(rows: list[tuple[Event, int]]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in schema.COLUMN_NAMES}
    for sequence, (event, copy) in enumerate(rows):
        name = event["event_name"]
        created = event["created_at"]
        values = {
            "event_uuid": event["event_uuid"],
            "event_name": name,
            "event_subtype": name.split(":")[1] if ":" in name else None,
            "created_at": created,
            "created_datetime": created * 1000,
            "is_duplicate": copy > 0,
            "uuid_reused": False,
            "payload": json.dumps(payload_of(event), ensure_ascii=False),
            "source_shard_id": "shardId-000000000000",
            "source_sequence_number": str(10**20 + sequence),
            "source_subsequence_number": 0,
            "source_arrival_datetime": (created + 5 + copy) * 1000,
        }
        for key, value in values.items():
            columns[key].append(value)
    types = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("ms"),
    }
    return pa.table({c.name: pa.array(columns[c.name], type=types[c.type]) for c in schema.COLUMNS})


def connect(root: Path, *, as_sent: bool, database: str = athena.LOCAL_DATABASE) -> Any:
    """The local Athena over the lake, every partition registered (as the registrar would)."""
    partitions = []
    for folder in sorted({p.parent for p in (root / schema.DATA_ROOT).glob("*/*/*/*") if p.is_file()}):
        values = schema.partition_of_key(folder.relative_to(root).as_posix() + "/x")
        assert values is not None
        partitions.append(
            athena.CatalogPartition(
                tuple(values[k] for k in schema.PARTITION_KEY_NAMES),
                f"s3://lake/{schema.partition_folder(values)}",
                () if as_sent else schema.COLUMN_NAMES,
            )
        )
    return athena.connect(root, database, partitions, processors.JQ if as_sent else processors.LAMBDA)
