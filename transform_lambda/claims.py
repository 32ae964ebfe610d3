"""Where duplicates are decided. The handler marks in-batch repeats itself; a ``ClaimStore``
extends that across batches (a DynamoDB claims table plugs in here without touching the handler)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Claim:
    """One event's claim on its id. ``record_id`` tells a retry of the same record from a repeat."""

    key: str
    record_id: str


class ClaimStore(Protocol):
    def claim(self, claims: Sequence[Claim]) -> set[str]:
        """Claim every key at once; return the keys some *earlier* record already holds."""
        ...


class NoClaims:
    """Within-invocation de-duplication only: nothing is remembered between batches."""

    def claim(self, claims: Sequence[Claim]) -> set[str]:
        return set()
