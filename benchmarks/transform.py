"""Benchmarks of the transform, as ratios against a baseline measured in the same run.

The baseline is the least any Firehose transform must do per record, as fast as Python can do it:
base64-decode, ``orjson.loads``, ``orjson.dumps``, base64-encode. The ratios say what validation, enrichment,
partition keys and duplicate marking cost on top, independent of the machine (target: the handler within
2x). Times are the process's CPU time, the best of rounds that take every step in turn, so other processes
on a shared machine weigh little. ``make bench`` prints the tables; ``make bench WRITE=1`` also writes
them to ``BENCHMARKS.md``. It imports only what the Lambda and the model step need: a process holding
moto, boto3 and pyarrow's heap makes Python's garbage collector, and so every allocation-heavy step,
measurably slower (15 % here), which a Lambda never pays.

This module is the one entry point of every bench: ``--dedupe``, ``--pruning`` and ``--compaction`` run
that bench instead (``BENCHES``; ``python -m benchmarks --pruning --help`` lists its flags), in this
process and importing only what it needs (the dedupe bench brings boto3; ``make bench`` starts one process
per bench). Each writes only its own section of ``BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from aws_contract import limits
from aws_contract.firehose_records import TransformationRecord
from eventlake.firehose_formats import conversion
from eventlake.traffic.sample_events import (
    DEFAULT_DUPLICATE_SHARE,
    DEFAULT_HOURS,
    DEFAULT_MALFORMED_SHARE,
    Expect,
    Outgoing,
    generate,
    window_start,
)
from infra import sizing
from tests.transform_lambda import corpora
from transform_lambda import events
from transform_lambda.claims import Claim, NoClaims
from transform_lambda.handler import process

RESULTS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
TRANSFORM_SECTION = "Transform"
PROG = "python -m benchmarks"
# Every other bench, by its flag here: the module (its ``main(argv, prog)`` parses the rest) and what it
# measures. A bench module run directly runs its bench too; benchmarks.dynamodb_double is apparatus.
BENCHES = {
    "dedupe": ("benchmarks.dedupe", "three claim stores through the handler, on an in-process DynamoDB"),
    "pruning": ("benchmarks.pruning", "what a one-type, one-day query reads of a generated lake"),
    "compaction": ("benchmarks.compaction", "a generated lake's objects and bytes, then compacted"),
    "conversion": ("benchmarks.format_conversion", "the local Firehose's JSON -> Parquet, against a floor"),
}


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


def baseline(event: dict[str, Any]) -> list[bytes]:
    """The floor: each record decoded, parsed, serialised and encoded again with orjson, the results kept
    (as a response keeps them)."""
    out = []
    for record in event["records"]:
        try:
            value = orjson.loads(base64.b64decode(record["data"]))
        except ValueError:
            continue
        out.append(base64.b64encode(orjson.dumps(value)))
    return out


def stdlib_baseline(event: dict[str, Any]) -> list[bytes]:
    """The same floor with the standard library's json."""
    out = []
    for record in event["records"]:
        try:
            value = json.loads(base64.b64decode(record["data"]))
        except ValueError:
            continue
        out.append(base64.b64encode(json.dumps(value).encode()))
    return out


def row_baseline(rows: dict[int, list[dict[str, Any] | None]]) -> Callable[[dict[str, Any]], list[bytes]]:
    """The floor at the stored row's size: each record decoded and parsed as in ``baseline``, but what is
    serialised and encoded is its stored row (built beforehand; ``rows`` by event, None where the handler
    rejects the record), not the event again. The row is about three times the event (column names, lineage,
    the payload as an escaped string), and base64 and JSON cost by the byte: the gap between this and the
    handler is the handler's own logic."""

    def step(event: dict[str, Any]) -> list[bytes]:
        out = []
        for record, row in zip(event["records"], rows[id(event)], strict=True):
            try:
                orjson.loads(base64.b64decode(record["data"]))
            except ValueError:
                continue
            if row is not None:  # None: a record the handler rejects
                out.append(base64.b64encode(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)))
        return out

    return step


Step = Callable[[dict[str, Any]], Any]


def python_only(step: Step) -> Step:
    """``step`` with the transform's compiled path unloaded: what a Lambda without it (or a machine where
    set-up could not build it) would run. The same rows (tests/transform_lambda/test_hot_path.py)."""

    def without(event: dict[str, Any]) -> Any:
        compiled = events.hot_first_arrival
        events.hot_first_arrival = None
        try:
            return step(event)
        finally:
            events.hot_first_arrival = compiled

    return without


