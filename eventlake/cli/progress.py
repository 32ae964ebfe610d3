"""The progress the demo and the CLI's senders show: a bar (description, bar, done of total, time elapsed) for
work that counts records, and a spinner with the time elapsed for a step that does not (the lake's mirror,
the queries, the invariant check: a minute of a big run that would otherwise show nothing)."""

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


@contextmanager
def step(console: Any, label: str) -> Iterator[None]:
    """A spinner and the time elapsed on ``console`` while the block runs; once done, a check mark stays."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=1)
        yield
        progress.update(task, completed=1)
