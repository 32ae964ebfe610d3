"""The operator CLI's conventions: one-line errors that name the flag and suggest the closest, exit codes
0 / 1 / 2, defaults in --help, and an --out that never touches files it did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

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
