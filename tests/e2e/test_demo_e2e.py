"""The whole local pipeline, small: clean and under each fault, checked against THE INVARIANT and the
exact object key layout AWS would produce for the deployed configuration."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest

from eventlake.__main__ import main
from eventlake.delivery import BACKUP, DATA
from eventlake.invariant import EXACTLY_ONCE, PARTITION, check
from eventlake.lake import Lake
from eventlake.runner import DemoOptions, Report, run_demo
from eventlake.sample_events import Expect
from glue.errors import ErrorCode, ErrorOutputType, Reject

pytestmark = pytest.mark.e2e

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EVENTS = 2_000

SCENARIOS = {
    "clean": {},
    "fail_invocations": {"fail_invocations": 0.6, "batch_records": 100},
    "fail_dedupe": {"fail_dedupe": 0.6, "batch_records": 100},
    "fail_conversion": {"fail_conversion": 0.05},
    "resend_batches": {"resend_batches": 0.5, "batch_records": 100},
}


_REPORTS: dict[str, Report] = {}


def report_for(name: str, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """One run per scenario for the whole module: each is a fresh moto session."""
    if name not in _REPORTS:
        out = tmp_path_factory.mktemp(name) / "lake"
        _REPORTS[name] = run_demo(DemoOptions(events=EVENTS, seed=11, out=out, **SCENARIOS[name]))
    return _REPORTS[name]


@pytest.fixture(params=list(SCENARIOS))
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Report]:
    return request.param, report_for(request.param, tmp_path_factory)


def template_regex(template: str) -> str:
    """A Firehose prefix template as a regex: each expression becomes the pattern it evaluates to."""
    out, position = [], 0
    for match in re.finditer(r"!\{([^}]*)\}", template):
        out.append(re.escape(template[position : match.start()]))
        namespace, _, value = match.group(1).partition(":")
        if namespace == "partitionKeyFromLambda":
            out.append(f"(?P<{value}>[^/]+)")
        elif namespace == "timestamp":
            out.append(re.sub("yyyy", r"\\d{4}", re.sub("MM|dd|HH", r"\\d{2}", value)))
        elif value == "error-output-type":
            out.append("(?P<error_type>" + "|".join(re.escape(t.value) for t in ErrorOutputType) + ")")
        else:
            raise AssertionError(f"unexpected expression {match.group(0)}")
        position = match.end()
    out.append(re.escape(template[position:]))
    return "".join(out)


def key_patterns(report: Report) -> dict[str, re.Pattern[str]]:
    spec = report.spec
    name = re.escape(spec.delivery_stream_name) + r"-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-" + UUID
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
    assert report.invariant.rows + report.invariant.error_records == report.invariant.records


def test_object_keys_are_exactly_what_aws_writes(scenario: tuple[str, Report]) -> None:
    _, report = scenario
    patterns = key_patterns(report)
    assert report.lake.objects, "nothing was delivered"
    for obj in report.lake.objects:
        kind = DATA if obj.key.startswith("events/") else BACKUP if obj.key.startswith("raw/") else "error"
        match = patterns[kind].fullmatch(obj.key)
        assert match, f"{obj.key} does not match {patterns[kind].pattern}"
        if kind == DATA:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", match["event_date"])
            assert re.fullmatch(r"\d{2}", match["event_hour"])
    assert {o.key for o in report.lake.objects} == {o.key for o in report.written}
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
    elif name in ("fail_invocations", "fail_dedupe"):
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
    elif name == "resend_batches":
        assert report.ledger.resent_batches > 0
        resent = sum(1 for s in report.ledger.records if s.resent_batch)
        valid_resent = sum(
            1 for s in report.ledger.records if s.resent_batch and s.expect is Expect.DUPLICATE
        )
        assert resent > 0
        assert report.duplicates_marked >= valid_resent


def test_the_checker_catches_a_lost_a_doubled_and_a_misplaced_row(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    report = report_for("clean", tmp_path_factory)
    rows = report.lake.rows
    misplaced = dataclasses.replace(rows[2], partition={**rows[2].partition, "event_hour": "99"})
    tampered = Lake(
        root=report.lake.root,
        objects=report.lake.objects,
        rows=[rows[1], rows[1], misplaced, *rows[3:]],  # rows[0] lost, rows[1] twice
        errors=report.lake.errors,
        backed_up=report.lake.backed_up,
    )
    result = check(
        report.ledger.records,
        tampered,
        rejections={},
        dedupe_enabled=report.settings.dedupe_enabled,
        backup_enabled=True,
    )
    assert not result.ok
    assert result.failed_checks[EXACTLY_ONCE] == 2
    assert result.failed_checks[PARTITION] == 1


def test_the_cli_runs_green_and_writes_the_lake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lake"
    assert main(["demo", "--events", "300", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "INVARIANT HOLDS" in printed
    assert any(out.glob("events/event_type=*/event_date=*/event_hour=*/*.parquet"))
    assert any(out.glob("errors/processing-failed/*/*/*/*/*"))


def test_without_the_claims_table_cross_batch_resends_are_reported_not_hidden(tmp_path: Path) -> None:
    stack_file = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
    (tmp_path / "Pulumi.nodedupe.yaml").write_text(
        stack_file.read_text() + "  eventlake:dedupeEnabled: false\n", encoding="utf-8"
    )
    options = DemoOptions(
        stack="nodedupe", root=tmp_path, events=1_000, batch_records=100, out=tmp_path / "lake"
    )
    report = run_demo(options)
    assert report.ok, report.invariant.violations
    (group,) = [a for a in report.invariant.affected if "dedupe disabled" in a.what]
    assert group.count > 0
    assert report.duplicates_marked < report.sent_by_expectation[Expect.DUPLICATE]
