"""``python -m eventlake demo``: run the pipeline locally and check the invariant (exit 1 if broken)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from eventlake.demo import DemoOptions
from eventlake.traffic.sample_events import DEFAULT_HOURS


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m eventlake")
    commands = root.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="produce, deliver, query and verify the lake on an embedded AWS (moto)",
        description="Run Kinesis -> Firehose (Lambda, Parquet, dynamic partitioning) -> S3 locally, query it "
        "like Athena and check that every record sent is in the lake exactly once.",
    )
    defaults = DemoOptions()
    demo.add_argument(
        "--stack", default=defaults.stack, help="stack whose Pulumi.<stack>.yaml to use (default %(default)s)"
    )
    demo.add_argument("--events", type=int, default=defaults.events, help="records to produce (%(default)s)")
    demo.add_argument(
        "--duplicate-share", type=_share, default=defaults.duplicate_share, help="share of exact re-sends"
    )
    demo.add_argument(
        "--malformed-share", type=_share, default=defaults.malformed_share, help="share of malformed records"
    )
    demo.add_argument("--seed", type=int, default=defaults.seed)
    demo.add_argument(
        "--hours", type=int, default=DEFAULT_HOURS, help="hours the event times spread over (default 24)"
    )
    demo.add_argument(
        "--out", type=Path, default=None, help="mirror the bucket here (default out/<stack>/lake)"
    )
    demo.add_argument(
        "--fail-invocations", type=_share, default=0.0, metavar="R", help="Lambda attempts that fail"
    )
    demo.add_argument(
        "--fail-dedupe", type=_share, default=0.0, metavar="R", help="claim-store calls that fail"
    )
    demo.add_argument(
        "--fail-conversion", type=_share, default=0.0, metavar="R", help="transformed records Parquet rejects"
    )
    demo.add_argument(
        "--resend-batches",
        type=_share,
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
        help="Lambda invocations per shard at once, 1-5 as AWS allows (default %(default)s)",
    )
    demo.add_argument(
        "--redeliver-batches",
        type=_share,
        default=0.0,
        metavar="R",
        help="delivered batches Firehose processes and delivers again (at-least-once)",
    )
    demo.add_argument(
        "--batch-records", type=int, default=None, help="cap records per Lambda invocation (AWS: size only)"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from rich.console import Console

    from eventlake.cli.report import render
    from eventlake.demo import run_demo

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
        quiet=False,
    )
    console = Console()
    report = run_demo(options, console=console)
    render(report, console)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
