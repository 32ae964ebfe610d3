"""The whole local pipeline, small: clean and under each fault, checked against THE INVARIANT and the
exact object key layout AWS would produce for the deployed configuration."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eventlake.athena import engine as athena
from eventlake.checks import lake_contents, run_record
from eventlake.checks.invariant import (
    CHECKS,
    EXACTLY_ONCE,
    FIRST_COPY,
    PARTITION,
    REJECTION,
    ROW_CONTENT,
    UNIQUE_VIEW,
    Faults,
    InvariantResult,
    check,
    unique_rows,
)
from eventlake.checks.lake_contents import LakeContents, Row
from eventlake.cli.main import main
from eventlake.simulator.demo import DemoOptions, Report, run_demo
from eventlake.simulator.firehose.s3_destination import BACKUP, DATA
from eventlake.simulator.report import TOP_PARTITIONS
from eventlake.traffic.sample_events import Expect
from glue.errors import (
    DIMENSION_FUNCTION,
    DIMENSION_REASON,
    METRIC_NAMESPACE,
    ErrorCode,
    ErrorOutputType,
    Metric,
    Reject,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EVENTS = 2_000

SCENARIOS = {
    "clean": {},
    "fail_invocations": {"fail_invocations": 0.6, "batch_records": 100},
    "fail_dedupe": {"fail_dedupe": 0.6, "batch_records": 100},
    "fail_conversion": {"fail_conversion": 0.05},
    "resend_batches": {"resend_batches": 0.5, "batch_records": 100},
    # Resent batches put copies of an event in nearby batches of one shard; five invocations race them.
    "concurrent_invocations": {"concurrent_invocations": 5, "resend_batches": 0.5, "batch_records": 50},
    "redeliver_batches": {"redeliver_batches": 0.3, "batch_records": 100},
}


_REPORTS: dict[str, Report] = {}
# Per scenario: object name -> the delivery time the model passed when it named the object.


def report_for(name: str, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """One run per scenario for the whole module: each is a fresh moto session."""
    if name not in _REPORTS:
        out = tmp_path_factory.mktemp(name) / "lake"
        _REPORTS[name] = run_demo(DemoOptions(events=EVENTS, seed=11, out=out, **SCENARIOS[name]))
    return _REPORTS[name]


@pytest.fixture(params=list(SCENARIOS))
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Report]:
    return request.param, report_for(request.param, tmp_path_factory)


JAVA_TO_STRPTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def template_regex(template: str) -> str:
    """A Firehose prefix template as a regex: each expression becomes the pattern it evaluates to.
    The first ``!{timestamp:...}`` is captured as ``arrival`` (read it back with ``arrival_format``)."""
    out, position = [], 0
    for match in re.finditer(r"!\{([^}]*)\}", template):
        out.append(re.escape(template[position : match.start()]))
        namespace, _, value = match.group(1).partition(":")
        if namespace == "partitionKeyFromLambda":
            out.append(f"(?P<{value}>[^/]+)")
        elif namespace == "timestamp":
            digits = re.sub("yyyy", r"\\d{4}", re.sub("MM|dd|HH", r"\\d{2}", value))
            out.append(digits if "(?P<arrival>" in "".join(out) else f"(?P<arrival>{digits})")
        elif value == "error-output-type":
            out.append("(?P<error_type>" + "|".join(re.escape(t.value) for t in ErrorOutputType) + ")")
        else:
            raise AssertionError(f"unexpected expression {match.group(0)}")
        position = match.end()
    out.append(re.escape(template[position:]))
    return "".join(out)


def arrival_format(template: str) -> str:
    """The strptime format of the template's first ``!{timestamp:...}``."""
    (java,) = re.findall(r"!\{timestamp:([^}]*)\}", template)[:1]
    return re.sub("yyyy|MM|dd|HH|mm|ss", lambda m: JAVA_TO_STRPTIME[m.group(0)], java)


DELIVERED_FORMAT = "%Y-%m-%d-%H-%M-%S"


