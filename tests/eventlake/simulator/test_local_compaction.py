"""The compactor's protocol on the embedded AWS, its statement run on DuckDB: the whole table is the same
before and after, partitions read fewer files, a query between write and switch sees every row once, a crash
leaves the old location and a re-run finishes, two runs at once leave every row once, and late rows for a
compacted hour become visible at the next run (the registrar never switches a compacted partition back)."""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from compaction_lake import NOW, START, Lake, open_lake

from glue import schema
from lake_compactor import compaction_plan as plan

pytestmark = pytest.mark.slow


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    yield from open_lake(tmp_path)


def files_read(lake: Lake) -> int:
    """Objects the catalog's partitions read (directly under each location, as Athena lists them)."""
    total = 0
    for location in lake.locations().values():
        _, prefix = plan.key_of(location)
        total += sum(1 for k in lake.keys(prefix) if "/" not in k[len(prefix) :])
    return total


def test_compaction_keeps_the_whole_table_and_reads_one_file_per_partition(lake: Lake) -> None:
    lake.land_events(400, objects_per_partition=5)
    before = lake.table_rows()
    files_before = files_read(lake)
    partitions = len(lake.locations())

    report = lake.compactor().run(NOW)

    assert len(report.switched) == partitions and not report.failed
    assert lake.table_rows() == before  # every column of every row, partition keys included
    assert files_read(lake) == partitions < files_before
    assert all(plan.run_of_location(loc) for loc in lake.locations().values())
    # The originals are still there (expired later by lifecycle, never deleted by the compactor).
    assert len(lake.keys(schema.DATA_ROOT)) == files_before
    # A second run finds nothing new and changes nothing.
    locations = lake.locations()
    again = lake.compactor().run(NOW)
    assert again.switched == [] and again.unchanged == partitions
    assert lake.locations() == locations


def test_open_partitions_wait_for_the_late_window(lake: Lake) -> None:
    lake.land_events(60, hours=1)  # event hour 08:00-08:59
    just_closed = NOW.replace(hour=9, minute=59)  # the hour ended 59 minutes ago
    assert lake.compactor(late_window_hours=1).run(just_closed).switched == []
    assert lake.compactor(late_window_hours=1).run(NOW).switched != []


