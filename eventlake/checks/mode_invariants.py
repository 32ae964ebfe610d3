"""The invariant each processor's lake is held to, chosen by the processor (``infra.processors``).

The transform's lake is checked row by row against what was sent (``invariant.check``); jq mode's, which
stores the records as sent, by what that mode guarantees (``query_mode.check_by_query``). The demo,
``eventlake check`` and the reports ask ``invariant_for(processor)`` instead of testing the mode: its check
names, and one ``run`` taking what either needs (each reads its part), with the unique-events view as read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from eventlake.athena import result_rows
from eventlake.checks import query_mode
from eventlake.checks.invariant import CHECKS, Faults, InvariantResult, Rejections, check, unique_rows
from eventlake.checks.lake_contents import LakeContents
from eventlake.traffic.producer import Sent
from glue.marks import DedupeMode
from infra import processors

# The unique-events view as read: its column names and rows (None: it could not be read).
View = tuple[Sequence[str], Sequence[Sequence[Any]]]


@dataclass(frozen=True)
class RunFacts:
    """What a run did, as its record keeps it: each mode's check reads its part."""

    rejections: Rejections
    dedupe: DedupeMode
    backup_enabled: bool
    faults: Faults = field(default_factory=Faults)
    compacted: bool = False


class ModeInvariant:
    """One processor's invariant: the checks it reports (in order) and how it runs."""

    names: tuple[str, ...] = ()

    def run(
        self, sent: list[Sent], lake: LakeContents, facts: RunFacts, view: View | None
    ) -> InvariantResult:
        raise NotImplementedError


class TransformInvariant(ModeInvariant):
    """The transform Lambda's rows: exactly once by lineage, marks, rejections, originals, backup."""

    names = CHECKS

    def run(
        self, sent: list[Sent], lake: LakeContents, facts: RunFacts, view: View | None
    ) -> InvariantResult:
        return check(
            sent,
            lake,
            rejections=facts.rejections,
            dedupe=facts.dedupe,
            backup_enabled=facts.backup_enabled,
            faults=facts.faults,
            unique=None if view is None else _lineages(*view),
            compacted=facts.compacted,
        )


class RecordsAsSentInvariant(ModeInvariant):
    """processor jq: each valid record stored once as sent, in its partition, and the view over them."""

    names = query_mode.QUERY_CHECKS

    def run(
        self, sent: list[Sent], lake: LakeContents, facts: RunFacts, view: View | None
    ) -> InvariantResult:
        unique = None if view is None else [dict(zip(view[0], row, strict=True)) for row in view[1]]
        return query_mode.check_by_query(sent, lake, backup_enabled=facts.backup_enabled, unique=unique)


def _lineages(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Sequence[tuple[str, tuple[str, str]]]:
    """(lower-cased event_uuid, lineage) per view row; Arrow results (the demo's every event) made as read."""
    if isinstance(rows, result_rows.ArrowResultRows):
        return result_rows.ViewLineages(rows)
    return unique_rows(columns, rows)


INVARIANTS: Mapping[str, ModeInvariant] = MappingProxyType(
    {processors.LAMBDA.name: TransformInvariant(), processors.JQ.name: RecordsAsSentInvariant()}
)


def invariant_for(processor: processors.Processor) -> ModeInvariant:
    return INVARIANTS[processor.name]
