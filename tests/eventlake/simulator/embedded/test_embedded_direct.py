"""The in-process answers of the embedded AWS (``kinesis_direct``, ``dynamodb_direct``) against moto's own.

Each test makes the same calls through a client answered in-process and through a plain moto client (on a
twin resource of the same backend) and requires the same parsed responses: the direct path is an
optimisation of the transport, never a different behaviour. State is shared: what one client writes, the
other reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.kinesis.models import Shard

from eventlake.simulator.embedded import dynamodb_direct, dynamodb_partiql, kinesis_direct
from eventlake.simulator.embedded.aws import ACCOUNT_ID

REGION = "eu-west-1"
INSERT = "INSERT INTO \"{table}\" VALUE {{'k': ?, 'holder': ?, 'n': ?}}"


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any, Any, Any]]:
    """(plain kinesis, direct kinesis, plain dynamodb, direct dynamodb) on one moto."""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with ExitStack() as stack:
            for context in (
                mock_aws(),
                dynamodb_partiql.installed(),
                kinesis_direct.installed(),
                dynamodb_direct.installed(),
            ):
                stack.enter_context(context)
            made = [
                boto3.client(s, region_name=REGION) for s in ("kinesis", "kinesis", "dynamodb", "dynamodb")
            ]
            stack.enter_context(kinesis_direct.attached(made[1], ACCOUNT_ID))
            stack.enter_context(dynamodb_direct.attached(made[3], ACCOUNT_ID))
            yield made[0], made[1], made[2], made[3]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_streams = iter(range(10**6))


def _stream(kinesis: Any, shards: int = 4) -> str:
    name = f"s{next(_streams)}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return name


def _body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _read_all(kinesis: Any, stream: str, limit: int | None = None) -> list[list[dict[str, Any]]]:
    """Every page of every shard from TRIM_HORIZON, timestamps replaced by their type and whole second."""
    pages = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            response = kinesis.get_records(ShardIterator=iterator, **({"Limit": limit} if limit else {}))
            records = response["Records"]
            assert isinstance(response["MillisBehindLatest"], int)
            if not records:
                break
            pages.append([_comparable(r) for r in records])
            iterator = response["NextShardIterator"]
    return pages


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    arrival = record["ApproximateArrivalTimestamp"]
    assert isinstance(arrival, datetime) and arrival.tzinfo is not None
    return {**record, "ApproximateArrivalTimestamp": type(arrival.tzinfo).__name__}


records_strategy = st.lists(
    st.tuples(st.text(min_size=1, max_size=20), st.binary(min_size=0, max_size=64)), min_size=1, max_size=60
)


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=records_strategy, limit=st.one_of(st.none(), st.integers(1, 25)))
def test_put_and_get_records_answer_as_moto_does(
    clients: Any, records: list[tuple[str, bytes]], limit: Any
) -> None:
    plain, direct, _, _ = clients
    streams = _stream(plain), _stream(plain)
    entries = [{"Data": data, "PartitionKey": key} for key, data in records]
    answers = [
        _body(client.put_records(StreamName=name, Records=entries))
        for client, name in zip((plain, direct), streams, strict=True)
    ]
    assert answers[0] == answers[1]
    # Either client reads what either wrote: the records live in moto's shards.
    assert _read_all(plain, streams[1], limit) == _read_all(direct, streams[0], limit)
    assert _read_all(direct, streams[1], limit) == _read_all(plain, streams[0], limit)


def test_a_reader_registered_at_latest_sees_exactly_the_later_records_in_order(clients: Any) -> None:
    plain, direct, _, _ = clients
    name = _stream(plain, shards=1)
    direct.put_records(StreamName=name, Records=[{"Data": b"before", "PartitionKey": "k"}])
    shard = plain.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = direct.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    sent = [f"r{i}".encode() for i in range(12)]
    direct.put_records(StreamName=name, Records=[{"Data": d, "PartitionKey": "k"} for d in sent])
    got = []
    for _ in range(5):
        response = direct.get_records(ShardIterator=iterator, Limit=5)
        got += [r["Data"] for r in response["Records"]]
        iterator = response["NextShardIterator"]
    assert got == sent


def test_the_arrival_clock_stamps_approximate_arrival(clients: Any) -> None:
    plain, direct, _, _ = clients
    name = _stream(plain, shards=1)
    kinesis_direct.CLOCK.set(lambda: 1_700_000_000.25)
    try:
        direct.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": "k"}])
    finally:
        kinesis_direct.CLOCK.set(None)
    shard = plain.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = plain.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    (record,) = direct.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert record["ApproximateArrivalTimestamp"].timestamp() == 1_700_000_000.25


@pytest.mark.parametrize(
    "entries",
    [
        [{"Data": b"x", "PartitionKey": "k"}] * 501,  # over PutRecords' count
        [{"Data": b"x" * (1024 * 1024), "PartitionKey": "k"}],  # one record over 1 MiB with its key
    ],
    ids=["501 records", "record over 1 MiB"],
)
def test_requests_beyond_the_limits_get_moto_s_error(clients: Any, entries: list[dict[str, Any]]) -> None:
    plain, direct, _, _ = clients
    name = _stream(plain)
    errors = []
    for client in (plain, direct):
        with pytest.raises(ClientError) as raised:
            client.put_records(StreamName=name, Records=entries)
        errors.append(raised.value.response["Error"]["Code"])
    assert errors[0] == errors[1]


def test_an_unknown_stream_is_moto_s_resource_not_found(clients: Any) -> None:
    _, direct, _, _ = clients
    with pytest.raises(direct.exceptions.ResourceNotFoundException):
        direct.put_records(StreamName="nope", Records=[{"Data": b"x", "PartitionKey": "k"}])


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 30), position=st.integers(0, 35), limit=st.one_of(st.none(), st.integers(1, 12)))
def test_reading_a_shard_by_key_equals_moto_s_scan(count: int, position: int, limit: Any) -> None:
    shard = Shard(0, 0, 2**128)
    for i in range(count):
        shard.records[i + 1] = kinesis_direct.StoredRecord("k", bytes([i]), i + 1, 1000.0 + i)
    fast = kinesis_direct.records_after(shard, str(position), limit)
    slow = kinesis_direct.ORIGINAL_GET_RECORDS(shard, str(position), limit)
    assert (fast[0], fast[1]) == (slow[0], slow[1])
    assert fast[2] == slow[2] or not fast[0]  # moto reports 0 ms behind when nothing is read


# --- DynamoDB ---------------------------------------------------------------------------------------------

_tables = iter(range(10**6))


def _table(dynamodb: Any) -> str:
    name = f"t{next(_tables)}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _insert(table: str, key: str, holder: str) -> dict[str, Any]:
    return {
        "Statement": INSERT.format(table=table),
        "Parameters": [{"S": key}, {"S": holder}, {"N": "17"}],
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


batches_strategy = st.lists(
    st.lists(st.tuples(st.sampled_from("abcdefgh"), st.sampled_from(["h1", "h2"])), min_size=1, max_size=25),
    min_size=1,
    max_size=5,
)


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batches=batches_strategy, read=st.lists(st.sampled_from("abcdefghxyz"), min_size=1, max_size=10))
def test_insert_batches_and_batch_get_answer_as_moto_does(
    clients: Any, batches: list[list[tuple[str, str]]], read: list[str]
) -> None:
    _, _, plain, direct = clients
    tables = _table(plain), _table(plain)
    for batch in batches:
        answers = [
            _body(client.batch_execute_statement(Statements=[_insert(table, k, h) for k, h in batch]))
            for client, table in zip((plain, direct), tables, strict=True)
        ]
        assert str(answers[0]).replace(tables[0], "T") == str(answers[1]).replace(tables[1], "T")
    keys = [{"k": {"S": k}} for k in dict.fromkeys(read)]
    got = [
        client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
        for client, table in zip((plain, direct), tables, strict=True)
    ]
    items = [sorted(g["Responses"][t], key=lambda i: i["k"]["S"]) for g, t in zip(got, tables, strict=True)]
    assert items[0] == items[1]
    assert got[0]["UnprocessedKeys"] == got[1]["UnprocessedKeys"] == {}


def test_moto_sees_every_item_written_in_process_and_insert_sees_moto_s(clients: Any) -> None:
    _, _, plain, direct = clients
    table = _table(plain)
    direct.batch_execute_statement(Statements=[_insert(table, "a", "h1"), _insert(table, "b", "h1")])
    # Any moto request first receives the in-process items: GetItem, Scan, DeleteItem see them.
    assert plain.get_item(TableName=table, Key={"k": {"S": "a"}})["Item"]["holder"] == {"S": "h1"}
    assert plain.scan(TableName=table)["Count"] == 2
    plain.delete_item(TableName=table, Key={"k": {"S": "b"}})
    plain.put_item(TableName=table, Item={"k": {"S": "c"}, "holder": {"S": "moto"}})
    response = direct.batch_execute_statement(
        Statements=[_insert(table, "a", "h2"), _insert(table, "b", "h2"), _insert(table, "c", "h2")]
    )
    codes = [r.get("Error", {}).get("Code") for r in response["Responses"]]
    assert codes == ["DuplicateItem", None, "DuplicateItem"]  # b was deleted in moto: free again
    read = direct.batch_get_item(RequestItems={table: {"Keys": [{"k": {"S": "b"}}, {"k": {"S": "c"}}]}})
    holders = sorted(i["holder"]["S"] for i in read["Responses"][table])
    assert holders == ["h2", "moto"]


def test_statements_it_does_not_model_are_moto_s(clients: Any) -> None:
    _, _, plain, direct = clients
    table = _table(plain)
    statements = [
        {"Statement": f'UPDATE "{table}" SET v = ? WHERE k = ?', "Parameters": [{"S": "x"}, {"S": "a"}]}
    ]
    answers = [_body(c.batch_execute_statement(Statements=statements)) for c in (plain, direct)]
    assert answers[0] == answers[1]
    nested = [{"Statement": INSERT.format(table=table), "Parameters": [{"S": "n"}, {"M": {}}, {"N": "1"}]}]
    direct.batch_execute_statement(Statements=nested)
    assert plain.get_item(TableName=table, Key={"k": {"S": "n"}})["Item"]["holder"] == {"M": {}}


@settings(max_examples=200, deadline=None)
@given(seconds=st.floats(0, 4e9) | st.integers(0, 4 * 10**9).map(lambda ms: ms / 1000))
def test_arrival_timestamps_are_botocore_s_own(seconds: float) -> None:
    """``GetRecords``' ApproximateArrivalTimestamp as botocore's parser gives it: same instant, fields, tz."""
    ours, botocore_s = kinesis_direct.arrival_datetime(seconds), DEFAULT_TIMESTAMP_PARSER(seconds)
    assert ours == botocore_s and ours.isoformat() == botocore_s.isoformat()
    assert type(ours.tzinfo) is type(botocore_s.tzinfo) and ours.utcoffset() == botocore_s.utcoffset()
