"""Expiry of what compaction superseded, on the embedded AWS (versioned, with the lake's lifecycle rules,
which ``eventlake.simulator.local_lifecycle`` applies as S3 would): after compaction and expiry the whole
table is unchanged and only the compacted copies are left; nothing expires before its days; a late object is
never tagged before a copy holds it; a crash between switch and tagging (or half-way through it) leaves the
current copy's predecessors untagged and the next run tags them; a second compaction tags the first copy,
never the current one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from compaction_lake import NOW, Lake, open_lake

from glue import schema
from infra.compaction_spec import STAGING_EXPIRY_DAYS
from infra.settings import Settings
from lake_compactor import compaction_plan as plan

pytestmark = pytest.mark.slow

EXPIRY_DAYS = Settings.from_stack_file("dev").compaction_expiry_days
# The noncurrent version is kept the stack's noncurrentVersionDays (tests/compaction_lake.py, as deployed).
NONCURRENT_DAYS = Settings.from_stack_file("dev").noncurrent_version_days
# Past the midnight S3 rounds the expiry to, then the noncurrent version's days and their midnight.
AFTER_EXPIRY = EXPIRY_DAYS + 1 + NONCURRENT_DAYS + 1


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    yield from open_lake(tmp_path)


def partition_values(lake: Lake, index: int = 0) -> dict[str, str]:
    return dict(zip(schema.PARTITION_KEY_NAMES, sorted(lake.locations())[index], strict=True))


def test_after_compaction_and_expiry_the_table_is_whole_and_only_the_copies_remain(lake: Lake) -> None:
    originals = set(lake.land_events(400, objects_per_partition=5))
    before = lake.table_rows()

    report = lake.compactor().run(NOW)
    partitions = len(lake.locations())
    assert len(report.switched) == len(report.retired) == partitions and not report.failed
    assert report.tagged == len(originals)
    assert lake.superseded(schema.DATA_ROOT) == originals
    assert lake.superseded(schema.COMPACTED_ROOT) == set()  # a first copy supersedes no copy
    # The small partitions were written by batches, whose staging files (copied into each partition's copy
    # folder) expire a day later with their versions: nothing reads them.
    staged = set(lake.keys(schema.COMPACTION_STAGING_ROOT))
    assert len(staged) == partitions
    # Due at the midnight after a day, then its version the midnight after a day more (local_lifecycle).
    assert set(lake.expire(2 * STAGING_EXPIRY_DAYS + 2).expired) == staged
    assert lake.stored_bytes(schema.COMPACTION_STAGING_ROOT) == 0
    stored = lake.stored_bytes()

    # Not before the rule's days: S3 counts them from each object's creation (today).
    assert lake.expire(EXPIRY_DAYS - 1).expired == []
    assert lake.stored_bytes() == stored

    # Expired, the originals stay as noncurrent versions for noncurrentVersionDays, as every object's: a tag
    # never shortens how long a version is kept (issue 31: it was a day, a quiet week to empty the lake).
    data_bytes = lake.stored_bytes(schema.DATA_ROOT)
    first = lake.expire(EXPIRY_DAYS + 1 + NONCURRENT_DAYS // 2)
    assert set(first.expired) == originals
    assert lake.keys(schema.DATA_ROOT) == [] and lake.stored_bytes(schema.DATA_ROOT) == data_bytes

    outcome = lake.expire(AFTER_EXPIRY)
    assert outcome.expired == []
    assert lake.table_rows() == before  # every column of every row, each once
    assert lake.keys(schema.DATA_ROOT) == []
    # Versioned: the expired originals' bytes go with their noncurrent versions, those days later.
    assert lake.stored_bytes(schema.DATA_ROOT) == 0
    removed = first.removed_bytes + outcome.removed_bytes
    assert lake.stored_bytes() == lake.stored_bytes(schema.COMPACTED_ROOT) == stored - removed
    # Left: the copies, their manifests and retired markers, nothing else.
    markers = {k for k in lake.keys(schema.COMPACTED_ROOT) if k.endswith(plan.RETIRED_SUFFIX)}
    assert set(lake.keys("")) == lake.current_objects() | markers and len(markers) == partitions
    # A later run finds nothing to do and nothing to tag.
    again = lake.compactor().run(NOW)
    assert again.switched == [] and again.retired == [] and again.unchanged == partitions


def test_a_late_object_is_never_expired_before_a_copy_holds_it(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    lake.compactor().run(NOW)
    before = lake.table_rows()
    values = partition_values(lake)
    late_rows = [row for _, row in lake.events(4)]
    late = lake.land(late_rows, values)  # after the manifest was written: no manifest names it

    lake.expire(AFTER_EXPIRY)
    assert late in lake.keys(schema.DATA_ROOT) and late not in lake.superseded()
    assert lake.table_rows() == before  # not visible yet, as before expiry existed

    report = lake.compactor().run(NOW)
    assert report.switched == [plan.partition_path(values)]
    assert late in lake.superseded()  # the new copy holds its rows now
    lake.expire(2 * AFTER_EXPIRY)
    after = lake.table_rows()
    assert len(after) == len(before) + len(late_rows) == len(set(after))
    assert not Counter(before) - Counter(after)


class TaggingDiesAfter:
    """The compactor's S3 client, dying on the n-th PutObjectTagging (a crash half-way through tagging)."""

    def __init__(self, s3: Any, calls: int) -> None:
        self._s3, self._left = s3, calls

    def put_object_tagging(self, **kwargs: Any) -> Any:
        if self._left == 0:
            raise RuntimeError("the Lambda died")
        self._left -= 1
        return self._s3.put_object_tagging(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def test_a_crash_after_the_switch_leaves_nothing_tagged_and_the_next_run_tags_it(lake: Lake) -> None:
    originals = set(lake.land_events(120, hours=1))
    first = partition_values(lake)  # the first partition a run takes: two more objects, so tagging can die
    originals |= {lake.land([row for _, row in lake.events(1)], first) for _ in range(2)}
    before = lake.table_rows()
    compactor = lake.compactor()
    for partition in compactor.candidates(NOW):
        job = compactor.plan(partition, NOW)
        assert job is not None
        compactor.write(job)
        assert compactor.switch(job)  # ...and the run dies before retiring anything
    assert lake.superseded() == set()
    assert lake.expire(AFTER_EXPIRY).expired == []
    assert lake.table_rows() == before

    # The next run dies half-way through tagging: some originals tagged, no retired marker.
    dying = lake.compactor()
    dying.s3 = TaggingDiesAfter(dying.s3, calls=2)
    report = dying.run(NOW)
    assert report.switched == [] and report.failed and len(lake.superseded()) == 2
    assert not [k for k in lake.keys(schema.COMPACTED_ROOT) if k.endswith(plan.RETIRED_SUFFIX)]

    report = lake.compactor().run(NOW)
    assert report.switched == [] and not report.failed
    assert len(report.retired) == len(lake.locations())
    assert lake.superseded() == originals
    lake.expire(AFTER_EXPIRY)
    assert lake.table_rows() == before and lake.keys(schema.DATA_ROOT) == []


def test_a_second_compaction_tags_the_first_copy_and_never_the_current_one(lake: Lake) -> None:
    lake.land_events(120, hours=1)
    lake.compactor().run(NOW)
    before = lake.table_rows()
    values = partition_values(lake)
    first_run = plan.run_of_location(lake.locations()[tuple(values[k] for k in schema.PARTITION_KEY_NAMES)])
    assert first_run is not None
    first_copy = set(lake.keys(plan.run_objects_prefix(values, first_run)))
    others = set(lake.keys(schema.COMPACTED_ROOT)) - first_copy
    late_rows = [row for _, row in lake.events(3)]
    lake.land(late_rows, values)

    report = lake.compactor().run(NOW)
    assert report.switched == [plan.partition_path(values)] and len(report.retired) == 1
    # The first copy's files, manifest and retired marker: all tagged; the current copy and the other
    # partitions' copies: none.
    assert lake.superseded(schema.COMPACTED_ROOT) == first_copy
    assert len(first_copy) >= 3 and not (lake.current_objects() | others) & lake.superseded()

    lake.expire(AFTER_EXPIRY)
    assert not set(lake.keys(schema.COMPACTED_ROOT)) & first_copy
    after = lake.table_rows()
    assert len(after) == len(before) + len(late_rows) == len(set(after))
    assert not Counter(before) - Counter(after)


def test_one_run_retires_a_chain_of_copies_no_run_retired(lake: Lake) -> None:
    lake.land_events(60, hours=1)
    values = partition_values(lake)
    compactor = lake.compactor()
    runs = []
    for _ in range(3):  # three copies of one hour, each switched in by a run that died before retiring
        (partition,) = [p for p in compactor.candidates(NOW) if p["Values"] == list(values.values())]
        job = compactor.plan(partition, NOW)
        assert job is not None
        compactor.write(job)
        assert compactor.switch(job)
        runs.append(job.run_id)
        lake.land([row for _, row in lake.events(2)], values)  # late rows for the next copy
    before = lake.table_rows()
    assert lake.superseded() == set()

    report = lake.compactor().run(NOW)
    assert runs[-1] in report.retired  # retired before the run compacts the last late object
    behind = {k for run in runs[:-1] for k in lake.keys(plan.run_objects_prefix(values, run))}
    assert behind <= lake.superseded(schema.COMPACTED_ROOT)
    lake.expire(AFTER_EXPIRY)
    after = lake.table_rows()
    assert len(after) == len(before) + 2 == len(set(after))  # the last late object, now in a copy too
    assert not Counter(before) - Counter(after)
    assert not set(lake.keys(schema.COMPACTED_ROOT)) & behind
