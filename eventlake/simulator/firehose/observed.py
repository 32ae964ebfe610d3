"""What a delivery run looked like from S3's side, in the terms capacity planning predicts: objects per
partition and per hour, object sizes, and the most partitions that had an open buffer at once.

``sizing_prediction`` asks ``infra.capacity`` (the sizing model, when it is present) for the same load, so
the local runner can print its observation beside the prediction and the relative difference.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventlake.simulator.firehose.s3_destination import DATA, WrittenObject

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class DeliveryObservations:
    hours: float  # the arrival window the objects were written over
    data_objects: int
    partitions: int
    objects_per_partition_mean: float
    objects_per_partition_max: int
    objects_per_hour: float
    mean_object_bytes: float
    median_object_bytes: float
    p90_object_bytes: float
    max_object_bytes: int
    rows_per_object_mean: float
    peak_active_partitions: int


def observe(
    written: Sequence[WrittenObject], *, peak_active_partitions: int, hours: float | None = None
) -> DeliveryObservations:
    """``hours``: the arrival window (a paced run knows it); else from the first arrival in an object to the
    last delivery."""
    data = [o for o in written if o.kind == DATA]
    if hours is None:
        first = min((o.oldest_arrival_ms for o in data), default=0)
        span = max((o.delivered_ms for o in data), default=0) - first
        hours = max(span / MS_PER_HOUR, 1 / 3600)
    per_partition = Counter(o.partition for o in data)
    sizes = sorted(o.size for o in data)
    return DeliveryObservations(
        hours=hours,
        data_objects=len(data),
        partitions=len(per_partition),
        objects_per_partition_mean=len(data) / len(per_partition) if per_partition else 0.0,
        objects_per_partition_max=max(per_partition.values(), default=0),
        objects_per_hour=len(data) / hours,
        mean_object_bytes=statistics.fmean(sizes) if sizes else 0.0,
        median_object_bytes=float(statistics.median(sizes)) if sizes else 0.0,
        p90_object_bytes=float(sizes[int(0.9 * (len(sizes) - 1))]) if sizes else 0.0,
        max_object_bytes=sizes[-1] if sizes else 0,
        rows_per_object_mean=sum(o.records for o in data) / len(data) if data else 0.0,
        peak_active_partitions=peak_active_partitions,
    )


@dataclass(frozen=True)
class SizingComparison:
    """One quantity observed locally beside what the sizing model predicts for the same load."""

    name: str
    observed: float
    predicted: float

    @property
    def relative_difference(self) -> float:
        return (self.observed - self.predicted) / self.predicted if self.predicted else float("inf")


COMPARED = ("objects_per_hour", "mean_object_bytes", "peak_active_partitions")


def sizing_prediction(
    observed: DeliveryObservations, settings: Any, load: dict[str, Any]
) -> list[SizingComparison] | str:
    """The comparisons for ``COMPARED``, or why there is none: ``infra.capacity`` (``Load``, ``plan``) is the
    sizing model; ``load`` holds ``Load``'s arguments for the run's traffic."""
    try:
        from infra import capacity  # type: ignore[attr-defined]
    except ImportError:
        return "no sizing model yet (infra/capacity/ is not there): nothing to compare with"
    try:
        plan = capacity.plan(capacity.Load(**load), settings)
        return [SizingComparison(n, float(getattr(observed, n)), float(getattr(plan, n))) for n in COMPARED]
    except Exception as exc:  # a model with another signature: say so, never fail the run for it
        return f"sizing model could not be asked: {type(exc).__name__}: {exc}"
