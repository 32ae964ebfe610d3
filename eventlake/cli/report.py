"""The demo's summary as rich tables: what was sent, what the lake holds, and the invariant's verdict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from eventlake.checks import query_mode
from eventlake.checks.invariant import CHECKS
from eventlake.demo import Report
from eventlake.firehose.s3_destination import BACKUP, DATA, WrittenObject
from glue.errors import DIMENSION_FUNCTION

TOP_PARTITIONS = 8
QUERY_ROWS = 8
QUERY_COLUMNS = 6


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right")
    return table


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"


def _cell(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _total_row(table: Table, label: str, objects: Sequence[WrittenObject]) -> None:
    """Objects, records and bytes of one kind of object."""
    records, size = sum(o.records for o in objects), sum(o.size for o in objects)
    table.add_row(label, f"{len(objects):,}", f"{records:,}", _size(size))


def render(report: Report, console: Console) -> None:
    opts, spec = report.options, report.spec
    console.print(
        f"[bold]eventlake demo[/] stack [cyan]{opts.stack}[/] ({report.region}): stream "
        f"{report.stream_name} ({report.shards} shards) -> {spec.delivery_stream_name} -> s3://{report.bucket}"
    )

    sent = _table("Sent to Kinesis", "", "records")
    by = report.sent_by_expectation
    sent.add_row("events sent (PutRecords)", f"{len(report.ledger.records):,}")
    sent.add_row("  valid, first copy", f"{by['valid']:,}")
    sent.add_row("  exact re-sends (duplicates)", f"{by['duplicate']:,}")
    sent.add_row("  malformed", f"{by['malformed']:,}")
    for reason, count in sorted(report.malformed_reasons.items()):
        sent.add_row(f"    {reason}", f"{count:,}")
    sent.add_row(
        "PutRecords calls / entries retried", f"{report.ledger.calls} / {report.ledger.retried_entries}"
    )
    console.print(sent)

    published = _table("Lambda metrics (embedded metric format, summed)", "metric", "value")
    for (namespace, name, dims), value in sorted(report.metrics.items()):
        labels = ", ".join(f"{k}={v}" for k, v in dims if k != DIMENSION_FUNCTION)
        published.add_row(f"{namespace}/{name}" + (f" [{labels}]" if labels else ""), f"{value:,.0f}")
    console.print(published)

    stats = report.stats
    flow = _table("Firehose model", "", "")
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
    storage = _table(
        f"Objects per partition (top {min(TOP_PARTITIONS, len(parts))} of {len(parts)})",
        "partition",
        "objects",
        "rows",
        "bytes",
    )
    for usage in parts[:TOP_PARTITIONS]:
        storage.add_row(usage.partition, str(usage.objects), f"{usage.rows:,}", _size(usage.bytes))
    data = report.objects_of(DATA)
    parquet = sum(o.size for o in data)
    _total_row(storage, "[bold]all data[/]", data)
    _total_row(storage, "errors/", [o for o in report.written if o.kind not in (DATA, BACKUP)])
    _total_row(storage, f"raw/ ({spec.backup_compression.lower()})", report.objects_of(BACKUP))
    console.print(storage)

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
            console.print(f"[red]query {query.name} failed:[/] {query.error}")
            continue
        shown = query.columns[:QUERY_COLUMNS]
        more = (
            f", first {len(shown)} of {len(query.columns)} columns" if len(shown) < len(query.columns) else ""
        )
        table = _table(f"Query {query.name} ({len(query.rows):,} rows{more})", *shown)
        for row in query.rows[:QUERY_ROWS]:
            table.add_row(*(_cell(v) for v in row[: len(shown)]))
        console.print(table)

    result = report.invariant
    verdict = _table(
        f"THE INVARIANT: {result.records:,} records sent, {result.rows:,} rows + "
        f"{result.error_records:,} error records read back",
        "check",
        "violations",
    )
    for check in CHECKS if report.settings.uses_lambda else query_mode.QUERY_CHECKS:
        failed = result.failed_checks[check]
        verdict.add_row(check, f"[red]{failed}[/]" if failed else "[green]0[/]")
    console.print(verdict)
    for message in result.violations:
        console.print(f"[red]  x {message}[/]")
    for group in result.affected:
        console.print(
            f"[yellow]  affected by AWS semantics:[/] {group.count} record(s) {group.what}; "
            f"now in {group.where}; {group.recoverable} recoverable from raw/ "
            f"(e.g. {', '.join(group.examples)})"
        )
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    console.print(f"Lake mirrored to {opts.out_dir}/ . Timings: {timings}")
    verdict_text = "[bold green]INVARIANT HOLDS[/]" if report.ok else "[bold red]INVARIANT BROKEN[/]"
    console.print(f"{verdict_text}: {where_records_went(report)}")


def _render_observations(report: Report, console: Console) -> None:
    """Objects per partition, object sizes and peak active partitions as the Firehose model saw them, beside
    the sizing model's prediction for the same load when the run was paced (``--arrive-over``)."""
    seen = report.observations
    if seen is None:
        return
    table = _table(f"Delivery observed over {seen.hours:.2f} h of arrivals", "", "observed")
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
        compared = _table("Observed vs sizing model (same load)", "", "observed", "predicted", "difference")
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