def key_patterns(report: Report) -> dict[str, re.Pattern[str]]:
    spec = report.spec
    name = (
        re.escape(spec.delivery_stream_name)
        + r"-1-(?P<delivered>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-"
        + UUID
    )
    return {
        DATA: re.compile(template_regex(spec.prefix) + name + re.escape(spec.file_extension)),
        "error": re.compile(template_regex(spec.error_output_prefix) + name),
        BACKUP: re.compile(template_regex(spec.backup_prefix) + name + r"\.gz"),
    }


def test_the_invariant_holds(scenario: tuple[str, Report]) -> None:
    name, report = scenario
    assert report.invariant.violations == [], name
    assert report.ok
    assert report.invariant.records == len(report.ledger.records) >= EVENTS
    # Firehose's redelivery (at least once) is the only way a source record is in the lake twice.
    twice = sum(a.count for a in report.invariant.affected if "processed twice" in a.what)
    assert (twice > 0) == (name == "redeliver_batches")
    assert report.invariant.rows + report.invariant.error_records == report.invariant.records + twice


def _ms(moment: datetime) -> int:
    return (moment.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def arrivals_by_object(report: Report) -> dict[str, list[int]]:
    """Arrival times (epoch ms) of the records in each object, read from the lake itself.

    Rows carry ``source_arrival_datetime``, error records ``arrivalTimestamp``. A backup object holds raw
    bytes only: identical bytes (an event and its re-sends) are told apart by order, as the backup is
    written in arrival order, so the k-th backed-up copy of some bytes is the k-th to arrive.
    """
    by_lineage = report.ledger.by_lineage()
    out: dict[str, list[int]] = defaultdict(list)
    by_bytes: dict[bytes, list[int]] = defaultdict(list)
    for row in report.lake.rows:
        arrival = _ms(row.values["source_arrival_datetime"])
        out[row.key].append(arrival)
        by_bytes[by_lineage[row.lineage].data].append(arrival)
    for line in report.lake.errors:
        assert line.record.arrival_ms is not None
        out[line.key].append(line.record.arrival_ms)
        if line.output_type == ErrorOutputType.PROCESSING_FAILED:
            by_bytes[line.record.raw].append(line.record.arrival_ms)
        else:
            transformed = json.loads(line.record.raw)
            source = by_lineage[
                (
                    transformed["source_shard_id"],
                    transformed["source_sequence_number"],
                    transformed["source_subsequence_number"],
                )
            ]
            by_bytes[source.data].append(line.record.arrival_ms)
    for arrivals in by_bytes.values():
        arrivals.sort()
    seen: Counter[bytes] = Counter()
    for written in report.objects_of(BACKUP):  # in the order the model wrote them
        for record in report.lake.backups[written.key]:
            out[written.key].append(by_bytes[record][seen[record]])
            seen[record] += 1
    return out


def test_object_keys_are_exactly_what_aws_writes(scenario: tuple[str, Report]) -> None:
    _, report = scenario
    spec = report.spec
    patterns = key_patterns(report)
    written = {o.key: o for o in report.written}
    arrivals = arrivals_by_object(report)
    processor_s, buffer_s = spec.processor_buffer_interval_seconds, spec.buffering_interval_seconds
    assert report.lake.objects, "nothing was delivered"
    for obj in report.lake.objects:
        kind = DATA if obj.key.startswith("events/") else BACKUP if obj.key.startswith("raw/") else "error"
        match = patterns[kind].fullmatch(obj.key)
        assert match, f"{obj.key} does not match {patterns[kind].pattern}"
        # The name carries the time the model delivered the object (UTC, to the second).
        named_at = datetime.strptime(match["delivered"], DELIVERED_FORMAT).replace(tzinfo=UTC)
        assert named_at.timestamp() == written[obj.key].delivered_ms // 1000, obj.key
        assert min(arrivals[obj.key]) == written[obj.key].oldest_arrival_ms, obj.key
        oldest, newest = min(arrivals[obj.key]), max(arrivals[obj.key])
        if kind == DATA:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", match["event_date"])
            assert re.fullmatch(r"\d{2}", match["event_hour"])
            # A buffer opens when a processor batch holding one of its rows closes (within the processor
            # interval of that row's arrival) and is delivered one buffer interval later.
            assert oldest // 1000 <= named_at.timestamp() <= newest / 1000 + processor_s + buffer_s, obj.key
        else:
            # !{timestamp:...} is the arrival of the oldest record in the object, to the template's unit.
            template = spec.error_output_prefix if kind == "error" else spec.backup_prefix
            fmt = arrival_format(template)
            oldest_arrival = datetime.fromtimestamp(oldest / 1000, tz=UTC)
            assert match["arrival"] == oldest_arrival.strftime(fmt), obj.key
    assert {o.key for o in report.lake.objects} == {o.key for o in report.written}
    assert {o.key for o in report.lake.objects} == set(arrivals)  # every object has records
    assert report.lake.objects and any(o.key.startswith("raw/") for o in report.lake.objects)


def test_what_each_scenario_shows(scenario: tuple[str, Report]) -> None:
    name, report = scenario
    by_code = Counter(e.record.error_code for e in report.lake.errors)
    affected = {a.what: a for a in report.invariant.affected}
    if name == "clean":
        assert affected == {}
        assert set(report.errors_by_type) == {ErrorOutputType.PROCESSING_FAILED}
        assert by_code[ErrorCode.PROCESSING_FAILED_STATUS] == report.sent_by_expectation[Expect.MALFORMED]
        assert report.duplicates_marked == report.sent_by_expectation[Expect.DUPLICATE]
        built = {str(r) for r in Reject} - {Reject.BAD_BASE64, Reject.UNPROCESSABLE}
        assert set(report.malformed_reasons) == built
    elif name == "fail_dedupe":
        # A failing store never costs a valid event: nothing beyond the malformed goes to errors, and the
        # ids the store could not check are rows marked null (the unique-events view still keeps one each).
        assert report.injected["claim store calls failed"] > 0
        assert set(report.errors_by_type) == {ErrorOutputType.PROCESSING_FAILED}
        assert by_code[ErrorCode.PROCESSING_FAILED_STATUS] == report.sent_by_expectation[Expect.MALFORMED]
        assert report.stats.failed_attempts == 0
        unchecked = [r for r in report.lake.rows if r.values["is_duplicate"] is None]
        assert unchecked and all(r.values["uuid_reused"] is None for r in unchecked)
    elif name == "fail_invocations":
        assert report.stats.failed_attempts > 0
        assert report.stats.attempts > report.stats.invocations  # retries happened
        assert by_code[ErrorCode.FUNCTION_ERROR] > 0  # some batches failed every attempt
        group = next(a for a in affected.values() if "every invocation attempt" in a.what)
        assert group.count == by_code[ErrorCode.FUNCTION_ERROR] == group.recoverable
        assert all(
            e.record.attempts_made == report.spec.processor_retries + 1
            for e in report.lake.errors
            if e.record.error_code == ErrorCode.FUNCTION_ERROR
        )
    elif name == "fail_conversion":
        corrupted = report.injected["transformed records corrupted"]
        assert corrupted > 0
        assert report.errors_by_type[ErrorOutputType.FORMAT_CONVERSION_FAILED] == corrupted
        group = next(a for a in affected.values() if "conversion" in a.what)
        assert group.count == group.recoverable == corrupted
        assert by_code[ErrorCode.MALFORMED_DATA] == corrupted
    elif name == "concurrent_invocations":
        assert report.options.concurrent_invocations == 5
        flags = Counter(r.values["is_duplicate"] for r in report.lake.rows)
        assert flags[True] == report.sent_by_expectation[Expect.DUPLICATE]  # exactly one winner per id
        assert flags[None] == 0
    elif name == "redeliver_batches":
        group = next(a for a in affected.values() if "redelivered" in a.what)
        assert group.count > 0
        assert report.invariant.rows > report.invariant.records - report.sent_by_expectation[Expect.MALFORMED]
    elif name == "resend_batches":
        assert report.ledger.resent_batches > 0
        resent = sum(1 for s in report.ledger.records if s.resent_batch)
        valid_resent = sum(
            1 for s in report.ledger.records if s.resent_batch and s.expect is Expect.DUPLICATE
        )
        assert resent > 0 and valid_resent > 0
        # Exact: a re-sent batch repeats every record with the same partition key, so each copy lands on
        # the shard of its first copy, after it; with no invocation or claim-store faults every first
        # copy's claim succeeds, so every later copy (a generated re-send or a resent-batch copy, all
        # Expect.DUPLICATE) is a row marked duplicate, and nothing else is.
        assert set(report.errors_by_type) == {ErrorOutputType.PROCESSING_FAILED}
        assert report.duplicates_marked == report.sent_by_expectation[Expect.DUPLICATE]
        generated = sum(
            1 for s in report.ledger.records if not s.resent_batch and s.expect is Expect.DUPLICATE
        )
        assert report.duplicates_marked == generated + valid_resent


def logged_rejections(report: Report) -> dict[tuple[str, str], list[str]]:
    """The Lambda's real rejection log from the run; a clean run has one line per malformed record."""
    expected = {s.lineage: [str(s.reason)] for s in report.ledger.records if s.expect is Expect.MALFORMED}
    if not any(report.options.__dict__.get(f) for f in ("fail_invocations", "fail_dedupe")):
        assert report.rejections == expected
    return {lineage: list(reasons) for lineage, reasons in report.rejections.items()}


def recheck(report: Report, lake: LakeContents, **kwargs: Any) -> InvariantResult:
    kwargs.setdefault("rejections", logged_rejections(report))
    return check(
        report.ledger.records,
        lake,
        dedupe=report.settings.dedupe_mode,
        backup_enabled=True,
        **kwargs,
    )


def with_rows(lake: LakeContents, rows: list[Row]) -> LakeContents:
    return dataclasses.replace(lake, rows=rows)


def failures(result: InvariantResult) -> dict[str, int]:
    return {name: result.failed_checks[name] for name in CHECKS if result.failed_checks[name]}


def test_the_checker_catches_a_lost_a_doubled_and_a_misplaced_row(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    report = report_for("clean", tmp_path_factory)
    assert recheck(report, report.lake).ok  # the log this test supplies is the one the run had
    rows = report.lake.rows
    misplaced = dataclasses.replace(rows[2], partition={**rows[2].partition, "event_hour": "99"})
    # rows[0] lost, rows[1] twice
    result = recheck(report, with_rows(report.lake, [rows[1], rows[1], misplaced, *rows[3:]]))
    assert not result.ok
    assert result.failed_checks[EXACTLY_ONCE] == 2
    assert result.failed_checks[PARTITION] == 1


def _payload(row: Row) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(row.values["payload"])
    return payload


def _has(kind: type) -> Any:
    return lambda row: any(type(v) is kind for v in _payload(row).values())


def _retyped(row: Row, old: type, new: Any) -> Row:
    """The row with its first top-level payload field of type ``old`` converted by ``new``."""
    payload = _payload(row)
    key = next(k for k, v in payload.items() if type(v) is old)
    payload[key] = new(payload[key])
    return _changed(row, payload=json.dumps(payload))


def _changed(row: Row, **values: Any) -> Row:
    return dataclasses.replace(row, values={**row.values, **values})


def _swapped_flags(report: Report) -> dict[int, Row]:
    """Row index -> row with its is_duplicate flipped, for the two copies of one re-sent event."""
    index = {row.lineage: i for i, row in enumerate(report.lake.rows)}
    duplicate = next(s for s in report.ledger.records if s.expect is Expect.DUPLICATE)
    first = next(s for s in report.ledger.records if s.event_uuid == duplicate.event_uuid)
    assert first.expect is Expect.VALID
    return {
        index[s.lineage]: _changed(report.lake.rows[index[s.lineage]], is_duplicate=s is first)
        for s in (first, duplicate)
    }


def test_the_checker_catches_retyped_payloads_wrong_derived_fields_logs_and_flags(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    report = report_for("clean", tmp_path_factory)
    rows = list(report.lake.rows)
    used: set[int] = set()

    def pick(wanted: Any = lambda row: True) -> int:
        i = next(i for i, row in enumerate(rows) if i not in used and wanted(row))
        used.add(i)
        return i

    swapped = _swapped_flags(report)
    used.update(swapped)
    tampering = {
        # Python's == calls each of the first two equal to what was sent.
        pick(_has(int)): lambda r: _retyped(r, int, float),  # 3 -> 3.0
        pick(_has(bool)): lambda r: _retyped(r, bool, int),  # true -> 1
        pick(): lambda r: _changed(
            r, created_datetime=r.values["created_datetime"] + timedelta(milliseconds=1)
        ),
        pick(): lambda r: _changed(r, created_datetime=r.values["created_datetime"] + timedelta(hours=1)),
        pick(lambda r: r.values["event_subtype"] is not None): lambda r: _changed(r, event_subtype=None),
        pick(lambda r: r.values["event_subtype"] is None): lambda r: _changed(r, event_subtype="x"),
        pick(): lambda r: _changed(r, source_arrival_datetime=None),
    }
    for i, tamper in tampering.items():
        rows[i] = tamper(rows[i])
    for i, row in swapped.items():
        rows[i] = row

    logs = logged_rejections(report)
    missing, doubled, wrong = [s.lineage for s in report.ledger.records if s.expect is Expect.MALFORMED][:3]
    del logs[missing]
    logs[doubled] = logs[doubled] * 2
    logs[wrong] = [str(Reject.UNPROCESSABLE)]

    result = recheck(report, with_rows(report.lake, rows), rejections=logs)
    assert failures(result) == {ROW_CONTENT: len(tampering), REJECTION: 3, FIRST_COPY: 2}, result.violations

    # Under invocation faults a retry logs again (two lines are fine) and which claim won is not known,
    # but the unmarked copy must still be the first one delivered.
    faulty = recheck(
        report,
        with_rows(report.lake, [swapped.get(i, row) for i, row in enumerate(report.lake.rows)]),
        rejections={**logged_rejections(report), doubled: [logs[doubled][0]] * 2},
        faults=Faults(invocations=True),
    )
    assert failures(faulty) == {FIRST_COPY: 1}, faulty.violations


def test_the_cli_runs_green_and_writes_the_lake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lake"
    assert main(["demo", "--events", "300", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "INVARIANT HOLDS" in printed
    assert any(out.glob("events/event_type=*/event_date=*/event_hour=*/*.parquet"))
    assert any(out.glob("errors/processing-failed/*/*/*/*/*"))


def _stack_with(tmp_path: Path, name: str, extra: str) -> Path:
    stack_file = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
    (tmp_path / f"Pulumi.{name}.yaml").write_text(stack_file.read_text() + extra, encoding="utf-8")
    return tmp_path


def _marks(report: Report) -> Counter[tuple[Any, Any]]:
    flags = lake_contents.column_values(report.lake.rows, "is_duplicate")
    reused = lake_contents.column_values(report.lake.rows, "uuid_reused")
    return Counter(zip(flags, reused, strict=True))


def test_dedupe_compaction_marks_in_batch_repeats_now_and_every_repeat_once_compacted(tmp_path: Path) -> None:
    """No claims table: cross-batch repeats are null until compaction, then every mark is exact (the
    invariant's exact check: the earliest copy false, every other true)."""
    root = _stack_with(tmp_path, "bycompaction", "  eventlake:dedupe: compaction\n")
    options = DemoOptions(
        stack="bycompaction", root=root, events=1_000, hours=2, batch_records=100, out=tmp_path / "a"
    )  # two event hours: ~35 partitions to compact, not ~400
    before = run_demo(options)
    assert before.ok, before.invariant.violations
    seen = _marks(before)
    assert seen[(None, None)] > 0 and set(seen) <= {(None, None), (True, False)}
    repeats = before.sent_by_expectation[Expect.DUPLICATE]
    assert 0 < seen[(True, False)] < repeats  # only the repeats that shared a batch with their first copy

    after = run_demo(dataclasses.replace(options, compact=True, out=tmp_path / "b"))
    assert after.ok, after.invariant.violations
    assert set(_marks(after)) == {(False, False), (True, False)}
    assert after.duplicates_marked == repeats
    assert run_record.read(tmp_path / "b").compacted  # `eventlake check` knows the lake was compacted


def test_dedupe_off_marks_nothing(tmp_path: Path) -> None:
    root = _stack_with(tmp_path, "nomarks", '  eventlake:dedupe: "off"\n')
    report = run_demo(
        DemoOptions(stack="nomarks", root=root, events=500, hours=2, out=tmp_path / "lake", compact=True)
    )
    assert report.ok, report.invariant.violations
    assert set(_marks(report)) == {(None, None)}


def unique_view(
    report: Report, partitions: list[athena.CatalogPartition]
) -> list[tuple[str, tuple[str, str]]]:
    """What the unique-events view returns when the catalog knows ``partitions``."""
    conn = athena.connect(report.options.out_dir, report.settings.glue_database, partitions)
    return unique_rows(*athena.run(conn, athena.load_queries()["unique_events"]))


def test_a_partition_the_registrar_missed_shows_up_as_missing_rows(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    report = report_for("clean", tmp_path_factory)
    data_partitions = {o.partition for o in report.objects_of(DATA)}
    assert len(report.catalog_partitions) == len(data_partitions)  # one registration per partition written
    assert recheck(report, report.lake, unique=unique_view(report, report.catalog_partitions)).ok
    missed = report.catalog_partitions[1:]
    result = recheck(report, report.lake, unique=unique_view(report, missed))
    assert result.failed_checks[UNIQUE_VIEW] > 0
    assert any("missing from the unique-events view" in v for v in result.violations)


def test_the_lambdas_published_metrics_agree_with_the_lake(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The metric names and values, read back from the Lambda's embedded-metric-format lines as CloudWatch
    would extract them, against what the lake holds."""
    report = report_for("clean", tmp_path_factory)
    fn = ((DIMENSION_FUNCTION, report.settings.function_name),)
    published = {(name, dims): v for (ns, name, dims), v in report.metrics.items() if ns == METRIC_NAMESPACE}
    assert published[(Metric.RECORDS, fn)] == len(report.ledger.records)
    assert published[(Metric.RECORDS_OK, fn)] == len(report.lake.rows)
    assert published[(Metric.RECORDS_REJECTED, fn)] == report.sent_by_expectation[Expect.MALFORMED]
    assert published[(Metric.DUPLICATES, fn)] == report.duplicates_marked
    assert published[(Metric.REUSED_IDS, fn)] == published[(Metric.NOT_CHECKED, fn)] == 0
    by_reason = {
        dict(dims)[DIMENSION_REASON]: value
        for (name, dims), value in published.items()
        if name == Metric.RECORDS_REJECTED_BY_REASON
    }
    assert by_reason == dict(report.malformed_reasons)


def test_the_summary_states_the_share_of_records_in_the_table_and_each_error_prefix(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from eventlake.simulator.report import where_records_went

    report = report_for("fail_conversion", tmp_path_factory)
    sent = len(report.ledger.records)
    text = where_records_went(report)
    assert f"{len(report.lake.rows) / sent:.1%} of {sent:,} records are rows of the table" in text
    for output_type, count in report.errors_by_type.items():
        assert f"{count / sent:.1%} under errors/{output_type}/" in text
    assert len(report.errors_by_type) == 2  # processing-failed and format-conversion-failed


def test_demo_output_json_is_one_document_with_the_progress_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "lake")
    code = main(["demo", "--events", "200", "--seed", "2", "--out", out, "--output", "json"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout is the one document, nothing else
    assert code == 0 and summary["ok"] and "INVARIANT HOLDS" in summary["title"]
    assert [row["check"] for row in summary["rows"]] == list(CHECKS)
    assert all(row["violations"] == 0 for row in summary["rows"])
    assert summary["sent"]["records"] == 200 and summary["invariant"]["records"] == 200
    assert sum(p["objects"] for p in summary["partitions"]) == summary["objects"]["data"]["objects"]
    assert {q["name"] for q in summary["queries"]} >= {athena.UNIQUE_EVENTS_VIEW}
    # The progress went to stderr, the steps after delivery included (the invariant's check among them).
    assert "Producing to Kinesis" in captured.err and "Checking the invariant" in captured.err


def test_the_summary_fits_80_columns_and_tells_the_partitions_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["demo", "--events", "300", "--seed", "3", "--out", str(tmp_path / "lake")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert all(len(text) <= 80 for text in printed), [t for t in printed if len(t) > 80]
    start = next(i for i, text in enumerate(printed) if text.startswith("Objects per partition"))
    end = next(i for i, text in enumerate(printed) if i > start and "all data" in text)
    shown = [text.split("│")[1].strip() for text in printed[start:end] if text.startswith("│")]
    assert len(shown) == TOP_PARTITIONS and len(set(shown)) == len(shown), shown
    assert all("…" not in text and text.count("/") == 2 for text in shown), shown  # type/date/hour, whole
