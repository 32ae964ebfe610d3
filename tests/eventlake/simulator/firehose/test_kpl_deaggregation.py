"""The local Firehose de-aggregates KPL aggregated records as AWS documents: each user record reaches the
Lambda with the aggregate's shard, sequence number and arrival and its own partition key, data and
subsequence number, which its row keeps; the raw backup keeps each Kinesis record as put (an aggregate whole),
error records keep the user record's bytes (and, for a conversion failure, its sequence and subsequence
numbers); a corrupt aggregate reaches the Lambda whole, is rejected and lands with its bytes as put under the
processing-failed prefix."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aws_contract import kpl_aggregation
from aws_contract.kpl_aggregation import UserRecord
from eventlake.firehose_formats import backup, error_records
from eventlake.firehose_formats.conversion import read_parquet
from eventlake.firehose_formats.source_records import deaggregated
from eventlake.simulator.embedded.aws import embedded_aws
from eventlake.simulator.firehose.model import FirehoseModel
from eventlake.simulator.firehose.s3_destination import BACKUP, DATA
from eventlake.simulator.firehose.transformation import Transformed
from eventlake.traffic.sample_events import valid_event
from glue.errors import ErrorOutputType
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.claims import NoClaims
from transform_lambda.handler import process

pytestmark = pytest.mark.e2e

SETTINGS = Settings.from_stack_file("dev")
SPEC = DeliverySpec.from_settings(SETTINGS)


def lines(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    start = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    return [json.dumps(valid_event(rng, start, 24)).encode() + b"\n" for _ in range(n)]


def users(data: list[bytes]) -> list[UserRecord]:
    return [UserRecord(json.loads(d)["event_uuid"], d) for d in data]


def test_a_get_records_record_becomes_its_user_records_or_stays_itself() -> None:
    events = users(lines(5, 1))
    at = datetime(2026, 11, 25, 1, tzinfo=UTC)
    record = {"SequenceNumber": "4966", "PartitionKey": "outer", "ApproximateArrivalTimestamp": at}
    got = deaggregated("shardId-1", {**record, "Data": kpl_aggregation.encode(events)})
    assert [(s.partition_key, s.data, s.subsequence_number) for s in got] == [
        (u.partition_key, u.data, i) for i, u in enumerate(events)
    ]
    assert {(s.shard_id, s.sequence_number, s.arrival_ms) for s in got} == {
        ("shardId-1", "4966", int(at.timestamp() * 1000))
    }
    [plain] = deaggregated("shardId-1", {**record, "Data": events[0].data})
    assert (plain.data, plain.partition_key, plain.subsequence_number) == (events[0].data, "outer", 0)


@given(
    st.binary(max_size=200)
    | st.lists(st.binary(max_size=50), min_size=1, max_size=5).map(
        lambda ds: kpl_aggregation.encode([UserRecord("k", d) for d in ds])
    )
)
def test_any_record_is_its_user_records_or_itself(data: bytes) -> None:
    record = {"SequenceNumber": "7", "PartitionKey": "p", "Data": data,
              "ApproximateArrivalTimestamp": datetime(2026, 11, 25, tzinfo=UTC)}  # fmt: skip
    got = deaggregated("s", record)
    users = kpl_aggregation.deaggregate(data)
    if users is None:
        assert [(g.data, g.subsequence_number) for g in got] == [(data, 0)]
    else:
        assert [(g.data, g.subsequence_number) for g in got] == [(u.data, i) for i, u in enumerate(users)]


def test_the_model_delivers_user_records_and_sends_a_corrupt_aggregate_to_errors() -> None:
    aggregate_lines, plain_line, broken_lines = lines(30, 2), lines(1, 3)[0], lines(4, 4)
    aggregate = kpl_aggregation.encode(users(aggregate_lines))
    good = kpl_aggregation.encode(users(broken_lines))
    corrupt = good[:60] + bytes([good[60] ^ 0x01]) + good[61:]  # one bit inside the protobuf: MD5 no longer
    seen: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        seen.extend(event["records"])
        return process(event, claims=NoClaims(), log=lambda _: None)

    unconvertible = aggregate_lines[2]

    def before_conversion(item: Transformed) -> bytes:
        return b"not json" if item.source.data == unconvertible else item.data

    with embedded_aws(SETTINGS, SPEC, region="eu-west-1") as aws:
        model = FirehoseModel(
            aws, aws.spec, invoke=invoke, rng=random.Random(1), before_conversion=before_conversion
        )
        put = {
            name: aws.kinesis.put_record(StreamName=aws.stream_name, Data=data, PartitionKey=key)
            for name, data, key in (
                ("aggregate", aggregate, users(aggregate_lines)[0].partition_key),
                ("plain", plain_line, "plain-key"),
                ("corrupt", corrupt, "corrupt-key"),
            )
        }
        run = model.run()
        objects = {w.key: aws.s3.get_object(Bucket=aws.bucket, Key=w.key)["Body"].read() for w in run.written}
        kinds = {w.key: w.kind for w in run.written}

    assert run.stats.records_read == 30 + 1 + 1
    by_sequence: dict[tuple[str, str], list[dict[str, Any]]] = {}  # sequence numbers are per shard
    for r in seen:
        meta = r["kinesisRecordMetadata"]
        by_sequence.setdefault((meta["shardId"], meta["sequenceNumber"]), []).append(r)

    def of(name: str) -> list[dict[str, Any]]:
        return by_sequence[(put[name]["ShardId"], put[name]["SequenceNumber"])]

    # The aggregate: 30 user records, its sequence number, their own subsequence numbers, keys and bytes.
    agg = of("aggregate")
    assert [r["kinesisRecordMetadata"]["subsequenceNumber"] for r in agg] == list(range(30))
    assert [base64.b64decode(r["data"]) for r in agg] == aggregate_lines
    assert [r["kinesisRecordMetadata"]["partitionKey"] for r in agg] == [
        u.partition_key for u in users(aggregate_lines)
    ]
    # Record ids are unique within a shard (each invocation reads one): the subsequence number keeps apart
    # the user records of one aggregate.
    ids = [(r["kinesisRecordMetadata"]["shardId"], r["recordId"]) for r in seen]
    assert len(set(ids)) == len(ids)
    [plain] = of("plain")
    assert plain["kinesisRecordMetadata"]["subsequenceNumber"] == 0
    assert base64.b64decode(plain["data"]) == plain_line
    # The corrupt aggregate reaches the Lambda whole, as one record.
    [broken] = of("corrupt")
    assert base64.b64decode(broken["data"]) == corrupt
    assert broken["kinesisRecordMetadata"]["partitionKey"] == "corrupt-key"

    # Each row names its user record: the aggregate's sequence number and its own subsequence number.
    rows = [
        row for key, body in objects.items() if kinds[key] == DATA for row in read_parquet(body).to_pylist()
    ]
    lineage = {(r["source_sequence_number"], r["source_subsequence_number"]) for r in rows}
    assert lineage == {(put["aggregate"]["SequenceNumber"], i) for i in range(30) if i != 2} | {
        (put["plain"]["SequenceNumber"], 0)
    }
    # raw/: each Kinesis record as put, the aggregate whole, the corrupt record too, nothing else.
    raw = b"".join(backup.decode(body, key) for key, body in objects.items() if kinds[key] == BACKUP)
    assert sorted(_pieces(raw, corrupt)) == sorted([aggregate, plain_line, corrupt])
    # errors/: the corrupt aggregate whole (processing failed), the unconvertible user record with its own
    # sequence and subsequence numbers (format conversion failed).
    errors = {
        kind: [error_records.read_error_line(x) for key, body in objects.items() if kinds[key] == kind
               for x in body.splitlines()]
        for kind in (ErrorOutputType.PROCESSING_FAILED.value, ErrorOutputType.FORMAT_CONVERSION_FAILED.value)
    }  # fmt: skip
    assert [e.raw for e in errors[ErrorOutputType.PROCESSING_FAILED.value]] == [corrupt]
    [conversion] = errors[ErrorOutputType.FORMAT_CONVERSION_FAILED.value]
    assert conversion.sequence_number == put["aggregate"]["SequenceNumber"]
    assert conversion.subsequence_number == 2


def _pieces(raw: bytes, corrupt: bytes) -> list[bytes]:
    """The backup split into the records that went in: the corrupt record whole (no framing finds where an
    aggregate that is not one ends), the rest as ``split_records`` cuts it."""
    at = raw.index(corrupt)
    rest = raw[:at] + raw[at + len(corrupt) :]
    return [corrupt, *kpl_aggregation.split_records(rest)]
