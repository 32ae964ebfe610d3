"""The dedupe benchmark runs its three claim stores end to end and they agree (smoke, never timed)."""

from __future__ import annotations

import math

import pytest

from aws_contract import limits
from benchmarks import dedupe as bench_dedupe
from benchmarks.dynamodb_double import DynamoDouble
from glue.claim_items import KEY_ATTRIBUTE
from transform_lambda.claims import Claim

pytestmark = pytest.mark.slow


def _double() -> DynamoDouble:
    return DynamoDouble(
        {bench_dedupe.CLAIMS_TABLE: (KEY_ATTRIBUTE,), bench_dedupe.IDEMPOTENCY_TABLE: ("id",)}, latency_s=0
    )


@pytest.mark.parametrize(
    "factory", [f for _, f in bench_dedupe.VARIANTS], ids=["serial", "powertools", "ours"]
)
def test_each_store_keeps_the_first_holder_of_an_id(factory: bench_dedupe.StoreFactory) -> None:
    store = factory(_double())
    first = [Claim(f"id-{i}", f"shard:{i}:0", "same") for i in range(30)]
    assert store.claim(first) == {c.key: c for c in first}
    later = [Claim(c.key, f"shard:{i + 100}:0", "same") for i, c in enumerate(first[:27])]
    later.append(Claim("id-new", "shard:999:0", "other"))
    owners = store.claim(later)
    assert owners == {**{c.key: c for c in first[:27]}, "id-new": later[-1]}
    assert store.claim(first[:2]) == {c.key: c for c in first[:2]}  # a retried record finds its own claim


def test_the_bench_runs_every_variant_and_they_mark_the_same_records() -> None:
    data, results = bench_dedupe.run(count=200, latency_s=0)
    assert data.records == 200 and data.repeats
    assert [r.records for r in results] == [200] * 3
    assert all(r.duplicates == data.repeats and r.not_checked == 0 for r in results)
    claimed = 200 - len(data.repeats)  # one claim per distinct id: the repeats share one batch here
    serial, powertools, ours = results
    assert serial.requests == {"PutItem": claimed} and serial.write_units == claimed
    assert powertools.requests == {"PutItem": claimed, "UpdateItem": claimed}
    assert ours.requests == {
        "BatchExecuteStatement": math.ceil(claimed / limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS)
    }
    assert ours.write_units == claimed and ours.write_units_per_record < 1
    text = bench_dedupe.report(data, results)
    assert text.count("| (") == 3 and "- [x] all variants mark the same" in text


def test_records_carry_their_own_sequence_numbers() -> None:
    data = bench_dedupe.dedupe_batches(500, seed=3)
    records = [r for e in data.events for r in e["records"]]
    assert len({r["kinesisRecordMetadata"]["sequenceNumber"] for r in records}) == 500
    assert len({r["recordId"] for r in records}) == 500
    assert data.repeats <= {r["recordId"] for r in records}
