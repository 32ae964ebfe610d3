"""The operator CLI's conventions: one-line errors that name the flag and suggest the closest, exit codes
0 / 1 / 2, defaults in --help, and an --out that never touches files it did not write."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from eventlake.checks import lake_contents
from eventlake.checks.lake_contents import MIRROR_MARKER
from eventlake.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_mistyped_command_or_flag_is_one_line_with_the_closest_spelling(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, text = run(capsys, "demi")
    assert code == 2 and "did you mean demo?" in text and len(text.strip().splitlines()) == 1
    code, text = run(capsys, "demo", "--evnts", "3")
    assert code == 2 and "did you mean --events?" in text


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["demo", "--events", "0"], "--events"),
        (["demo", "--events", "many"], "--events"),
        (["demo", "--duplicate-share", "1.5"], "--duplicate-share"),
        (["demo", "--duplicate-share", "0.6", "--malformed-share", "0.5"], "--malformed-share"),
        (["demo", "--concurrent-invocations", "6"], "--concurrent-invocations"),
        (["demo", "--stack", "nosuchstack"], "Pulumi.nosuchstack.yaml"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    code, text = run(capsys, *argv)
    assert code == 2 and names in text


def test_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(capsys, "demo", "--help")
    assert code == 0 and "(default: 5000)" in text and "--endpoint-url" in text


def test_out_refuses_a_directory_holding_someone_elses_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    theirs = tmp_path / "events" / "precious.txt"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("keep me")
    code, text = run(capsys, "demo", "--events", "50", "--out", str(tmp_path))
    assert code == 2 and "did not write" in text
    assert theirs.read_text() == "keep me"


@pytest.mark.slow
@pytest.mark.e2e
def test_out_rewrites_only_what_its_own_mirror_wrote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    assert run(capsys, "demo", "--events", "200", "--out", str(out))[0] == 0
    assert (out / MIRROR_MARKER).exists()
    notes = out / "notes.txt"
    notes.write_text("mine")  # beside the mirror's folders, not in them
    assert run(capsys, "demo", "--events", "200", "--seed", "4", "--out", str(out))[0] == 0
    assert notes.read_text() == "mine" and any((out / "events").rglob("*.parquet"))


class FakeS3:
    """The two calls ``lake_contents.mirror`` makes, over a dict of objects."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket: str) -> list[dict[str, Any]]:  # boto3's argument names
        return [{"Contents": [{"Key": k, "Size": len(v)} for k, v in sorted(self.objects.items())]}]

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[Key])}


def test_a_mirror_removes_only_the_files_it_wrote(tmp_path: Path) -> None:
    first = {"events/t=a/one.parquet": b"1", "errors/x/2026/one": b"e", "raw/2026/one.gz": b"r"}
    lake_contents.mirror(FakeS3(first), "b", tmp_path)
    mine = tmp_path / "events" / "notes.txt"
    mine.write_text("a person's file, inside a folder the mirror wrote")
    beside = tmp_path / "errors" / "x" / "keep.txt"
    beside.write_text("another")
    second = {"events/t=b/two.parquet": b"2"}
    written = lake_contents.mirror(FakeS3(second), "b", tmp_path)
    assert [o.key for o in written] == ["events/t=b/two.parquet"]
    assert mine.read_text().startswith("a person's") and beside.read_text() == "another"
    on_disk = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == {"events/t=b/two.parquet", "events/notes.txt", "errors/x/keep.txt", MIRROR_MARKER}
    assert not (tmp_path / "raw").exists()  # emptied by the removal of its only file: removed too
    assert lake_contents.mirrored_files(tmp_path) == {"events/t=b/two.parquet": 1}


def test_a_mirror_never_overwrites_a_file_it_did_not_write(tmp_path: Path) -> None:
    lake_contents.mirror(FakeS3({"events/t=a/one.parquet": b"1"}), "b", tmp_path)
    theirs = tmp_path / "events" / "t=a" / "two.parquet"
    theirs.write_bytes(b"theirs")
    new = FakeS3({"events/t=a/two.parquet": b"2", "events/t=a/three.parquet": b"3"})
    with pytest.raises(lake_contents.MirrorRefused, match="did not write"):
        lake_contents.mirror(new, "b", tmp_path)
    assert theirs.read_bytes() == b"theirs" and (tmp_path / "events" / "t=a" / "one.parquet").exists()


def test_an_older_mirrors_marker_is_refused_not_guessed_at(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "theirs.txt").write_text("x")
    (tmp_path / MIRROR_MARKER).write_text('{"bucket": "b", "folders": ["events"]}')
    with pytest.raises(lake_contents.MirrorRefused, match="older eventlake"):
        lake_contents.mirror(FakeS3({}), "b", tmp_path)
    assert (tmp_path / "events" / "theirs.txt").exists()


@pytest.mark.slow
@pytest.mark.e2e
def test_a_demo_again_on_its_own_mirror_keeps_a_file_a_person_put_in_its_folders(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    assert run(capsys, "demo", "--events", "200", "--out", str(out))[0] == 0
    earlier = set(lake_contents.mirrored_files(out) or {})
    kept = out / "events" / "mine.txt"
    kept.write_text("mine")  # inside the mirror's own events/
    assert run(capsys, "demo", "--events", "200", "--seed", "4", "--out", str(out))[0] == 0
    assert kept.read_text() == "mine"
    now = set(lake_contents.mirrored_files(out) or {})
    on_disk = {o.key for o in lake_contents.local_objects(out)}
    assert on_disk == now | {"events/mine.txt"} and earlier - now  # the first run's files gone, no others
