"""Benchmarks of the transform, as ratios against a baseline measured in the same run.

The baseline is the least any Firehose transform must do per record: base64-decode, parse the JSON,
serialise it again and base64-encode it. The ratios say what validation, enrichment, partition keys
and duplicate marking cost on top, independent of the machine. ``make bench`` prints the table and
writes it to ``BENCHMARKS.md``; run it on a quiet machine. It imports only what the Lambda and the
model step need: a process holding moto, boto3 and pyarrow's heap makes Python's garbage collector,
and so every allocation-heavy step, measurably slower (15 % here), which a Lambda never pays.
``--dedupe`` runs the dedupe bench instead (``eventlake.bench_dedupe``, which does import boto3), in its
own process; each writes only its own section of ``BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_contract import limits
from aws_contract.firehose_records import TransformationRecord
from eventlake.firehose import conversion
from eventlake.traffic.sample_events import (
    DEFAULT_DUPLICATE_SHARE,
    DEFAULT_HOURS,
    DEFAULT_MALFORMED_SHARE,
    Outgoing,
    generate,
    window_start,
)
from infra import sizing
from transform_lambda.claims import Claim, NoClaims
from transform_lambda.handler import process

RESULTS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
TRANSFORM_SECTION = "Transform"


@dataclass(frozen=True)
class Measurement:
    name: str
    seconds: float  # median over repeats
    records: int

    @property
    def per_second(self) -> float:
        return self.records / self.seconds


class MemoryClaims:
    """A claim store with no I/O, so its cost in the handler shows without a network's."""

    def __init__(self) -> None:
        self.owners: dict[str, Claim] = {}

    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        return {c.key: self.owners.setdefault(c.key, c) for c in claims}


def batches(count: int, seed: int) -> list[dict[str, Any]]:
    """Firehose events of real sample records, each filled to the computed processor buffer."""
    records = generate(
        count,
        rng=random.Random(seed),
        duplicate_share=DEFAULT_DUPLICATE_SHARE,
        malformed_share=DEFAULT_MALFORMED_SHARE,
        start=window_start(datetime.now(UTC), DEFAULT_HOURS),
    )
    return fill(records)


def fill(
    records: Sequence[Outgoing],
    record: Callable[[Outgoing, int], TransformationRecord] = lambda r, i: sizing.firehose_record(r.data, i),
) -> list[dict[str, Any]]:
    """Firehose events of ``record(outgoing, index)`` (by default with the longest metadata Firehose sends),
    each filled to the computed processor buffer."""
    limit = int(sizing.processor_buffer_mb() * limits.MIB)
    events: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for i, outgoing in enumerate(records):
        if current and size + len(outgoing.data) > limit:
            events.append({"records": current})
            current, size = [], 0
        current.append(record(outgoing, i))
        size += len(outgoing.data)
    if current:
        events.append({"records": current})
    return events


def baseline(event: dict[str, Any]) -> None:
    for record in event["records"]:
        try:
            value = json.loads(base64.b64decode(record["data"]))
        except ValueError:
            continue
        base64.b64encode(json.dumps(value).encode())


def measure(
    name: str, events: list[dict[str, Any]], step: Callable[[dict[str, Any]], Any], repeats: int
) -> Measurement:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for event in events:
            step(event)
        times.append(time.perf_counter() - started)
    return Measurement(name, statistics.median(times), sum(len(e["records"]) for e in events))


def run(count: int = 20_000, repeats: int = 5, seed: int = 7) -> list[Measurement]:
    events = batches(count, seed)
    quiet = lambda _: None  # noqa: E731 - logging to stdout would be what we measure
    transformed = [
        [
            base64.b64decode(r["data"])
            for r in process(e, claims=NoClaims(), log=quiet)["records"]
            if r["result"] == "Ok"
        ]
        for e in events
    ]
    results = [
        measure("baseline: base64 + json round trip", events, baseline, repeats),
        measure(
            "transform, in-batch duplicates only",
            events,
            lambda e: process(e, claims=NoClaims(), log=quiet),
            repeats,
        ),
        measure(
            "transform + claim store (in memory)",
            events,
            lambda e: process(e, claims=MemoryClaims(), log=quiet),
            repeats,
        ),
    ]
    by_index = {id(e): t for e, t in zip(events, transformed, strict=True)}
    results.append(
        measure(
            "local model: OpenX JSON -> Arrow", events, lambda e: conversion.convert(by_index[id(e)]), repeats
        )
    )
    return results


def table(results: list[Measurement]) -> str:
    base = results[0]
    lines = [
        "| step | records/s | time vs baseline |",
        "|---|---:|---:|",
        *(f"| {r.name} | {r.per_second:,.0f} | {r.seconds / base.seconds:.2f}x |" for r in results),
    ]
    return "\n".join(lines)


def machine_line(records: int, detail: str) -> str:
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()} ({os.cpu_count()} cores) with Python "
        f"{platform.python_version()}, {records:,} records, {detail}."
    )


def write_section(heading: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the ``## heading`` section of ``path``, keeping the other sections."""
    sections = re.split(r"(?m)^(?=## )", path.read_text() if path.exists() else "")
    preamble = sections[0] if sections[0].startswith("# ") else "# Benchmarks\n"
    rest = sections[1:]
    mine = f"## {heading}\n\n{body.strip()}\n"
    titles = [s.splitlines()[0] for s in rest]
    if f"## {heading}" in titles:
        rest[titles.index(f"## {heading}")] = mine
    else:
        rest.append(mine)
    path.write_text(preamble.rstrip("\n") + "\n\n" + "\n".join(s.rstrip("\n") + "\n" for s in rest))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eventlake.bench", description=__doc__)
    parser.add_argument("--events", type=int, help="records (default 20,000; 10,000 with --dedupe)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--dedupe",
        action="store_true",
        help="the dedupe bench instead: three claim stores against an in-process DynamoDB",
    )
    parser.add_argument("--write", action="store_true", help=f"write the results to {RESULTS.name}")
    args = parser.parse_args(argv)
    if args.dedupe:
        from eventlake import bench_dedupe  # boto3 and Powertools: only in this process

        bench_dedupe.main(args.events or bench_dedupe.RECORDS, repeats=args.repeats, write=args.write)
        return
    count = args.events or 20_000
    results = run(count, args.repeats)
    text = table(results)
    machine = machine_line(count, f"median of {args.repeats} runs")
    print(text + "\n\n" + machine)
    if args.write:
        write_section(
            TRANSFORM_SECTION,
            "Written by `make bench` (`python -m eventlake.bench --write`). Ratios compare each step\n"
            "with a baseline measured in the same run: base64-decode, parse, re-serialise and\n"
            "base64-encode each record, the least any Firehose transform does. Records are the demo's\n"
            f"sample events ({DEFAULT_DUPLICATE_SHARE:.0%} re-sends, "
            f"{DEFAULT_MALFORMED_SHARE:.0%} malformed), in batches filled to the processor buffer.\n\n"
            f"{text}\n\n{machine}\n",
        )


if __name__ == "__main__":
    main()
