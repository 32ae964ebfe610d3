"""The DynamoDB claim store, against moto's DynamoDB (conditional PutItem is modelled there)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from transform_lambda.claims import (
    EXPIRES_ATTRIBUTE,
    KEY_ATTRIBUTE,
    Claim,
    ClaimStoreError,
    DynamoClaims,
)

TABLE = "eventlake-test-claims"


@pytest.fixture
def client() -> Iterator[Any]:
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="eu-west-1")
            ddb.create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            yield ddb
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def store(client: Any, now: float = 1_764_072_000) -> DynamoClaims:
    return DynamoClaims(client, TABLE, ttl_seconds=3600, clock=lambda: now)


def test_first_writer_wins_and_later_holders_see_a_duplicate(client: Any) -> None:
    assert store(client).claim([Claim("a", "shard-0:1"), Claim("b", "shard-0:2")]) == set()
    assert store(client).claim([Claim("a", "shard-1:9"), Claim("c", "shard-1:10")]) == {"a"}
    item = client.get_item(TableName=TABLE, Key={KEY_ATTRIBUTE: {"S": "a"}})["Item"]
    assert item["holder"]["S"] == "shard-0:1"
    assert int(item[EXPIRES_ATTRIBUTE]["N"]) == 1_764_072_000 + 3600


def test_a_retried_record_reclaims_its_own_id(client: Any) -> None:
    assert store(client).claim([Claim("a", "shard-0:1")]) == set()
    assert store(client).claim([Claim("a", "shard-0:1")]) == set()


def test_an_expired_claim_is_free_even_before_ttl_deletes_it(client: Any) -> None:
    assert store(client, now=1000).claim([Claim("a", "shard-0:1")]) == set()
    assert store(client, now=1000 + 3599).claim([Claim("a", "shard-0:2")]) == {"a"}
    assert store(client, now=1000 + 3601).claim([Claim("a", "shard-0:2")]) == set()


def test_concurrent_invocations_let_exactly_one_holder_win(client: Any) -> None:
    outcomes: list[set[str]] = []
    lock = threading.Lock()

    def invoke(holder: str) -> None:
        held = store(client).claim([Claim("contested", holder)])
        with lock:
            outcomes.append(held)

    threads = [threading.Thread(target=invoke, args=(f"shard-{i}:1",)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(o) for o in outcomes) == [0, 1, 1, 1, 1]


def test_store_errors_surface_as_claim_store_error(client: Any) -> None:
    broken = DynamoClaims(client, "no-such-table", ttl_seconds=60)
    with pytest.raises(ClaimStoreError, match="no-such-table"):
        broken.claim([Claim("a", "h")])


def test_the_entry_point_uses_the_table_the_program_names(client: Any, monkeypatch: Any) -> None:
    """With the environment infra/processor.py sets, duplicates are marked across invocations."""
    import base64
    import json

    from firehose_records import firehose_event, raw_event

    from transform_lambda import handler
    from transform_lambda.claims import ENV_TABLE, ENV_TTL_SECONDS

    monkeypatch.setenv(ENV_TABLE, TABLE)
    monkeypatch.setenv(ENV_TTL_SECONDS, "3600")
    monkeypatch.setattr(handler, "_STORE", None)
    first = handler.handler(firehose_event([raw_event()]), None)
    again = firehose_event([raw_event()])
    for record in again["records"]:  # the same event re-sent: a new Kinesis record
        record["kinesisRecordMetadata"]["sequenceNumber"] += "1"
    second = handler.handler(again, None)
    marks = [json.loads(base64.b64decode(r["records"][0]["data"]))["is_duplicate"] for r in (first, second)]
    assert marks == [False, True]
    assert isinstance(handler.claim_store(), DynamoClaims)
    monkeypatch.setattr(handler, "_STORE", None)
