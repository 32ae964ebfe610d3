"""``eventlake check`` and ``eventlake query`` on a lake a demo run left behind."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from embedded_server import embedded_aws_server

from eventlake.checks.lake_contents import MIRROR_MARKER
from eventlake.cli.main import main
from eventlake.embedded import eventbridge
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from partition_registrar.handler import Registrar, created_objects

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "lake"
    assert main(["demo", "--events", "600", "--seed", "5", "--out", str(out)]) == 0
    return out


@pytest.fixture
def copy(lake: Path, tmp_path: Path) -> Path:
    target = tmp_path / "lake"
    shutil.copytree(lake, target)
    return target


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_healthy_lake_passes_every_check(capsys: pytest.CaptureFixture[str], lake: Path) -> None:
    code, out, _ = run(capsys, "check", "--lake", str(lake), "--output", "json")
    report = json.loads(out)
    assert code == 0 and all(row["violations"] == 0 for row in report["rows"])
    assert len(report["rows"]) > 5  # the lake checks and every invariant check


def test_truncated_and_stray_objects_are_violations_not_crashes(
    capsys: pytest.CaptureFixture[str], copy: Path
) -> None:
    victim = next(copy.rglob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:40])
    (copy / "events" / "stray.txt").write_text("not an object of this lake")
    code, out, _ = run(capsys, "check", "--lake", str(copy), "--output", "json")
    rows = {row["check"]: row for row in json.loads(out)["rows"]}
    assert code == 1
    readable = rows["every object readable and on the layout"]
    assert readable["violations"] == 2 and "stray.txt" in readable["examples"]
    # The truncated object's rows are gone, so the invariant sees those records missing.
    assert rows["every record exactly once, as a row or an error record"]["violations"] > 0


def test_without_the_run_record_only_the_lake_checks_run(
    capsys: pytest.CaptureFixture[str], copy: Path
) -> None:
    (copy / ".eventlake-run.jsonl").unlink()
    code, out, _ = run(capsys, "check", "--lake", str(copy), "--output", "json")
    report = json.loads(out)
    assert code == 0 and len(report["rows"]) == 1 and "lake checks only" in report["title"]


def test_query_by_name_file_and_text(capsys: pytest.CaptureFixture[str], lake: Path, tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, "query", "--lake", str(lake), "--name", "events_per_type_and_hour", "--output", "json"
    )
    by_name = json.loads(out)["rows"]
    assert code == 0 and by_name and set(by_name[0]) == {"event_type", "event_date", "event_hour", "events"}
    sql = tmp_path / "q.sql"
    sql.write_text("SELECT count(*) AS n FROM events")
    code, out, _ = run(capsys, "query", "--lake", str(lake), "--file", str(sql), "--output", "json")
    total = json.loads(out)["rows"][0]["n"]
    assert code == 0 and total == sum(row["events"] for row in by_name)
    code, out, _ = run(
        capsys, "query", "--lake", str(lake), "SELECT count(*) AS n FROM unique_events", "--output", "json"
    )
    assert code == 0 and 0 < json.loads(out)["rows"][0]["n"] <= total


def test_query_errors_are_one_line_and_divergences_are_warned(
    capsys: pytest.CaptureFixture[str], lake: Path
) -> None:
    code, _, err = run(capsys, "query", "--lake", str(lake), "SELECT nope FROM events")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "query", "--lake", str(lake), "SELECT count(*) / 2 AS half FROM events")
    assert code == 0 and "truncates integers" in err


@pytest.fixture
def served_lake(lake: Path) -> Iterator[tuple[str, str]]:
    """The demo's lake uploaded to the bucket of an embedded AWS behind an endpoint: (endpoint, bucket)."""
    settings = Settings.from_stack_file("dev")
    with embedded_aws_server(settings, DeliverySpec.from_settings(settings), region="eu-west-1") as (
        aws,
        url,
    ):
        registrar = Registrar(aws.glue, aws.spec.database_name, aws.spec.table_name)
        for sequencer, path in enumerate(sorted(lake.rglob("*"))):
            if path.is_file() and not path.name.startswith("."):
                key, body = path.relative_to(lake).as_posix(), path.read_bytes()
                aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=body)
                # S3 -> EventBridge -> the registrar, as deployed: `query --bucket` reads the Glue catalog.
                event = eventbridge.object_created(
                    bucket=aws.bucket,
                    key=key,
                    size=len(body),
                    when_ms=0,
                    account=aws.account.account_id,
                    region=aws.region,
                    sequencer=sequencer,
                )
                registrar.register(created_objects(event))
        yield url, aws.bucket


