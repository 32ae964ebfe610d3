"""``eventlake reprocess`` against the embedded AWS behind an endpoint, driven as a user drives it: error
objects of every type in the bucket, claims in the claims table, records read back from the stream."""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import reprocess_fixes
from embedded_server import embedded_aws_server

from aws_contract import kpl_aggregation
from eventlake.cli.main import main
from eventlake.firehose_formats import error_records, prefixes
from eventlake.firehose_formats.conversion import convert, to_parquet
from eventlake.operations import recovery
from eventlake.simulator.embedded.aws import EmbeddedAws, stack_region
from glue import schema
from glue.claim_items import EXPIRES_ATTRIBUTE, FINGERPRINT_ATTRIBUTE, HOLDER_ATTRIBUTE, KEY_ATTRIBUTE
from glue.errors import ErrorCode, ErrorOutputType
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.events import Lineage, enrich, parse_event, row_bytes

SETTINGS = Settings.from_stack_file("dev")
SPEC = DeliverySpec.from_settings(SETTINGS)
HOUR = datetime(2026, 11, 25, 7, tzinfo=UTC)
ARRIVAL_MS = int((HOUR + timedelta(minutes=10)).timestamp() * 1000)
SHARD = "shardId-000000000002"
PROCESSING = ErrorOutputType.PROCESSING_FAILED
CONVERSION = ErrorOutputType.FORMAT_CONVERSION_FAILED


@pytest.fixture
def lake() -> Iterator[Lake]:
    with embedded_aws_server(SETTINGS, SPEC, region=stack_region("dev")) as (aws, endpoint):
        yield Lake(aws, endpoint)


