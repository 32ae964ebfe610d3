"""Tables render data as text: an event name like ``support:ticket:opened`` is not a Rich emoji code, and
``[bold]`` in a value or a column name is not markup, in every command's table output (the JSON was right)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from eventlake.cli import common, output
from eventlake.simulator import report

DATA = ("support:ticket:opened", "[bold]x[/bold]", ":smile: [red]y")


def _printed(capsys: pytest.CaptureFixture[str]) -> str:
    """What was printed, its whitespace collapsed (a title wider than its table wraps)."""
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("value", DATA)
def test_query_and_check_tables_print_values_titles_and_headers_as_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    output.emit("table", f"title {value}", [value, "n"], [(value, 1)])
    printed = _printed(capsys)
    assert printed.count(value) == 3, printed  # the title, the header and the cell, each as written
    assert "🎫" not in printed and "😄" not in printed


@pytest.mark.parametrize("value", DATA)
def test_the_older_emit_prints_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    common.emit("table", f"title {value}", [value], [(value,)])
    assert _printed(capsys).count(value) == 3


@pytest.mark.parametrize("value", DATA)
def test_the_demo_summarys_tables_print_text(value: str) -> None:
    table = report.report_table(f"Sent {value}", value, "records")
    table.add_row(value, "1")
    out = io.StringIO()
    Console(file=out, width=200).print(table)
    assert " ".join(out.getvalue().split()).count(value) == 3, out.getvalue()
