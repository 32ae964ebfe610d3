"""Dedupe with KPL-aggregated producers (issue 30 item 3), through the local Firehose and the real claim store
on the embedded DynamoDB: the user records of one aggregate share its sequence number, so each claim's holder
is (shard, sequence number, subsequence number) and stays distinct per user record; Firehose redelivering an
aggregate's batch finds its own claims and marks nothing new; a producer re-sending the aggregate (a new
sequence number) has every copy marked."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from aws_contract import kpl_aggregation
from aws_contract.kpl_aggregation import UserRecord
from eventlake.simulator.embedded.aws import embedded_aws
from eventlake.simulator.firehose.model import FirehoseModel, lambda_invoke
from eventlake.traffic.sample_events import valid_event
from glue.claim_items import HOLDER_ATTRIBUTE, KEY_ATTRIBUTE
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.claims import DynamoClaims

pytestmark = pytest.mark.e2e

SETTINGS = Settings.from_stack_file("dev")  # dedupe: claims


def test_holders_are_per_user_record_and_a_redelivered_aggregate_finds_its_own_claims() -> None:
    rng = random.Random(5)
    start = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    lines = [json.dumps(valid_event(rng, start, 24)).encode() + b"\n" for _ in range(10)]
    lines.append(lines[3])  # an exact repeat inside the aggregate, at subsequence 10
    ids = [json.loads(line)["event_uuid"] for line in lines]
    aggregate = kpl_aggregation.encode([UserRecord(i, line) for i, line in zip(ids, lines, strict=True)])
    answers: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (request record, its answer), every attempt

    with embedded_aws(SETTINGS, DeliverySpec.from_settings(SETTINGS), region="eu-west-1") as aws:
        claims = DynamoClaims(aws.dynamodb, aws.claims_table or "", ttl_seconds=3600, sleep=lambda _: None)
        real = lambda_invoke(claims, lambda _: None, function_name=SETTINGS.function_name)

        def invoke(event: Any) -> Any:
            response = real(event)
            by_id = {r["recordId"]: r for r in response["records"]}
            answers.extend((r, by_id[r["recordId"]]) for r in event["records"])
            return response

        # redeliver=1.0: Firehose processes (and delivers) every batch a second time, as at-least-once allows.
        model = FirehoseModel(aws, aws.spec, invoke=invoke, rng=random.Random(1), redeliver=1.0)
        first = aws.kinesis.put_record(StreamName=aws.stream_name, Data=aggregate, PartitionKey=ids[0])
        model.run()
        again = aws.kinesis.put_record(StreamName=aws.stream_name, Data=aggregate, PartitionKey=ids[0])
        model.run()
        holders = {
            item[KEY_ATTRIBUTE]["S"]: item[HOLDER_ATTRIBUTE]["S"]
            for item in aws.dynamodb.scan(TableName=aws.claims_table)["Items"]
        }

    shard = first["ShardId"]
    assert again["ShardId"] == shard and again["SequenceNumber"] != first["SequenceNumber"]
    # Each distinct event is held by its first user record: the aggregate's sequence number, its subsequence.
    assert holders == {ids[i].lower(): f"{shard}:{first['SequenceNumber']}:{i}" for i in range(10)}

    def marks(sequence: str) -> list[list[tuple[int, bool]]]:
        """Each delivery of that Kinesis record: (subsequence number, is_duplicate) of its user records."""
        rows = [
            (req["kinesisRecordMetadata"]["subsequenceNumber"], json.loads(base64.b64decode(ans["data"])))
            for req, ans in answers
            if req["kinesisRecordMetadata"]["sequenceNumber"] == sequence and ans["result"] == "Ok"
        ]
        deliveries = [rows[i : i + len(lines)] for i in range(0, len(rows), len(lines))]
        return [[(sub, row["is_duplicate"]) for sub, row in d] for d in deliveries]

    expected_first = [(i, i == 10) for i in range(11)]  # only the in-aggregate repeat is marked
    assert marks(first["SequenceNumber"]) == [expected_first, expected_first]  # redelivery marks nothing new
    assert marks(again["SequenceNumber"]) == [[(i, True) for i in range(11)]] * 2  # the re-send: all repeats
