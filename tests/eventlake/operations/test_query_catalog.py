"""``eventlake query`` reads the table as its catalog describes it, on a lake left by a small demo run with a
compaction: README's Query statements run as written with ``--stack dev``; after the superseded originals
expire the count is the table's rows (not 0); a late object in no registered partition is not counted; a
missing or empty lake is exit 2 with one line."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot
from client_calls import object_reads

from eventlake.athena import engine as athena
from eventlake.checks import lake_contents, run_record
from eventlake.cli.main import main
from eventlake.simulator.demo import DemoOptions, open_demo
from eventlake.simulator.embedded.aws import EmbeddedAws
from eventlake.simulator.local_lifecycle import apply_expiry
from infra.compaction_spec import superseded_expiry_rules
from infra.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.e2e
README = PROJECT_ROOT / "README.md"


@dataclass(frozen=True)
class Compacted:
    """The demo's mirror right after its compaction (originals and compacted copies both there), the mirror
    again after the lifecycle expired the originals, and the table's row count (its catalog's locations)."""

    before_expiry: Path
    after_expiry: Path
    table_rows: int
    bucket: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def compacted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Compacted, EmbeddedAws]]:
    root = tmp_path_factory.mktemp("query-catalog")
    out = root / "lake"
    settings = Settings.from_stack_file("dev")
    with open_demo(DemoOptions(events=300, hours=1, compact=True, out=out)) as opened:
        assert opened.report.ok
        before = root / "before-expiry"
        shutil.copytree(out, before)
        aws = opened.aws
        # As deployed (infra/lake_bucket.py): the rules that expire what compaction superseded.
        aws.s3.put_bucket_lifecycle_configuration(
            Bucket=aws.bucket,
            LifecycleConfiguration={"Rules": superseded_expiry_rules(settings.compaction_expiry_days)},
        )
        later = datetime.now(UTC) + timedelta(days=settings.compaction_expiry_days + 2)
        assert apply_expiry(aws.s3, aws.bucket, later).expired  # the originals went
        lake_contents.mirror(aws.s3, aws.bucket, out)  # the mirror as the bucket is now
        record = run_record.read(out)
        assert record is not None and record.compacted and record.locations
        rows = len(lake_contents.table_rows(out, record.locations))
        assert rows > 0
        yield Compacted(before, out, rows, aws.bucket), aws


def _count(capsys: pytest.CaptureFixture[str], *source: str) -> int:
    code, out, err = run(capsys, "query", *source, "SELECT count(*) AS n FROM events", "--output", "json")
    assert code == 0, err
    return int(json.loads(out)["rows"][0]["n"])


def test_after_compaction_and_expiry_the_count_is_the_tables_rows(
    capsys: pytest.CaptureFixture[str], compacted: tuple[Compacted, EmbeddedAws]
) -> None:
    lake, _ = compacted
    # Reading every object under events/ gave 0 here (the originals expired, the copies live elsewhere).
    assert _count(capsys, "--lake", str(lake.after_expiry)) == lake.table_rows
    # Before expiry both are there: the catalog reads the copies only, nothing twice.
    assert _count(capsys, "--lake", str(lake.before_expiry)) == lake.table_rows


def test_a_late_object_in_no_registered_partition_is_not_counted(
    capsys: pytest.CaptureFixture[str], compacted: tuple[Compacted, EmbeddedAws], tmp_path: Path
) -> None:
    lake, _ = compacted
    copy = tmp_path / "lake"
    shutil.copytree(lake.before_expiry, copy)
    some = next(copy.glob("compacted/**/*.parquet"))
    original = next(copy.glob("events/*/*/*/"))  # its partition now reads its compacted copy
    shutil.copy(some, original / "late-arrival.parquet")
    unknown = copy / "events/event_type=late/event_date=2026-12-01/event_hour=00"
    unknown.mkdir(parents=True)
    shutil.copy(some, unknown / "late.parquet")
    assert _count(capsys, "--lake", str(copy)) == lake.table_rows


def test_the_bucket_is_read_through_its_glue_catalog(
    capsys: pytest.CaptureFixture[str], compacted: tuple[Compacted, EmbeddedAws]
) -> None:
    lake, aws = compacted
    region = aws.s3.meta.region_name
    assert _count(capsys, "--bucket", lake.bucket, "--region", region) == lake.table_rows


def _readme_statements() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Query\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    statements = [s.sql("athena") for block in blocks for s in sqlglot.parse(block, read="athena") if s]
    assert len(statements) >= 2, statements
    return statements


def test_readmes_query_statements_run_as_written_with_the_stacks_database(
    capsys: pytest.CaptureFixture[str], compacted: tuple[Compacted, EmbeddedAws]
) -> None:
    lake, _ = compacted
    for statement in _readme_statements():
        assert "eventlake_dev." in statement, statement  # the dev stack's Glue database, as written
        code, out, err = run(capsys, "query", "--stack", "dev", "--lake", str(lake.after_expiry), statement)
        assert code == 0 and "error" not in err, (statement, err)
        code, out, err = run(capsys, "query", "--lake", str(lake.after_expiry), statement, "--output", "json")
        assert code == 0 and isinstance(json.loads(out)["rows"], list), err
    # The database context is the stack's Glue database: another one names no table.
    code, _, err = run(
        capsys,
        "query",
        "--lake",
        str(lake.after_expiry),
        "--database",
        "other",
        "SELECT 1 FROM eventlake_dev.events",
    )
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_a_missing_or_empty_lake_is_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for lake in (tmp_path / "nowhere", tmp_path):
        code, out, err = run(capsys, "query", "--lake", str(lake), "SELECT count(*) AS n FROM events")
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert str(lake) in err


def test_a_mirror_without_a_run_record_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], compacted: tuple[Compacted, EmbeddedAws], tmp_path: Path
) -> None:
    lake, _ = compacted
    copy = tmp_path / "lake"
    shutil.copytree(lake.after_expiry, copy)
    (copy / run_record.RUN_RECORD).unlink()
    code, _, err = run(capsys, "query", "--lake", str(copy), "SELECT count(*) FROM events")
    assert code == 2 and "run record" in err and len(err.strip().splitlines()) == 1, err


def test_the_bucket_is_read_only_where_the_partition_filters_select(
    capsys: pytest.CaptureFixture[str],
    compacted: tuple[Compacted, EmbeddedAws],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lake, aws = compacted
    partitions = athena.catalog_partitions(aws.glue, aws.spec.database_name, aws.spec.table_name)
    chosen = sorted({p.values[0] for p in partitions})[0]
    mine = [p.location.removeprefix(f"s3://{lake.bucket}/") for p in partitions if p.values[0] == chosen]
    expected = {
        o["Key"]
        for prefix in mine
        for o in aws.s3.list_objects_v2(Bucket=lake.bucket, Prefix=prefix, Delimiter="/").get("Contents", [])
    }
    read = object_reads(monkeypatch)
    sql = f"SELECT count(*) AS n FROM events WHERE event_type = '{chosen}'"
    region = aws.s3.meta.region_name
    code, out, err = run(
        capsys, "query", "--bucket", lake.bucket, "--region", region, sql, "--output", "json"
    )
    assert code == 0, err
    assert sorted(read) == sorted(expected) and 0 < len(read) < len(
        lake_contents.local_objects(lake.after_expiry)
    )
    assert f"reading {len(expected):,} objects" in err  # the size estimate, before the first GET
    local = json.loads(run(capsys, "query", "--lake", str(lake.after_expiry), sql, "--output", "json")[1])
    assert json.loads(out)["rows"] == local["rows"] and local["rows"][0]["n"] > 0
    # A filter it cannot read (a function of the column) selects every partition: never fewer than Athena.
    read.clear()
    every = "SELECT count(*) AS n FROM events WHERE upper(event_type) = 'X'"
    assert run(capsys, "query", "--bucket", lake.bucket, "--region", region, every)[0] == 0
    assert len(read) > len(expected)
