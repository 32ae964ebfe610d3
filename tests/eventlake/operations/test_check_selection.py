"""What ``check`` reads of a lake, without one: the hour each object belongs to (``--from``/``--to``), which
objects' bytes are read at all (a bucket's GETs), and ``read(retain=False)`` checking records it does not
keep (a bucket's month of backups would not fit in memory)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventlake.checks import lake_contents
from eventlake.checks.lake_contents import LakeObject
from eventlake.cli.main import main

PARTITION = "event_type=order/event_date=2026-12-01/event_hour=07/"
ERROR = "errors/processing-failed/2026/12/01/09/eventlake-dev-delivery-1-2026-12-01-09-00-00-x"


@pytest.mark.parametrize(
    ("key", "hour"),
    [
        ("events/" + PARTITION + "a.parquet", datetime(2026, 12, 1, 7, tzinfo=UTC)),
        ("compacted/" + PARTITION + "run/part-0.parquet", datetime(2026, 12, 1, 7, tzinfo=UTC)),
        (ERROR, datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("errors/backup/s3-failed/2026/12/31/23/x", datetime(2026, 12, 31, 23, tzinfo=UTC)),
        ("raw/2026/12/01/00/x.gz", datetime(2026, 12, 1, 0, tzinfo=UTC)),
        ("errors-archive/" + ERROR + ".reprocessed.json", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("events/stray.txt", None),
        ("notes.txt", None),
        ("raw/2026/13/01/00/x.gz", None),  # no such month: no hour, not a crash
    ],
)
def test_an_objects_hour_is_its_partitions_or_its_arrival_folders(key: str, hour: datetime | None) -> None:
    assert lake_contents.object_hour(key) == hour


def test_arrival_folders_written_in_another_zone_are_read_in_utc() -> None:
    assert lake_contents.object_hour("raw/2026/07/01/09/x.gz", "Europe/Zurich") == datetime(
        2026, 7, 1, 7, tzinfo=UTC
    )


def test_hours_select_both_ends_included_and_strays_always() -> None:
    seven, eight = datetime(2026, 12, 1, 7, tzinfo=UTC), datetime(2026, 12, 1, 8, tzinfo=UTC)
    key = "events/" + PARTITION + "a.parquet"
    assert lake_contents.in_hours(key, seven, seven) and lake_contents.in_hours(key, None, seven)
    assert not lake_contents.in_hours(key, eight, None) and not lake_contents.in_hours(ERROR, seven, eight)
    assert lake_contents.in_hours("notes.txt", eight, eight)


def test_bodies_read_are_the_checked_objects_only() -> None:
    keys = [
        "events/" + PARTITION + "a.parquet",
        "events/stray.txt",  # off the layout: judged by its key
        "compacted/" + PARTITION + "run/part-0.parquet",  # the originals' rows again
        ERROR,
        "errors/not-a-type-folder",
        "raw/2026/12/01/00/x.gz",
        "errors-archive/" + ERROR,
        "errors-archive/" + ERROR + ".reprocessed.json",  # read with its archive
        "errors-archive/other.reprocessed.json",  # no archive beside it: never read
        "notes.txt",
    ]
    read = [o.key for o in lake_contents.bodies_read([LakeObject(k, 1) for k in keys])]
    assert read == [keys[0], keys[3], keys[5], keys[6], keys[7]]


def test_read_without_retaining_checks_and_counts_but_keeps_no_record(tmp_path: Path) -> None:
    jq = "events/" + PARTITION + "a" + ".json.gz"
    raw = "raw/2026/12/01/00/b.gz"
    for key, body in ((jq, b'{"a":1}\n{"a":2}\n'), (raw, b'{"a":1}\n'), ("raw/2026/12/01/00/c.gz", b"x")):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(gzip.compress(body) if key != "raw/2026/12/01/00/c.gz" else body)
    objects = lake_contents.local_objects(tmp_path)
    kept: list[str] = []
    counted: list[str] = []
    steps: list[int] = []
    full = lake_contents.read(tmp_path, objects, kept)
    lean = lake_contents.read(
        lake_contents.MirrorFiles(tmp_path), objects, counted, retain=False, advance=steps.append
    )
    assert kept == counted and len(kept) == 1 and kept[0].startswith("raw/2026/12/01/00/c.gz: ")
    assert full.row_count == lean.row_count == 2 and len(full.lines) == 2 and full.backed_up
    assert not lean.lines and not lean.backups and not lean.backed_up and steps == [1, 1, 1]


def test_from_after_to_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["check", "--lake", str(tmp_path), "--from", "2026-12-02", "--to", "2026-12-01"])
    err = capsys.readouterr().err
    assert code == 2 and "is after --to" in err and len(err.strip().splitlines()) == 1
