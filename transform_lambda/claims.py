"""Where duplicates are decided. The handler marks in-batch repeats itself; a ``ClaimStore``
extends that across batches and invocations without touching the handler.

A claim is ``event_uuid -> holder``, where the holder is the Kinesis record (shard + sequence
number) that first carried the id. The holder is stable across Firehose's retries of the same
record, so a retried batch re-claims its own ids instead of marking its own events as duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

KEY_ATTRIBUTE = "event_uuid"
HOLDER_ATTRIBUTE = "holder"
EXPIRES_ATTRIBUTE = "expires_at"  # the table's TTL attribute, epoch seconds
# The Lambda's environment, set by the Pulumi program (infra/processor.py).
ENV_TABLE = "CLAIMS_TABLE"
ENV_TTL_SECONDS = "CLAIMS_TTL_SECONDS"


@dataclass(frozen=True)
class Claim:
    key: str
    holder: str


class ClaimStore(Protocol):
    def claim(self, claims: Sequence[Claim]) -> set[str]:
        """Claim every key at once; return the keys some *other* holder already has."""
        ...


class NoClaims:
    """Within-invocation de-duplication only: nothing is remembered between batches."""

    def claim(self, claims: Sequence[Claim]) -> set[str]:
        return set()


class ClaimStoreError(RuntimeError):
    """The store could not answer; the invocation must fail so Firehose retries the batch."""


class DynamoClaims:
    """First writer wins, with a conditional ``PutItem`` per id.

    Up to five Lambda invocations per shard run at once, so the check and the write must be one
    atomic step: ``attribute_not_exists`` (or our own earlier claim, on a retry). Expired claims
    may linger until DynamoDB's lazy TTL deletes them, so the expiry is checked here too.
    """

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
        concurrency: int = 16,
    ) -> None:
        self._client = client
        self._table = table_name
        self._ttl = ttl_seconds
        self._clock = clock
        self._concurrency = concurrency

    def claim(self, claims: Sequence[Claim]) -> set[str]:
        if not claims:
            return set()
        now = int(self._clock())
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(claims))) as pool:
            results = list(pool.map(lambda c: self._claim_one(c, now), claims))
        return {c.key for c, held_elsewhere in zip(claims, results, strict=True) if held_elsewhere}

    def _claim_one(self, claim: Claim, now: int) -> bool:
        errors = self._client.exceptions
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    KEY_ATTRIBUTE: {"S": claim.key},
                    HOLDER_ATTRIBUTE: {"S": claim.holder},
                    EXPIRES_ATTRIBUTE: {"N": str(now + self._ttl)},
                },
                ConditionExpression="attribute_not_exists(#k) OR #h = :me OR #e < :now",
                ExpressionAttributeNames={
                    "#k": KEY_ATTRIBUTE,
                    "#h": HOLDER_ATTRIBUTE,
                    "#e": EXPIRES_ATTRIBUTE,
                },
                ExpressionAttributeValues={":me": {"S": claim.holder}, ":now": {"N": str(now)}},
            )
        except errors.ConditionalCheckFailedException:
            return True
        except Exception as exc:  # throttling, network, permissions: fail the invocation loudly
            raise ClaimStoreError(f"claims table {self._table} failed: {exc}") from exc
        return False
