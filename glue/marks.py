"""The duplicate marks (``is_duplicate``, ``uuid_reused``) and the modes that set them, defined once.

Stdlib only: the transform Lambda, the compactor, the program, the local runner, sizing and the tests read the
mode from here, so "which mode" is one object asked what it does, never a flag tested in many places.

Who sets the marks, per mode (the stack key ``dedupe``):

- ``claims``: the transform claims each ``event_uuid`` in a DynamoDB table as its batch is processed
  (real-time marks); every compaction of a closed partition then recomputes them exactly over all its rows.
- ``compaction``: no claims table, no DynamoDB call. The transform marks repeats within a batch; every other
  row is stored unmarked (``null``: not yet checked across batches) until compaction marks its partition.
- ``off``: nothing marks anything; both columns stay ``null``. The ``unique_events`` view is still exact.

What compaction computes (``compaction_plan.CompactionStatement``): within a partition, for each
``event_uuid`` (case-insensitively) and each fingerprint, the earliest arrival (``ARRIVAL_ORDER``) is
``is_duplicate = false`` and every later copy ``true``; a fingerprint other than the one of the id's earliest
arrival is ``uuid_reused = true``. Copies of one event share a partition (same type, same ``created_at``); a
reused id can span partitions, and each partition marks its own earliest arrival of it.
"""

from __future__ import annotations

from dataclasses import dataclass

Marks = tuple[bool | None, bool | None]  # (is_duplicate, uuid_reused)
FIRST: Marks = (False, False)
UNCHECKED: Marks = (None, None)
REPEAT: Marks = (True, False)
REUSED: Marks = (False, True)

# The fields that tell a repeat (same values) from a different event reusing its id, when the stack names none
# (``dedupeFingerprintFields``): the transform, the compactor and the settings read this one default.
DEFAULT_FINGERPRINT_FIELDS = ("event_name", "created_at")

# The columns that order a partition's copies of one id, earliest first: when Kinesis accepted the record,
# then its shard and its sequence number (sequence numbers are decimal strings that grow within a shard:
# shorter is smaller), then its place in its KPL aggregate (null: a row from before that column, put on its
# own: 0). Rows that tie on all of these are the same record stored twice (Firehose redelivered its batch):
# any order among them gives the same bytes, since they differ in nothing else.
ARRIVAL_ORDER = (
    "source_arrival_datetime ASC NULLS LAST",
    "source_shard_id ASC NULLS LAST",
    "length(source_sequence_number) ASC NULLS LAST",
    "source_sequence_number ASC NULLS LAST",
    "source_subsequence_number ASC NULLS FIRST",
)


@dataclass(frozen=True)
class DedupeMode:
    """One way of marking duplicates: what it deploys, what the transform writes, what compaction does."""

    name: str
    claims_table: bool  # a DynamoDB claims table, claimed by the transform (real-time marks)
    batch_marks: bool  # the transform marks repeats within one batch
    first_marks: Marks  # what the transform writes on a record no repeat rule touched
    compaction_marks: bool  # every compaction recomputes the marks of its partition exactly
    summary: str

    def __str__(self) -> str:
        return self.name


CLAIMS = DedupeMode(
    name="claims",
    claims_table=True,
    batch_marks=True,
    first_marks=FIRST,
    compaction_marks=True,
    summary="real-time marks from a DynamoDB claims table, made exact by compaction",
)
COMPACTION = DedupeMode(
    name="compaction",
    claims_table=False,
    batch_marks=True,
    first_marks=UNCHECKED,
    compaction_marks=True,
    summary="no claims table: repeats within a batch marked at once, the rest null until compacted",
)
OFF = DedupeMode(
    name="off",
    claims_table=False,
    batch_marks=False,
    first_marks=UNCHECKED,
    compaction_marks=False,
    summary="no marks (both columns null); the unique_events view is still exact",
)
MODES: dict[str, DedupeMode] = {m.name: m for m in (CLAIMS, COMPACTION, OFF)}
DEFAULT = CLAIMS


def mode(name: str) -> DedupeMode:
    """The mode called ``name``; a ValueError naming the valid ones otherwise."""
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"dedupe mode must be one of {', '.join(MODES)}, got {name!r}") from None
