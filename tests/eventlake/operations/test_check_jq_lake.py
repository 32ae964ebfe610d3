"""``eventlake check`` and ``eventlake query`` on a lake a ``--processor jq`` demo left behind: the check
applies that mode's invariant (``eventlake.checks.query_mode``), named by the run record, and catches a lost
record; the query command reads that mode's table and saved queries."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from eventlake.checks import query_mode
from eventlake.checks.invariant import CHECKS, EXACTLY_ONCE, REJECTION
from eventlake.checks.run_record import RUN_RECORD
from eventlake.cli.main import main
from glue import partition_query

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-jq") / "lake"
    argv = ["demo", "--processor", "jq", "--events", "300", "--seed", "7", "--out", str(out)]
    assert main([*argv, "--malformed-share", "0.2"]) == 0
    return out


@pytest.fixture
def copy(lake: Path, tmp_path: Path) -> Path:
    target = tmp_path / "lake"
    shutil.copytree(lake, target)
    return target


def check(capsys: pytest.CaptureFixture[str], lake: Path) -> tuple[int, dict[str, dict]]:
    code = main(["check", "--lake", str(lake), "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    return code, {row["check"]: row for row in report["rows"]}


def test_a_healthy_jq_lake_passes_the_query_modes_checks(
    capsys: pytest.CaptureFixture[str], lake: Path
) -> None:
    header = json.loads((lake / RUN_RECORD).read_text().splitlines()[0])
    assert header["processor"] == "jq"
    code, rows = check(capsys, lake)
    assert code == 0, rows
    assert set(query_mode.QUERY_CHECKS) <= set(rows)
    assert all(row["violations"] == 0 for row in rows.values())
    # The Lambda's checks (rejection reasons, dedupe marks) are not applied to a lake without them.
    assert REJECTION not in rows and not set(CHECKS) - set(query_mode.QUERY_CHECKS) & set(rows)


def test_a_lost_record_and_a_lost_error_are_violations(
    capsys: pytest.CaptureFixture[str], copy: Path
) -> None:
    victim = next(copy.rglob(f"*{partition_query.OUTPUT_EXTENSION}"))
    lines = gzip.decompress(victim.read_bytes()).splitlines(keepends=True)
    victim.write_bytes(gzip.compress(b"".join(lines[1:])))
    code, rows = check(capsys, copy)
    assert code == 1 and rows[EXACTLY_ONCE]["violations"] == 1
    error_object = next(p for p in (copy / "errors").rglob("*") if p.is_file())
    error_object.unlink()
    code, rows = check(capsys, copy)
    assert code == 1 and rows[EXACTLY_ONCE]["violations"] > 1


def test_a_record_without_the_processor_takes_its_stacks(
    capsys: pytest.CaptureFixture[str], copy: Path
) -> None:
    path = copy / RUN_RECORD
    first, rest = path.read_text().split("\n", 1)
    header = json.loads(first)
    del header["processor"]
    path.write_text(json.dumps(header) + "\n" + rest)
    # The dev stack file runs the Lambda: its invariant is applied, and a JSON Lines lake fails it.
    code, rows = check(capsys, copy)
    assert code == 1 and REJECTION in rows and rows[EXACTLY_ONCE]["violations"] > 0


def test_query_uses_the_jq_table_and_saved_queries(capsys: pytest.CaptureFixture[str], lake: Path) -> None:
    stored = sum(
        len(gzip.decompress(p.read_bytes()).splitlines())
        for p in lake.rglob(f"*{partition_query.OUTPUT_EXTENSION}")
    )
    assert main(["query", "--lake", str(lake), "SELECT count(*) AS n FROM events", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [{"n": stored}]
    assert main(["query", "--lake", str(lake), "--name", "duplicates", "--output", "json"]) == 0
    per_type = json.loads(capsys.readouterr().out)["rows"]
    assert sum(row["events"] for row in per_type) == stored
