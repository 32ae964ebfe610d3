"""The producer: PutRecords limits, retrying only the failed entries, the ledger, and bad records
that the real transform rejects for exactly the reason they were built with."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from aws_contract.limits import PUT_RECORDS_MAX_BYTES as MAX_BYTES_PER_CALL
from aws_contract.limits import PUT_RECORDS_MAX_RECORDS as MAX_RECORDS_PER_CALL
from eventlake.traffic.producer import BASE_BACKOFF_S, MAX_ATTEMPTS, ProducerError, batches, send
from eventlake.traffic.sample_events import Expect, Outgoing, event_types, generate, window_start
from glue.errors import LogMessage, Reject
from transform_lambda.claims import NoClaims
from transform_lambda.handler import process

pytestmark = pytest.mark.e2e

START = window_start(datetime(2026, 11, 25, 13, 30, tzinfo=UTC), 24)


class FlakyKinesis:
    """Fails every third entry on its first try, like a throttled shard."""

    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []
        self.seen: set[bytes] = set()
        self.sequence = 0

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append([r["Data"] for r in Records])
        results = []
        for i, record in enumerate(Records):
            if i % 3 == 0 and record["Data"] not in self.seen:
                self.seen.add(record["Data"])
                results.append(
                    {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"}
                )
                continue
            self.sequence += 1
            results.append({"ShardId": "shardId-000000000000", "SequenceNumber": str(self.sequence)})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedRecordCount": failed, "Records": results}


def outgoing(n: int, size: int = 10) -> list[Outgoing]:
    return [Outgoing(f"{i:0{size}d}".encode(), f"pk{i}", Expect.VALID, event_uuid=str(i)) for i in range(n)]


def test_batches_respect_the_count_and_size_limits() -> None:
    assert [len(b) for b in batches(outgoing(1_201))] == [MAX_RECORDS_PER_CALL, MAX_RECORDS_PER_CALL, 201]
    large = outgoing(12, size=1_000_000)
    for batch in batches(large):
        assert sum(len(r.data) + len(r.partition_key) for r in batch) <= MAX_BYTES_PER_CALL
    assert sum(len(b) for b in batches(large)) == 12


def test_only_failed_entries_are_retried_and_each_record_is_in_the_ledger_once() -> None:
    kinesis = FlakyKinesis()
    sleeps: list[float] = []
    records = outgoing(10)
    ledger = send(kinesis, "s", records, rng=random.Random(1), sleep=sleeps.append)
    assert [len(c) for c in kinesis.calls] == [10, 4]  # entries 0, 3, 6, 9 failed once
    assert sorted(s.data for s in ledger.records) == sorted(r.data for r in records)
    assert ledger.retried_entries == 4 and len(sleeps) == 1
    assert len({s.lineage for s in ledger.records}) == 10


class StuckKinesis(FlakyKinesis):
    """Rejects one record on every attempt, accepts the rest."""

    def __init__(self, stuck: bytes) -> None:
        super().__init__()
        self.stuck = stuck

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append([r["Data"] for r in Records])
        results: list[dict[str, str]] = []
        for record in Records:
            if record["Data"] == self.stuck:
                results.append(
                    {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"}
                )
            else:
                self.sequence += 1
                results.append({"ShardId": "shardId-000000000000", "SequenceNumber": str(self.sequence)})
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}


def test_a_record_rejected_on_every_attempt_raises_or_with_keep_going_is_left_in_the_ledger() -> None:
    records = outgoing(1_001)  # three batches: the stuck record's batch must not stop the others
    stuck = records[7]
    sleeps: list[float] = []
    with pytest.raises(ProducerError):
        send(StuckKinesis(stuck.data), "s", records, rng=random.Random(1), sleep=sleeps.append)
    assert len(sleeps) == MAX_ATTEMPTS - 1  # no sleep after the last attempt
    # Exponential backoff with full jitter: each wait is drawn from [0, base * 2**attempt).
    assert all(0 <= s < BASE_BACKOFF_S * 2**i for i, s in enumerate(sleeps))

    kinesis = StuckKinesis(stuck.data)
    ledger = send(kinesis, "s", records, rng=random.Random(1), sleep=lambda _: None, keep_going=True)
    assert ledger.failed == [stuck] and len(ledger.records) == 1_000
    assert ledger.retried_entries == MAX_ATTEMPTS - 1 and len(kinesis.calls) == MAX_ATTEMPTS + 2


def test_resent_batches_are_new_records_expected_as_duplicates() -> None:
    kinesis = FlakyKinesis()
    kinesis.seen = {r.data for r in outgoing(10)}  # no throttling here
    ledger = send(
        kinesis, "s", outgoing(10), rng=random.Random(1), resend_batch_rate=1.0, sleep=lambda _: None
    )
    assert ledger.resent_batches == 1 and len(ledger.records) == 20
    assert [s.expect for s in ledger.records[10:]] == [Expect.DUPLICATE] * 10
    assert all(s.resent_batch for s in ledger.records[10:])


def test_generation_is_seeded_and_varied() -> None:
    def make() -> list[Outgoing]:
        return generate(3_000, rng=random.Random(5), duplicate_share=0.05, malformed_share=0.05, start=START)

    first, second = make(), make()
    assert [r.data for r in first] == [r.data for r in second]
    assert len(event_types()) >= 15
    valid = [r for r in first if r.expect is Expect.VALID]
    duplicates = [r for r in first if r.expect is Expect.DUPLICATE]
    assert {r.data for r in duplicates} <= {r.data for r in valid}  # exact re-sends of earlier events
    assert all(r.data.endswith(b"\n") and r.data.count(b"\n") == 1 for r in first)


def test_every_malformed_record_is_rejected_for_the_reason_it_was_built_with() -> None:
    records = generate(4_000, rng=random.Random(9), duplicate_share=0.0, malformed_share=0.5, start=START)
    bad = [r for r in records if r.expect is Expect.MALFORMED]
    reasons: dict[str, str] = {}

    def log(entry: dict[str, Any]) -> None:
        if entry.get("message") == LogMessage.RECORD_REJECTED:
            reasons[str(entry["recordId"])] = str(entry["reason"])

    event = {
        "records": [
            {"recordId": str(i), "data": base64.b64encode(r.data).decode(), "kinesisRecordMetadata": {}}
            for i, r in enumerate(bad)
        ]
    }
    out = process(event, claims=NoClaims(), log=log)
    assert all(r["result"] == "ProcessingFailed" for r in out["records"])
    assert {str(i): str(r.reason) for i, r in enumerate(bad)} == reasons
    assert {r.reason for r in bad} == set(Reject) - {Reject.BAD_BASE64, Reject.UNPROCESSABLE}
