"""Copies no location ever reads are tagged for expiry too (the embedded AWS with the lake's lifecycle rules):
a run that loses the switch tags its own copy at once; a run that died before switching is left alone while
younger than the grace and swept by a later run after it; the current copy and a copy in flight are never
tagged; a second sweep tags nothing; a chain whose superseded, never-retired link was swept still retires
right. After expiry the whole table is the same, and only the current copies (and their markers) remain."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from compaction_lake import NOW, Lake, open_lake
from hypothesis import given
from hypothesis import strategies as st

from glue import schema
from glue.compactor_contract import SWEEP_GRACE
from infra.settings import Settings
from lake_compactor import compaction_plan as plan
from lake_compactor.compaction_plan import CompactionStatement
from lake_compactor.compactor import Compactor, PartitionJob, StatementEngine

pytestmark = pytest.mark.slow

EXPIRY_DAYS = Settings.from_stack_file("dev").compaction_expiry_days
# The noncurrent version is kept the stack's noncurrentVersionDays (tests/compaction_lake.py, as deployed).
NONCURRENT_DAYS = Settings.from_stack_file("dev").noncurrent_version_days
# Past the midnight S3 rounds the expiry to, then the noncurrent version's days and their midnight.
AFTER_EXPIRY = EXPIRY_DAYS + 1 + NONCURRENT_DAYS + 1
VALUES = {"event_type": "payment", "event_date": "2026-11-25", "event_hour": "07"}


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    yield from open_lake(tmp_path)


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def markers(lake: Lake, suffix: str) -> set[str]:
    return {k for k in lake.keys(schema.COMPACTED_ROOT) if k.endswith(suffix)}


def run_keys(lake: Lake, values: dict[str, str], run_id: str) -> set[str]:
    return set(lake.keys(plan.run_objects_prefix(values, run_id)))


def the_partition(compactor: Compactor, values: dict[str, str], now: datetime) -> dict[str, Any]:
    (partition,) = [p for p in compactor.candidates(now) if p["Values"] == list(values.values())]
    return partition


def write_without_switch(compactor: Compactor, partition: dict[str, Any], now: datetime) -> PartitionJob:
    """A run that wrote its copy and manifest, then stopped (or has not switched yet)."""
    job = compactor.plan(partition, now)
    assert job is not None
    compactor.write(job)
    return job


def assert_same_rows_and_more(before: list[tuple[Any, ...]], after: list[tuple[Any, ...]], more: int) -> None:
    assert len(after) == len(before) + more == len(set(after))  # each event's row once
    assert not Counter(before) - Counter(after)


@dataclass
class S3Calls:
    """The S3 operations the embedded client makes while counting, with their own parameters (botocore's
    before-parameter-build event)."""

    lake: Lake
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __enter__(self) -> S3Calls:
        self.lake.aws.s3.meta.events.register("before-parameter-build.s3", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        self.lake.aws.s3.meta.events.unregister("before-parameter-build.s3", self._seen)

    def _seen(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, params))

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)


@dataclass
class Meanwhile:
    """A statement engine that lets ``meanwhile`` happen while its first statement runs (another run that
    plans, writes and switches the same partitions first)."""

    engine: StatementEngine
    meanwhile: Callable[[], object] | None

    def start(self, statement: CompactionStatement, token: str) -> str:
        return self.engine.start(statement, token)

    def wait(self, handle: str) -> None:
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        self.engine.wait(handle)


def test_a_run_that_loses_the_switch_tags_its_own_copy_and_it_expires(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    before = lake.table_rows()
    partitions = len(lake.locations())
    winner_reports = []
    loser = lake.compactor()
    loser.engine = Meanwhile(loser.engine, lambda: winner_reports.append(lake.compactor().run(NOW)))

    report = loser.run(NOW)

    (winner,) = winner_reports
    assert len(winner.switched) == partitions and winner.swept == []  # the loser's copies were in flight
    assert report.switched == [] and len(report.abandoned) == partitions and not report.failed
    kept = lake.current_objects() | markers(lake, plan.RETIRED_SUFFIX)
    lost = set(lake.keys(schema.COMPACTED_ROOT)) - kept  # the loser's copies, manifests and markers
    abandoned = markers(lake, plan.ABANDONED_SUFFIX)
    assert len(abandoned) == partitions and abandoned <= lost
    assert {k for k in lost if k.endswith(".json")} and {k for k in lost if k.endswith(".parquet")}
    assert lake.superseded(schema.COMPACTED_ROOT) == lost  # all of it, and not one current object
    assert report.tagged == len(lost)
    assert lake.table_rows() == before

    lake.expire(AFTER_EXPIRY)
    assert set(lake.keys(schema.COMPACTED_ROOT)) == kept
    assert lake.table_rows() == before


def test_a_crashed_runs_copy_waits_out_the_grace_then_is_swept_and_expires(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    before = lake.table_rows()
    partitions = len(lake.locations())
    crashed = lake.compactor()
    crashed_jobs = [write_without_switch(crashed, p, NOW) for p in crashed.candidates(NOW)]
    crashed_keys = {k for job in crashed_jobs for k in run_keys(lake, job.values, job.run_id)}
    assert crashed_keys

    # Within the grace a later run compacts the hours itself and leaves the crashed copies alone.
    report = lake.compactor().run(later(1))
    assert len(report.switched) == partitions and report.swept == [] and not report.failed
    assert lake.superseded(schema.COMPACTED_ROOT) == set()
    assert lake.compactor().run(later(SWEEP_GRACE.total_seconds() / 3600)).swept == []

    # A run in flight: it planned half an hour ago (a late object), wrote its copy, and has not switched.
    first = crashed_jobs[0].values
    late_rows = [row for _, row in lake.events(3)]
    lake.land(late_rows, first)
    in_flight = lake.compactor()
    flying = write_without_switch(in_flight, the_partition(in_flight, first, later(6.5)), later(6.5))
    flying_keys = run_keys(lake, flying.values, flying.run_id)

    sweeper = lake.compactor()
    swept = sweeper.sweep(the_partition(sweeper, first, later(7)), later(7))
    assert [run for run, _ in swept] == [crashed_jobs[0].run_id]
    assert not (flying_keys | lake.current_objects()) & lake.superseded()
    assert in_flight.switch(flying) and in_flight.retire(list(first.values())) is not None
    assert_same_rows_and_more(before, lake.table_rows(), len(late_rows))

    report = lake.compactor().run(later(7))
    assert sorted(report.swept) == sorted(job.run_id for job in crashed_jobs[1:])  # the first one: swept
    assert report.switched == [] and not report.failed
    assert crashed_keys <= lake.superseded(schema.COMPACTED_ROOT)
    assert not lake.current_objects() & lake.superseded()
    assert len(markers(lake, plan.ABANDONED_SUFFIX)) == partitions

    lake.expire(AFTER_EXPIRY)
    assert not set(lake.keys(schema.COMPACTED_ROOT)) & crashed_keys
    retired = markers(lake, plan.RETIRED_SUFFIX)
    assert set(lake.keys(schema.COMPACTED_ROOT)) == lake.current_objects() | retired
    assert_same_rows_and_more(before, lake.table_rows(), len(late_rows))


def test_a_second_sweep_tags_nothing_and_a_run_lists_each_compacted_folder_once(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    before = lake.table_rows()
    crashed = lake.compactor()
    for partition in crashed.candidates(NOW):
        write_without_switch(crashed, partition, NOW)
    report = lake.compactor().run(later(7))  # sweeps the crashed copies and compacts the hours
    partitions = len(lake.locations())
    assert len(report.swept) == len(report.switched) == partitions and not report.failed
    assert report.tagged > partitions  # the originals, the crashed copies and their markers
    tagged = lake.superseded()
    abandoned = markers(lake, plan.ABANDONED_SUFFIX)

    with S3Calls(lake) as calls:
        again = lake.compactor().run(later(8))
    assert again.swept == again.switched == again.retired == [] and again.tagged == 0
    assert calls.count("PutObjectTagging") == calls.count("PutObject") == calls.count("HeadObject") == 0
    folders = Counter(
        params["Prefix"]
        for name, params in calls.calls
        if name == "ListObjectsV2" and params["Prefix"].startswith(schema.COMPACTED_ROOT)
    )
    assert len(folders) == partitions and set(folders.values()) == {1}  # one LIST per compacted folder
    assert lake.superseded() == tagged and markers(lake, plan.ABANDONED_SUFFIX) == abandoned
    assert lake.table_rows() == before


class ManifestUnreadable:
    """The compactor's S3 client, failing to read one manifest (so retiring that copy fails)."""

    def __init__(self, s3: Any, key: str) -> None:
        self._s3, self._key = s3, key

    def get_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"] == self._key:
            raise RuntimeError("S3 is unavailable")
        return self._s3.get_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def test_a_swept_link_of_a_chain_leaves_its_retirement_right(lake: Lake) -> None:
    lake.land_events(60, hours=1)
    values = dict(zip(schema.PARTITION_KEY_NAMES, sorted(lake.locations())[0], strict=True))
    compactor = lake.compactor()
    compactor.run(NOW)  # copy a: switched in and retired
    runs = [plan.run_of_location(lake.locations()[tuple(values.values())])]
    for hour in (1, 2):  # copies b and c: each switched in by a run that died before retiring
        lake.land([row for _, row in lake.events(2)], values)
        job = write_without_switch(compactor, the_partition(compactor, values, later(hour)), later(hour))
        assert compactor.switch(job)
        runs.append(job.run_id)
    a, b, c = runs
    assert a is not None
    before = lake.table_rows()
    a_keys, b_keys = run_keys(lake, values, a), run_keys(lake, values, b)

    # No sweep behind a current copy that is not retired: its retirement must walk the chain first. Were b
    # swept now and its manifest expired, c's walk would stop at b and a would never be tagged.
    assert compactor.sweep(the_partition(compactor, values, later(9)), later(9)) == []
    failing = lake.compactor()
    failing.s3 = ManifestUnreadable(failing.s3, plan.manifest_key(values, c))
    report = failing.run(later(9))
    assert report.failed and report.retired == report.swept == []
    lake.expire(AFTER_EXPIRY)  # the originals a's retirement tagged go; nothing of a, b or c is tagged
    assert lake.superseded(schema.COMPACTED_ROOT) == set() and a_keys | b_keys <= set(lake.keys(""))

    report = lake.compactor().run(later(9))
    assert report.retired == [c] and report.swept == [b] and not report.failed
    assert a_keys | b_keys <= lake.superseded(schema.COMPACTED_ROOT)  # a by c's walk; b by it and the sweep
    assert not run_keys(lake, values, c) & lake.superseded()
    lake.expire(AFTER_EXPIRY)  # b's manifest (a link of the chain) and a are gone
    assert not set(lake.keys(schema.COMPACTED_ROOT)) & (a_keys | b_keys)
    assert lake.table_rows() == before

    late_rows = [row for _, row in lake.events(2)]
    lake.land(late_rows, values)
    report = lake.compactor().run(later(10))
    assert report.switched == [plan.partition_path(values)] and not report.failed
    d = plan.run_of_location(lake.locations()[tuple(values.values())])
    assert d is not None and report.retired == [d]
    assert run_keys(lake, values, c) <= lake.superseded(schema.COMPACTED_ROOT)
    lake.expire(2 * AFTER_EXPIRY)
    left = set(lake.keys(plan.compacted_partition_folder(values)))
    assert left == run_keys(lake, values, d) and plan.retired_marker_key(values, d) in left
    assert_same_rows_and_more(before, lake.table_rows(), len(late_rows))


