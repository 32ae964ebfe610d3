"""A production hour's code path at a small size: 100 event types, arrivals paced over an hour of the embedded
Kinesis's clock, the invariant, and the delivery observations the demo prints (beside the sizing model)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.cli.main import main
from eventlake.simulator.demo import DemoOptions, run_demo
from eventlake.simulator.firehose import observed
from eventlake.simulator.firehose.s3_destination import DATA, WrittenObject
from eventlake.traffic import sample_events

pytestmark = pytest.mark.e2e

EVENTS = 5_000
TYPES = 100


@pytest.fixture(scope="module")
def hour(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("hour") / "lake"
    return run_demo(DemoOptions(events=EVENTS, types=TYPES, hours=1, arrival_seconds=3600, out=out))


@pytest.mark.slow
def test_a_paced_hour_of_100_types_holds_the_invariant(hour) -> None:  # type: ignore[no-untyped-def]
    assert hour.ok, hour.invariant.violations
    partitions = {o.partition for o in hour.objects_of(DATA)}
    assert len({p.split("/")[1] for p in partitions}) == TYPES  # event_type=... of every type, one event hour


@pytest.mark.slow
def test_arrivals_span_the_hour_and_the_observations_count_what_was_written(hour) -> None:  # type: ignore[no-untyped-def]
    data = hour.objects_of(DATA)
    seen = hour.observations
    assert seen is not None
    arrivals = [o.oldest_arrival_ms for o in data]
    assert 0.9 * 3_600_000 <= max(arrivals) - min(arrivals) <= 3_600_000
    per_partition = Counter(o.partition for o in data)
    assert seen.data_objects == len(data) == sum(per_partition.values())
    assert seen.partitions == len(per_partition)
    assert seen.objects_per_partition_max == max(per_partition.values())
    assert seen.objects_per_hour == pytest.approx(len(data))  # one hour of arrivals
    assert seen.mean_object_bytes == pytest.approx(sum(o.size for o in data) / len(data))
    assert seen.peak_active_partitions == hour.max_active_partitions <= TYPES
    # Paced, a partition's 60 s buffer closes many times an hour: far more than one object per partition.
    assert seen.objects_per_partition_mean > 10


@pytest.mark.slow
def test_the_observations_sit_beside_the_sizing_model(hour) -> None:  # type: ignore[no-untyped-def]
    if isinstance(hour.sizing, str):
        assert "infra/capacity/" in hour.sizing or "sizing model" in hour.sizing
        return
    by_name = {c.name: c for c in hour.sizing}
    assert set(by_name) == set(observed.COMPARED)
    # At this rate (0.014 events/s per partition) each object is a buffer interval's few events: the model's
    # objects per hour must match closely.
    assert abs(by_name["objects_per_hour"].relative_difference) < 0.10


@pytest.mark.slow
def test_the_cli_prints_the_observations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            *("demo", "--events", "600", "--types", "30", "--hours", "1", "--arrive-over", "3600"),
            *("--out", str(tmp_path / "lake")),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "Delivery observed over 1.00 h of arrivals" in printed
    assert "peak active partitions" in printed


@given(types=st.integers(1, 300))
def test_the_catalogue_has_exactly_the_types_asked_for(types: int) -> None:
    names = sample_events.catalogue(types)
    assert len({n.split(":")[0] for n in names}) == types
    assert all(names[n] is not None for n in names)


def test_observing_nothing_written_is_zeros_not_an_error() -> None:
    seen = observed.observe([], peak_active_partitions=0, hours=1.0)
    assert (seen.data_objects, seen.partitions, seen.mean_object_bytes) == (0, 0, 0.0)


def test_observations_read_sizes_and_partitions() -> None:
    base = WrittenObject("k", DATA, 100, 3, 300, "p1", 60_000, 0)
    written = [
        base,
        dataclasses.replace(base, size=300, partition="p2"),
        dataclasses.replace(base, size=200, partition="p1"),
        dataclasses.replace(base, kind="backup", size=10_000),
    ]
    seen = observed.observe(written, peak_active_partitions=2, hours=0.5)
    assert seen.data_objects == 3 and seen.partitions == 2 and seen.objects_per_partition_max == 2
    assert seen.objects_per_hour == 6.0
    assert (
        seen.mean_object_bytes == 200.0 and seen.median_object_bytes == 200.0 and seen.max_object_bytes == 300
    )