@dataclass
class Lake:
    aws: EmbeddedAws
    endpoint: str
    serial: int = 0
    sequence: int = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000
    bodies: dict[str, bytes] = field(default_factory=dict)

    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
        code = main(["reprocess", "--endpoint-url", self.endpoint, "--output", "json", *argv])
        captured = capsys.readouterr()
        return code, (json.loads(captured.out) if captured.out.strip() else {}), captured.err

    def error_object(self, output_type: str, lines: list[dict[str, Any]], hour: datetime = HOUR) -> str:
        self.serial += 1
        name = f"{SPEC.delivery_stream_name}-1-{hour:%Y-%m-%d-%H}-12-00-{self.serial:08d}-aaaa-bbbb-cccc-dddd"
        key = recovery.hour_folder(SPEC, output_type, hour) + name
        self.put(key, error_records.to_lines(lines))
        return key

    def put(self, key: str, body: bytes) -> None:
        self.aws.s3.put_object(Bucket=self.aws.bucket, Key=key, Body=body)
        self.bodies[key] = body

    def listed(self, prefix: str = "") -> set[str]:
        pages = self.aws.s3.get_paginator("list_objects_v2").paginate(Bucket=self.aws.bucket, Prefix=prefix)
        return {o["Key"] for page in pages for o in page.get("Contents", [])}

    def body(self, key: str) -> bytes:
        return bytes(self.aws.s3.get_object(Bucket=self.aws.bucket, Key=key)["Body"].read())

    def next_sequence(self) -> str:
        self.sequence += 1
        return str(self.sequence)

    def claim(self, event: dict[str, Any], holder: str) -> None:
        assert self.aws.claims_table
        self.aws.dynamodb.put_item(
            TableName=self.aws.claims_table,
            Item={
                KEY_ATTRIBUTE: {"S": event["event_uuid"].lower()},
                HOLDER_ATTRIBUTE: {"S": holder},
                FINGERPRINT_ATTRIBUTE: {"S": "f"},
                EXPIRES_ATTRIBUTE: {"N": "4102444800"},
            },
        )

    def holder_of(self, event: dict[str, Any]) -> str | None:
        assert self.aws.claims_table
        item = self.aws.dynamodb.get_item(
            TableName=self.aws.claims_table, Key={KEY_ATTRIBUTE: {"S": event["event_uuid"].lower()}}
        ).get("Item")
        return item[HOLDER_ATTRIBUTE]["S"] if item else None

    def stream(self) -> Counter[bytes]:
        """Every record on the stream, from the start of each shard."""
        kinesis, name = self.aws.kinesis, self.aws.stream_name
        out: Counter[bytes] = Counter()
        for shard in kinesis.list_shards(StreamName=name)["Shards"]:
            iterator = kinesis.get_shard_iterator(
                StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                response = kinesis.get_records(ShardIterator=iterator)
                out.update(bytes(r["Data"]) for r in response["Records"])
                if not response["Records"]:
                    break
                iterator = response.get("NextShardIterator")
        return out


def event(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_uuid": f"0b6c3f0e-5a43-4c47-9d8e-{n:012d}",
        "event_name": "payment:order:completed",
        "created_at": 1_764_054_000 + n,
        "amount": 12.5,
        "currency": "EUR",
        **extra,
    }


def line(value: dict[str, Any], *, spaced: bool = False) -> bytes:
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(value, separators=separators).encode() + b"\n"


def processing_failed(raw: bytes, code: ErrorCode) -> dict[str, Any]:
    return error_records.processing_failed(
        raw,
        error_code=code.value,
        error_message="failed",
        attempts_made=4,
        arrival_ms=ARRIVAL_MS,
        attempt_ending_ms=ARRIVAL_MS + 60_000,
        lambda_arn="arn:aws:lambda:eu-west-1:123456789012:function:eventlake-dev-transform:$LATEST",
    )


def transformed(value: dict[str, Any], sequence: str) -> bytes:
    """The Lambda's row for ``value``, as a stage after the Lambda writes it into rawData."""
    return row_bytes(enrich(parse_event(value), Lineage(SHARD, sequence, ARRIVAL_MS), is_duplicate=False))


def conversion_failed(value: dict[str, Any], sequence: str) -> dict[str, Any]:
    return error_records.format_conversion_failed(
        transformed(value, sequence),
        error_code=ErrorCode.MALFORMED_DATA.value,
        error_message="The created_datetime is not a timestamp",
        attempts_made=1,
        arrival_ms=ARRIVAL_MS,
        attempt_ending_ms=ARRIVAL_MS + 60_000,
        sequence_number=sequence,
        subsequence_number=0,
        catalog={"catalogId": "123456789012", "databaseName": SPEC.database_name, "tableName": "events"},
    )


def after_partitioning(value: dict[str, Any], sequence: str, code: ErrorCode) -> dict[str, Any]:
    return error_records.partitioning_failed(
        transformed(value, sequence),
        error_code=code.value,
        error_message="failed",
        attempts_made=1,
        arrival_ms=ARRIVAL_MS,
        attempt_ending_ms=ARRIVAL_MS + 60_000,
    )


def raw_backup(lake: Lake, *records: bytes) -> None:
    folder = prefixes.evaluate(SPEC.backup_prefix, arrival=HOUR, dynamic_partitioning=False)
    lake.put(f"{folder}{SPEC.delivery_stream_name}-1-backup.gz", gzip.compress(b"".join(records)))


@pytest.mark.slow
def test_every_error_type_goes_back_claims_are_released_and_objects_archived(
    capsys: pytest.CaptureFixture[str], lake: Lake
) -> None:
    a, b, c, d, e = (event(n) for n in range(1, 6))
    c["created_at"] = 1_764_054_003.25  # the backup keeps the fraction and the spacing; a rebuild would not
    missing = {k: v for k, v in event(6).items() if k != "created_at"}
    not_json = b'{"event_uuid": "0b6c3f0e-5a43-4c47-9d8e-000000000007", \n'

    failed_batch = lake.error_object(PROCESSING, [processing_failed(line(a), ErrorCode.FUNCTION_ERROR)])
    malformed = lake.error_object(
        PROCESSING,
        [processing_failed(line(missing), ErrorCode.PROCESSING_FAILED_STATUS)],
    )
    mixed = lake.error_object(
        PROCESSING,
        [
            processing_failed(line(b), ErrorCode.FUNCTION_ERROR),
            processing_failed(not_json, ErrorCode.PROCESSING_FAILED_STATUS),
        ],
    )
    c_sequence, d_sequence, e_sequence = lake.next_sequence(), lake.next_sequence(), lake.next_sequence()
    conversion = lake.error_object(CONVERSION, [conversion_failed(c, c_sequence)])
    over_limit = lake.error_object(
        ErrorOutputType.ACTIVE_PARTITION_EXCEEDED,
        [after_partitioning(d, d_sequence, ErrorCode.ACTIVE_PARTITION_LIMIT_EXCEEDED)],
    )
    unpartitioned = lake.error_object(
        ErrorOutputType.PARTITIONING_FAILED,
        [after_partitioning(e, e_sequence, ErrorCode.MISSING_PARTITION_KEY)],
    )
    raw_backup(lake, line(event(99)), line(c, spaced=True), line(a))
    lake.claim(c, f"{SHARD}:{c_sequence}:0")  # the failed record holds its id
    other = f"{SHARD}:{lake.next_sequence()}:0"
    lake.claim(d, other)  # another record holds d's id: never released
    before = lake.listed()

    code, report, _ = lake.run(capsys, "--dry-run")
    assert code == 0 and "nothing changed" in report["title"]
    total = report["rows"][-1]
    assert (total["resent"], total["kept"], total["claims_released"]) == (5, 2, 1)
    assert lake.listed() == before and sum(lake.stream().values()) == 0
    assert lake.holder_of(c) == f"{SHARD}:{c_sequence}:0"

    code, report, _ = lake.run(capsys)
    assert code == 0, report
    rows = {row["object"]: row for row in report["rows"]}
    rebuilt_d = line(d)  # event order and compact JSON: what a rebuild gives for an integer created_at
    assert lake.stream() == Counter([line(a), line(b), line(c, spaced=True), rebuilt_d, line(e)])
    assert "1 raw backup" in rows[conversion]["note"] and "1 rebuilt" in rows[over_limit]["note"]
    # The failed record's claim is gone; the one another record holds is not.
    assert lake.holder_of(c) is None and lake.holder_of(d) == other
    assert rows[conversion]["claims_released"] == 1 and "not held" in rows[over_limit]["note"]
    # Each handled object archived under its own key, byte for byte, and gone from errors/.
    for key in (failed_batch, mixed, conversion, over_limit, unpartitioned):
        assert lake.body(recovery.archive_key(key)) == lake.bodies[key]
    remaining = lake.listed(schema.ERROR_ROOT)
    rest = next(k for k in remaining if k != malformed)
    assert remaining == {malformed, rest} and rest.startswith(mixed + ".rest-")
    # The malformed record stays as it was; the mixed object's kept line moved beside it, nothing else.
    assert lake.body(malformed) == lake.bodies[malformed]
    assert [error_records.read_error_line(x).raw for x in lake.body(rest).splitlines()] == [not_json]
    assert rows[malformed]["action"] == recovery.KEPT and recovery.NEEDS_FIX in rows[malformed]["note"]
    assert rows[mixed]["action"] == recovery.SPLIT and rest in rows[mixed]["note"]

    # A second run finds nothing new to send, and changes nothing.
    after = {key: lake.body(key) for key in lake.listed()}
    code, report, _ = lake.run(capsys)
    assert code == 0 and report["rows"][-1]["resent"] == 0
    assert {key: lake.body(key) for key in lake.listed()} == after
    assert sum(lake.stream().values()) == 5


def stored(lake: Lake, rows: list[tuple[dict[str, Any], str, int]]) -> None:
    """Rows in the table (one data object in each event's partition): (event, sequence, arrival ms)."""
    by_partition: dict[str, list[bytes]] = {}
    for value, sequence, arrival in rows:
        event_of = parse_event(value)
        data = row_bytes(
            enrich(event_of, Lineage(SHARD, sequence, arrival), is_duplicate=False, uuid_reused=False)
        )
        folder = schema.partition_folder(schema.partition_values(event_of.event_type, event_of.created_at))
        by_partition.setdefault(folder, []).append(data)
    for folder, datas in by_partition.items():
        table, _, failures = convert(datas)
        assert not failures
        lake.put(
            f"{folder}{SPEC.delivery_stream_name}-1-2026-11-25-07-20-00-{len(lake.bodies):08d}.parquet",
            to_parquet(table, compression="SNAPPY"),
        )


def test_records_already_in_the_table_stay_unsent_and_stale_claims_are_released(
    capsys: pytest.CaptureFixture[str], lake: Lake
) -> None:
    """Redelivery and failed invocations leave error records for records whose rows landed, and claims held by
    records that stored nothing: reprocess sends neither twice, and frees only claims nobody stored under."""
    a, b, c, d = (event(n) for n in range(11, 15))
    a_sequence, d_first = lake.next_sequence(), lake.next_sequence()
    # a landed and its redelivered copy went over the partition limit; b landed and a later invocation of its
    # batch failed; d's first copy landed (another Kinesis record, a second earlier).
    stored(
        lake,
        [(a, a_sequence, ARRIVAL_MS), (b, lake.next_sequence(), ARRIVAL_MS), (d, d_first, ARRIVAL_MS - 1000)],
    )
    over_limit = lake.error_object(
        ErrorOutputType.ACTIVE_PARTITION_EXCEEDED,
        [after_partitioning(a, a_sequence, ErrorCode.ACTIVE_PARTITION_LIMIT_EXCEEDED)],
    )
    failed = lake.error_object(
        PROCESSING, [processing_failed(line(x), ErrorCode.FUNCTION_ERROR) for x in (b, c, d)]
    )
    lake.claim(a, f"{SHARD}:{a_sequence}:0")  # a's own claim: its row is there, so it stays
    lake.claim(c, f"{SHARD}:{lake.next_sequence()}:0")  # taken by c's failed invocation: nobody stored it
    lake.claim(d, f"{SHARD}:{d_first}:0")  # held by d's stored first copy

    code, report, _ = lake.run(capsys)
    assert code == 0, report
    rows = {row["object"]: row for row in report["rows"]}
    assert lake.stream() == Counter([line(c), line(d)])  # a and b are in the table already
    assert (
        "1 already in the table" in rows[over_limit]["note"]
        and "1 already in the table" in rows[failed]["note"]
    )
    assert lake.holder_of(a) == f"{SHARD}:{a_sequence}:0" and lake.holder_of(d) == f"{SHARD}:{d_first}:0"
    assert lake.holder_of(c) is None  # released: the re-sent c is a first arrival, as it is
    assert rows[failed]["claims_released"] == 1
    # What happened to each line is recorded beside the archived object, for `eventlake check`.
    for key in (over_limit, failed):
        assert lake.body(recovery.archive_key(key)) == lake.bodies[key]
    manifest = json.loads(lake.body(recovery.reprocessed_key(failed)))
    outcomes = {m["line"]: m for m in manifest["lines"]}
    assert outcomes[0]["outcome"] == recovery.STORED
    assert [outcomes[i]["outcome"] for i in (1, 2)] == [recovery.RESENT] * 2
    assert {base64.b64decode(outcomes[i]["data"]) for i in (1, 2)} == {line(c), line(d)}
    assert all(
        outcomes[i]["shard_id"].startswith("shardId-") and outcomes[i]["sequence_number"] for i in (1, 2)
    )
    assert json.loads(lake.body(recovery.reprocessed_key(over_limit)))["lines"] == [
        {"line": 0, "outcome": "stored"}
    ]


@pytest.mark.slow
class StreamAt:
    """Stands in for ``recovery.StreamRecords``: the stream's records of each millisecond (None: past its
    retention)."""

    def __init__(self, records: dict[int, list[tuple[tuple[str, str], bytes]]] | None) -> None:
        self.records = records
        self.asked: list[int] = []

    def at(self, arrival_ms: int) -> list[tuple[tuple[str, str], bytes]] | None:
        self.asked.append(arrival_ms)
        return None if self.records is None else self.records.get(arrival_ms, [])


def _target(lake: Lake, stream: StreamAt) -> recovery.ReprocessTarget:
    aws = lake.aws
    return recovery.ReprocessTarget(
        s3=aws.s3,
        kinesis=aws.kinesis,
        dynamodb=aws.dynamodb,
        bucket=aws.bucket,
        stream_name=aws.stream_name,
        claims_table=aws.claims_table,
        spec=SPEC,
        table=recovery.TableRows(aws.s3, aws.bucket, SPEC.processing.lineage_roots),
        stream=stream,
    )


@pytest.mark.parametrize("retained", [True, False], ids=["in the stream", "past retention"])
def test_byte_identical_records_of_one_millisecond_are_sent_again_once_each(
    lake: Lake, retained: bool
) -> None:
    """Three Kinesis records carried the same bytes in one millisecond (a producer's copies in one call). The
    first landed; its batch was redelivered and that invocation failed, as did the other two's: three
    processing-failed lines, no lineage. Reading the stream back tells them apart: the two that never landed
    are sent again, the first is not. Past the stream's retention nothing can tell, and all three are sent
    (a copy too many rather than a record lost)."""
    value = event(21)
    first, second, third = (lake.next_sequence() for _ in range(3))
    stored(lake, [(value, first, ARRIVAL_MS)])
    failed = lake.error_object(PROCESSING, [processing_failed(line(value), ErrorCode.FUNCTION_ERROR)] * 3)
    other = (SHARD, lake.next_sequence(), 0)
    stream = StreamAt(
        {ARRIVAL_MS: [((SHARD, s, 0), line(value)) for s in (first, second, third)] + [(other, b"{}\n")]}
        if retained
        else None
    )
    (outcome,) = recovery.reprocess(_target(lake, stream), recovery.ReprocessOptions())
    assert stream.asked == [ARRIVAL_MS]
    if retained:
        assert (outcome.resent, outcome.already_stored) == (2, 1)
        assert lake.stream() == Counter({line(value): 2})
    else:
        assert (outcome.resent, outcome.already_stored) == (3, 0)
        assert "the stream no longer holds them: all sent" in outcome.detail
    manifest = json.loads(lake.body(recovery.reprocessed_key(failed)))
    assert sorted(m["outcome"] for m in manifest["lines"]) == (
        ["resent", "resent", "stored"] if retained else ["resent"] * 3
    )


def test_the_stream_is_read_back_at_one_instant_on_every_shard(lake: Lake) -> None:
    """``StreamRecords`` against the embedded Kinesis: the records that arrived at the asked millisecond,
    with their lineage, from an iterator AT_TIMESTAMP on each shard."""
    aws = lake.aws
    put = aws.kinesis.put_records(
        StreamName=aws.stream_name,
        Records=[{"Data": line(event(n)), "PartitionKey": f"k{n}"} for n in range(31, 37)],
    )
    by_lineage = {(r["ShardId"], r["SequenceNumber"], 0) for r in put["Records"]}
    arrivals: dict[int, set[tuple[str, str, int]]] = {}
    for shard in {r["ShardId"] for r in put["Records"]}:
        iterator = aws.kinesis.get_shard_iterator(
            StreamName=aws.stream_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in aws.kinesis.get_records(ShardIterator=iterator)["Records"]:
            ms = round(record["ApproximateArrivalTimestamp"].timestamp() * 1000)
            arrivals.setdefault(ms, set()).add((shard, record["SequenceNumber"], 0))
    reader = recovery.StreamRecords(aws.kinesis, aws.stream_name)
    for ms, lineages in arrivals.items():
        found = reader.at(ms)
        assert found is not None and {lineage for lineage, _ in found} == lineages
    assert set().union(*arrivals.values()) == by_lineage
    assert reader.at(min(arrivals) - 1) == []  # nothing arrived then


def test_the_stream_read_back_is_de_aggregated_as_firehose_reads_it(lake: Lake) -> None:
    """A KPL aggregate read back at its millisecond is its user records, each named by the aggregate's shard
    and sequence number and its own subsequence number: what a failed user record's bytes are compared to."""
    aws = lake.aws
    users = [kpl_aggregation.UserRecord(f"k{n}", line(event(n))) for n in range(41, 45)]
    put = aws.kinesis.put_record(
        StreamName=aws.stream_name, Data=kpl_aggregation.encode(users), PartitionKey="k41"
    )
    iterator = aws.kinesis.get_shard_iterator(
        StreamName=aws.stream_name,
        ShardId=put["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=put["SequenceNumber"],
    )["ShardIterator"]
    [record] = aws.kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"]
    ms = round(record["ApproximateArrivalTimestamp"].timestamp() * 1000)
    found = recovery.StreamRecords(aws.kinesis, aws.stream_name).at(ms)
    assert found is not None
    ours = [
        (lineage, data) for lineage, data in found if lineage[:2] == (put["ShardId"], put["SequenceNumber"])
    ]
    assert ours == [((put["ShardId"], put["SequenceNumber"], i), u.data) for i, u in enumerate(users)]


def test_a_fix_function_turns_rejected_records_into_new_bytes(
    capsys: pytest.CaptureFixture[str], lake: Lake
) -> None:
    missing = {k: v for k, v in event(1).items() if k != "created_at"}
    fixable = lake.error_object(
        PROCESSING,
        [processing_failed(line(missing), ErrorCode.PROCESSING_FAILED_STATUS)],
    )
    hopeless = lake.error_object(
        PROCESSING,
        [processing_failed(b"not json\n", ErrorCode.PROCESSING_FAILED_STATUS)],
    )
    code, report, _ = lake.run(capsys, "--fix", "reprocess_fixes:add_created_at")
    assert code == 0
    fixed = json.dumps({**missing, "created_at": reprocess_fixes.FOUND_CREATED_AT}, separators=(",", ":"))
    assert lake.stream() == Counter([fixed.encode() + b"\n"])
    assert lake.listed(schema.ERROR_ROOT) == {hopeless}
    assert lake.body(recovery.archive_key(fixable)) == lake.bodies[fixable]
    rows = {row["object"]: row for row in report["rows"]}
    assert "the fix skipped it" in rows[hopeless]["note"]


@pytest.mark.slow
def test_a_failed_put_leaves_the_object_in_place(capsys: pytest.CaptureFixture[str], lake: Lake) -> None:
    key = lake.error_object(PROCESSING, [processing_failed(line(event(1)), ErrorCode.FUNCTION_ERROR)])
    lake.aws.kinesis.delete_stream(StreamName=lake.aws.stream_name)
    code, report, _ = lake.run(capsys)
    assert code == 1
    row = report["rows"][0]
    assert row["action"] == recovery.FAILED and "ResourceNotFoundException" in row["note"]
    assert lake.listed() == {key}  # nothing archived, nothing deleted


@pytest.mark.slow
def test_hours_and_types_select_the_objects(capsys: pytest.CaptureFixture[str], lake: Lake) -> None:
    early = lake.error_object(
        PROCESSING,
        [processing_failed(line(event(1)), ErrorCode.FUNCTION_ERROR)],
        hour=HOUR - timedelta(hours=1),
    )
    inside = lake.error_object(PROCESSING, [processing_failed(line(event(2)), ErrorCode.FUNCTION_ERROR)])
    other_type = lake.error_object(
        ErrorOutputType.PARTITIONING_FAILED,
        [after_partitioning(event(3), lake.next_sequence(), ErrorCode.MISSING_PARTITION_KEY)],
    )
    late = lake.error_object(
        PROCESSING,
        [processing_failed(line(event(4)), ErrorCode.FUNCTION_ERROR)],
        hour=HOUR + timedelta(days=1),
    )
    code, report, _ = lake.run(
        capsys, "--from", f"{HOUR:%Y-%m-%dT%H}", "--to", "2026-11-25T23:00", "--type", "processing-failed"
    )
    assert code == 0 and [row["object"] for row in report["rows"][:-1]] == [inside]
    assert lake.stream() == Counter([line(event(2))])
    assert lake.listed(schema.ERROR_ROOT) == {early, other_type, late}


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--fix", "no_such_module_here:fix"], "--fix"),
        (["--fix", "reprocess_fixes:nothing"], "nothing"),
        (["--fix", "no-colon"], "--fix"),
        (["--from", "2026-11-25T08", "--to", "2026-11-25T07"], "--from"),
        (["--from", "yesterday"], "--from"),
        (["--type", "processing-faild"], "did you mean processing-failed?"),
    ],
)
def test_bad_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    code = main(["reprocess", "--endpoint-url", "http://127.0.0.1:9", *argv])
    captured = capsys.readouterr()
    assert code == 2 and names in captured.out + captured.err


def test_a_rebuilt_record_is_the_event_the_row_came_from() -> None:
    for value in (event(1), event(2, created_at=1_764_054_002.125, note="é", nested={"a": [1, 2.0, None]})):
        row = recovery.transformed_row(transformed(value, "1"))
        rebuilt = recovery.rebuild(row)
        assert json.loads(rebuilt) == value and rebuilt.endswith(b"\n")
        assert recovery.same_event(rebuilt, row) and recovery.same_event(line(value, spaced=True), row)
        assert not recovery.same_event(line({**value, "amount": 13}), row)
        assert not recovery.same_event(line({**value, "currency": "USD"}), row)
        assert not recovery.same_event(line({**value, "created_at": value["created_at"] + 0.001}), row)
    # Type-strict: 1 and 1.0 are different payloads, as the Lambda stores them.
    row = recovery.transformed_row(transformed(event(3, count=1), "1"))
    assert not recovery.same_event(line(event(3, count=1.0)), row)


@pytest.mark.slow
def test_originals_rebuild_never_reads_the_backup(capsys: pytest.CaptureFixture[str], lake: Lake) -> None:
    value = event(1, created_at=1_764_054_001.5)
    lake.error_object(CONVERSION, [conversion_failed(value, lake.next_sequence())])
    raw_backup(lake, line(value, spaced=True))
    code, report, _ = lake.run(capsys, "--originals", "rebuild")
    assert code == 0 and "1 rebuilt" in report["rows"][-1]["note"]
    assert lake.stream() == Counter([line(value)])  # compact, event order: not the backup's spaced bytes


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-11-25", datetime(2026, 11, 25, 0, tzinfo=UTC), datetime(2026, 11, 25, 23, tzinfo=UTC)),
        ("2026-11-25Z", datetime(2026, 11, 25, 0, tzinfo=UTC), datetime(2026, 11, 25, 23, tzinfo=UTC)),
        ("2026-11-25T07", HOUR, HOUR),
        ("2026-11-25 07:00:00+00:00", HOUR, HOUR),
    ],
)
def test_an_hour_is_itself_and_a_date_is_its_whole_day(text: str, first: datetime, last: datetime) -> None:
    assert recovery.parse_hours(text) == (first, last)


