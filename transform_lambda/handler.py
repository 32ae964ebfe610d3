"""Firehose → Lambda entry point: a thin loop over records around the pure functions in ``events``.

Contract (Kinesis source): every input ``recordId`` comes back exactly once, in order, as ``Ok`` (with
enriched data and ``metadata.partitionKeys``) or ``ProcessingFailed`` (with the original ``data``
untouched, so Firehose writes the producer's bytes under the error prefix).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_contract import firehose_records
from aws_contract.firehose_records import TransformationResponse, TransformationResult
from glue.errors import LogMessage, Reject
from transform_lambda.claims import (
    ENV_TABLE,
    ENV_TTL_SECONDS,
    Claim,
    ClaimStore,
    DynamoClaims,
    NoClaims,
)
from transform_lambda.events import (
    Event,
    Lineage,
    RecordError,
    decode,
    encode_row,
    enrich,
    lineage_of,
    parse_event,
    partition_keys,
)

Log = Callable[[dict[str, Any]], None]
T = TypeVar("T")


def log_json(entry: dict[str, Any]) -> None:
    """One JSON object per line on stdout: CloudWatch Logs keeps each line as one event."""
    sys.stdout.write(json.dumps(entry, default=str) + "\n")


_STORE: ClaimStore | None = None


def claim_store() -> ClaimStore:
    """Built once per container: the DynamoDB table named by ``CLAIMS_TABLE``, else none.

    A table without its TTL is a deployment error: failing loudly beats guessing a retention."""
    global _STORE
    if _STORE is None:
        table = os.environ.get(ENV_TABLE)
        if table:
            import boto3  # provided by the Lambda runtime

            ttl = int(os.environ[ENV_TTL_SECONDS])
            _STORE = DynamoClaims(boto3.client("dynamodb"), table, ttl_seconds=ttl)
        else:
            _STORE = NoClaims()
    return _STORE


def handler(event: Mapping[str, Any], context: Any) -> TransformationResponse:
    return process(event, claims=claim_store(), log=log_json)


def process(event: Mapping[str, Any], *, claims: ClaimStore, log: Log = log_json) -> TransformationResponse:
    """``event`` is Firehose's request (``firehose_records.TransformationEvent``), read defensively: a
    malformed record fails alone."""
    records = event.get("records") or []
    parsed = [_guard(lambda r=record: parse_event(decode(r.get("data")))) for record in records]
    lineages = [lineage_of(record) for record in records]
    duplicates = _duplicates(records, lineages, parsed, claims)

    out: list[TransformationResult] = []
    reasons: Counter[str] = Counter()
    for index, (record, lineage, item) in enumerate(zip(records, lineages, parsed, strict=True)):
        result = (
            item
            if isinstance(item, RecordError)
            else _guard(lambda e=item, r=record, ln=lineage, dup=index in duplicates: _ok(r, ln, e, dup))
        )
        if isinstance(result, RecordError):
            reasons[result.reason] += 1
            log(_rejection(event, record, lineage, result))
            result = firehose_records.processing_failed(record.get("recordId"), record.get("data"))
        out.append(result)

    log(
        {
            "level": "INFO",
            "message": LogMessage.BATCH_PROCESSED.value,
            "invocationId": event.get("invocationId"),
            "records": len(records),
            "ok": len(records) - sum(reasons.values()),
            "duplicates": len(duplicates),
            "rejected": dict(reasons),
        }
    )
    return {"records": out}


def _ok(record: dict[str, Any], lineage: Lineage, item: Event, is_duplicate: bool) -> TransformationResult:
    row = enrich(item, lineage, is_duplicate=is_duplicate)
    return firehose_records.ok(record.get("recordId"), encode_row(row), partition_keys(item))


def _rejection(
    event: Mapping[str, Any], record: dict[str, Any], lineage: Lineage, error: RecordError
) -> dict[str, Any]:
    """What an operator needs to find the record; never the payload itself."""
    return {
        "level": "WARNING",
        "message": LogMessage.RECORD_REJECTED.value,
        "reason": str(error.reason),
        "detail": error.detail,
        "recordId": record.get("recordId"),
        "shardId": lineage.shard_id,
        "sequenceNumber": lineage.sequence_number,
        "invocationId": event.get("invocationId"),
    }


def _guard(step: Callable[[], T]) -> T | RecordError:
    """Run one record's step; any failure becomes that record's error, never the batch's."""
    try:
        return step()
    except RecordError as exc:
        return exc
    except Exception as exc:  # a poison record must not fail its whole batch
        # The exception's text may quote the payload; its type and place are enough to find it.
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next  # the frame that raised
        line = f" at {where.tb_frame.f_code.co_name}:{where.tb_lineno}" if where else ""
        return RecordError(Reject.UNPROCESSABLE, f"{type(exc).__name__}{line}")


def _duplicates(
    records: list[dict[str, Any]],
    lineages: list[Lineage],
    parsed: list[Event | RecordError],
    claims: ClaimStore,
) -> set[int]:
    """Indexes of records to mark: repeats within the batch (first arrival wins), then ids that
    the claim store says an earlier batch already holds."""
    first_index: dict[str, int] = {}
    marked: set[int] = set()
    for index, item in enumerate(parsed):
        if isinstance(item, Event):
            if item.dedupe_key in first_index:
                marked.add(index)
            else:
                first_index[item.dedupe_key] = index
    if first_index:
        held = claims.claim([Claim(key, _holder(records[i], lineages[i])) for key, i in first_index.items()])
        marked.update(first_index[key] for key in held)
    return marked


def _holder(record: dict[str, Any], lineage: Lineage) -> str:
    """Stable identity of the source record across retries: shard + sequence number."""
    if lineage.shard_id and lineage.sequence_number:
        return f"{lineage.shard_id}:{lineage.sequence_number}"
    return f"record:{record.get('recordId')}"
