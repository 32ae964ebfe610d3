"""Reliability evidence: the local runner under every fault at once, then ``eventlake reprocess`` and a second
delivery pass, and the end state: every valid event sent has exactly one row in the unique-events view, and
nothing recoverable is left under errors/ (only records the transform rejected, which need a fix). Then the
compactor's pass over every partition: in both dedupe modes that mark (claims, compaction), exactly one
``is_duplicate = false`` row per valid event, its earliest arrival, and every other row ``true``."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eventlake.athena import engine as athena
from eventlake.cli.main import main
from eventlake.simulator.demo import DemoOptions, open_demo
from eventlake.traffic.sample_events import Expect
from glue.errors import ErrorCode, ErrorOutputType

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


STACKS = {"claims": "dev", "compaction": "bycompaction"}


def options(out: Path, stack: str = "dev", root: Path | None = None) -> DemoOptions:
    return DemoOptions(
        stack=stack,
        **({"root": root} if root else {}),
        events=2_000,
        hours=4,  # 17 event types x 4-5 event hours: about 70 partitions
        seed=23,
        out=out,
        fail_invocations=0.5,  # with 3 retries, ~6% of batches fail every attempt: Lambda.FunctionError
        fail_dedupe=0.2,
        fail_conversion=0.03,
        resend_batches=0.5,  # PutRecords takes 500 records: a 3,000-event run has only a few batches
        concurrent_invocations=5,
        redeliver_batches=0.2,
        batch_records=50,  # many small batches, so the invocation faults hit whole batches often
        max_active_partitions=60,  # below the run's partitions: activePartitionExceeded too
    )


def reprocess(
    capsys: pytest.CaptureFixture[str], stack: str = "dev", root: Path | None = None
) -> tuple[int, dict[str, Any]]:
    """``eventlake reprocess`` on the demo's embedded AWS (in-process moto: no --endpoint-url needed)."""
    where = ["--root", str(root)] if root else []
    code = main(["reprocess", "--stack", stack, *where, "--output", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.mark.parametrize("mode", sorted(STACKS))
def test_every_fault_then_reprocess_leaves_each_valid_event_once(
    mode: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stack, root = STACKS[mode], None
    if mode != "claims":
        root = tmp_path / "stacks"
        root.mkdir()
        dev = (Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml").read_text()
        (root / f"Pulumi.{stack}.yaml").write_text(dev + f"  eventlake:dedupe: {mode}\n", encoding="utf-8")
    with open_demo(options(tmp_path / "lake", stack, root)) as opened:
        report = opened.report
        sent = report.ledger.records
        before = Counter(f"{e.output_type} / {e.record.error_code}" for e in report.lake.errors)
        injected = report.injected
        # Every fault really happened, and every error type the run can make is there to recover.
        assert all(injected.values()), injected
        assert report.stats.failed_attempts and report.invariant.affected
        assert {e.output_type for e in report.lake.errors} == {
            ErrorOutputType.PROCESSING_FAILED,
            ErrorOutputType.FORMAT_CONVERSION_FAILED,
            ErrorOutputType.ACTIVE_PARTITION_EXCEEDED,
        }
        assert before[f"{ErrorOutputType.PROCESSING_FAILED} / {ErrorCode.FUNCTION_ERROR}"] > 0

        (code, first), follow_up = opened.deliver_more(lambda: reprocess(capsys, stack, root))
        assert code == 0, first["title"]
        total = first["rows"][-1]
        # The originals of every record that failed after the Lambda came from the raw backup, exactly, but
        # for those whose row had landed too (a redelivered batch): those stay unsent.
        after_lambda = sum(n for kind, n in before.items() if not kind.startswith("processing-failed"))
        stored = sum(
            int(found.group(1))
            for row in first["rows"][:-1]
            if row["type"] != "processing-failed"
            for found in [re.search(r"(\d+) already in the table", row["note"])]
            if found
        )
        from_backup = re.search(r"(\d+) raw backup", total["note"])
        assert from_backup and int(from_backup.group(1)) + stored == after_lambda
        assert "rebuilt" not in total["note"]
        # A second run finds nothing it could send.
        code, second = reprocess(capsys, stack, root)
        assert code == 0 and second["rows"][-1]["resent"] == 0
        compacted = opened.compact()
        assert compacted.compaction.switched and not compacted.compaction.failed

    # Every valid event sent: exactly one row in the unique-events view over the final lake.
    valid = {s.event_uuid.lower() for s in sent if s.expect is not Expect.MALFORMED and s.event_uuid}
    conn = athena.connect(tmp_path / "lake", report.settings.glue_database, follow_up.catalog_partitions)
    try:
        columns, rows = athena.run(conn, athena.load_queries()[athena.UNIQUE_EVENTS_VIEW])
    finally:
        conn.close()
    at = {name: i for i, name in enumerate(columns)}
    in_view = Counter(str(row[at["event_uuid"]]).lower() for row in rows)
    assert set(in_view) == valid and set(in_view.values()) == {1}

    # Nothing recoverable left under errors/: only records the transform rejected, each one sent malformed.
    left = follow_up.lake.errors
    malformed = {s.data for s in sent if s.expect is Expect.MALFORMED}
    assert {(e.output_type, e.record.error_code) for e in left} == {
        (ErrorOutputType.PROCESSING_FAILED, ErrorCode.PROCESSING_FAILED_STATUS)
    }
    assert {e.record.raw for e in left} == malformed

    # What the marks say (the view is the exact answer): events none of whose rows is is_duplicate = false.
    marks: dict[str, set[Any]] = {}
    for row in follow_up.lake.rows:
        marks.setdefault(str(row.values["event_uuid"]).lower(), set()).add(row.values["is_duplicate"])
    no_original = [flags for flags in marks.values() if False not in flags]

    counts = {
        "records sent": len(sent),
        "valid events": len(valid),
        "error records before": sum(before.values()),
        "error records before, by type and code": dict(sorted(before.items())),
        "faults injected": injected,
        "records re-sent by reprocess": total["resent"],
        "records kept by reprocess (malformed, need --fix)": total["kept"],
        "claims released": total["claims_released"],
        "objects": total["action"],
        "second pass: records read": follow_up.run.stats.records_read,
        "error records left (all Lambda.ProcessingFailedStatus)": len(left),
        "unique-events rows": len(rows),
        "rows in the lake": len(follow_up.lake.rows),
        "first run's invariant violations (before reprocess)": report.invariant.violation_count,
        "events with no is_duplicate=false row: some row null (store outage)": sum(
            None in f for f in no_original
        ),
        "events with no is_duplicate=false row: all true (claim kept by a FunctionError record)": sum(
            None not in f for f in no_original
        ),
        "reprocess note": total["note"],
    }
    print("\nreliability counts: " + json.dumps(counts, indent=2))

    # After the compactor's pass, in both modes: one is_duplicate = false row per valid event, its earliest
    # arrival (arrival, shard, sequence number), every other copy true, no id reused; the view agrees.
    copies: dict[str, list[tuple[Any, ...]]] = {}
    for row in compacted.lake.rows:
        v = row.values
        order = (
            v["source_arrival_datetime"],
            v["source_shard_id"],
            len(v["source_sequence_number"]),
            v["source_sequence_number"],
        )
        copies.setdefault(str(v["event_uuid"]).lower(), []).append(
            (*order, v["is_duplicate"], v["uuid_reused"])
        )
    assert set(copies) == valid
    wrong = []
    for event_id, rows_of_event in copies.items():
        # Rows that tie on the whole arrival order are one Kinesis record stored twice (a redelivered batch):
        # identical but for the marks, so either may be its false one; the false one sorts first.
        rows_of_event.sort(key=lambda r: r[:5])
        flags = [r[4] for r in rows_of_event]
        if flags != [False] + [True] * (len(flags) - 1) or any(r[5] is not False for r in rows_of_event):
            wrong.append((event_id, flags))
    assert not wrong, wrong[:5]
    # `eventlake check` confirms the recovered, compacted lake: every record sent once (recovered ones through
    # what reprocess recorded beside each archived object), the exact marks, the view, the backup.
    assert main(["check", "--lake", str(tmp_path / "lake"), "--output", "json"]) == 0, capsys.readouterr().out
    kept = compacted.query(athena.UNIQUE_EVENTS_VIEW)
    at = {name: i for i, name in enumerate(kept.columns)}
    assert sorted(str(r[at["event_uuid"]]).lower() for r in kept.rows) == sorted(valid)
    print(f"\n{mode}: after compaction {len(compacted.lake.rows)} rows, {len(valid)} is_duplicate = false")
