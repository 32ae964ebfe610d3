"""The compactor tags only what a manifest of its own names (``lake_compactor.compaction_handler.TagScope``):
real runs on the embedded AWS pass through the scope untouched, a tag outside it is refused before S3 sees
it, and the run's log line carries the metrics the stack's alarms read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from compaction_lake import NOW, Lake, open_lake

from eventlake.simulator import local_compaction
from glue import compactor_contract, schema
from glue.errors import DIMENSION_FUNCTION, METRIC_NAMESPACE
from lake_compactor import compaction_handler as handler
from lake_compactor.compaction_handler import TagRefused, TagScope
from lake_compactor.compactor import CompactionReport, Compactor


@dataclass
class Compacted:
    lake: Lake
    compactor: Compactor
    scope: TagScope
    originals: set[str]
    late: set[str]
    runs: tuple[CompactionReport, CompactionReport]


@pytest.fixture(scope="module")
def compacted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compacted]:
    """One lake, compacted twice through the scope: first its landed hours, then late arrivals (so the first
    copies are superseded too). One embedded AWS for the module: each run is seconds of DuckDB."""
    for lake in open_lake(tmp_path_factory.mktemp("lake")):
        originals = set(lake.land_events(24, objects_per_partition=3))
        compactor, scope = scoped(lake)
        first = compactor.run(NOW)
        late = {lake.land(rows=[row], values=values) for values, row in lake.events(3)}
        second = compactor.run(NOW)
        yield Compacted(lake, compactor, scope, originals, late, (first, second))


def scoped(lake: Lake) -> tuple[Compactor, TagScope]:
    scope = TagScope(s3_client=lake.aws.s3, glue_client=lake.aws.glue)
    compactor = local_compaction.local_compactor(
        scope.glue,
        scope.s3,
        database=lake.database,
        table=lake.table,
        bucket=lake.aws.bucket,
        workdir=lake.workdir,
    )
    return compactor, scope


def test_real_runs_tag_only_what_their_manifests_name_and_nothing_is_refused(compacted: Compacted) -> None:
    c = compacted
    first, second = c.runs
    assert first.switched and second.switched and not first.failed and not second.failed
    assert not c.scope.refused
    assert c.scope.tag_count == first.tagged + second.tagged == len(c.lake.superseded())
    assert c.lake.superseded(schema.DATA_ROOT) <= c.originals | c.late
    assert not c.lake.superseded() & c.lake.current_objects()
    line = handler.run_line(second, c.scope, "eventlake-dev-compactor", 1)
    assert line[compactor_contract.METRIC_TAGS_OUTSIDE_MANIFESTS] == 0 and line["level"] == "INFO"
    assert 0 < line[compactor_contract.METRIC_PARTITION_TAGGED_PERCENT] < 100


def test_an_original_no_manifest_names_is_refused_before_s3_sees_it(compacted: Compacted) -> None:
    c = compacted
    values, row = c.lake.events(1)[0]
    late = c.lake.land(rows=[row], values=values)  # in no copy yet: its only row
    with pytest.raises(TagRefused, match="no manifest"):
        c.compactor._tag([late])
    assert late in c.scope.refused and late not in c.lake.superseded()


def test_the_copy_a_partition_reads_is_refused(compacted: Compacted) -> None:
    c = compacted
    current = sorted(c.lake.current_objects())
    with pytest.raises(TagRefused, match="the copy its partition reads"):
        c.compactor._tag(current[:1])
    assert not c.lake.superseded() & set(current)


@pytest.mark.parametrize("key", ["raw/2026/11/25/08/x.gz", "errors/processing-failed/x", "compacted/x.json"])
def test_keys_outside_the_partition_folders_are_refused(compacted: Compacted, key: str) -> None:
    with pytest.raises(TagRefused):
        compacted.scope.s3.put_object_tagging(
            Bucket=compacted.lake.aws.bucket, Key=key, Tagging={"TagSet": []}
        )


def test_the_run_line_is_embedded_metric_format_with_the_tag_metrics() -> None:
    scope = TagScope(s3_client=None, glue_client=None)
    path = "event_type=a/event_date=2026-11-25/event_hour=08/"
    scope.seen[path] = {f"{schema.DATA_ROOT}{path}{n}" for n in range(4)}
    scope.tagged[path] = {f"{schema.DATA_ROOT}{path}{n}" for n in range(3)}
    scope.refused.append(f"{schema.DATA_ROOT}{path}late")
    line = json.loads(json.dumps(handler.run_line(CompactionReport(tagged=4), scope, "fn", 17)))
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == METRIC_NAMESPACE and directive["Dimensions"] == [[DIMENSION_FUNCTION]]
    names = {m["Name"] for m in directive["Metrics"]}
    assert names == {
        compactor_contract.METRIC_TAGGED,
        compactor_contract.METRIC_TAGS_OUTSIDE_MANIFESTS,
        compactor_contract.METRIC_PARTITION_TAGGED_PERCENT,
    }
    assert line[DIMENSION_FUNCTION] == "fn" and line["_aws"]["Timestamp"] == 17
    # One refused, and one the report counts that the scope never saw.
    assert line[compactor_contract.METRIC_TAGS_OUTSIDE_MANIFESTS] == 2 and line["level"] == "ERROR"
    assert line[compactor_contract.METRIC_PARTITION_TAGGED_PERCENT] == 75.0
