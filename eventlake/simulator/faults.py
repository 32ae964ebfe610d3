"""Seeded fault injection for the local run: each wrapper fails a share of calls and remembers which.

They wrap the real pieces (the transform, the claim store, the converter's input) rather than
replacing them, so a run with faults exercises the same code as a clean one plus the failure paths
AWS documents: invocation retries, ``Lambda.FunctionError`` after the last one, and
``format-conversion-failed``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventlake.simulator.firehose.transformation import Invoke, Transformed
from transform_lambda.claims import Claim, ClaimStore, ClaimStoreError
from transform_lambda.events import dumps


class InjectedFunctionError(RuntimeError):
    """A simulated crash or timeout of the Lambda function."""


@dataclass
class FlakyInvoke:
    """Fails ``rate`` of invocation attempts. Half fail before doing anything (a crash at start), half
    after the function ran (a timeout after its side effects, e.g. claims already written)."""

    inner: Invoke
    rate: float
    rng: random.Random
    before: int = 0
    after: int = 0

    def __call__(self, event: dict[str, Any]) -> Any:
        if self.rng.random() >= self.rate:
            return self.inner(event)
        if self.rng.random() < 0.5:
            self.before += 1
            raise InjectedFunctionError("injected: function crashed before processing")
        self.inner(event)
        self.after += 1
        raise InjectedFunctionError("injected: function timed out after processing")


@dataclass
class FlakyClaims:
    """A claim store that fails ``rate`` of calls with ``ClaimStoreError``; half of those after the
    inner store already wrote (a throttled or timed-out call whose writes landed)."""

    inner: ClaimStore
    rate: float
    rng: random.Random
    failures: int = 0

    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        if self.rng.random() >= self.rate:
            return self.inner.claim(claims)
        self.failures += 1
        if self.rng.random() < 0.5:
            self.inner.claim(claims)
        raise ClaimStoreError("injected: claims table throttled")


@dataclass
class CorruptTimestamps:
    """Rewrites ``created_datetime`` of ``rate`` of transformed records with a ``+00:00`` offset, which
    Firehose's OpenX deserializer rejects (``DataFormatConversion.MalformedData``)."""

    rate: float
    rng: random.Random
    corrupted: set[tuple[str, str, int]] = field(default_factory=set)  # (shard, sequence, subsequence)

    def __call__(self, item: Transformed) -> bytes:
        if self.rng.random() >= self.rate:
            return item.data
        row = json.loads(item.data)
        if not isinstance(row.get("created_datetime"), str):
            return item.data
        row["created_datetime"] = row["created_datetime"].replace("Z", "+00:00")
        self.corrupted.add(item.source.lineage)
        return (dumps(row) + "\n").encode("utf-8")  # the Lambda's own encoding, one field changed
