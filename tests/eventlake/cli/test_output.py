"""What the commands print at 80 columns (the width of a terminal nobody widened, and of ``COLUMNS=80``):
keys cut from the middle so that their ends still tell them apart, notes cut at the end, numbers whole."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from eventlake.cli.main import main
from eventlake.cli.output import ELLIPSIS, END, MIDDLE, Field, fitted_table, middle

KEY = "errors/processing-failed/2026/12/07/03/eventlake-prod-delivery-1-2026-12-07-03-12-00-{}"


@given(
    text=st.text(st.characters(blacklist_characters=ELLIPSIS), max_size=200),
    width=st.integers(min_value=2, max_value=120),
)
def test_a_key_cut_from_the_middle_keeps_its_start_and_more_of_its_end(text: str, width: int) -> None:
    cut = middle(text, width)
    assert len(cut) == min(len(text), width)
    if len(text) > width:
        head, tail = cut.split(ELLIPSIS)
        assert text.startswith(head) and text.endswith(tail) and len(tail) >= len(head)
    else:
        assert cut == text


def test_a_table_of_long_keys_and_notes_is_one_line_a_row_at_80_columns() -> None:
    out = Console(file=io.StringIO(), width=80)
    ids = ["5f1c0e7a-2b9d-4c61-8e3f-5a9d0c7b2e41", "9a7e3c1d-8b2f-4e06-a5d4-3c2b1a0f9e87"]
    note = "sent: 2 rawData; kept: 1 rejected by the transform: sent unchanged it fails again (pass --fix)"
    rows = [(KEY.format(i), f"{1_234_567:,}", 3, note) for i in ids]
    columns = [
        Field("object", fit=MIDDLE, min_width=20),
        Field("records", right=True),
        Field("kept", right=True),
        Field("note", fit=END),
    ]
    out.print(fitted_table(out, "title", columns, rows))
    printed = out.file.getvalue().splitlines()
    body = [text for text in printed if text.startswith("│")]
    assert all(len(text) <= 80 for text in printed) and len(body) == len(rows)
    for i, text in zip(ids, body, strict=True):
        assert i[-8:] in text and "1,234,567" in text and "sent: 2 rawData" in text  # its end, whole numbers


@pytest.mark.parametrize("stack", ["huge", "prod"])
def test_sizing_never_cuts_a_number_at_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    main(["sizing", "--stack", stack])
    printed = capsys.readouterr().out
    assert ELLIPSIS not in printed, [text for text in printed.splitlines() if ELLIPSIS in text]
    assert all(len(text) <= 80 for text in printed.splitlines())
    if stack == "huge":
        assert "7,684,210,526.3" in printed  # Kinesis PUT payload units a month (95 events a record), whole
