"""``eventlake reprocess``: put the records of Firehose's error objects back on the stream, then archive the
objects (``eventlake.operations.recovery`` says what is sent for each error type, and why)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import datetime
from typing import Any

from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, aws_errors
from eventlake.cli.output import END, MIDDLE, Field, emit
from eventlake.operations import recovery
from glue import schema
from glue.errors import ErrorOutputType

# The JSON has every field in full; a table shows what fits 80 columns: the action, the claims and the note
# in a few words (``summary``).
COLUMNS = [
    Field("object", fit=MIDDLE, min_width=22),
    Field("type", shown=False),
    Field("records", right=True),
    Field("resent", right=True),
    Field("kept", right=True),
    Field("claims_released", shown=False),
    Field("action", shown=False),
    Field("note", shown=False),
    Field("summary", header="what happened", fit=END, min_width=12),
]
TOTAL = "(total)"
# Kept reasons of a fix that failed (raised, or returned something not bytes): the run exits 1 for them.
FIX_FAILED = ("the fix raised ", "the fix returned ")
# The table's words for recovery's actions and reasons (the JSON keeps recovery's own).
# (A dry run's title says that nothing changed: its table names the action that would be taken.)
_ACTIONS = {recovery.SPLIT: "split", recovery.WOULD_SPLIT: "split", recovery.WOULD_ARCHIVE: "archive"}
_SHORT = {
    recovery.NEEDS_FIX: "need --fix",
    recovery.NEEDS_FIX_QUERY: "need --fix",
    recovery.ALREADY_STORED: "already stored",
    "the fix skipped it": "skipped by the fix",
}


def _hours(text: str) -> tuple[datetime, datetime]:
    try:
        return recovery.parse_hours(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "reprocess",
        parents=parents,
        help="put the records of error objects back on the stream, then archive the objects",
        description="Read the error objects under errors/<type>/ of the arrival hours --from .. --to (both "
        "included, UTC; default every hour), recover each record's original bytes (rawData for "
        "processing-failed; the raw backup, else the Lambda's row, for the later stages), release the dedupe "
        "claims the failed records still hold, put the records on the stream and archive each object to "
        f"{schema.ERROR_ARCHIVE_ROOT}<key> once all its records were accepted. Records the transform "
        "rejected are kept unless --fix turns them into new bytes. Running it twice does no harm.",
        formatter_class=DefaultsHelp,
    )
    command.add_argument(
        "--from",
        dest="first",
        type=_hours,
        metavar="HOUR",
        help="first arrival hour (UTC): 2026-11-25T07, or a date for its first hour",
    )
    command.add_argument(
        "--to",
        dest="last",
        type=_hours,
        metavar="HOUR",
        help="last arrival hour (UTC), included: 2026-11-25T07, or a date for its last hour (23)",
    )
    command.add_argument(
        "--type",
        dest="types",
        action="append",
        choices=[t.value for t in ErrorOutputType],
        metavar="TYPE",
        help=f"only this error type (repeatable; default all: {', '.join(t.value for t in ErrorOutputType)})",
    )
    command.add_argument(
        "--fix",
        metavar="MODULE:FUNCTION",
        help="call FUNCTION(raw_bytes, error_record) for each record; it returns the bytes to send, or None "
        "to keep the record (a module on the path, or path/to/file.py:function)",
    )
    command.add_argument(
        "--originals",
        choices=recovery.ORIGINALS,
        default="backup",
        help="original bytes of records that failed after the Lambda: the raw backup when it holds them "
        "(exact; reads raw/ of their hours), or always rebuilt from the Lambda's row",
    )
    command.add_argument("--bucket", help="the lake bucket (default: the stack's, in the caller's account)")
    command.add_argument(
        "--dry-run", action="store_true", help="read and report what would be done; change nothing"
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context = Context.from_args(args)
    first = args.first[0] if args.first else None
    last = args.last[1] if args.last else None
    if first and last and first > last:
        raise CliError(f"--from {first:{recovery.HOUR_FORMAT}} is after --to {last:{recovery.HOUR_FORMAT}}")
    fix = None
    if args.fix:
        try:
            fix = recovery.load_fix(args.fix)
        except ValueError as exc:
            raise CliError(f"--fix: {exc}") from None
    from infra.delivery_spec import DeliverySpec

    settings = context.settings
    with aws_errors("connecting to AWS"):
        s3, kinesis = context.client("s3"), context.client("kinesis")
        dynamodb = context.client("dynamodb") if settings.uses_claims else None
        bucket = args.bucket or _stack_bucket(context)
    spec = DeliverySpec.from_settings(settings)
    target = recovery.ReprocessTarget(
        s3=s3,
        kinesis=kinesis,
        dynamodb=dynamodb,
        bucket=bucket,
        stream_name=context.stream_name,
        claims_table=settings.claims_table_name if settings.uses_claims else None,
        spec=spec,
        # What the table holds, so a record whose row landed is not sent twice: the rows under the processor's
        # lineage roots (none when its table holds the records as sent, with no lineage to compare).
        table=recovery.TableRows(s3, bucket, spec.processing.lineage_roots),
        # ...and to tell byte-identical records of one millisecond apart, the stream read back. Both are read
        # only for the error records the processor says carry its row or failed with an invocation (none of
        # processor jq's: its operators' policy grants neither).
        stream=recovery.StreamRecords(kinesis, context.stream_name),
    )
    options = recovery.ReprocessOptions(
        types=tuple(dict.fromkeys(args.types)) if args.types else recovery.ReprocessOptions().types,
        first_hour=first,
        last_hour=last,
        fix=fix,
        originals=args.originals,
        dry_run=args.dry_run,
    )
    with aws_errors(f"reading s3://{bucket}/{schema.ERROR_ROOT}", "check --bucket, --stack and --region"):
        outcomes = recovery.reprocess(target, options)
    fix_failed = _fix_failures(outcomes)
    rows = [_row(o) for o in outcomes] + [_total(outcomes)]
    hours = recovery.hours_text(first, last)
    emit(
        args.output,
        _title(bucket, target.stream_name, outcomes, args.dry_run, hours),
        COLUMNS,
        rows,
        footer=["Actions and notes in full: --output json."],
        hours={
            "from": f"{first:{recovery.HOUR_FORMAT}}" if first else None,
            "to": f"{last:{recovery.HOUR_FORMAT}}" if last else None,
            "text": hours,
        },
        fix_failed=sum(fix_failed.values()),  # records: the fix raised, or returned no bytes
    )
    if fix_failed:
        reasons = ", ".join(f"{n} {why.removeprefix('the fix ')}" for why, n in sorted(fix_failed.items()))
        count = sum(fix_failed.values())
        sys.stderr.write(
            f"eventlake reprocess: error: the fix failed for {count:,} records ({reasons}); "
            "they stay under errors/\n"
        )
    failed = any(o.failed for o in outcomes) or bool(fix_failed)
    return CHECK_FAILED if failed else OK


def _fix_failures(outcomes: list[recovery.ObjectOutcome]) -> Counter[str]:
    """Records the fix failed for (it raised, or returned something not bytes), by reason."""
    failed: Counter[str] = Counter()
    for o in outcomes:
        failed.update({why: n for why, n in o.kept_reasons.items() if why.startswith(FIX_FAILED)})
    return failed


def _title(
    bucket: str, stream: str, outcomes: list[recovery.ObjectOutcome], dry_run: bool, hours: str
) -> str:
    resent = sum(o.resent for o in outcomes)
    kept = sum(o.kept for o in outcomes)
    archived = sum(o.action in (recovery.ARCHIVED, recovery.SPLIT) for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    if dry_run:
        return (
            f"eventlake reprocess --dry-run s3://{bucket}/{schema.ERROR_ROOT}, arrival hours {hours}: "
            f"{len(outcomes)} objects, {resent:,} records would go to {stream}, {kept:,} would be kept; "
            "nothing changed"
        )
    return (
        f"eventlake reprocess s3://{bucket}/{schema.ERROR_ROOT}, arrival hours {hours} -> {stream}: "
        f"{len(outcomes)} objects, {resent:,} records re-sent, {kept:,} kept, {archived} objects archived, "
        f"{failed} failed"
    )


def _note(outcome: recovery.ObjectOutcome) -> str:
    parts = [outcome.detail] if outcome.detail else []
    if outcome.origins:
        parts.append("sent: " + ", ".join(f"{n} {origin}" for origin, n in sorted(outcome.origins.items())))
    if outcome.kept_reasons:
        parts.append("kept: " + ", ".join(f"{n} {why}" for why, n in sorted(outcome.kept_reasons.items())))
    if outcome.already_stored:
        parts.append(f"{outcome.already_stored} already in the table (archived, not sent)")
    if outcome.claims_not_held:
        parts.append(f"{outcome.claims_not_held} claims not held by the failed record (left alone)")
    return "; ".join(parts)


def _summary(outcome: recovery.ObjectOutcome, action: str) -> str:
    """The action and the note in a few words, most telling first, for the table (``--output json`` has
    both in full)."""
    kept: Counter[str] = Counter()
    for why, n in outcome.kept_reasons.items():
        kept[_SHORT.get(why, "failed in the fix" if why.startswith(FIX_FAILED) else why)] += n
    parts = [f"{n} {why}" for why, n in sorted(kept.items())]
    parts += [f"{n} {origin}" for origin, n in sorted(outcome.origins.items())]
    if outcome.already_stored:
        parts.append(f"{outcome.already_stored} already stored")
    if outcome.claims_released:
        parts.append(f"{outcome.claims_released} claims released")
    parts += [outcome.detail] if outcome.detail else []
    return f"{action}: {'; '.join(parts)}" if parts else action


def _row(o: recovery.ObjectOutcome) -> list[Any]:
    summary = _summary(o, _ACTIONS.get(o.action, o.action))
    return [o.key, o.output_type, o.records, o.resent, o.kept, o.claims_released, o.action, _note(o), summary]


def _total(outcomes: list[recovery.ObjectOutcome]) -> list[Any]:
    merged = recovery.ObjectOutcome(TOTAL, "")
    for o in outcomes:
        merged.origins.update(o.origins)
        merged.kept_reasons.update(o.kept_reasons)
        merged.claims_not_held += o.claims_not_held
        merged.already_stored += o.already_stored
        merged.claims_released += o.claims_released
    actions = Counter(o.action for o in outcomes)
    short = ", ".join(f"{n} {_ACTIONS.get(a, a)}" for a, n in sorted(actions.items()))
    return [
        TOTAL,
        "",
        sum(o.records for o in outcomes),
        sum(o.resent for o in outcomes),
        sum(o.kept for o in outcomes),
        merged.claims_released,
        "; ".join(f"{n} {action}" for action, n in sorted(actions.items())),
        _note(merged),
        _summary(merged, short),
    ]


def _stack_bucket(context: Context) -> str:
    return context.bucket()
