"""``eventlake reprocess``: put the records of Firehose's error objects back on the stream, then archive the
objects (``eventlake.recovery`` says what is sent for each error type, and why)."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from eventlake import recovery
from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, aws_errors, emit
from glue import schema
from glue.errors import ErrorOutputType

COLUMNS = ["object", "type", "records", "resent", "kept", "claims_released", "action", "note"]
TOTAL = "(total)"
# AWS errors a user fixes with a flag or credentials (exit 2); any other is exit 1.


def _hour(text: str) -> Any:
    try:
        return recovery.parse_hour(text)
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
    command.add_argument("--from", dest="first", type=_hour, metavar="HOUR", help="first arrival hour (UTC)")
    command.add_argument("--to", dest="last", type=_hour, metavar="HOUR", help="last arrival hour (UTC)")
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
    if args.first and args.last and args.first > args.last:
        raise CliError(f"--from {args.first:%Y-%m-%dT%H} is after --to {args.last:%Y-%m-%dT%H}")
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
    target = recovery.ReprocessTarget(
        s3=s3,
        kinesis=kinesis,
        dynamodb=dynamodb,
        bucket=bucket,
        stream_name=context.stream_name,
        claims_table=settings.claims_table_name if settings.uses_claims else None,
        spec=DeliverySpec.from_settings(settings),
        # What the table holds, so a record whose row landed is not sent twice (the transform's Parquet rows;
        # processor jq stores records as sent and has no lineage to compare).
        table=recovery.TableRows(s3, bucket) if settings.uses_lambda else None,
        # ...and to tell byte-identical records of one millisecond apart, the stream read back.
        stream=recovery.StreamRecords(kinesis, context.stream_name) if settings.uses_lambda else None,
    )
    options = recovery.ReprocessOptions(
        types=tuple(dict.fromkeys(args.types)) if args.types else recovery.ReprocessOptions().types,
        first_hour=args.first,
        last_hour=args.last,
        fix=fix,
        originals=args.originals,
        dry_run=args.dry_run,
    )
    with aws_errors(f"reading s3://{bucket}/{schema.ERROR_ROOT}", "check --bucket, --stack and --region"):
        outcomes = recovery.reprocess(target, options)
    emit(
        args.output,
        _title(bucket, target.stream_name, outcomes, args.dry_run),
        COLUMNS,
        [_row(o) for o in outcomes] + [_total(outcomes)],
    )
    return CHECK_FAILED if any(o.failed for o in outcomes) else OK


def _title(bucket: str, stream: str, outcomes: list[recovery.ObjectOutcome], dry_run: bool) -> str:
    resent = sum(o.resent for o in outcomes)
    kept = sum(o.kept for o in outcomes)
    archived = sum(o.action in (recovery.ARCHIVED, recovery.SPLIT) for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    if dry_run:
        return (
            f"eventlake reprocess --dry-run s3://{bucket}/{schema.ERROR_ROOT}: {len(outcomes)} objects, "
            f"{resent:,} records would go to {stream}, {kept:,} would be kept; nothing changed"
        )
    return (
        f"eventlake reprocess s3://{bucket}/{schema.ERROR_ROOT} -> {stream}: {len(outcomes)} objects, "
        f"{resent:,} records re-sent, {kept:,} kept, {archived} objects archived, {failed} failed"
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


def _row(o: recovery.ObjectOutcome) -> list[Any]:
    return [o.key, o.output_type, o.records, o.resent, o.kept, o.claims_released, o.action, _note(o)]


def _total(outcomes: list[recovery.ObjectOutcome]) -> list[Any]:
    merged = recovery.ObjectOutcome(TOTAL, "")
    for o in outcomes:
        merged.origins.update(o.origins)
        merged.kept_reasons.update(o.kept_reasons)
        merged.claims_not_held += o.claims_not_held
        merged.already_stored += o.already_stored
    actions = Counter(o.action for o in outcomes)
    return [
        TOTAL,
        "",
        sum(o.records for o in outcomes),
        sum(o.resent for o in outcomes),
        sum(o.kept for o in outcomes),
        sum(o.claims_released for o in outcomes),
        "; ".join(f"{n} {action}" for action, n in sorted(actions.items())),
        _note(merged),
    ]


def _stack_bucket(context: Context) -> str:
    return context.bucket()
