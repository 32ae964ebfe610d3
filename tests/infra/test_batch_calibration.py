"""The capacity model's batched-UNLOAD text (``infra.capacity.calibration``: a fixed part, per member, per
source object) against the compactor's own ``BatchStatement.athena_sql()``, which the model no longer imports
(``infra`` imports no Lambda package): the constants are the compactor's lengths, and ``batch_members`` gives
the numbers it gave when it measured that text itself."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

import pytest

from aws_contract import limits
from glue.compactor_contract import BATCH_MAX_BYTES, SOURCE_TABLE
from infra.capacity.compactor_runs import batch_members, batch_query_chars
from lake_compactor import compaction_plan as plan
from lake_compactor.compaction_plan import BatchStatement, CompactionStatement

# What the constants were measured on (calibration.py says so): each source an 80-character object name.
SAMPLE_SOURCE_KEY = (
    "events/event_type=abcdefghij/event_date=2026-11-25/event_hour=07/" + "x" * 80 + ".parquet"
)
STAGING = "s3://bucket/compaction-staging/x/"
# Partitions of the measured shape (a 10-character event type): other types, days and hours, same lengths.
TYPES = ("abcdefghij", "page.viewx", "cart_added")
DAYS = ("2026-11-25", "2027-01-01")


def member(
    i: int, sources: int, event_type: str = "abcdefghij", day: str = "2026-11-25"
) -> CompactionStatement:
    """A batch's ``i``-th member, reading ``sources`` objects: hour ``i`` from ``day``'s first."""
    hour = datetime.fromisoformat(day) + timedelta(hours=i)
    values = {
        "event_type": event_type,
        "event_date": hour.date().isoformat(),
        "event_hour": f"{hour.hour:02d}",
    }
    return CompactionStatement(
        "eventlake_prod",
        "events",
        SOURCE_TABLE,
        values,
        True,
        tuple(f"s3://bucket/{SAMPLE_SOURCE_KEY}" for _ in range(sources)),
        f"s3://bucket/{plan.compacted_folder(values, '0' * 24)}",
    )


def batch(
    members: int, sources: int, event_type: str = "abcdefghij", day: str = "2026-11-25"
) -> BatchStatement:
    return BatchStatement(tuple(member(i, sources, event_type, day) for i in range(members)), STAGING)


def reference_batch_members(partition_bytes: float, objects_each: float) -> float:
    """``batch_members`` as it was while ``infra`` measured the compactor's text itself (issue 26 took the
    import out): the lengths of a batch of one member and of two."""
    if partition_bytes >= limits.ATHENA_MIN_BILLED_BYTES_PER_QUERY:
        return 1.0
    sources = max(1, math.ceil(objects_each))
    one = len(BatchStatement((member(0, sources),), STAGING).athena_sql())
    two = len(BatchStatement((member(0, sources), member(1, sources)), STAGING).athena_sql())
    by_text = 1 + (limits.ATHENA_QUERY_MAX_CHARS - one) // max(1, two - one)
    by_bytes = BATCH_MAX_BYTES // max(1.0, partition_bytes)
    return float(max(1, min(by_text, by_bytes)))


@pytest.mark.parametrize(("event_type", "day"), list(itertools.product(TYPES, DAYS)))
def test_the_model_is_the_compactors_text_up_to_ten_members(event_type: str, day: str) -> None:
    for members, sources in itertools.product(range(1, 11), (1, 2, 3, 7, 40)):
        text = batch(members, sources, event_type, day).athena_sql()
        assert len(text) == batch_query_chars(members, sources), (members, sources)


def test_a_part_object_counts_as_a_whole_one() -> None:
    assert batch_query_chars(3, 0) == batch_query_chars(3, 1) == len(batch(3, 1).athena_sql())
    assert batch_query_chars(3, 2.1) == len(batch(3, 3).athena_sql())


@pytest.mark.parametrize("members", [11, 30, 100, 120])
def test_past_ten_members_only_the_aliases_digits_are_left_out(members: int) -> None:
    """``member_10`` and on: each further digit of a member's number is 2 characters (two aliases)."""
    digits = sum(len(str(i)) - 1 for i in range(members))
    assert len(batch(members, 2).athena_sql()) == batch_query_chars(members, 2) + 2 * digits


def test_batch_members_gives_what_measuring_the_compactors_text_gave() -> None:
    partition_bytes = (0.0, 1.0, 1e3, 1e5, 1e6, 3.3e6, 9_999_999.0, 1e7, 1e8, 1e10)
    objects_each = (0.0, 0.4, 1.0, 1.5, 2.0, 3.0, 7.0, 10.0, 33.3, 100.0, 500.0, 1_500.0, 1_600.0, 5_000.0)
    for size, objects in itertools.product(partition_bytes, objects_each):
        assert batch_members(size, objects) == reference_batch_members(size, objects), (size, objects)


@pytest.mark.parametrize("sources", [1, 2, 3, 5, 7, 20, 100, 500])
def test_the_compactor_takes_the_models_batch_or_one_member_fewer(sources: int) -> None:
    """The compactor closes a batch when the next member's text would not fit (``statement_fits``); the
    model's count leaves out the aliases' digits, so it may be one member more than the compactor's."""
    members = int(batch_members(1.0, sources))
    assert members > 1
    fits = plan.statement_fits(batch(members, sources))
    assert fits or plan.statement_fits(batch(members - 1, sources))
    assert not plan.statement_fits(batch(members + 1, sources))