def measure_all(
    steps: Sequence[tuple[str, Step]], events: list[dict[str, Any]], repeats: int
) -> list[Measurement]:
    """Each step's best CPU time over ``repeats`` rounds, every round running every step in turn."""
    best = [math.inf] * len(steps)
    for _ in range(repeats):
        for index, (_, step) in enumerate(steps):
            started = time.process_time()
            for event in events:
                step(event)
            best[index] = min(best[index], time.process_time() - started)
    records = sum(len(e["records"]) for e in events)
    return [Measurement(name, seconds, records) for (name, _), seconds in zip(steps, best, strict=True)]


def run(count: int = 20_000, repeats: int = 7, seed: int = 7) -> list[Measurement]:
    events = batches(count, seed)
    quiet = lambda _: None  # noqa: E731 - logging to stdout would be what we measure
    transformed = {
        id(e): [
            base64.b64decode(r["data"])
            for r in process(e, claims=NoClaims(), log=quiet)["records"]
            if r["result"] == "Ok"
        ]
        for e in events
    }
    rows = {
        id(e): [
            orjson.loads(base64.b64decode(r["data"])) if r["result"] == "Ok" else None
            for r in process(e, claims=NoClaims(), log=quiet)["records"]
        ]
        for e in events
    }
    return measure_all(
        [
            ("baseline: base64 + orjson round trip", baseline),
            ("base64 + json (standard library) round trip", stdlib_baseline),
            ("the same round trip writing the stored row (3x the event's bytes)", row_baseline(rows)),
            ("transform, in-batch duplicates only", lambda e: process(e, claims=NoClaims(), log=quiet)),
            (
                "the same, Python paths only (without the compiled `_hotpath`)",
                python_only(lambda e: process(e, claims=NoClaims(), log=quiet)),
            ),
            ("transform + claim store (in memory)", lambda e: process(e, claims=MemoryClaims(), log=quiet)),
            ("local model: OpenX JSON -> Arrow", lambda e: conversion.convert(transformed[id(e)])),
        ],
        events,
        repeats,
    )


@dataclass(frozen=True)
class CorpusResult:
    title: str
    bytes_per_event: float
    valid: int
    compiled: int  # valid records the compiled path wrote, once each name and partition was known
    handler: float  # CPU seconds over the floor's, the best of the same rounds
    python_only: float

    @property
    def share(self) -> float:
        return self.compiled / self.valid if self.valid else 0.0


SAMPLES = "the project's own samples"


