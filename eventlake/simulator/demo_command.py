"""``eventlake demo``: the real pipeline on an embedded AWS, end to end, checked against the invariant; then
the catalog's typed views created in the embedded Glue and one question answered through a typed view."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from eventlake.checks.lake_contents import MirrorRefused
from eventlake.cli.common import CHECK_FAILED, OK, CliError, DefaultsHelp, positive_int, share
from eventlake.simulator.demo import DemoOptions
from eventlake.traffic.sample_events import DEFAULT_HOURS
from infra.settings import PROCESSORS, SettingsError


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        parents=parents,
        help="produce, deliver, query and verify the lake on an embedded AWS (moto)",
        description="Run Kinesis -> Firehose (Lambda, Parquet, dynamic partitioning) -> S3 locally, query it "
        "like Athena and check that every record sent is in the lake exactly once.",
        formatter_class=DefaultsHelp,
    )
    defaults = DemoOptions()
    demo.add_argument("--events", type=positive_int, default=defaults.events, help="records to produce")
    demo.add_argument(
        "--duplicate-share", type=share, default=defaults.duplicate_share, help="exact re-sends"
    )
    demo.add_argument(
        "--malformed-share", type=share, default=defaults.malformed_share, help="malformed records"
    )
    demo.add_argument("--seed", type=int, default=defaults.seed, help="seed of every random choice")
    demo.add_argument(
        "--hours", type=positive_int, default=DEFAULT_HOURS, help="hours the event times spread over"
    )
    demo.add_argument(
        "--types", type=positive_int, default=None, help="event types to draw from (default: the samples')"
    )
    demo.add_argument(
        "--arrive-over",
        type=positive_int,
        default=None,
        metavar="SECONDS",
        help="spread arrivals at Kinesis over this many simulated seconds (3600: a production hour, compared "
        "with the sizing model); default: the wall clock",
    )
    demo.add_argument(
        "--out", type=Path, default=None, help="mirror the bucket here (default out/<stack>/lake)"
    )
    demo.add_argument(
        "--fail-invocations", type=share, default=0.0, metavar="R", help="Lambda attempts that fail"
    )
    demo.add_argument(
        "--fail-dedupe", type=share, default=0.0, metavar="R", help="claim-store calls that fail"
    )
    demo.add_argument(
        "--fail-conversion", type=share, default=0.0, metavar="R", help="transformed records Parquet rejects"
    )
    demo.add_argument(
        "--resend-batches",
        type=share,
        default=0.0,
        metavar="R",
        help="PutRecords batches the producer re-sends",
    )
    demo.add_argument(
        "--concurrent-invocations",
        type=int,
        choices=range(1, 6),
        default=1,
        metavar="N",
        help="Lambda invocations per shard at once, 1-5 as AWS allows",
    )
    demo.add_argument(
        "--redeliver-batches",
        type=share,
        default=0.0,
        metavar="R",
        help="delivered batches Firehose processes and delivers again (at-least-once)",
    )
    demo.add_argument(
        "--batch-records",
        type=positive_int,
        default=None,
        help="cap records per Lambda invocation (AWS: size only)",
    )
    demo.add_argument(
        "--processor",
        choices=PROCESSORS,
        default=None,
        help="override the stack's processor: the transform Lambda, or Firehose's JQ partitioning alone",
    )
    demo.add_argument(
        "--compact",
        action="store_true",
        help="end with a compaction pass over every partition (as the compactor does once each hour closes): "
        "the invariant then reads the table through its catalog and holds the duplicate marks exact",
    )
    demo.add_argument(
        "--aggregate",
        action="store_true",
        help="produce as the KPL does: the events bound for each shard packed into KPL aggregated records "
        "(as send --aggregate), which Firehose de-aggregates before the transform",
    )
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.duplicate_share + args.malformed_share >= 1:
        raise CliError(
            f"--duplicate-share {args.duplicate_share} + --malformed-share {args.malformed_share} must stay "
            "below 1 (the rest are the valid first copies)"
        )
    from eventlake.catalog import catalog_views
    from eventlake.cli import output
    from eventlake.simulator.demo import open_demo
    from eventlake.simulator.report import document, render

    options = DemoOptions(
        stack=args.stack,
        events=args.events,
        duplicate_share=args.duplicate_share,
        malformed_share=args.malformed_share,
        seed=args.seed,
        hours=args.hours,
        out=args.out,
        fail_invocations=args.fail_invocations,
        fail_dedupe=args.fail_dedupe,
        fail_conversion=args.fail_conversion,
        resend_batches=args.resend_batches,
        concurrent_invocations=args.concurrent_invocations,
        redeliver_batches=args.redeliver_batches,
        batch_records=args.batch_records,
        types=args.types,
        arrival_seconds=args.arrive_over,
        processor=args.processor,
        compact=args.compact,
        aggregate=args.aggregate,
        quiet=False,
        root=args.root,
    )
    progress = output.console(stderr=True)
    try:  # progress on stderr: stdout holds the summary alone (one JSON document with --output json)
        with open_demo(options, console=progress) as opened:
            report = opened.report
            # The typed views in the embedded Glue, as deployed, and a question answered through one.
            glue, settings = opened.aws.glue, report.settings
            catalog_views.create_in_glue(glue, settings)
            typed = catalog_views.answer(glue, settings, options.out_dir, report.catalog_partitions)
    except (MirrorRefused, SettingsError) as exc:
        raise CliError(str(exc)) from None
    if args.output == "json":
        output.write_json({**document(report), "typed_view": typed.document()})
    else:
        out = output.console()
        render(report, out)
        database = report.settings.glue_database
        out.print(
            f"Typed views: {len(typed.views)} created in the embedded Glue database {database} (one per "
            "glue/event_types file, beside events and unique_events); through one of them:",
            markup=False,
            highlight=False,
        )
        out.print("  " + " ".join(typed.sql.split()), markup=False, highlight=False)
        out.print(output.fitted_table(out, None, output.value_columns(typed.columns, typed.rows), typed.rows))
    return OK if report.ok else CHECK_FAILED
