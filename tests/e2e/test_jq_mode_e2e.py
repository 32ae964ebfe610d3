"""``processor: jq`` end to end on the embedded AWS: no Lambda, Firehose's JQ partitions (evaluated by a real
jq), the records stored as sent; the invariant of that mode holds; records the query cannot evaluate are under
``errors/partitioning-failed/`` with their original bytes, and ``reprocess`` (with a fix) puts them back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventlake.checks.query_mode import expected_keys
from eventlake.firehose_formats.error_records import ErrorRecord
from eventlake.operations import recovery
from eventlake.simulator.demo import DemoOptions, open_demo
from eventlake.traffic.sample_events import Expect
from glue import schema
from glue.errors import ErrorCode, ErrorOutputType

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def ms_to_seconds(raw: bytes, record: ErrorRecord) -> bytes | None:
    """An operator's fix: event times sent in milliseconds become seconds; every other record is kept."""
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    created = event.get("created_at") if isinstance(event, dict) else None
    if isinstance(created, bool) or not isinstance(created, int) or created < 10**12:
        return None
    return json.dumps({**event, "created_at": created // 1000}).encode() + b"\n"


def test_jq_mode_holds_its_invariant_and_reprocess_recovers(tmp_path: Path) -> None:
    options = DemoOptions(
        events=400, hours=3, seed=11, malformed_share=0.2, processor="jq", out=tmp_path / "l"
    )
    with open_demo(options) as opened:
        report = opened.report
        assert report.settings.processor == "jq" and opened.aws.claims_table is None
        assert report.ok, report.invariant.violations
        sent = report.ledger.records
        lines = report.lake.lines
        assert report.lake.rows == [] and lines  # JSON Lines, not Parquet rows
        # Every valid record and every re-send is stored as sent, in its event-time partition.
        stored = {line.values["record"] for line in lines}
        assert all(s.data in stored for s in sent if s.expect is not Expect.MALFORMED)
        for line in lines[:50]:
            assert line.partition == expected_keys(line.values["record"])
        # What the query cannot evaluate is under partitioning-failed, original bytes, nothing else.
        failed = [e for e in report.lake.errors if e.output_type == ErrorOutputType.PARTITIONING_FAILED]
        assert failed and len(failed) == len(report.lake.errors)
        malformed = {s.data for s in sent if s.expect is Expect.MALFORMED}
        assert all(e.record.raw in malformed for e in failed)
        assert {e.record.error_code for e in failed} == {ErrorCode.METADATA_EXTRACTION_FAILED}
        # Malformed records the query can evaluate (a bad uuid, say) are stored: nothing validates them.
        assert any(s.data in stored for s in sent if s.expect is Expect.MALFORMED)
        # The unique-events view: one row per distinct valid event.
        view = next(q for q in report.queries if q.name == "unique_events")
        assert view.error is None
        valid = {s.event_uuid.lower() for s in sent if s.expect is not Expect.MALFORMED and s.event_uuid}
        assert {
            str(dict(zip(view.columns, r, strict=True))["event_uuid"]).lower() for r in view.rows
        } >= valid

        fixable = [e for e in failed if ms_to_seconds(e.record.raw, e.record) is not None]
        assert fixable, "the seed must produce millisecond timestamps"
        target = recovery.ReprocessTarget(
            s3=opened.aws.s3,
            kinesis=opened.aws.kinesis,
            dynamodb=None,
            bucket=opened.aws.bucket,
            stream_name=opened.aws.stream_name,
            claims_table=None,
            spec=report.spec,
        )
        # Without a fix nothing is sent: unchanged, each record would fail the query again.
        unfixed = recovery.reprocess(target, recovery.ReprocessOptions())
        assert sum(o.resent for o in unfixed) == 0
        assert sum(o.kept_reasons[recovery.NEEDS_FIX_QUERY] for o in unfixed) == len(failed)
        outcomes, follow_up = opened.deliver_more(
            lambda: recovery.reprocess(target, recovery.ReprocessOptions(fix=ms_to_seconds))
        )
        # The fixed records are stored now, in the partition of their (corrected) event hour.
        fixed = {ms_to_seconds(e.record.raw, e.record) for e in fixable}
        after = {line.values["record"]: line for line in follow_up.lake.lines}
        for data in fixed:
            assert data in after
            event = json.loads(data)
            assert after[data].partition == schema.partition_values(
                event["event_name"].split(":")[0], event["created_at"]
            )
        # What was kept is still under errors/, with its original bytes; the fixed ones are gone from there.
        left = {e.record.raw for e in follow_up.lake.errors}
        assert left == {e.record.raw for e in failed} - {e.record.raw for e in fixable}
        assert sum(o.resent for o in outcomes) == len(fixable)
        # Again: nothing more to send.
        assert (
            sum(o.resent for o in recovery.reprocess(target, recovery.ReprocessOptions(fix=ms_to_seconds)))
            == 0
        )