def corpus_events(name: str, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Firehose events of a producer's corpus (``tests/transform_lambda/corpora.py``), or of the demo's
    samples."""
    if name == SAMPLES:
        return batches(count, seed)
    return fill([Outgoing(raw, "k", Expect.VALID) for raw in corpora.generate(name, count, seed)])


def compiled_share(batch: list[dict[str, Any]]) -> tuple[int, int]:
    """(valid records, those the compiled path wrote): the handler run once to learn the names and
    partitions (as a warm container has), then counted by its own batch lines (``compiled_records``), as
    the Lambda runs it."""
    quiet = lambda _: None  # noqa: E731
    for event in batch:
        process(event, claims=NoClaims(), log=quiet)
    valid = wrote = 0
    for event in batch:
        lines: list[dict[str, Any]] = []
        response = process(event, claims=NoClaims(), log=lines.append)
        valid += sum(r["result"] == "Ok" for r in response["records"])
        wrote += sum(line.get("compiled_records", 0) for line in lines)
    return valid, wrote


def run_corpora(count: int = 5_000, repeats: int = 7) -> list[CorpusResult]:
    """Each corpus: its share on the compiled path and the handler's CPU time over the orjson floor's."""
    quiet = lambda _: None  # noqa: E731
    results = []
    for name in [*corpora.CORPORA, SAMPLES]:
        batch = corpus_events(name, count)
        raw = sum(len(base64.b64decode(r["data"])) for e in batch for r in e["records"])
        records = sum(len(e["records"]) for e in batch)
        valid, wrote = compiled_share(batch)
        floor, handler, python = measure_all(
            [
                ("floor", baseline),
                ("handler", lambda e: process(e, claims=NoClaims(), log=quiet)),
                ("python", python_only(lambda e: process(e, claims=NoClaims(), log=quiet))),
            ],
            batch,
            repeats,
        )
        results.append(
            CorpusResult(
                corpora.TITLES.get(name, name),
                raw / records,
                valid,
                wrote,
                handler.seconds / floor.seconds,
                python.seconds / floor.seconds,
            )
        )
    return results


def corpus_table(results: list[CorpusResult]) -> str:
    lines = [
        "| corpus | B/event | valid records on the compiled path | handler / orjson floor | "
        "Python paths alone / floor |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r.title} | {r.bytes_per_event:,.0f} | {r.share:.1%} | {r.handler:.2f}x | "
            f"{r.python_only:.2f}x |"
            for r in results
        ),
    ]
    return "\n".join(lines)


def cold_imports(runs: int = 9) -> tuple[float, float]:
    """Median seconds to import the handler and boto3, each in a fresh interpreter with only the
    project and the venv's site-packages on its path (``-S``, as a Lambda sees only its zip and runtime)."""
    root = Path(__file__).resolve().parent.parent
    paths = [str(root), *(p for p in sys.path if p.endswith("site-packages"))]

    def once(module: str) -> float:
        script = (
            f"import sys, time; sys.path[:0] = {paths!r}; started = time.perf_counter(); import {module}; "
            "print(time.perf_counter() - started)"
        )
        done = subprocess.run(
            [sys.executable, "-S", "-c", script], capture_output=True, text=True, check=True
        )
        return float(done.stdout)

    handler_times, boto3_times = [], []
    for _ in range(runs):  # alternated, so a busy moment weighs on both
        handler_times.append(once("transform_lambda.handler"))
        boto3_times.append(once("boto3"))
    return statistics.median(handler_times), statistics.median(boto3_times)


def table(results: list[Measurement]) -> str:
    base = results[0]
    lines = [
        "| step | records/s (CPU) | µs/record | time vs baseline |",
        "|---|---:|---:|---:|",
        *(
            f"| {r.name} | {r.per_second:,.0f} | {r.seconds / r.records * 1e6:.2f} | "
            f"{r.seconds / base.seconds:.2f}x |"
            for r in results
        ),
    ]
    return "\n".join(lines)


def machine_line(records: int, detail: str) -> str:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()} ({os.cpu_count()} cores, load "
        f"average {load}) with Python {platform.python_version()}, {records:,} records, {detail}."
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


def main(argv: Sequence[str] | None = None) -> int:
    """The transform bench, or the bench a flag names with the rest of the flags passed to it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chooser = argparse.ArgumentParser(prog=PROG, add_help=False)
    others = chooser.add_argument_group(
        "the other benches (each with its own flags: python -m benchmarks --BENCH --help)"
    ).add_mutually_exclusive_group()
    for name, (module, what) in BENCHES.items():
        others.add_argument(
            f"--{name}", dest="bench", action="store_const", const=name, help=f"{what} ({module})"
        )
    chosen, rest = chooser.parse_known_args(argv)
    if chosen.bench is not None:
        module = importlib.import_module(BENCHES[chosen.bench][0])
        return int(module.main(rest, prog=f"{PROG} --{chosen.bench}"))
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__,
        parents=[chooser],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=20_000, help="records (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=7, help="rounds, the best kept (default %(default)s)")
    parser.add_argument(
        "--corpus-events", type=int, default=5_000, help="records per producer corpus (default %(default)s)"
    )
    parser.add_argument("--write", action="store_true", help=f"write the results to {RESULTS.name}")
    args = parser.parse_args(argv)
    count = args.events
    results = run(count, args.repeats)
    by_corpus = corpus_table(run_corpora(args.corpus_events, args.repeats))
    handler_s, boto3_s = cold_imports()
    text = table(results)
    imports = (
        f"Cold import of `transform_lambda.handler` (with orjson): {handler_s * 1000:.0f} ms, "
        f"{handler_s / boto3_s:.2f}x `import boto3` ({boto3_s * 1000:.0f} ms), medians of fresh interpreters."
    )
    compiled = "built" if events.hot_first_arrival is not None else "NOT BUILT (run `pip install -e .`)"
    machine = machine_line(count, f"best CPU time of {args.repeats} rounds, compiled path {compiled}")
    corpus_note = (
        f"Per producer ({args.corpus_events:,} events each, `tests/transform_lambda/corpora.py`; "
        "the share counted once each name and partition is known, as in a warm container), "
        "in the same process:"
    )
    print(text + "\n\n" + imports + "\n\n" + corpus_note + "\n\n" + by_corpus + "\n\n" + machine)
    if args.write:
        write_section(
            TRANSFORM_SECTION,
            "Written by `make bench WRITE=1` (`python -m benchmarks --write`). Ratios compare each\n"
            "step with a baseline measured in the same run: base64-decode, `orjson.loads`, `orjson.dumps`,\n"
            "base64-encode each record, the least any Firehose transform does (target: the transform within\n"
            "2x). The transform runs its compiled path (`transform_lambda/_hotpath.c`) for every record\n"
            "it takes and Python for the rest; the Python-only row is the same handler without it. Records\n"
            "are the demo's sample events "
            f"({DEFAULT_DUPLICATE_SHARE:.0%} re-sends, {DEFAULT_MALFORMED_SHARE:.0%} malformed), in batches\n"
            "filled to the processor buffer. Times are CPU time, the best of rounds running every step in\n"
            "turn.\n\n"
            f"{text}\n\n{imports}\n\n{corpus_note}\n\n{by_corpus}\n\n{machine}\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
