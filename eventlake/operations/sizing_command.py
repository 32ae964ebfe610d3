"""``eventlake sizing``: what a load needs from AWS and what it costs a month (``infra/capacity/``), and
with ``--stack`` whether that stack's settings carry it. Exit 1 when the stack crosses a limit or differs from
what the load needs; without ``--stack`` the verdicts are information (exit 0)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from eventlake.cli.common import CHECK_FAILED, DEFAULT_REGION, OK, CliError, DefaultsHelp, global_options
from glue import marks
from infra.capacity import HOURS_PER_MONTH, CapacityPlan, Load, PriceError, PriceTable, plan
from infra.settings import CLAIMS_BILLING_MODES, PROCESSORS, Settings, SettingsError, key_help, stack_config

# Without --stack or a declared load: the seed's load today (1x).
DEFAULT_EVENTS_PER_HOUR = 1_000_000
FIREHOSE_BILLING_NOTE = (
    "Firehose and KPL aggregates: AWS documents that Firehose de-aggregates them, not whether its 5 KB "
    "billing step applies to the aggregate or to each user record; the total assumes each user record "
    "(no Firehose saving), the other reading is shown beside it."
)


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    # Its own copy of the global flags: here --stack has no default (no stack: size the load alone).
    command = commands.add_parser(
        "sizing",
        parents=[global_options()],
        help="shards, partitions, objects, Lambda, claims, compaction and monthly cost for a load",
        description="Size a load: Kinesis shards (by records/s and bytes/s), Firehose delivery streams and "
        "active partitions against their quota, objects per hour and their sizes, Lambda invocations and "
        "concurrency, claims write units against the table quota, the compactor's Athena scans, and the "
        "monthly cost per component from infra/prices/, in each dedupe mode, with the mode recommended for "
        "the load and why. Every limit the load crosses is listed with the stack key that changes it. With "
        "--stack, the load defaults to the one the stack declares (eventlake:expected*) and its settings are "
        "checked against what the load needs.",
        formatter_class=DefaultsHelp,
    )
    command.set_defaults(stack=None, run=run)
    load = command.add_argument_group("load")
    load.add_argument(
        "--events-per-hour", type=_number, help=f"default: the stack's, else {DEFAULT_EVENTS_PER_HOUR:,}"
    )
    load.add_argument(
        "--event-bytes", type=_number, help=key_help("expected_event_bytes", "average event size in bytes")
    )
    load.add_argument("--types", type=_whole, help=key_help("expected_event_types", "number of event types"))
    load.add_argument(
        "--late-spread-hours",
        type=_number,
        help=key_help("expected_late_spread_hours", "events arrive up to this late, uniformly"),
    )
    load.add_argument(
        "--dedupe",
        choices=tuple(marks.MODES),
        help=key_help("dedupe", "who marks duplicates")
        + ": "
        + "; ".join(f"{m.name}: {m.summary}" for m in marks.MODES.values()),
    )
    load.add_argument(
        "--events-per-record",
        type=_whole,
        help=key_help(
            "expected_events_per_record",
            "events per Kinesis record: 1 unless producers aggregate (KPL format, eventlake send --aggregate "
            "packs ~95 of 222 bytes in 25 KB)",
        ),
    )
    command.add_argument(
        "--processor",
        choices=PROCESSORS,
        help=key_help("processor", "size the stack with this processor")
        + ": jq has no transform, no claims and no Parquet conversion",
    )
    command.add_argument(
        "--claims-billing-mode",
        choices=CLAIMS_BILLING_MODES,
        help=key_help("claims_billing_mode", "price the claims table this way")
        + "; PROVISIONED: auto-scaled capacity at 70 %% use",
    )
    command.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=list_price,
        help="override a price (USD per unit), e.g. dynamodb_write_request_unit=1.4e-6; repeatable",
    )


def _number(text: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _whole(text: str) -> int:
    value = _number(text)
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text}")
    return int(value)


def list_price(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"must be KEY=VALUE, got {text!r}")
    return key, _number(value)


def run(args: argparse.Namespace) -> int:
    settings, region = _stack(args)
    if args.processor is not None:
        settings = dataclasses.replace(settings, processor=args.processor)
    if args.claims_billing_mode is not None:
        settings = dataclasses.replace(settings, claims_billing_mode=args.claims_billing_mode)
    declared = settings if args.stack and settings.expected_events_per_hour else None
    try:
        load = Load(
            events_per_hour=_pick(
                args.events_per_hour, declared and declared.expected_events_per_hour, DEFAULT_EVENTS_PER_HOUR
            ),
            avg_event_bytes=_pick(
                args.event_bytes, declared and declared.expected_event_bytes, settings.expected_event_bytes
            ),
            event_types=_pick(
                args.types, declared and declared.expected_event_types, settings.expected_event_types
            ),
            late_spread_hours=_pick(
                args.late_spread_hours,
                declared and declared.expected_late_spread_hours,
                settings.expected_late_spread_hours,
            ),
            dedupe=settings.dedupe_mode if args.dedupe is None else marks.mode(args.dedupe),
            region=region,
            events_per_record=_pick(
                args.events_per_record,
                declared and declared.expected_events_per_record,
                settings.expected_events_per_record,
            ),
        )
        prices = PriceTable.load(region, dict(args.price))
    except (ValueError, PriceError) as exc:
        raise CliError(str(exc)) from None
    result = plan(load, settings, prices)
    mismatches = result.mismatches(settings) if args.stack else {}
    if args.output == "json":
        sys.stdout.write(json.dumps(as_document(result, args.stack, mismatches), default=str) + "\n")
    else:
        render(result, args.stack, mismatches)
    failed = bool(args.stack) and bool(mismatches or result.crossed)
    return CHECK_FAILED if failed else OK


def _pick(flag: Any, declared: Any, default: Any) -> Any:
    if flag is not None:
        return flag
    return declared if declared else default


def _stack(args: argparse.Namespace) -> tuple[Settings, str]:
    if not args.stack:
        return Settings(stack="sizing"), args.region or DEFAULT_REGION
    try:
        settings = Settings.from_stack_file(args.stack, args.root)
        region = args.region or str(stack_config(args.stack, args.root).get("aws:region") or DEFAULT_REGION)
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    return settings, region


def as_document(
    result: CapacityPlan, stack: str | None, mismatches: dict[str, tuple[Any, Any]]
) -> dict[str, Any]:
    """Everything the table shows, as one JSON document."""
    load, prices = result.load, result.prices
    return {
        "load": vars(load) | {"events_per_second": load.events_per_second},
        "stack": stack,
        "prices": {
            "region": prices.region,
            "requested_region": prices.requested_region,
            "as_of": prices.as_of,
            "overridden": sorted(prices.overridden),
        },
        "kinesis": {
            "records_per_second": result.records_per_second,
            "bytes_per_second": result.bytes_per_second,
            "shards_by_records": result.shards_by_records,
            "shards_by_bytes": result.shards_by_bytes,
            "shards": result.shards,
            "mode": result.stream_mode,
            "usd_per_month_by_mode": dict(result.kinesis_usd_by_mode),
            "events_per_record": load.events_per_record,
            "record_bytes": result.record_bytes,
        },
        "firehose": {
            "delivery_streams": result.delivery_streams,
            "mean_active_partitions": result.mean_active_partitions,
            "peak_active_partitions": result.peak_active_partitions,
            "max_partition_bytes_per_second": result.max_partition_bytes_per_second,
            "objects_per_hour": result.objects_per_hour,
            "mean_object_bytes": result.mean_object_bytes,
            "backup_objects_per_hour": result.backup_objects_per_hour,
            "partitions": [vars(flow) for flow in result.partitions],
            # Whether Firehose bills a KPL aggregate or each de-aggregated user record in 5 KB steps is not
            # documented: "costs" use billing_assumed; both are priced (equal without aggregation).
            "billing_assumed": result.firehose_billing,
            "billing_note": FIREHOSE_BILLING_NOTE,
            "usd_per_month_by_billing": dict(result.firehose_usd_by_billing),
            "total_usd_per_month_by_billing": result.usd_per_month_by_firehose_billing(),
        },
        "lambda": {
            "processor_buffer_mb": result.processor_buffer_mb,
            "invocations_per_second": result.invocations_per_second,
            "records_per_invocation": result.records_per_invocation,
            "seconds_per_invocation": result.seconds_per_invocation,
            "concurrency": result.concurrency,
        },
        "dedupe": {
            "mode": load.dedupe.name,
            "summary": load.dedupe.summary,
            "recommended": result.dedupe_recommended,
            "why": result.dedupe_why,
            "usd_per_month_by_mode": dict(result.dedupe_usd_by_mode),
            "usd_per_million_events_by_mode": result.usd_per_million_events_by_mode(),
            "claims_billing_mode": result.claims_billing_mode,
            "writes_per_second": result.dedupe_writes_per_second,
            "reads_per_second": result.dedupe_reads_per_second,
            "stored_gb": result.claims_stored_gb,
            "on_demand_writes_usd_per_month": result.claims_on_demand_usd_per_month,
            "provisioned_writes_usd_per_month": result.claims_provisioned_usd_per_month,
            "provisioned_capacity": _capacity(result),
        },
        "compaction": _compaction(result),
        "costs": [vars(line) for line in result.costs],
        "usd_per_month": result.usd_per_month,
        "usd_per_million_events": result.usd_per_million_events,
        "crossed": [vars(limit) for limit in result.crossed],
        "recommended": dict(result.recommended),
        "mismatches": {key: {"stack": have, "recommended": want} for key, (have, want) in mismatches.items()},
    }


def _capacity(result: CapacityPlan) -> dict[str, Any] | None:
    """The auto-scaling bounds a PROVISIONED claims table has for this load (None without claims)."""
    capacity = result.claims_capacity
    if capacity is None:
        return None
    return {
        "target_utilization_percent": capacity.target_utilization_percent,
        **{
            f"{d.name}_{end}": getattr(d, f"{end}_units")
            for d in capacity.dimensions
            for end in ("min", "max")
        },
    }


def _compaction(result: CapacityPlan) -> dict[str, Any] | None:
    flow = result.compaction
    if flow is None:
        return None
    return vars(flow) | {"statements_per_hour": flow.statements_per_hour}


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


def render(result: CapacityPlan, stack: str | None, mismatches: dict[str, tuple[Any, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from eventlake.cli.output import NumbersTable

    console = Console()
    load, prices = result.load, result.prices

    def table(title: str, *columns: str, left: int = 1) -> Table:
        t = NumbersTable(title=title, title_justify="left", title_style="bold")  # numbers never cut
        for i, name in enumerate(columns):
            t.add_column(name, justify="left" if i < left else "right")
        return t

    late = f"up to {load.late_spread_hours:g} h late"
    console.print(
        f"[bold]eventlake sizing[/] {_n(load.events_per_hour)} events/hour"
        f" ({_n(load.events_per_second, 1)}/s)"
        f" of {_n(load.avg_event_bytes)} B, {load.event_types} types, {late},"
        f" dedupe {load.dedupe}, {load.region}" + (f"; stack [cyan]{stack}[/]" if stack else "")
    )
    fallback = (
        "" if prices.region == prices.requested_region else f" (no table for {prices.requested_region})"
    )
    overridden = f"; overridden: {', '.join(sorted(prices.overridden))}" if prices.overridden else ""
    console.print(f"prices: {prices.region} list prices as of {prices.as_of}{fallback}{overridden}")

    k = table("Kinesis", "", "")
    if load.events_per_record > 1:
        k.add_row(
            "events per record (KPL aggregates), record size",
            f"{_n(load.events_per_record)}, {_bytes(result.record_bytes)}",
        )
    k.add_row(
        "records/s, bytes/s (with partition keys)",
        f"{_n(result.records_per_second, 1)}, {_bytes(result.bytes_per_second)}/s",
    )
    k.add_row("shards by 1,000 records/s each", _n(result.shards_by_records))
    k.add_row("shards by 1 MiB/s each", _n(result.shards_by_bytes))
    k.add_row("recommended (80 % use at most)", f"{result.stream_mode}, {_n(result.shards)} shards")
    for mode, usd in result.kinesis_usd_by_mode.items():
        k.add_row(f"  {mode} would cost a month", f"${_n(usd, 2)}")
    console.print(k)

    f = table("Firehose (one delivery stream per Kinesis stream)", "", "")
    f.add_row("delivery streams needed (5,000 active partitions each at most)", _n(result.delivery_streams))
    f.add_row(
        "active partitions, mean / peak (quota 500, 5,000 at most)",
        f"{_n(result.mean_active_partitions, 1)} / {result.peak_active_partitions}",
    )
    f.add_row("busiest partition (1 GB/s each at most)", f"{_bytes(result.max_partition_bytes_per_second)}/s")
    f.add_row(
        "data objects per hour, mean Parquet size",
        f"{_n(result.objects_per_hour)}, {_bytes(result.mean_object_bytes)}",
    )
    f.add_row("raw backup objects per hour", _n(result.backup_objects_per_hour))
    if load.events_per_record > 1:
        for billing, usd in result.firehose_usd_by_billing.items():
            used = ", in the total" if billing == result.firehose_billing else ""
            f.add_row(f"a month, 5 KB steps {billing}{used}", f"${_n(usd, 2)}")
    console.print(f)
    if load.events_per_record > 1:
        console.print(FIREHOSE_BILLING_NOTE)
    p = table(
        "Partitions, by event hour (per type x hour)",
        "event hour",
        "active (all types)",
        "objects/hour each",
        "events/object",
        "object size",
    )
    for flow in result.partitions:
        each = flow.objects_per_hour / load.event_types
        p.add_row(
            "arrival hour" if flow.hours_late == 0 else f"{flow.hours_late} h earlier",
            _n(flow.mean_active, 1),
            _n(each, 2),
            _n(flow.events_per_object, 1),
            _bytes(flow.mean_object_bytes),
        )
    console.print(p)

    lam = table("Lambda (transform)", "", "")
    lam.add_row("processor buffer (computed)", f"{result.processor_buffer_mb:g} MB")
    lam.add_row(
        "invocations/s, records each",
        f"{_n(result.invocations_per_second, 3)}, {_n(result.records_per_invocation)}",
    )
    lam.add_row("seconds per invocation", _n(result.seconds_per_invocation, 3))
    lam.add_row("concurrency (1,000 a Region by default; 5 per shard)", _n(result.concurrency, 2))
    console.print(lam)

    events = load.events_per_hour * HOURS_PER_MONTH / 1e6
    m = table(f"Dedupe: {load.dedupe} ({load.dedupe.summary})", "mode", "USD/month", "per million events")
    for mode, usd in result.dedupe_usd_by_mode.items():
        notes = [n for n, yes in (("this plan", mode == load.dedupe.name),
                                  ("recommended", mode == result.dedupe_recommended)) if yes]  # fmt: skip
        label = f"{mode} ({', '.join(notes)})" if notes else mode
        m.add_row(label, _n(usd, 2), _n(usd / events, 4) if events else "")
    console.print(m)
    console.print(f"recommended: {result.dedupe_why}")

    capacity = result.claims_capacity
    if capacity is not None:
        d = table(f"DynamoDB claims ({result.claims_billing_mode})", "", "")
        d.add_row("write units/s (table quota 40,000)", _n(result.dedupe_writes_per_second))
        d.add_row("read units/s", _n(result.dedupe_reads_per_second, 1))
        d.add_row("stored (GB)", _n(result.claims_stored_gb, 1))
        d.add_row("writes on demand, a month", f"${_n(result.claims_on_demand_usd_per_month, 2)}")
        d.add_row(
            f"writes provisioned ({capacity.target_utilization_percent} % target use), a month",
            f"${_n(result.claims_provisioned_usd_per_month, 2)}",
        )
        for dim in capacity.dimensions:
            d.add_row(
                f"PROVISIONED {dim.name}: auto-scaling bounds", f"{dim.min_units:,} - {dim.max_units:,}"
            )
        console.print(d)

    flow = result.compaction
    if flow is not None:
        k = table("Compaction (the compactor Lambda and Athena UNLOAD)", "", "")
        k.add_row("runs per hour", _n(flow.runs_per_hour, 2))
        k.add_row("closed type-hours each run looks at", _n(flow.candidates_per_run))
        k.add_row("S3 LISTs per run (each type's two folders)", _n(flow.lists_per_run))
        k.add_row(
            "UNLOADs per hour (closing hours, late re-compactions)",
            f"{_n(flow.statements_per_hour, 1)} ({_n(flow.partitions_per_hour, 1)}, "
            f"{_n(flow.recompactions_per_hour, 1)})",
        )
        k.add_row("bytes billed per UNLOAD (10 MB at least)", _bytes(flow.billed_bytes_per_statement))
        k.add_row("seconds per run (15 minutes at most; assumed latencies)", _n(flow.seconds_per_run))
        console.print(k)

    c = table("Monthly cost", "component", "item", "quantity", "unit", "USD/month", left=2)
    for line in result.costs:
        c.add_row(line.component, line.item, _n(line.quantity, 1), line.unit, _n(line.usd_per_month, 2))
    for component, usd in result.usd_by_component().items():
        c.add_row(f"[bold]{component}[/]", "subtotal", "", "", f"[bold]{_n(usd, 2)}[/]")
    c.add_row(
        "[bold]total[/]",
        f"{_n(load.events_per_hour * HOURS_PER_MONTH / 1e6, 1)} M events",
        "",
        "",
        f"[bold]{_n(result.usd_per_month, 2)}[/]",
    )
    c.add_row("per million events", "", "", "", _n(result.usd_per_million_events, 4))
    if load.events_per_record > 1:
        for billing, usd in result.usd_per_month_by_firehose_billing().items():
            if billing != result.firehose_billing:
                c.add_row("total if Firehose", f"bills 5 KB steps {billing}", "", "", _n(usd, 2))
    console.print(c)

    x = table(
        "Limits crossed" + (f" by stack {stack}" if stack else " (default settings)"),
        "limit",
        "needed",
        "allowed",
        "stack key",
        "what changes it",
        left=1,
    )
    for limit in result.crossed:
        x.add_row(limit.limit, _n(limit.needed, 1), _n(limit.allowed), limit.key, limit.advice)
    if not result.crossed:
        x.add_row("none", "", "", "", "")
    console.print(x)
    if stack:
        m = table(f"Stack {stack} vs what the load needs", "key", "stack", "recommended", "")
        for key, want in result.recommended.items():
            have = mismatches.get(key, (want, want))[0]
            m.add_row(key, str(have), str(want), "[red]differs[/]" if key in mismatches else "ok")
        console.print(m)
