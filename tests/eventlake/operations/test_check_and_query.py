"""``eventlake check`` and ``eventlake query`` on a lake a demo run left behind."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client_calls import object_reads
from embedded_server import embedded_aws_server, upload_lake

from eventlake.checks import lake_contents
from eventlake.checks.lake_contents import MIRROR_MARKER
from eventlake.cli.main import main
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings

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
        upload_lake(aws, lake)  # S3 -> EventBridge -> the registrar: `query --bucket` reads Glue
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


# --- check --bucket reads the bucket in place ---------------------------------------------------------------


def _damaged_bucket(s3: Any, bucket: str, lake: Path) -> None:
    """The demo's lake in a bucket (a tenth of its data objects), with what a check must find or skip: a
    truncated Parquet object, strays (in events/ and at the root), a compacted copy (not read: its rows are
    the originals'), and an archived error object with reprocess's record beside it (read once, with its
    archive)."""
    files = sorted(p for p in lake.rglob("*") if p.is_file() and not p.name.startswith("."))
    data = [p for p in files if p.suffix == ".parquet"]
    files = [p for p in files if p.suffix != ".parquet"] + data[::10]  # a tenth of the data: a quicker test
    for path in files:
        s3.put_object(Bucket=bucket, Key=path.relative_to(lake).as_posix(), Body=path.read_bytes())
    parquet = [p.relative_to(lake).as_posix() for p in files if p.suffix == ".parquet"]
    body = (lake / parquet[0]).read_bytes()
    s3.put_object(Bucket=bucket, Key=parquet[0], Body=body[:40])
    s3.put_object(Bucket=bucket, Key="events/stray.txt", Body=b"not an object of this lake")
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"at the root")
    s3.put_object(Bucket=bucket, Key="compacted/" + parquet[1].removeprefix("events/"), Body=body)
    error = next(p.relative_to(lake).as_posix() for p in files if p.parts[len(lake.parts)] == "errors")
    archived = "errors-archive/" + error
    s3.put_object(Bucket=bucket, Key=archived, Body=(lake / error).read_bytes())
    s3.put_object(Bucket=bucket, Key=archived + ".reprocessed.json", Body=b'{"lines": []}')


def _no_copies(path: Path, data: Any) -> int:
    raise AssertionError(f"check --bucket wrote {path}: it must read the bucket in place")


def _without_name(report: dict[str, Any], name: str) -> dict[str, Any]:
    return {**report, "title": report["title"].replace(name, "LAKE")}


def test_check_bucket_reads_each_object_once_in_place_and_equals_the_mirrors_check(
    capsys: pytest.CaptureFixture[str],
    lake: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``check --bucket`` against the mirror-based check of the same bucket: the same report, each object
    read at most once (no compacted copy, no stray), nothing written to disk, the count said before the
    first GET; with --from/--to only those hours' objects are read, and the report is the mirror's for
    those hours."""
    settings = Settings.from_stack_file("dev")
    with embedded_aws_server(settings, DeliverySpec.from_settings(settings), region="eu-west-1") as (
        aws,
        url,
    ):
        _damaged_bucket(aws.s3, aws.bucket, lake)
        mirror = tmp_path / "mirror"  # what check --bucket did before: the whole bucket copied first
        objects = lake_contents.mirror(aws.s3, aws.bucket, mirror)
        reads = object_reads(monkeypatch)
        remote = ["--endpoint-url", url, "--region", "eu-west-1", "--bucket", aws.bucket, "--output", "json"]
        with monkeypatch.context() as local_disk:  # no copy of an object on a disk, temporary or not
            local_disk.setattr(Path, "write_bytes", _no_copies)
            code, out, err = run(capsys, "check", *remote)
        code_mirror, out_mirror, _ = run(capsys, "check", "--lake", str(mirror), "--output", "json")
        bucket_report = _without_name(json.loads(out), f"s3://{aws.bucket}")
        assert code == code_mirror == 1
        assert bucket_report == _without_name(json.loads(out_mirror), str(mirror))
        readable = [v["message"] for v in bucket_report["violations"]]
        assert len(readable) == 3 and {m.split(":")[0] for m in readable} >= {"notes.txt", "events/stray.txt"}
        skipped = {"notes.txt", "events/stray.txt"} | {
            o.key for o in objects if o.key.startswith("compacted/")
        }
        read = Counter(reads)
        assert max(read.values()) == 1 and set(read) == {o.key for o in objects} - skipped
        assert f"reading {len(read):,} objects" in err

        # One event hour away from the arrival hours: its data objects alone are read.
        data = [o.key for o in objects if o.key.startswith("events/") and o.key.endswith(".parquet")]
        arrival = {lake_contents.object_hour(o.key) for o in objects if o.key.startswith(("raw/", "errors"))}
        hour = next(h for k in data if (h := lake_contents.object_hour(k)) not in arrival)
        mine = {k for k in data if lake_contents.object_hour(k) == hour}
        text = f"{hour:%Y-%m-%dT%H}"
        reads.clear()
        code, out, err = run(capsys, "check", *remote, "--from", text, "--to", text)
        read = Counter(reads)
        assert set(read) == mine and max(read.values()) == 1, (set(read) ^ mine, err)
        assert len(mine) < len(data) and f"reading {len(mine):,} objects" in err
        local = run(capsys, "check", "--lake", str(mirror), "--from", text, "--to", text, "--output", "json")
        assert code == local[0] == 1  # the strays say no hour: named whatever the hours
        assert _without_name(json.loads(out), f"s3://{aws.bucket}") == _without_name(
            json.loads(local[1]), str(mirror)
        )
        assert f"hours {text}..{text} UTC" in json.loads(out)["title"]
