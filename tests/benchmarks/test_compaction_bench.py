"""The compaction bench at a tiny size: it runs, compacts every type-day to 24 files, keeps the answer of the
one-type one-day query, and reports each setting it measured (its timing is not a test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import compaction as bench_compaction

pytestmark = pytest.mark.slow


def test_the_bench_compacts_a_tiny_lake_and_reports_every_setting(tmp_path: Path) -> None:
    text = bench_compaction.measure(tmp_path / "lake", types=2, days=1, per_type_hour=6, stack="dev", seed=3)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    # dev flushes every 60 s: each of the 6 events an hour is its own object, 144 a type-day; compacted, 24.
    assert "| 144, 144 |" in rows["Firehose objects (Parquet SNAPPY)"]
    assert "| 24, 24 |" in rows["compacted (Parquet ZSTD)"]
    files = {name: int(re.split(r"\s*\|\s*", rows[name])[2]) for name in ("Firehose objects", "compacted")}
    assert files == {"Firehose objects": 144, "compacted": 24}
    labels = [label for label in rows if "sorted by" in label]
    assert len(labels) == len(bench_compaction.CODECS) * len(bench_compaction.SORTS)
    assert len(list((tmp_path / "lake" / "compacted").rglob("*.parquet"))) == 2 * 24
