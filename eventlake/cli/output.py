"""How the commands print. ``--output json``: one JSON document on stdout and nothing else there (progress,
warnings and errors go to stderr), so a pipe into ``jq`` always parses. ``--output table``: rich tables that
fit the terminal, one line per row even at 80 columns (the tests' ``COLUMNS=80``): keys are shortened from the
middle (their ends tell partitions and objects apart), notes are cut at the end (the whole text is in the
JSON), numbers are never cut."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.table import Table

ELLIPSIS = "…"
MIDDLE: Literal["middle"] = "middle"  # keys: their start and their end both matter
END: Literal["end"] = "end"  # notes and free text: the start says most
Fit = Literal["middle", "end"] | None
_MAX_ROUNDS = 64
# A number as the commands print one: digits with thousands separators, a sign, a unit or currency sign.
_NUMBER = re.compile(r"[-+$]?\d[\d,]*(\.\d+)?( ?[%A-Za-z/]{0,6})?( [-/] [-+$]?\d[\d,]*(\.\d+)?)?")


def middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut from the middle: the end (an object's name, a partition's
    hour) gets the larger share, since that is where keys of one folder differ."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    head = (width - 1) * 2 // 5
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + text[len(text) - tail :]


def end(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut at the end."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + ELLIPSIS


@dataclass(frozen=True)
class Field:
    """One field of a command's rows: its JSON name, and how a table shows it."""

    name: str
    header: str | None = None  # the table's header (default: the name)
    fit: Fit = None  # how a table cuts a long cell; None: never cut (numbers), wrapped if it must
    right: bool = False
    shown: bool = True  # in the table (the JSON has every column)
    min_width: int = 8

    @property
    def title(self) -> str:
        return self.header if self.header is not None else self.name


def columns(names: Sequence[str | Field]) -> list[Field]:
    return [c if isinstance(c, Field) else Field(c) for c in names]


def value_columns(names: Sequence[str], rows: Sequence[Sequence[Any]], min_width: int = 6) -> list[Field]:
    """Columns of query results: a column of numbers is never cut (right-aligned), any other is cut at the
    end when the table must narrow."""
    out = []
    for i, name in enumerate(names):
        values = [row[i] for row in rows if row[i] is not None]
        numbers = bool(values) and all(_is_number(v) for v in values)
        out.append(Field(name, right=True) if numbers else Field(name, fit=END, min_width=min_width))
    return out


def _is_number(value: Any) -> bool:
    from decimal import Decimal

    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


class NumbersTable(Table):
    """A rich Table whose columns of numbers are never narrowed below their widest number: rich would cut
    ``730,000,000,000.0`` to ``730,000,000,0…`` to fit 80 columns; the text columns wrap instead."""

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.text import Text

        for column in self.columns:
            cells = [c.plain if isinstance(c, Text) else Text.from_markup(str(c)).plain for c in column.cells]
            cells = [c.strip() for c in cells if c.strip()]
            if cells and all(_NUMBER.fullmatch(c) for c in cells):  # its header may wrap, not its numbers
                column.min_width = max(len(c) for c in cells)
        yield from super().__rich_console__(console, options)


def console(*, stderr: bool = False) -> Any:
    """A rich Console for stdout (or stderr); its width is the terminal's, or ``COLUMNS``, else 80."""
    from rich.console import Console

    return Console(stderr=stderr)


def fitted_table(
    out: Any,
    title: str | None,
    cols: Sequence[str | Field],
    rows: Sequence[Sequence[Any]],
    *,
    styles: Sequence[str | None] = (),
    **table: Any,
) -> Any:
    """A rich Table of ``rows`` (each with its style from ``styles``, if any) no wider than the console
    ``out``: the columns that may be narrowed are, the widest first, until the table fits or each is at its
    ``min_width`` (one that may be cut is cut, text that may not is wrapped; a number is neither). Cells are
    plain text, never markup (a key may hold brackets)."""
    from rich.measure import Measurement
    from rich.text import Text

    specs = columns(cols)
    shown = [(i, c) for i, c in enumerate(specs) if c.shown]
    texts = [["" if row[i] is None else str(row[i]) for i, _ in shown] for row in rows]
    natural = [max([len(c.title), *(len(r[j]) for r in texts)]) for j, (_, c) in enumerate(shown)]
    limits = list(natural)
    floors = [c.min_width for _, c in shown]  # a header may be cut too: the JSON names the field in full
    narrow = [bool(c.fit) or not c.right for _, c in shown]

    def build() -> Table:
        # The title and headers are text too: a query's column may be named `a:ticket:b` or `[x]`.
        heading = Text(title) if title is not None else None
        t = Table(title=heading, title_justify="left", title_style="bold", **table)
        for j, (_, c) in enumerate(shown):
            if c.fit:
                header = end(c.title, limits[j])
                t.add_column(Text(header), justify="right" if c.right else "left", no_wrap=True)
            elif c.right:  # a number: never cut, never narrowed below its width
                t.add_column(Text(c.title), justify="right", no_wrap=True, min_width=limits[j])
            else:  # text that may not be cut: wrapped when narrowed
                wrap_at = limits[j] if limits[j] < natural[j] else None
                t.add_column(Text(c.title), overflow="fold", max_width=wrap_at)
        for n, r in enumerate(texts):
            cells = []
            for j, (_, c) in enumerate(shown):
                cut = middle if c.fit == MIDDLE else end
                cells.append(Text(cut(r[j], limits[j]) if c.fit else r[j]))
            t.add_row(*cells, style=styles[n] if n < len(styles) else None)
        return t

    wide = out.options.update_width(1_000_000)  # measured unclamped: its natural width
    result = build()
    for _ in range(_MAX_ROUNDS):
        excess = Measurement.get(out, wide, result).maximum - out.width
        if excess <= 0:
            break
        # Narrow the widest column that may be narrowed, a character at a time: the cut is shared out evenly.
        before = list(limits)
        while excess > 0:
            room = [(limits[j], j) for j in range(len(shown)) if narrow[j] and limits[j] > floors[j]]
            if not room:
                break
            limits[max(room)[1]] -= 1
            excess -= 1
        if limits == before:
            break  # at every floor: rich wraps what it can
        result = build()
    return result


def document(title: str, cols: Sequence[str | Field], rows: Sequence[Sequence[Any]], **extra: Any) -> dict:
    """The JSON document of a command: its title, every row as an object of every column, then ``extra``."""
    names = [c.name for c in columns(cols)]
    return {"title": title, "rows": [dict(zip(names, row, strict=True)) for row in rows], **extra}


def write_json(value: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")


def emit(
    output: str,
    title: str,
    cols: Sequence[str | Field],
    rows: Sequence[Sequence[Any]],
    *,
    footer: Sequence[str] = (),
    **extra: Any,
) -> None:
    """Rows as a table that fits the terminal (then the ``footer`` lines), or as one JSON document on stdout
    (``{"title", "rows", **extra}``)."""
    if output == "json":
        write_json(document(title, cols, rows, **extra))
        return
    out = console()
    out.print(fitted_table(out, title, cols, rows))
    for line in footer:  # plain text (a key may hold brackets), wrapped to the terminal
        out.print(line, markup=False, highlight=False)


def warn(command: str, message: str) -> None:
    """A warning on stderr (never on stdout, which holds the JSON document)."""
    sys.stderr.write(f"eventlake {command}: warning: {message}\n")
