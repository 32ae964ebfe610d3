"""``eventlake reprocess`` with aggregated input (issue 30 item 3): a lake built from KPL aggregates under
faults, its error objects reprocessed, delivered again and compacted, is the lake the same events make sent
one record each through the same path: the same rows with the same marks (only the columns naming the Kinesis
record differ), and the same records left under errors/ (the malformed ones, which need a fix).

The faults are the ones that leave every record sent in one place (no re-sent batches, no redelivered ones:
those add copies at random, so the two runs' ledgers would differ): failed invocations (``processing-failed``
with ``Lambda.FunctionError``, some after their claims were written), a failing claim store, corrupted
conversions (``format-conversion-failed``), more partitions than the limit (``activePartitionExceeded``) and
concurrent invocations. The records that failed after the Lambda hold claims as
``shard:sequence:subsequence``: reprocess finds their rows and claims by the row's
``source_subsequence_number``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eventlake.cli.main import main
from eventlake.simulator.demo import DemoOptions, open_demo
from glue import schema
from glue.claim_items import HOLDER_ATTRIBUTE, KEY_ATTRIBUTE
from glue.errors import ErrorCode, ErrorOutputType

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAULTS: dict[str, Any] = {
    "events": 2_000,
    "hours": 4,
    "seed": 31,
    "fail_invocations": 0.5,
    "fail_dedupe": 0.2,
    "fail_conversion": 0.03,
    "concurrent_invocations": 5,
    "batch_records": 50,
    "max_active_partitions": 60,
}
KINESIS_RECORD_COLUMNS = ("source_sequence_number", "source_subsequence_number", "source_arrival_datetime")


def reprocessed_lake(out: Path, capsys: pytest.CaptureFixture[str], *, aggregate: bool) -> dict[str, Any]:
    """The demo under FAULTS, then reprocess, a delivery pass and a compaction: what the table and errors/
    hold at the end, and what reprocess said."""
    with open_demo(DemoOptions(out=out, aggregate=aggregate, **FAULTS)) as opened:
        report = opened.report
        before = list(report.lake.errors)
        holders_before = holders(opened.aws)

        def reprocess() -> tuple[int, dict[str, Any]]:
            code = main(["reprocess", "--stack", "dev", "--output", "json"])
            return code, json.loads(capsys.readouterr().out)

        (code, summary), follow_up = opened.deliver_more(reprocess)
        assert code == 0, summary["title"]
        holders_after = holders(opened.aws)
        compacted = opened.compact()
        kept = [c for c in schema.COLUMN_NAMES if c not in KINESIS_RECORD_COLUMNS]
        rows = Counter(
            (tuple(sorted(row.partition.items())), *(repr(row.values.get(c)) for c in kept))
            for row in compacted.lake.rows
        )
        left = Counter((e.output_type, e.record.error_code, e.record.raw) for e in follow_up.lake.errors)
        return {
            "sent": [s.data for s in report.ledger.records],
            "kinesis_records": report.kinesis_records,
            "before": before,
            "holders": (holders_before, holders_after),
            "summary": summary,
            "rows": rows,
            "left": left,
        }


def holders(aws: Any) -> dict[str, str]:
    """Each claimed id and the record holding its claim (shard:sequence:subsequence). Only those two
    attributes are read: moto serialises a scanned item at about a millisecond an attribute."""
    items = aws.dynamodb.get_paginator("scan").paginate(
        TableName=aws.claims_table,
        ConsistentRead=True,
        ProjectionExpression="#key, #holder",
        ExpressionAttributeNames={"#key": KEY_ATTRIBUTE, "#holder": HOLDER_ATTRIBUTE},
    )
    return {i[KEY_ATTRIBUTE]["S"]: i[HOLDER_ATTRIBUTE]["S"] for page in items for i in page["Items"]}


def test_a_reprocessed_lake_of_aggregates_equals_the_one_of_single_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aggregated = reprocessed_lake(tmp_path / "aggregated", capsys, aggregate=True)
    plain = reprocessed_lake(tmp_path / "plain", capsys, aggregate=False)
    assert Counter(aggregated["sent"]) == Counter(plain["sent"])  # the same records, in another order
    assert aggregated["kinesis_records"] < len(aggregated["sent"]) / 20

    # Every kind of failure happened to user records of aggregates, at places in them other than the first.
    before = aggregated["before"]
    assert {e.output_type for e in before} == {
        ErrorOutputType.PROCESSING_FAILED,
        ErrorOutputType.FORMAT_CONVERSION_FAILED,
        ErrorOutputType.ACTIVE_PARTITION_EXCEEDED,
    }
    assert any(e.record.error_code == ErrorCode.FUNCTION_ERROR for e in before)
    exceeded = [
        json.loads(e.record.raw) for e in before if e.output_type == ErrorOutputType.ACTIVE_PARTITION_EXCEEDED
    ]
    assert any(row["source_subsequence_number"] > 0 for row in exceeded)
    # Reprocess sent them again, releasing the claims they held, each held as shard:sequence:subsequence (a
    # record past the Lambda holds its id's claim; the re-sent copy claims it anew, so it is not marked a
    # repeat of itself).
    total = aggregated["summary"]["rows"][-1]
    assert total["resent"] > 0 and total["claims_released"] > 0
    held_before, held_after = aggregated["holders"]
    failed_holders = {
        (row["event_uuid"].lower(), f"{row['source_shard_id']}:{row['source_sequence_number']}:{sub}")
        for e in before
        if e.output_type != ErrorOutputType.PROCESSING_FAILED
        for row in [json.loads(e.record.raw)]
        if (sub := row["source_subsequence_number"]) > 0
    }
    held = {(key, holder) for key, holder in failed_holders if held_before.get(key) == holder}
    assert held and not any(held_after.get(key) == holder for key, holder in held)

    # The end state is the same lake: the same rows with the same (compacted, exact) marks, the same records
    # left under errors/: only the malformed ones the transform rejects.
    assert aggregated["rows"] == plain["rows"]
    assert sum(aggregated["rows"].values()) == len(aggregated["sent"]) - sum(aggregated["left"].values())
    assert aggregated["left"] == plain["left"]
    assert {(kind, code) for kind, code, _ in aggregated["left"]} == {
        (ErrorOutputType.PROCESSING_FAILED, ErrorCode.PROCESSING_FAILED_STATUS)
    }