@pytest.mark.parametrize("text", ["yesterday", "2026-11-25T24", "2026-02-30", "2026-11-25T07:30"])
def test_what_is_neither_an_hour_nor_a_date_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="2026-11-25T07"):
        recovery.parse_hours(text)


@pytest.mark.slow
def test_a_date_selects_the_whole_day_and_the_run_says_which_hours(
    capsys: pytest.CaptureFixture[str], lake: Lake
) -> None:
    day = HOUR.replace(hour=0)
    inside = [
        lake.error_object(PROCESSING, [processing_failed(line(event(n)), ErrorCode.FUNCTION_ERROR)], hour=h)
        for n, h in ((1, day), (2, HOUR), (3, day.replace(hour=23)))
    ]
    before, after = (
        lake.error_object(PROCESSING, [processing_failed(line(event(n)), ErrorCode.FUNCTION_ERROR)], hour=h)
        for n, h in ((4, day - timedelta(hours=1)), (5, day + timedelta(days=1)))
    )
    code, report, _ = lake.run(capsys, "--from", "2026-11-25", "--to", "2026-11-25", "--dry-run")
    assert code == 0 and [row["object"] for row in report["rows"][:-1]] == inside
    assert report["hours"]["from"] == "2026-11-25T00" and report["hours"]["to"] == "2026-11-25T23"
    assert "2026-11-25T00..2026-11-25T23" in report["title"]
    code, report, _ = lake.run(capsys, "--from", "2026-11-25T07", "--dry-run")  # open at the end
    assert [row["object"] for row in report["rows"][:-1]] == [*inside[1:], after] and before in lake.bodies
    assert report["hours"]["from"] == "2026-11-25T07" and report["hours"]["to"] is None


