"""README's Python aggregating producer (awslabs' ``aws-kinesis-agg``, one aggregator per shard), run as
printed against a 4-shard stream of moto's Kinesis: every line arrives exactly once, each aggregate lands
on the shard its first key maps to, every user record in it maps to that same shard (as the KPL packs), and
each aggregate is one Kinesis record within its size limit. So the example a producer team copies does what
it says."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
from collections import Counter
from typing import Any

import boto3
from moto import mock_aws

from aws_contract import kpl_aggregation as kpl
from aws_contract import limits
from infra.settings import PROJECT_ROOT

INTRO = "From Python, with awslabs' `aws-kinesis-agg`"


def readme_example() -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(INTRO) :]
    found = re.search(r"```python\n(.*?)```", after, re.S)
    assert found, "README's aggregating-producer example is gone"
    return found.group(1)


def shard_of(shards: list[dict[str, Any]], key: str) -> str:
    point = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
    return next(
        s["ShardId"]
        for s in shards
        if int(s["HashKeyRange"]["StartingHashKey"]) <= point <= int(s["HashKeyRange"]["EndingHashKey"])
    )


def test_the_readme_aggregating_producer_puts_every_line_once_on_its_keys_shard() -> None:
    lines = [
        (
            json.dumps({"event_uuid": str(uuid.UUID(int=i * 7919 + 1)), "event_name": "a:b", "n": i}) + "\n"
        ).encode()
        for i in range(3_000)
    ]
    # aws-kinesis-agg puts its own folder on sys.path on import: keep that to the example.
    saved = list(sys.path)
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="eu-west-1")
        kinesis.create_stream(StreamName="events", ShardCount=4)
        try:
            exec(
                compile(readme_example(), "README.md", "exec"),
                {"kinesis": kinesis, "stream": "events", "lines": lines},
            )
        finally:
            sys.path[:] = saved
        shards = kinesis.list_shards(StreamName="events")["Shards"]
        got: Counter[bytes] = Counter()
        puts = 0
        for shard in shards:
            iterator = kinesis.get_shard_iterator(
                StreamName="events", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            records = kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
            for record in records:
                puts += 1
                data = bytes(record["Data"])
                assert len(data) + len(record["PartitionKey"].encode()) <= limits.KINESIS_RECORD_MAX_BYTES
                users = kpl.deaggregate(data)
                assert users is not None, "each put is a KPL aggregate"
                assert shard_of(shards, record["PartitionKey"]) == shard["ShardId"]
                assert {shard_of(shards, u.partition_key) for u in users} == {shard["ShardId"]}
                got.update(u.data for u in users)
    assert got == Counter(lines)
    assert puts < len(lines) / 10  # aggregated: many events a Kinesis record
