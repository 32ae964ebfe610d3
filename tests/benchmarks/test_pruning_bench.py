"""A query filtered to one event type and one day opens only that type-day's objects, directly and through the
unique-events view (the measured numbers for 50 types x 7 days are in BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import pruning as bench_pruning

TYPES, DAYS = 8, 3


def test_one_type_one_day_opens_only_its_own_objects(tmp_path: Path) -> None:
    results = bench_pruning.measure(tmp_path, types=TYPES, days=DAYS)
    assert [r.name for r in results] == [
        "one type, one day (table)",
        "one type, one day (unique-events view)",
    ]
    bound = 1.1 / (TYPES * DAYS)
    for r in results:
        assert r.lake_files == TYPES * DAYS * 24
        assert r.files == 24, r  # the day's 24 hourly objects of that type, nothing else
        assert r.file_share <= bound and r.byte_share <= bound, r
        # DuckDB's own count of bytes read stays within those objects plus one footer to bind the view.
        assert r.data_bytes < 3 * r.partition_bytes, r