@pytest.mark.slow
def test_a_fix_that_fails_for_some_records_exits_1_and_says_how_many(
    capsys: pytest.CaptureFixture[str], lake: Lake, tmp_path: Path
) -> None:
    fix = tmp_path / "flaky_fix.py"
    fix.write_text(
        "def fix(raw, record):\n"
        "    if b'000000000002' in raw:\n"
        "        raise ValueError('cannot fix this one')\n"
        "    return raw\n"
    )
    key = lake.error_object(
        PROCESSING,
        [processing_failed(line(event(n)), ErrorCode.FUNCTION_ERROR) for n in (1, 2, 3)],
    )
    code, report, err = lake.run(capsys, "--fix", f"{fix}:fix")
    assert code == 1, report
    assert report["fix_failed"] == 1 and "the fix failed for 1 records" in err
    assert report["rows"][0]["object"] == key and report["rows"][0]["kept"] == 1
    assert lake.stream() == Counter([line(event(1)), line(event(3))])  # the others went, as they should


@pytest.mark.slow
def test_at_80_columns_each_object_is_one_line_with_its_note_in_short(
    capsys: pytest.CaptureFixture[str], lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    missing = {k: v for k, v in event(1).items() if k != "created_at"}
    keys = []
    for n, tail in ((2, "1f0c5a7e-9b2d-4c61-8e3f-5a9d0c7b2e41"), (3, "c3e8d1b2-7a45-4f09-b6d2-0e9a8c4f7d13")):
        # Named as Firehose names them: the object's own random id ends the key.
        name = f"{SPEC.delivery_stream_name}-1-2026-11-25-07-12-00-{tail}"
        key = recovery.hour_folder(SPEC, PROCESSING, HOUR) + name
        lines = [
            processing_failed(line(missing), ErrorCode.PROCESSING_FAILED_STATUS),
            processing_failed(line(event(n)), ErrorCode.FUNCTION_ERROR),
            processing_failed(b"not json\n", ErrorCode.PROCESSING_FAILED_STATUS),
        ]
        lake.put(key, error_records.to_lines(lines))
        keys.append(key)
    assert main(["reprocess", "--endpoint-url", lake.endpoint, "--dry-run"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(len(text) <= 80 for text in printed), printed
    rows = [text for text in printed if text.startswith("│")]
    assert len(rows) == len(keys) + 1, printed  # each object and the total on one line: no wrapped notes
    # Keys cut from the middle: each row ends as its key ends, so the objects stay apart.
    for key in keys:
        assert sum(key[-12:] in text for text in rows) == 1
    assert any("need --fix" in text for text in rows) and "--output json" in printed[-1], "\n".join(printed)
