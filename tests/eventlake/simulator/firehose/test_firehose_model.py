"""The Firehose model's contract enforcement, with fake Lambda functions and a fake S3: every rule
from aws-rules.md that decides where a record goes."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from aws_contract import limits
from eventlake.firehose_formats import error_records
from eventlake.firehose_formats.source_records import SourceRecord
from eventlake.simulator.embedded.aws import embedded_aws
from eventlake.simulator.firehose.s3_destination import S3Destination
from eventlake.simulator.firehose.transformation import Batcher, LambdaProcessor, Transformed, record_id
from glue import schema
from glue.claim_items import EXPIRES_ATTRIBUTE
from glue.errors import ErrorCode, ErrorOutputType
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.claims import NoClaims
from transform_lambda.handler import process

pytestmark = pytest.mark.e2e

SPEC = DeliverySpec.from_settings(Settings.from_stack_file("dev"))
ARRIVAL = 1_764_072_001_000


def source(i: int, data: bytes | None = None, shard: str = "shardId-000000000000") -> SourceRecord:
    event = {
        "event_uuid": f"00000000-0000-4000-8000-{i:012d}",
        "event_name": "a:b",
        "created_at": 1_764_072_000,
    }
    return SourceRecord(
        shard, str(100 + i), f"pk{i}", data or json.dumps(event).encode() + b"\n", ARRIVAL + i
    )


def processor(invoke: Any, retries: int = 3) -> LambdaProcessor:
    return LambdaProcessor(
        invoke,
        retries=retries,
        delivery_stream_arn="arn:aws:firehose:eu-west-1:123456789012:deliverystream/d",
        source_stream_arn="arn:aws:kinesis:eu-west-1:123456789012:stream/s",
        region="eu-west-1",
    )


def real(event: dict[str, Any]) -> dict[str, Any]:
    return process(event, claims=NoClaims(), log=lambda _: None)


def test_the_event_is_firehose_shaped() -> None:
    seen: list[dict[str, Any]] = []
    processor(lambda e: seen.append(e) or real(e)).process([source(1)], ARRIVAL)
    event = seen[0]
    assert set(event) == {"invocationId", "deliveryStreamArn", "sourceKinesisStreamArn", "region", "records"}
    record = event["records"][0]
    assert isinstance(record["approximateArrivalTimestamp"], int)
    meta = record["kinesisRecordMetadata"]
    assert isinstance(meta["sequenceNumber"], str) and isinstance(meta["subsequenceNumber"], int)
    assert base64.b64decode(record["data"]) == source(1).data


def test_ok_records_come_back_transformed_with_partition_keys() -> None:
    result = processor(real).process([source(1), source(2)], ARRIVAL)
    assert [t.source for t in result.ok] == [source(1), source(2)]
    assert set(result.ok[0].partition_keys or {}) == set(schema.PARTITION_KEY_NAMES)
    assert result.failed == [] and result.attempts == 1


def with_records(transform: Any) -> Any:
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return {"records": transform(real(event)["records"])}

    return invoke


def test_a_missing_record_id_fails_that_record_alone() -> None:
    result = processor(with_records(lambda rs: rs[1:])).process([source(1), source(2)], ARRIVAL)
    assert [(f.source, f.error_code) for f in result.failed] == [(source(1), ErrorCode.MISSING_RECORD_ID)]
    assert [t.source for t in result.ok] == [source(2)]


def test_a_duplicated_record_id_fails_that_record_alone() -> None:
    result = processor(with_records(lambda rs: [rs[0], rs[0], rs[1]])).process(
        [source(1), source(2)], ARRIVAL
    )
    assert [(f.source, f.error_code) for f in result.failed] == [(source(1), ErrorCode.DUPLICATED_RECORD_ID)]
    assert [t.source for t in result.ok] == [source(2)]


@pytest.mark.parametrize(
    ("response", "code"),
    [
        ({"recordz": []}, ErrorCode.MISSING_RECORD_ID),
        ({"records": None}, ErrorCode.MISSING_RECORD_ID),
        ({"records": [{"recordId": ["not", "a", "string"], "result": "Ok"}]}, ErrorCode.MISSING_RECORD_ID),
        ([], ErrorCode.MISSING_RECORD_ID),
        ("{not json", ErrorCode.JSON_PROCESSING),
    ],
)
def test_a_response_without_records_fails_every_record_without_retry(response: Any, code: ErrorCode) -> None:
    calls = []
    result = processor(lambda e: calls.append(1) or response).process([source(1), source(2)], ARRIVAL)
    assert [f.error_code for f in result.failed] == [code, code]
    assert len(calls) == 1 and result.attempts == 1


def test_an_oversized_response_is_a_failed_invocation_retried_then_function_error() -> None:
    big = {"records": [], "padding": "x" * limits.LAMBDA_PAYLOAD_LIMIT_BYTES}
    result = processor(lambda e: big, retries=2).process([source(1)], ARRIVAL)
    assert [f.error_code for f in result.failed] == [ErrorCode.FUNCTION_ERROR]
    assert result.attempts == 3 and len(result.errors) == 3
    assert result.failed[0].attempts == 3


def test_a_raising_function_is_retried_and_then_every_record_fails_with_its_original_bytes() -> None:
    def boom(event: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    result = processor(boom, retries=3).process([source(1), source(2)], ARRIVAL)
    assert [f.error_code for f in result.failed] == [ErrorCode.FUNCTION_ERROR] * 2
    assert all(f.attempts == 4 for f in result.failed)
    assert [f.source.data for f in result.failed] == [source(1).data, source(2).data]
    assert result.failed[0].attempt_ending_ms > ARRIVAL


def test_one_failed_attempt_then_success_delivers_everything() -> None:
    attempts = iter([RuntimeError("throttled"), None])

    def flaky(event: dict[str, Any]) -> Any:
        error = next(attempts)
        if error:
            raise error
        return real(event)

    result = processor(flaky).process([source(1)], ARRIVAL)
    assert len(result.ok) == 1 and result.attempts == 2 and result.ok[0].attempts == 2


def test_results_dropped_processing_failed_and_ok_without_data() -> None:
    def mixed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**records[0], "result": "Dropped"},
            {**records[1], "result": "ProcessingFailed"},
            {k: v for k, v in records[2].items() if k != "data"},
        ]

    result = processor(with_records(mixed)).process([source(1), source(2), source(3)], ARRIVAL)
    assert result.dropped == [source(1)]
    assert [(f.source, f.error_code) for f in result.failed] == [
        (source(2), ErrorCode.PROCESSING_FAILED_STATUS),
        (source(3), ErrorCode.JSON_PROCESSING),
    ]


def test_record_ids_are_unique_digits() -> None:
    ids = {record_id(source(i)) for i in range(50)}
    assert len(ids) == 50 and all(i.isdigit() for i in ids)


def test_batches_close_on_size_count_and_interval() -> None:
    big = Batcher(buffer_mb=SPEC.processor_buffer_mb, interval_s=60, max_records=3)
    closed = [b for i in range(7) for b in big.add(source(i), ARRIVAL)]
    assert [len(b) for b, _ in closed] == [3, 3]
    assert [len(b) for b, _ in big.flush()] == [1]

    by_size = Batcher(buffer_mb=0.2, interval_s=60)
    payload = b"x" * 90_000
    closed = [b for i in range(5) for b in by_size.add(source(i, payload), ARRIVAL)]
    assert [len(b) for b, _ in closed] == [2, 2]  # 0.2 MiB holds two 90 kB records

    by_time = Batcher(buffer_mb=1, interval_s=60)
    assert by_time.add(source(1), ARRIVAL) == []
    (batch, closed_at), *_ = by_time.add(source(2), ARRIVAL + 61_000)
    assert batch == [source(1)] and closed_at == ARRIVAL + 60_000


def test_batches_are_per_shard() -> None:
    batcher = Batcher(buffer_mb=1, interval_s=60)
    batcher.add(source(1, shard="shardId-000000000000"), ARRIVAL)
    batcher.add(source(2, shard="shardId-000000000001"), ARRIVAL)
    assert sorted(len(b) for b, _ in batcher.flush()) == [1, 1]


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:
        self.objects[Key] = Body


def delivery(s3: FakeS3, **kwargs: Any) -> S3Destination:
    return S3Destination(
        s3,
        "bucket",
        SPEC,
        lambda_arn="arn:aws:lambda:eu-west-1:123456789012:function:f",
        catalog={"databaseName": SPEC.database_name, "tableName": SPEC.table_name},
        rng=random.Random(1),
        **kwargs,
    )


def transformed(i: int, event_type: str = "a", keys: bool = True) -> Transformed:
    record = source(i)
    item = processor(real).process([record], ARRIVAL).ok[0]
    row = json.loads(item.data)
    row["event_name"] = f"{event_type}:b"
    partition = {**(item.partition_keys or {}), "event_type": event_type}
    return Transformed(record, json.dumps(row).encode() + b"\n", partition if keys else None, 1)


def error_lines(s3: FakeS3, output_type: str) -> list[error_records.ErrorRecord]:
    return [
        error_records.read_error_line(line)
        for key, body in s3.objects.items()
        if key.startswith(f"{schema.ERROR_ROOT}{output_type}/")
        for line in body.splitlines()
    ]


def test_missing_partition_keys_go_to_partitioning_failed_with_the_transformed_bytes() -> None:
    s3 = FakeS3()
    model = delivery(s3)
    item = transformed(1, keys=False)
    model.deliver([item], ARRIVAL)
    model.flush()
    (line,) = error_lines(s3, ErrorOutputType.PARTITIONING_FAILED)
    assert line.raw == item.data and line.error_code == ErrorCode.MISSING_PARTITION_KEY
    assert not any(k.startswith(schema.DATA_ROOT) for k in s3.objects)


def test_partitions_beyond_the_active_limit_go_to_the_error_prefix() -> None:
    s3 = FakeS3()
    model = delivery(s3, max_active_partitions=2)
    model.deliver([transformed(i, event_type=f"t{i}") for i in range(4)], ARRIVAL)
    model.deliver([transformed(9, event_type="t0")], ARRIVAL)  # an open partition still takes records
    model.flush()
    data = [k for k in s3.objects if k.startswith(schema.DATA_ROOT)]
    assert len(data) == 2
    assert len(error_lines(s3, ErrorOutputType.ACTIVE_PARTITION_EXCEEDED)) == 2


def test_a_partition_buffer_is_delivered_when_its_interval_runs_out() -> None:
    s3 = FakeS3()
    model = delivery(s3)
    model.deliver([transformed(1)], ARRIVAL)
    model.tick(ARRIVAL + SPEC.buffering_interval_seconds * 1000 - 1)
    assert s3.objects == {}
    model.tick(ARRIVAL + SPEC.buffering_interval_seconds * 1000)
    (key,) = s3.objects
    assert key.startswith(f"{schema.DATA_ROOT}event_type=a/")
    assert key.endswith(SPEC.file_extension)


def test_the_embedded_aws_mirrors_the_spec_in_moto() -> None:
    settings = Settings.from_stack_file("dev")
    with embedded_aws(settings, SPEC, region="eu-west-1") as aws:
        description = aws.firehose.describe_delivery_stream(DeliveryStreamName=SPEC.delivery_stream_name)
        stream = description["DeliveryStreamDescription"]
        destination = stream["Destinations"][0]["ExtendedS3DestinationDescription"]
        assert destination["Prefix"] == SPEC.prefix
        assert destination["ErrorOutputPrefix"] == SPEC.error_output_prefix
        assert destination["BufferingHints"] == {
            "SizeInMBs": SPEC.buffering_size_mib,
            "IntervalInSeconds": SPEC.buffering_interval_seconds,
        }
        assert stream["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"] == aws.stream_arn
        table = aws.glue.get_table(DatabaseName=settings.glue_database, Name=schema.TABLE_NAME)["Table"]
        assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == list(schema.COLUMN_NAMES)
        assert [c["Name"] for c in table["PartitionKeys"]] == list(schema.PARTITION_KEY_NAMES)
        assert aws.claims_table == settings.claims_table_name
        ttl = aws.dynamodb.describe_time_to_live(TableName=aws.claims_table)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == EXPIRES_ATTRIBUTE
        shards = aws.kinesis.list_shards(StreamName=aws.stream_name)["Shards"]
        assert len(shards) == 4  # ON_DEMAND opens with four shards
