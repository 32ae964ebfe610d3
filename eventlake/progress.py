"""The one progress bar of the demo and the CLI's senders: description, bar, done of total, time elapsed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Advance = Callable[[int], None]  # records done since the last call


@contextmanager
def bar(console: Any, label: str, total: int) -> Iterator[Advance]:
    """A rich progress bar on ``console`` (imported here: rich is only for a terminal's eyes)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
