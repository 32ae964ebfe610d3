"""Issue 30's demo: 20,000 events sent as the KPL sends them (``DemoOptions.aggregate``: the events bound for
each shard packed into KPL aggregated records), which the Firehose model de-aggregates before the transform.

- Under every fault the demo injects, at once, the invariant holds: each user record exactly once (a row or
  an error record, found by shard, sequence and subsequence number), error records with its original bytes,
  the marks, the unique-events view, and the raw backup holding every Kinesis record as put (aggregates
  whole).
- Without faults its lake equals the lake of the same events sent one record each: the same rows, in the same
  partitions, with the same marks and on the same shards, and the same error records. Only the columns that
  name the Kinesis record differ (``source_sequence_number``, ``source_subsequence_number``,
  ``source_arrival_datetime``: one aggregate's ~95 events share its sequence number and arrival); the
  invariant holds each row's lineage to the record it came from, in both runs.

One lake per run for the module (each 20,000-event run takes ~20-80 s on a loaded machine)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from aws_contract import kpl_aggregation
from eventlake.checks import invariant, run_record
from eventlake.simulator.demo import DemoOptions, Report, run_demo
from eventlake.traffic.producer import kinesis_records
from glue import schema
from glue.errors import ErrorOutputType

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EVENTS = 20_000
SEED = 30
EVERY_FAULT: dict[str, Any] = {
    "hours": 4,  # 17 event types x 4-5 event hours: about 70 partitions, over the limit below
    "fail_invocations": 0.5,  # with 3 retries, some batches fail every attempt: Lambda.FunctionError
    "fail_dedupe": 0.2,
    "fail_conversion": 0.03,
    "resend_batches": 0.5,  # copies of whole PutRecords batches of aggregates
    "concurrent_invocations": 5,
    "redeliver_batches": 0.2,
    "batch_records": 100,  # many small batches, so the invocation faults hit whole batches often
    "max_active_partitions": 60,  # below the run's partitions: activePartitionExceeded too
}
# The columns that name the Kinesis record a row came from: per aggregate, not per event.
KINESIS_RECORD_COLUMNS = ("source_sequence_number", "source_subsequence_number", "source_arrival_datetime")

_RUNS: dict[str, Report] = {}


def run(name: str, tmp_path_factory: pytest.TempPathFactory) -> Report:
    if name not in _RUNS:
        options: dict[str, Any] = {"aggregate": name != "plain", **(EVERY_FAULT if name == "faults" else {})}
        out = tmp_path_factory.mktemp(name) / "lake"
        _RUNS[name] = run_demo(DemoOptions(events=EVENTS, seed=SEED, out=out, **options))
    return _RUNS[name]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return run("faults", tmp_path_factory)


@pytest.fixture(scope="module")
def aggregated(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return run("aggregated", tmp_path_factory)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return run("plain", tmp_path_factory)


def aggregates(report: Report) -> int:
    """Kinesis records the run put that are KPL aggregates."""
    return len({s.kinesis_lineage for s in report.ledger.records if s.aggregated})


def test_every_fault_at_once_and_the_invariant_holds(faulty: Report) -> None:
    assert faulty.invariant.violations == [] and faulty.ok
    # Every fault really happened, on aggregated records, and made every error type the demo can make.
    assert all(faulty.injected.values()), faulty.injected
    assert faulty.kinesis_records < len(faulty.ledger.records) / 20 and aggregates(faulty) > 0
    assert {e.output_type for e in faulty.lake.errors} == {
        ErrorOutputType.PROCESSING_FAILED,
        ErrorOutputType.FORMAT_CONVERSION_FAILED,
        ErrorOutputType.ACTIVE_PARTITION_EXCEEDED,
    }
    affected = {a.what for a in faulty.invariant.affected}
    assert any(what.startswith("processed twice") for what in affected)
    # Copies of one event went in one aggregate (a duplicate share of 5 %, ~95 events an aggregate).
    by_record = Counter((s.kinesis_lineage, s.data) for s in faulty.ledger.records if s.aggregated)
    assert max(by_record.values()) > 1
    # Every error record of a stage after the Lambda names its user record, as its row would.
    for line in faulty.lake.errors:
        if line.output_type == ErrorOutputType.FORMAT_CONVERSION_FAILED:
            assert line.record.subsequence_number is not None
    # What `eventlake check` re-checks later reads back as it was: user records, rejections, faults.
    record = run_record.read(faulty.options.out_dir)
    assert record is not None and record.sent == faulty.ledger.records
    assert record.rejections == faulty.rejections


def test_the_raw_backup_holds_the_aggregates_as_put(aggregated: Report, plain: Report) -> None:
    assert aggregated.ok and plain.ok
    assert aggregated.lake.backed_up == kinesis_records(aggregated.ledger.records)
    backed_up_aggregates = [r for r in aggregated.lake.backed_up.elements() if kpl_aggregation.deaggregate(r)]
    assert len(backed_up_aggregates) == aggregates(aggregated) > 0
    assert plain.lake.backed_up == Counter(s.data for s in plain.ledger.records)


def lake_rows(report: Report) -> Counter[tuple[Any, ...]]:
    """Every row with its partition, but the columns that name its Kinesis record."""
    kept = [c for c in schema.COLUMN_NAMES if c not in KINESIS_RECORD_COLUMNS]
    return Counter(
        (tuple(sorted(row.partition.items())), *(repr(row.values.get(c)) for c in kept))
        for row in report.lake.rows
    )


def error_lines(report: Report) -> Counter[tuple[str, str, bytes]]:
    return Counter((e.output_type, e.record.error_code, e.record.raw) for e in report.lake.errors)


def test_the_aggregated_lake_equals_the_lake_of_one_record_per_event(
    aggregated: Report, plain: Report
) -> None:
    # The same records sent (the aggregating producer puts each shard's aggregate when it is full: its
    # ledger's order is the shards' interleaving, each shard's own order kept).
    assert Counter(s.data for s in aggregated.ledger.records) == Counter(s.data for s in plain.ledger.records)
    assert aggregated.kinesis_records < plain.kinesis_records / 50
    assert len(aggregated.lake.rows) == len(plain.lake.rows) > EVENTS * 0.9
    assert lake_rows(aggregated) == lake_rows(plain)
    assert error_lines(aggregated) == error_lines(plain) and error_lines(plain)
    assert aggregated.duplicates_marked == plain.duplicates_marked > 0
    # The rows of one aggregate share its sequence number and tell themselves apart by subsequence number.
    lineages = Counter(row.lineage[:2] for row in aggregated.lake.rows)
    assert max(lineages.values()) > 50
    assert len({row.lineage for row in aggregated.lake.rows}) == len(aggregated.lake.rows)
    assert {row.values["source_subsequence_number"] for row in plain.lake.rows} == {0}


def test_the_demo_summary_says_how_many_kinesis_records_carried_the_events(aggregated: Report) -> None:
    from eventlake.simulator.report import document

    sent = document(aggregated)["sent"]
    assert sent["records"] == EVENTS and sent["kinesis_records"] == aggregated.kinesis_records


def test_the_demo_command_takes_aggregate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from eventlake.cli.main import main

    code = main(["demo", "--events", "300", "--hours", "2", "--aggregate", "--out", str(tmp_path / "lake"),
                 "--output", "json"])  # fmt: skip
    sent = json.loads(capsys.readouterr().out)["sent"]
    assert code == 0 and sent["records"] == 300 and sent["kinesis_records"] < 20


def test_a_conversion_error_record_naming_another_user_record_breaks_it(faulty: Report) -> None:
    """Its ``subSequenceNumber`` is checked against the row it carries: the user record it stands for."""
    record = run_record.read(faulty.options.out_dir)
    assert record is not None
    lines = list(faulty.lake.errors)
    at = next(
        i
        for i, e in enumerate(lines)
        if e.output_type == ErrorOutputType.FORMAT_CONVERSION_FAILED and e.record.subsequence_number
    )
    wrong = dataclasses.replace(lines[at].record, subsequence_number=lines[at].record.subsequence_number + 1)
    lines[at] = dataclasses.replace(lines[at], record=wrong)
    result = invariant.check(
        record.sent,
        dataclasses.replace(faulty.lake, errors=lines),
        rejections=record.rejections,
        dedupe=record.dedupe,
        backup_enabled=record.backup_enabled,
        faults=record.faults,
    )
    assert result.failed_checks == Counter({invariant.EXACTLY_ONCE: 1})
    assert "names sequence" in result.violations[0]
