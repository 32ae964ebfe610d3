"""``eventlake check``: the lake checks, and the invariant when the run's record is there, on an existing lake
(a local mirror, or a bucket mirrored first) without re-running anything. An object that cannot be read is a
reported violation, never a crash."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from eventlake.athena import engine as athena
from eventlake.checks import lake_contents, run_record
from eventlake.checks.invariant import CHECKS, check, unique_rows
from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, emit, mirrored_bucket

READABLE = "every object readable and on the layout"
VIEW_READABLE = "the unique-events view can be queried"


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "check",
        parents=parents,
        help="check an existing lake: objects readable and on the layout, and the invariant",
        description="Check a lake without re-running anything: every object is read (a truncated, stray or "
        "unreadable one is a violation), and when the run's record is there (`eventlake demo` writes it "
        "beside its mirror) the invariant is checked too.",
        formatter_class=DefaultsHelp,
    )
    source = command.add_mutually_exclusive_group()
    source.add_argument("--lake", type=Path, help="a local mirror (default out/<stack>/lake)")
    source.add_argument("--bucket", help="a lake bucket, mirrored to a temporary directory first")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.bucket:
        context = Context.from_args(args)
        with mirrored_bucket(context, args.bucket) as root:
            return check_lake(root, args.output)
    root = args.lake or Path("out") / args.stack / "lake"
    if not root.is_dir():
        raise CliError(
            f"--lake {root} is not a directory (run `eventlake demo` first, or pass --lake/--bucket)"
        )
    return check_lake(root, args.output)


def check_lake(root: Path, output: str) -> int:
    """Report every violation; return 1 if there is any."""
    problems: list[str] = []
    objects = lake_contents.local_objects(root)
    contents = lake_contents.read(root, objects, problems)
    rows: list[tuple[str, int, str]] = [(READABLE, len(problems), "; ".join(problems[:5]))]
    record = run_record.read(root)
    violations = len(problems)
    if record is not None:
        unique = None
        try:
            conn = athena.connect(root)
            names, view = athena.run(conn, athena.load_queries()[athena.UNIQUE_EVENTS_VIEW])
        except Exception as exc:  # an unreadable object stops the scan: a violation, not a crash
            violations += 1
            rows.append((VIEW_READABLE, 1, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
        else:
            unique = unique_rows(names, view)
        result = check(
            record.sent,
            contents,
            rejections=record.rejections,
            dedupe_enabled=record.dedupe_enabled,
            backup_enabled=record.backup_enabled,
            faults=record.faults,
            unique=unique,
        )
        violations += result.violation_count
        for name in CHECKS:
            listed = [v for v in result.violations][:3] if result.failed_checks[name] else []
            rows.append((name, result.failed_checks[name], "; ".join(listed)))
    emit(
        output,
        f"eventlake check {root} ({len(objects):,} objects, {len(contents.rows):,} rows"
        + ("" if record else "; no run record: lake checks only")
        + ")",
        ["check", "violations", "examples"],
        rows,
    )
    return CHECK_FAILED if violations else OK
