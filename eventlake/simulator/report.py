"""The demo's summary: rich tables that fit the terminal (what was sent, what the lake holds, the invariant's
verdict), or the same as one JSON document (``document``) for ``--output json``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from eventlake.checks.mode_invariants import invariant_for
from eventlake.cli.output import MIDDLE, Field, NumbersTable, fitted_table, value_columns
from eventlake.simulator.demo import Report
from eventlake.simulator.firehose.s3_destination import BACKUP, DATA, WrittenObject
from glue.errors import DIMENSION_FUNCTION

TOP_PARTITIONS = 8
QUERY_ROWS = 8
QUERY_COLUMNS = 6
PARTITION_COLUMNS = [
    Field("partition", header="partition: type/date/hour", fit=MIDDLE, min_width=24),
    Field("objects", right=True),
    Field("rows", right=True),
    Field("bytes", right=True),
]


class _TextTable(NumbersTable):
    """Cells given as strings are text, never markup or emoji codes: they hold data (an event name such as
    ``support:ticket:opened``, a metric's labels in brackets)."""

    def add_row(self, *cells: Any, **options: Any) -> None:
        super().add_row(*(Text(c) if isinstance(c, str) else c for c in cells), **options)


def report_table(title: str, *columns: str) -> Table:
    """A label column, then values: a column of numbers is never cut (``NumbersTable``), text wraps."""
    table = _TextTable(title=Text(title), title_justify="left", title_style="bold")
    for i, name in enumerate(columns):
        table.add_column(Text(name), justify="left" if i == 0 else "right")
    return table


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"


def _values(partition: str) -> str:
    """``events/event_type=a/event_date=d/event_hour=h/`` as ``a/d/h``: the values tell partitions apart."""
    segments = [part.partition("=")[2] for part in partition.strip("/").split("/") if "=" in part]
    return "/".join(segments) or partition


def _total_row(label: str, objects: Sequence[WrittenObject]) -> tuple[str, str, str, str]:
    """Objects, records and bytes of one kind of object."""
    records, size = sum(o.records for o in objects), sum(o.size for o in objects)
    return label, f"{len(objects):,}", f"{records:,}", _size(size)


def render(report: Report, console: Console) -> None:
    opts, spec = report.options, report.spec
    console.print(
        f"[bold]eventlake demo[/] stack [cyan]{opts.stack}[/] ({report.region}): stream "
        f"{report.stream_name} ({report.shards} shards) -> {spec.delivery_stream_name} -> s3://{report.bucket}"
    )

    sent = report_table("Sent to Kinesis", "", "records")
    by = report.sent_by_expectation
    sent.add_row("events sent (PutRecords)", f"{len(report.ledger.records):,}")
    if opts.aggregate:
        sent.add_row("  in Kinesis records (KPL aggregates)", f"{report.kinesis_records:,}")
    sent.add_row("  valid, first copy", f"{by['valid']:,}")
    sent.add_row("  exact re-sends (duplicates)", f"{by['duplicate']:,}")
    sent.add_row("  malformed", f"{by['malformed']:,}")
    for reason, count in sorted(report.malformed_reasons.items()):
        sent.add_row(f"    {reason}", f"{count:,}")
    sent.add_row(
        "PutRecords calls / entries retried", f"{report.ledger.calls} / {report.ledger.retried_entries}"
    )
    console.print(sent)

    published = report_table("Lambda metrics (embedded metric format, summed)", "metric", "value")
    for (namespace, name, dims), value in sorted(report.metrics.items()):
        labels = ", ".join(f"{k}={v}" for k, v in dims if k != DIMENSION_FUNCTION)
        published.add_row(f"{namespace}/{name}" + (f" [{labels}]" if labels else ""), f"{value:,.0f}")
    console.print(published)

    stats = report.stats
    flow = report_table("Firehose model", "", "")
    flow.add_row("records read from shards", f"{stats.records_read:,}")
    flow.add_row(
        "Lambda invocations (attempts, failed)",
        f"{stats.invocations} ({stats.attempts}, {stats.failed_attempts})",
    )
    flow.add_row("rows delivered", f"{len(report.lake.rows) + len(report.lake.lines):,}")
    flow.add_row("  marked is_duplicate", f"{report.duplicates_marked:,}")
    for key, count in sorted(report.errors_by_code.items()):
        flow.add_row(f"errors/{key}", f"{count:,}")
    flow.add_row(
        "max active partitions", f"{report.max_active_partitions} (limit {opts.max_active_partitions})"
    )
    for name, count in report.injected.items():
        if count:
            flow.add_row(f"fault: {name}", f"{count:,}")
    console.print(flow)

    parts = report.partitions()
    data = report.objects_of(DATA)
    parquet = sum(o.size for o in data)
    top = [
        (_values(u.partition), str(u.objects), f"{u.rows:,}", _size(u.bytes)) for u in parts[:TOP_PARTITIONS]
    ]
    totals = [
        _total_row("all data", data),
        _total_row("errors/", [o for o in report.written if o.kind not in (DATA, BACKUP)]),
        _total_row(f"raw/ ({spec.backup_compression.lower()})", report.objects_of(BACKUP)),
    ]
    console.print(
        fitted_table(
            console,
            f"Objects per partition (top {min(TOP_PARTITIONS, len(parts))} of {len(parts)})",
            PARTITION_COLUMNS,
            top + totals,
            styles=[None] * len(top) + ["bold"],
        )
    )

    _render_observations(report, console)

    raw = report.raw_bytes_delivered
    transformed = sum(o.input_bytes for o in data)
    ratio = f"{parquet / raw:.0%}" if raw else "-"
    rows_per_object = sum(o.records for o in data) / len(data) if data else 0
    console.print(
        f"Parquet ({spec.parquet_compression}) {_size(parquet)} for {_size(raw)} of raw JSON sent "
        f"({_size(transformed)} after enrichment): {ratio} of the raw size. {len(data)} objects of "
        f"{rows_per_object:.0f} rows on average: with buffers of {spec.buffering_size_mib} MiB / "
        f"{spec.buffering_interval_seconds} s per partition, each event type x event hour becomes its own "
        "small object, and Parquet's per-file overhead dominates."
    )

    for query in report.queries:
        if query.error:
            console.print(Text.assemble((f"query {query.name} failed:", "red"), f" {query.error}"))
            continue
        shown = query.columns[:QUERY_COLUMNS]
        more = (
            f", first {len(shown)} of {len(query.columns)} columns" if len(shown) < len(query.columns) else ""
        )
        console.print(
            fitted_table(
                console,
                f"Query {query.name} ({len(query.rows):,} rows{more})",
                value_columns(shown, [row[: len(shown)] for row in query.rows[:QUERY_ROWS]]),
                [row[: len(shown)] for row in query.rows[:QUERY_ROWS]],
            )
        )

    result = report.invariant
    verdict = report_table(
        f"THE INVARIANT: {result.records:,} records sent, {result.rows:,} rows + "
        f"{result.error_records:,} error records read back",
        "check",
        "violations",
    )
    for check in invariant_for(report.spec.processing).names:
        failed = result.failed_checks[check]
        verdict.add_row(check, Text(str(failed), style="red" if failed else "green"))
    console.print(verdict)
    for message in result.violations:
        console.print(Text(f"  x {message}", style="red"))
    for group in result.affected:
        console.print(
            Text.assemble(
                ("  affected by AWS semantics:", "yellow"),
                f" {group.count} record(s) {group.what}; now in {group.where}; {group.recoverable} "
                f"recoverable from raw/ (e.g. {', '.join(group.examples)})",
            )
        )
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    console.print(f"Lake mirrored to {opts.out_dir}/ . Timings: {timings}")
    verdict_text = "[bold green]INVARIANT HOLDS[/]" if report.ok else "[bold red]INVARIANT BROKEN[/]"
    console.print(Text.from_markup(verdict_text).append(Text(f": {where_records_went(report)}")))


def _render_observations(report: Report, console: Console) -> None:
    """Objects per partition, object sizes and peak active partitions as the Firehose model saw them, beside
    the sizing model's prediction for the same load when the run was paced (``--arrive-over``)."""
    seen = report.observations
    if seen is None:
        return
    table = report_table(f"Delivery observed over {seen.hours:.2f} h of arrivals", "", "observed")
    table.add_row("data objects (per hour)", f"{seen.data_objects:,} ({seen.objects_per_hour:,.0f})")
    table.add_row(
        "partitions; objects per partition mean / max",
        f"{seen.partitions:,}; {seen.objects_per_partition_mean:,.1f} / {seen.objects_per_partition_max:,}",
    )
    table.add_row(
        "object size mean / median / p90 / max",
        " / ".join(
            _size(v)
            for v in (
                seen.mean_object_bytes,
                seen.median_object_bytes,
                seen.p90_object_bytes,
                seen.max_object_bytes,
            )
        ),
    )
    table.add_row("rows per object (mean)", f"{seen.rows_per_object_mean:,.0f}")
    table.add_row("peak active partitions", f"{seen.peak_active_partitions:,}")
    console.print(table)
    if isinstance(report.sizing, str):
        console.print(f"Sizing: {report.sizing}")
    elif report.sizing:
        compared = report_table(
            "Observed vs sizing model (same load)", "", "observed", "predicted", "difference"
        )
        for c in report.sizing:
            compared.add_row(
                c.name, f"{c.observed:,.1f}", f"{c.predicted:,.1f}", f"{c.relative_difference:+.1%}"
            )
        console.print(compared)


def where_records_went(report: Report) -> str:
    """The share of the records sent that became rows, and that went to each error prefix."""
    sent = len(report.ledger.records) or 1
    rows = len(report.lake.rows) + len(report.lake.lines)  # Parquet rows, or jq mode's records as sent
    parts = [f"{rows / sent:.1%} of {sent:,} records are rows of the table"]
    for output_type, count in sorted(report.errors_by_type.items()):
        parts.append(f"{count / sent:.1%} under errors/{output_type}/")
    return ", ".join(parts)


def document(report: Report) -> dict[str, Any]:
    """The summary as one JSON document (``demo --output json``): ``title`` and ``rows`` (the invariant's
    checks) as every command has them, then what the tables show, in full where the tables cut."""
    opts, spec, stats, result = report.options, report.spec, report.stats, report.invariant
    by = report.sent_by_expectation
    data = report.objects_of(DATA)
    checks = invariant_for(report.spec.processing).names

    def kind(objects: Sequence[WrittenObject]) -> dict[str, int]:
        return {
            "objects": len(objects),
            "records": sum(o.records for o in objects),
            "bytes": sum(o.size for o in objects),
        }

    sizing: Any = report.sizing
    if isinstance(sizing, list):
        sizing = [{**dataclasses.asdict(c), "relative_difference": c.relative_difference} for c in sizing]
    return {
        "title": f"eventlake demo: stack {opts.stack} ({report.region}), {result.records:,} records sent: "
        + ("INVARIANT HOLDS" if report.ok else "INVARIANT BROKEN"),
        "rows": [{"check": c, "violations": result.failed_checks[c]} for c in checks],
        "ok": report.ok,
        "stack": opts.stack,
        "region": report.region,
        "stream": report.stream_name,
        "shards": report.shards,
        "delivery_stream": spec.delivery_stream_name,
        "bucket": report.bucket,
        "out": str(opts.out_dir),
        "sent": {
            "records": len(report.ledger.records),
            "kinesis_records": report.kinesis_records,  # fewer than records when the producer aggregates
            "valid": by["valid"],
            "duplicate": by["duplicate"],
            "malformed": by["malformed"],
            "malformed_reasons": dict(sorted(report.malformed_reasons.items())),
            "put_records_calls": report.ledger.calls,
            "entries_retried": report.ledger.retried_entries,
        },
        "metrics": [
            {"namespace": namespace, "name": name, "dimensions": dict(dims), "value": value}
            for (namespace, name, dims), value in sorted(report.metrics.items())
        ],
        "firehose": {
            "records_read": stats.records_read,
            "invocations": stats.invocations,
            "attempts": stats.attempts,
            "failed_attempts": stats.failed_attempts,
            "rows_delivered": len(report.lake.rows) + len(report.lake.lines),
            "marked_duplicate": report.duplicates_marked,
            "errors": dict(sorted(report.errors_by_code.items())),
            "max_active_partitions": report.max_active_partitions,
            "active_partition_limit": opts.max_active_partitions,
            "faults": {name: count for name, count in report.injected.items() if count},
        },
        "partitions": [dataclasses.asdict(u) for u in report.partitions()],
        "objects": {
            "data": kind(data),
            "errors": kind([o for o in report.written if o.kind not in (DATA, BACKUP)]),
            "raw": kind(report.objects_of(BACKUP)),
        },
        "observations": dataclasses.asdict(report.observations) if report.observations else None,
        "sizing": sizing,
        "queries": [
            {
                "name": q.name,
                "columns": q.columns,
                "row_count": len(q.rows),
                "first_rows": [dict(zip(q.columns, row, strict=True)) for row in q.rows[:QUERY_ROWS]],
                "error": q.error,
            }
            for q in report.queries
        ],
        "invariant": {
            "ok": result.ok,
            "records": result.records,
            "rows": result.rows,
            "error_records": result.error_records,
            "violations": result.violations,
            "affected": [dataclasses.asdict(a) for a in result.affected],
        },
        "where_records_went": where_records_went(report),
        "timings": report.timings,
    }