def test_a_query_between_write_and_switch_sees_every_row_once(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    before = lake.table_rows()
    compactor = lake.compactor()
    jobs = [compactor.plan(p, NOW) for p in compactor.candidates(NOW)]
    for job in jobs:
        assert job is not None
        compactor.write(job)  # the copies and manifests exist; no partition points at them yet
    assert lake.keys(schema.COMPACTED_ROOT)
    assert lake.table_rows() == before
    for job in jobs[: len(jobs) // 2]:
        assert compactor.switch(job)
    assert lake.table_rows() == before  # half switched, half not: still each row once
    for job in jobs[len(jobs) // 2 :]:
        assert compactor.switch(job)
    assert lake.table_rows() == before


def test_a_crash_before_the_switch_leaves_the_old_location_and_a_rerun_finishes(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    before = lake.table_rows()
    locations = lake.locations()
    compactor = lake.compactor()
    for partition in compactor.candidates(NOW):
        job = compactor.plan(partition, NOW)
        assert job is not None
        compactor.engine.wait(compactor.start(job))  # the statement wrote its copy, then the run died
    assert lake.locations() == locations and lake.table_rows() == before

    report = lake.compactor().run(NOW)
    assert len(report.switched) == len(locations) and not report.failed
    assert lake.table_rows() == before
    # The crashed run's copies are never read: every location is a new run's folder.
    copies = {k.rsplit("/", 1)[0] + "/" for k in lake.keys(schema.COMPACTED_ROOT) if k.endswith(".parquet")}
    assert len(copies) == 2 * len(locations)
    assert files_read(lake) == len(locations)


def test_two_runs_at_once_leave_every_row_once(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    before = lake.table_rows()
    first, second = lake.compactor(), lake.compactor()
    partitions = first.candidates(NOW)
    a_jobs = [first.plan(p, NOW) for p in partitions]
    b_jobs = [second.plan(p, NOW) for p in partitions]
    for job in a_jobs:
        first.write(job)
    # A late object lands while both runs are under way: only a run that lists it later would include it.
    late_rows = [row for _, row in lake.events(3)]
    lake.land(late_rows, a_jobs[0].values)
    for job in b_jobs:
        second.write(job)
    switched_a = [first.switch(job) for job in a_jobs]
    switched_b = [second.switch(job) for job in b_jobs]
    assert all(switched_a) and not any(switched_b)  # b planned from a location a had already moved
    # The late object is not in a's copies yet; the next run adds it, exactly once.
    lake.compactor().run(NOW)
    after = lake.table_rows()
    assert len(after) == len(before) + len(late_rows) == len(set(after))  # each event's row once
    assert not Counter(before) - Counter(after)


def test_late_rows_for_a_compacted_hour_appear_at_the_next_run(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    lake.compactor().run(NOW)
    compacted = lake.locations()
    before = lake.table_rows()

    values = dict(zip(schema.PARTITION_KEY_NAMES, sorted(compacted)[0], strict=True))
    rows = [row for _, row in lake.events(5)]
    lake.land(rows, values)  # Firehose writes to the original folder; the registrar sees the object
    assert lake.locations() == compacted  # BatchCreatePartition of an existing partition changes nothing
    assert lake.table_rows() == before  # not visible until the next run

    report = lake.compactor().run(NOW)
    assert report.switched == [plan.partition_path(values)]
    after = lake.table_rows()
    assert len(after) == len(before) + len(rows)
    assert not Counter(before) - Counter(after)
    manifest_keys = [
        k for k in lake.keys(schema.COMPACTED_ROOT + plan.partition_path(values)) if k.endswith(".json")
    ]
    assert len(manifest_keys) == 2  # the first copy's and the re-compaction's
    # Re-running again: nothing new.
    assert lake.compactor().run(NOW).switched == []


def _s3_calls(lake: Lake) -> Counter[str]:
    """Counts of the S3 operations the embedded client makes from here on."""
    calls: Counter[str] = Counter()
    lake.aws.s3.meta.events.register("before-call.s3.*", lambda model, **_: calls.update([model.name]))
    return calls


def test_a_run_lists_each_type_once_and_reads_no_manifest_of_an_unchanged_copy(lake: Lake) -> None:
    """Each run looks at every closed hour of its lookback: one LIST per type and root serves all its days
    and hours, and a copy whose objects all predate its run is known complete without GETting its manifest."""
    lake.land_events(200, objects_per_partition=3)
    lake.land_events(100, objects_per_partition=2, start=START - 12 * 3600)  # the evening before
    partitions = len(lake.locations())
    days = {(values[0], values[1]) for values in lake.locations()}
    types = {values[0] for values in lake.locations()}
    assert len(days) > len(types)  # the events span days: a LIST per type-day would be more
    # Runs on S3's clock (the embedded S3 stamps LastModified with the wall clock), with no margin for skew.
    exact = {"listed_by_then": timedelta(0)}
    time.sleep(1.1)  # run ids count whole seconds: the first run starts a second after the objects
    first, last = NOW - timedelta(days=1), NOW
    assert len(lake.compactor(**exact).run(datetime.now(UTC), first=first, last=last).switched) == partitions

    calls = _s3_calls(lake)
    again = lake.compactor(**exact).run(datetime.now(UTC), first=first, last=last)
    assert again.unchanged == partitions and not again.switched
    assert calls["ListObjectsV2"] == 2 * len(types)  # was two per type-day, before that per partition
    assert calls["GetObject"] == 0  # no manifest read: nothing new anywhere

    # A late object: its partition's manifest is read, and the late rows join at the next run.
    (values, row), *_ = lake.events(1)
    lake.land([row], values)
    calls.clear()
    late = lake.compactor(**exact).run(datetime.now(UTC), first=first, last=last)
    assert len(late.switched) == 1 and late.unchanged == partitions - 1
    assert calls["GetObject"] >= 1


def test_small_partitions_share_one_unload_and_read_as_if_each_had_its_own(tmp_path: Path) -> None:
    """The same lake compacted by one run (its small partitions in one batch, copied out of the staging
    folder) and partition by partition (an UNLOAD each): the same table, every column and mark; each
    partition's copy in its own folder, with its manifest, as a one-partition run leaves it."""
    results = []
    for batched in (True, False):
        (tmp_path / str(batched)).mkdir()
        lakes = open_lake(tmp_path / str(batched))
        lake = next(lakes)
        lake.land_events(300, objects_per_partition=3)
        before = lake.table_rows()
        compactor = lake.compactor()
        starts: list[Any] = []
        compactor.engine.start = _recording(compactor.engine.start, starts)
        if batched:
            report = compactor.run(NOW)
            assert len(report.switched) == len(lake.locations()) and not report.failed
            assert [type(s).__name__ for s in starts] == ["BatchStatement"]
            assert len(starts[0].members) == len(lake.locations()) > 1
        else:
            for partition in compactor.candidates(NOW):
                job = compactor.plan(partition, NOW)
                assert job is not None
                compactor.write(job)
                assert compactor.switch(job)
            assert {type(s).__name__ for s in starts} == {"CompactionStatement"}
        for values, location in lake.locations().items():
            run = plan.run_of_location(location)
            assert run is not None and location.endswith(f"/{run}/")
            named = dict(zip(schema.PARTITION_KEY_NAMES, values, strict=True))
            assert plan.manifest_key(named, run) in lake.keys(schema.COMPACTED_ROOT)
        assert lake.table_rows() == before
        results.append(lake.table_rows())
        lakes.close()
    assert results[0] == results[1]


def _recording(start: Any, into: list[Any]) -> Any:
    """``start`` that first records the statement it is given."""

    def recorded(statement: Any, token: str) -> str:
        into.append(statement)
        return start(statement, token)

    return recorded


def test_each_file_a_batch_writes_is_sorted_as_its_partitions_statement_says(lake: Lake) -> None:
    """Athena's UNLOAD keeps the SELECT's order within each file it writes; the local engine writes a batch's
    partitions in parallel (DuckDB reorders a partitioned COPY past ~120,000 rows, or under load at any
    size), so it must keep it too: every copy sorted by the compaction order, which row-group pruning on
    ``event_name`` relies on. Each small partition gets one more object of 400 copies of its rows under new
    ids (160,000 rows in the batch, still far below Athena's 10 MB minimum per partition)."""
    for key in lake.land_events(400, objects_per_partition=1):
        source = lake.workdir / "landed.parquet"
        source.write_bytes(lake.aws.s3.get_object(Bucket=lake.aws.bucket, Key=key)["Body"].read())
        copies = lake.workdir / "copies.parquet"
        duckdb.sql(
            "COPY (SELECT * REPLACE (uuid()::VARCHAR AS event_uuid) "
            f"FROM read_parquet('{source}'), range(400)) TO '{copies}' (FORMAT parquet)"
        )
        more = key.replace(".parquet", "-copies.parquet")
        lake.aws.s3.put_object(Bucket=lake.aws.bucket, Key=more, Body=copies.read_bytes())
    starts: list[Any] = []
    compactor = lake.compactor()
    compactor.engine.start = _recording(compactor.engine.start, starts)
    report = compactor.run(NOW)
    assert not report.failed and [type(s).__name__ for s in starts] == ["BatchStatement"]
    order = list(starts[0].members[0].order_columns())
    files = [k for k in lake.keys(schema.COMPACTED_ROOT) if k.endswith(".parquet")]
    assert len(files) == len(lake.locations()) > 1
    rows_written = 0
    for key in files:
        body = lake.aws.s3.get_object(Bucket=lake.aws.bucket, Key=key)["Body"].read()
        table = pq.read_table(io.BytesIO(body), columns=order)
        rows = list(zip(*(table.column(c).to_pylist() for c in order), strict=True))
        keyed = [tuple((v is None, v) for v in row) for row in rows]  # NULLS LAST, as the statement sorts
        assert keyed == sorted(keyed), key
        rows_written += len(rows)
    assert rows_written == 400 * 401
