"""Firehose's active partitions and S3 objects for a load, the processor's batches and invocations."""

from __future__ import annotations

import math
from functools import lru_cache

from aws_contract import limits
from infra import sizing
from infra.capacity.calibration import TIME_STEPS
from infra.capacity.plan_model import Load, PartitionFlow
from infra.settings import SECONDS_PER_HOUR, Settings


@lru_cache(maxsize=1)
def processor_buffer_mb() -> float:
    """``infra.sizing``'s computed processor buffer (it runs the real handler, so once per process)."""
    return sizing.processor_buffer_mb()


# --- partitions and objects -------------------------------------------------------------------------------


def share_in_hour(f: float, k: int, spread: float) -> float:
    """Share of the events arriving ``f`` (0-1) into an hour whose event time is ``k`` hours earlier."""
    if spread <= 0:
        return 1.0 if k == 0 else 0.0
    low, high = max(0.0, f + k - 1), min(spread, f + k)
    return max(0.0, high - low) / spread


def processor_batch_seconds(raw_ps: float, shards: int, settings: Settings) -> float:
    """How often each shard's Lambda processor batch is delivered when the processor buffer fills before its
    interval passes: a steady load then delivers a batch per shard every ``buffer / bytes per second``. Else
    0, as without a Lambda (``infra.processors``): a batch closed by its interval opens at the next record,
    so batches come at jittered times and records reach the S3 buffers about as they arrive (Poisson)."""
    if raw_ps <= 0:
        return 0.0
    by_size = processor_buffer_mb() * limits.MIB * shards / raw_ps
    return by_size if by_size < settings.processor_buffer_interval_seconds else 0.0


def _wait_after_flush(window: float, rate: float, batch_s: float, shards: int) -> float:
    """Mean time from a partition buffer's delivery to the next record that reaches the partition.

    Without a Lambda, records arrive one by one (Poisson): ``1 / rate``. With one, they reach the S3 buffers
    only when a processor batch is delivered: every ``batch_s`` per shard, the shards in independent phases.
    A buffer opened by one shard's batch closes ``window`` later, before that shard's next batch (its own
    wait is ``ceil(window / batch_s) * batch_s - window``) unless another shard's batch comes first; a batch
    holds a record of the partition with probability ``p``, else the wait goes on by a gap between batches.
    """
    if batch_s <= 0:
        return 1 / rate
    gap = batch_s / shards
    p = -math.expm1(-rate * gap)
    own = math.ceil(window / batch_s - 1e-9) * batch_s - window
    first = gap * (1 - (1 - own / batch_s) ** shards)
    return first + gap * (1 / p - 1)


def partition_flows(
    load: Load, settings: Settings, batch_s: float = 0.0, shards: int = 1
) -> tuple[list[PartitionFlow], float, int]:
    interval = settings.buffering_interval_seconds
    size = settings.buffering_size_mib * limits.MIB
    buffered_bytes = load.avg_event_bytes * buffered_per_raw_byte(settings)
    per_raw_byte, overhead = settings.processing.object_bytes(settings)
    per_row = load.avg_event_bytes * per_raw_byte
    per_type = load.events_per_second / load.event_types
    offsets = range(math.ceil(load.late_spread_hours) + 1)
    active = {k: 0.0 for k in offsets}
    objects = {k: 0.0 for k in offsets}  # per second, summed over slices
    rows = {k: 0.0 for k in offsets}
    peak = 0.0
    for step in range(TIME_STEPS):
        f = (step + 0.5) / TIME_STEPS
        at_once = 0.0
        for k in offsets:
            rate = per_type * share_in_hour(f, k, load.late_spread_hours)
            if rate <= 0:
                continue
            window = min(interval, size / (rate * buffered_bytes))
            # A buffer that fills closes mid-stream (the next record opens the next one); one whose interval
            # runs out waits for the next record to reach the partition.
            wait = _wait_after_flush(window, rate, batch_s, shards) if window >= interval else 1 / rate
            cycle = window + wait
            open_share = window / cycle
            flushes = 1 / cycle
            active[k] += open_share
            objects[k] += flushes
            rows[k] += rate  # each object holds a cycle's events: flushes x rate x cycle
            # Right after a processor batch is delivered its partitions are all open: the ones that were,
            # and the ones it just reached (none without a Lambda: records come one by one).
            reached = -math.expm1(-rate * batch_s / shards) if batch_s > 0 else 0.0
            at_once += 1 - (1 - open_share) * (1 - reached)
        peak = max(peak, at_once)
    flows = []
    for k in offsets:
        objects_ph = objects[k] / TIME_STEPS * SECONDS_PER_HOUR * load.event_types
        events_ph = rows[k] / TIME_STEPS * SECONDS_PER_HOUR * load.event_types
        per_object = events_ph / objects_ph if objects_ph else 0.0
        flows.append(
            PartitionFlow(
                hours_late=k,
                events_per_hour=events_ph,
                mean_active=active[k] / TIME_STEPS * load.event_types,
                objects_per_hour=objects_ph,
                mean_object_bytes=overhead + per_object * per_row if objects_ph else 0.0,
                events_per_object=per_object,
            )
        )
    mean_active = sum(f.mean_active for f in flows)
    return flows, mean_active, math.ceil(peak * load.event_types - 1e-9)


def buffered_per_raw_byte(settings: Settings) -> float:
    """What Firehose's S3 buffer holds per byte sent: the transform's output, or the record itself (jq)."""
    return settings.processing.buffered_per_raw_byte


def backup_objects_per_hour(raw_ps: float, settings: Settings) -> float:
    """The raw backup is one buffer for the whole stream (not partitioned)."""
    if raw_ps <= 0:
        return 0.0
    window = min(settings.buffering_interval_seconds, settings.buffering_size_mib * limits.MIB / raw_ps)
    return SECONDS_PER_HOUR / window


def invocations_per_second(
    raw_ps: float, eps: float, shards: int, buffer_mb: float, settings: Settings
) -> float:
    """Each shard's records gather until the processor buffer fills or its interval passes (Firehose polls a
    shard once a second, so never more often than that when the interval is 0)."""
    if eps <= 0:
        return 0.0
    interval = max(settings.processor_buffer_interval_seconds, 1)
    by_size = raw_ps / (buffer_mb * limits.MIB)
    per_shard_rate = eps / shards
    by_time = shards * (1 - math.exp(-per_shard_rate * interval)) / interval
    return max(by_size, by_time)