@pytest.mark.slow
def test_check_and_query_a_bucket_through_the_endpoint(
    capsys: pytest.CaptureFixture[str], served_lake: tuple[str, str], lake: Path
) -> None:
    url, bucket = served_lake
    remote = ["--endpoint-url", url, "--region", "eu-west-1", "--bucket", bucket, "--output", "json"]
    code, out, _ = run(capsys, "check", *remote)
    report = json.loads(out)
    assert code == 0 and "lake checks only" in report["title"]
    code, out, _ = run(capsys, "query", "--name", "events_per_type_and_hour", *remote)
    code_local, out_local, _ = run(
        capsys, "query", "--name", "events_per_type_and_hour", "--lake", str(lake), "--output", "json"
    )
    assert code == code_local == 0 and json.loads(out)["rows"] == json.loads(out_local)["rows"]
    code, _, err = run(capsys, "check", *remote[:-4], "--bucket", "no-such-bucket")
    assert code == 2 and "NoSuchBucket" in err and len(err.strip().splitlines()) == 1


def test_an_empty_lake_is_a_warning_and_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "check", "--lake", str(tmp_path), "--output", "json")
    report = json.loads(out)
    assert code == 1 and "warning" in err and "no lake objects" in err
    assert report["warnings"] and "0 objects" in report["title"]


@pytest.mark.slow
def test_an_empty_bucket_is_a_warning_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.from_stack_file("dev")
    spec = DeliverySpec.from_settings(settings)
    with embedded_aws_server(settings, spec, region="eu-west-1") as (aws, url):
        remote = ["--endpoint-url", url, "--region", "eu-west-1", "--bucket", aws.bucket, "--output", "json"]
        code, out, err = run(capsys, "check", *remote)
    assert code == 1 and f"s3://{aws.bucket} holds no lake objects" in err
    assert json.loads(out)["warnings"]


def _violations(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in json.loads(out)["violations"]:
        found.setdefault(item["check"], []).append(item["message"])
    return found


def test_a_deleted_object_is_named_and_so_are_the_records_it_held(
    capsys: pytest.CaptureFixture[str], copy: Path
) -> None:
    victim = next(copy.rglob("*.parquet"))
    key = victim.relative_to(copy).as_posix()
    victim.unlink()
    code, out, _ = run(capsys, "check", "--lake", str(copy), "--output", "json")
    found = _violations(out)
    assert code == 1
    assert any(m.startswith(f"{key}: missing") for m in found["every object readable and on the layout"])
    lost = found["every record exactly once, as a row or an error record"]
    assert lost and all(key in m for m in lost), lost  # each lost record blames the object it was in


def test_a_stray_copy_of_a_valid_object_is_named(capsys: pytest.CaptureFixture[str], copy: Path) -> None:
    original = next(copy.rglob("*.parquet"))
    stray = original.with_name("copy-of-" + original.name)
    stray.write_bytes(original.read_bytes())
    key, copied = stray.relative_to(copy).as_posix(), original.relative_to(copy).as_posix()
    code, out, _ = run(capsys, "check", "--lake", str(copy), "--output", "json")
    found = _violations(out)
    rows = {row["check"]: row for row in json.loads(out)["rows"]}
    assert code == 1
    readable = found["every object readable and on the layout"]
    assert readable == [f"{key}: not written by the mirror (not in its {MIRROR_MARKER}: a stray copy?)"]
    twice = found["every record exactly once, as a row or an error record"]
    assert twice and all(key in m and copied in m and "found 2 times" in m for m in twice), twice
    # Each check lists its own violations (the marks check names both objects too).
    assert key in rows["every record exactly once, as a row or an error record"]["examples"]
    assert all(key in m for m in found.get("one is_duplicate=false row per distinct valid event_uuid", []))


def test_at_80_columns_the_table_fits_and_lists_the_violations_below_it(
    capsys: pytest.CaptureFixture[str], copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    original = next(copy.rglob("*.parquet"))
    original.with_name("copy-of-" + original.name).write_bytes(original.read_bytes())
    code, out, _ = run(capsys, "check", "--lake", str(copy))
    printed = out.splitlines()
    assert code == 1 and all(len(text) <= 80 for text in printed), printed
    listed = "".join(text for text in printed if not text.startswith(("┃", "│", "┏", "┡", "└")))
    assert "copy-of-" in listed and "not written by the mirror" in listed and "found 2 times" in listed