# --- the sweep's choice, as plain data --------------------------------------------------------------------


@given(st.datetimes(timezones=st.just(UTC)), st.text("0123456789abcdef", min_size=8, max_size=8))
def test_a_runs_start_reads_back_from_its_id(when: datetime, token: str) -> None:
    assert plan.run_started(plan.new_run_id(when, token)) == when.replace(microsecond=0)


def test_the_sweep_takes_old_runs_no_location_reads_and_nobody_else_tags() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    old, young = now - SWEEP_GRACE - timedelta(seconds=1), now - SWEEP_GRACE
    names = {
        "crashed": plan.new_run_id(old, "0000000a"),
        "manifestless": plan.new_run_id(old, "0000000b"),
        "current": plan.new_run_id(old, "0000000c"),
        "retired": plan.new_run_id(old, "0000000d"),
        "abandoned": plan.new_run_id(old, "0000000e"),
        "in_flight": plan.new_run_id(young, "0000000f"),
    }
    folder = plan.compacted_partition_folder(VALUES)
    keys = [f"{folder}README", f"{folder}other/x.parquet", "compacted/elsewhere/x.json"]
    for name, run in names.items():
        keys += [f"{plan.compacted_folder(VALUES, run)}part-0.parquet"]
        if name != "manifestless":
            keys.append(plan.manifest_key(VALUES, run))
    keys += [plan.retired_marker_key(VALUES, names["retired"])]
    keys += [plan.abandoned_marker_key(VALUES, names["abandoned"])]

    runs = plan.runs_in_folder(VALUES, keys)
    assert set(runs) == set(names.values())  # keys of no run are not the compactor's: left alone
    assert sum(len(v) for v in runs.values()) == len(keys) - 3
    assert plan.runs_to_sweep(VALUES, runs, names["current"], now) == sorted(
        [names["crashed"], names["manifestless"]]
    )
    # A partition that reads its originals: every old run there was never switched in.
    assert names["current"] in plan.runs_to_sweep(VALUES, runs, None, now)
