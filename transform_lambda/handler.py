"""Firehose → Lambda entry point: a thin loop over records around the pure functions in ``events``.

Contract (Kinesis source): every input ``recordId`` comes back exactly once, in order, as ``Ok`` (with
enriched data and ``metadata.partitionKeys``) or ``ProcessingFailed`` (with the original ``data``
untouched, so Firehose writes the producer's bytes under the error prefix). An entry of ``records`` that has
no ``recordId`` to answer with (not an object, or no ``recordId``) cannot be answered per record: it is
logged with its index and reason and left out of the response, and the rest of the batch is answered.
Firehose fails a record whose id is missing from the response (``Lambda.MissingRecordId``) and writes its
original bytes under the error prefix, which is where a malformed record belongs; answering it with a
made-up or ``null`` id instead would be a response entry Firehose cannot match, or a duplicate.

Order of work, so a record that will not be stored never holds a claim: every record is parsed, enriched
and encoded first; only the ids of records that made it are claimed (one claim per distinct id, the batch's
first arrival); the marks are then written into the encoded rows.

What the marks mean (``is_duplicate`` / ``uuid_reused``), given Firehose's at-least-once delivery:
- ``false / false``: this record holds the id's claim: it was the first to carry it within the claim's TTL,
  or it is that same Kinesis record again (Firehose retried the invocation, or redelivered a batch whose
  output already reached S3: the Lambda cannot tell these apart, so such a record can be stored twice,
  both copies ``false``; the unique-events view keeps one).
- ``true / false``: an earlier record holds the id and carried the same fingerprint: a repeat.
- ``false / true``: an earlier record holds the id with another fingerprint: a different event reusing the
  id (kept by the unique-events view).
- ``null / null``: the dedupe store could not answer within its retry budget (a count and a log line say
  so); repeats within the same batch are still marked exactly.
Up to five invocations per shard run at once; the claim is one atomic write per id, so exactly one record
wins each id. After the TTL a claim is free again: a repeat arriving later than that reads as a first arrival.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

from aws_contract import firehose_records
from aws_contract.firehose_records import TransformationResponse, TransformationResult
from glue import marks as dedupe_modes
from glue.errors import DIMENSION_FUNCTION, DIMENSION_REASON, LogMessage, Metric, Reject
from glue.marks import DEFAULT_FINGERPRINT_FIELDS, UNCHECKED, DedupeMode, Marks
from glue.schema import INPUT_FIELDS
from glue.transform_contract import (
    ENV_DEDUPE_MODE,
    ENV_FINGERPRINT_FIELDS,
    ENV_ON_STORE_FAILURE,
    ENV_TABLE,
    ENV_TTL_SECONDS,
)
from transform_lambda.claims import (
    Claim,
    ClaimStore,
    ClaimStoreError,
    NoClaims,
    StoreFailure,
    cause_of,
    dynamo_claims,
    fingerprint,
)
from transform_lambda.events import (
    FLAG_FIELDS,
    FLAG_REPEAT_FIELDS,
    FLAG_UNMARKED,
    Compiled,
    Lineage,
    RecordError,
    compiled_call,
    compiled_path,
    decode,
    json_kind,
    lineage_of,
    python_first_arrival,
    remark,
)
from transform_lambda.metrics import COMPILED_RECORDS, emf

Log = Callable[[dict[str, Any]], None]
OnStoreFailure = Literal["deliver", "fail"]
# Threads claiming ids at once: the claim store's calls are ~0.1 ms of CPU each and wait ~5 ms on DynamoDB,
# so latency bounds them below 16 (400 calls per 10,000 records) and the GIL above it (BENCHMARKS.md).
CLAIM_CONCURRENCY = 16
# Set by the Lambda runtime:
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
ENV_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"
LOCAL_FUNCTION_NAME = "local"


def log_json(entry: dict[str, Any]) -> None:
    """One JSON object per line on stdout: CloudWatch Logs keeps each line as one event."""
    sys.stdout.write(json.dumps(entry, default=str) + "\n")


class DedupeConfig(NamedTuple):
    """Who marks duplicates (``glue.marks``), how they are told apart and what a store outage does, from the
    Lambda's environment."""

    fingerprint_fields: tuple[str, ...] = DEFAULT_FINGERPRINT_FIELDS
    on_store_failure: OnStoreFailure = "deliver"
    mode: DedupeMode = dedupe_modes.CLAIMS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DedupeConfig:
        fields = (
            tuple(f for f in env.get(ENV_FINGERPRINT_FIELDS, "").split(",") if f)
            or DEFAULT_FINGERPRINT_FIELDS
        )
        failure = env.get(ENV_ON_STORE_FAILURE, "deliver")
        if failure not in ("deliver", "fail"):
            raise ValueError(f"{ENV_ON_STORE_FAILURE} must be deliver or fail, got {failure!r}")
        mode = dedupe_modes.mode(env.get(ENV_DEDUPE_MODE, dedupe_modes.DEFAULT.name))
        return cls(fingerprint_fields=fields, on_store_failure=failure, mode=mode)  # type: ignore[arg-type]


DEFAULT_DEDUPE = DedupeConfig()
_new_tuple = tuple.__new__  # a NamedTuple without its Python-level __new__, once per claimed id
_STORE: ClaimStore | None = None


def claim_store() -> ClaimStore:
    """Built once per container: the DynamoDB table named by ``CLAIMS_TABLE``, else none (the dedupe modes
    without a claims table, ``glue.marks``).

    A table without its TTL is a deployment error: failing loudly beats guessing a retention."""
    global _STORE
    if _STORE is None:
        table = os.environ.get(ENV_TABLE)
        if table:
            ttl = int(os.environ[ENV_TTL_SECONDS])
            _STORE = dynamo_claims(table, ttl_seconds=ttl, concurrency=CLAIM_CONCURRENCY)
        else:
            _STORE = NoClaims()
    return _STORE


def handler(event: Mapping[str, Any], context: Any) -> TransformationResponse:
    return process(
        event,
        claims=claim_store(),
        log=log_json,
        dedupe=DedupeConfig.from_env(os.environ),
        function_name=os.environ.get(ENV_FUNCTION_NAME, LOCAL_FUNCTION_NAME),
    )


def process(
    event: Mapping[str, Any],
    *,
    claims: ClaimStore,
    log: Log = log_json,
    dedupe: DedupeConfig = DEFAULT_DEDUPE,
    function_name: str = LOCAL_FUNCTION_NAME,
    clock: Callable[[], float] = time.time,
) -> TransformationResponse:
    """``event`` is Firehose's request (``firehose_records.TransformationEvent``), read defensively: a
    malformed record fails alone.

    One pass encodes every record as a first arrival (the common case) straight into the response, keeping
    per record only its id (and, for a store that remembers, its fingerprint); the claims then decide, and
    the few rows whose marks differ are re-marked. No per-record closures, dataclasses or kept events: the
    handler's cost is measured against the bare JSON round trip (BENCHMARKS.md).

    Python's cyclic garbage collector is paused for the batch: its objects form no reference cycles, so
    reference counting frees them all, and the collector would only walk the request's and the response's
    thousands of dicts again and again (a tenth of the handler's time, measured)."""
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _process(event, claims, log, dedupe, function_name, clock)
    finally:
        if collecting:
            gc.enable()


def _process(
    event: Mapping[str, Any],
    claims: ClaimStore,
    log: Log,
    dedupe: DedupeConfig,
    function_name: str,
    clock: Callable[[], float],
) -> TransformationResponse:
    records = event.get("records") or []
    if not isinstance(records, list):  # nothing can be answered per record: Firehose fails them all
        log(_unanswerable(event, None, records, "records is not an array"))
        records = []
    mode = dedupe.mode
    unmarked = mode.first_marks == UNCHECKED  # how first arrivals are written: marks false, or null
    remembers = mode.batch_marks and getattr(claims, "remembers", True)
    fields = dedupe.fingerprint_fields
    common = mode.batch_marks and set(fields) <= set(INPUT_FIELDS)  # the compiled path can hand over these
    count = len(records)
    out: list[TransformationResult | None] = [None] * count  # None: rejected without an answer, taken out
    first: dict[str, int] = {}  # each dedupe key's first stored record, by index
    repeats: list[tuple[int, str]] = []  # (index, key) of every later stored record with a key seen before
    sents: dict[int, Mapping[str, Any]] = {}  # the event's fields as sent, by index, where kept
    prints: dict[int, str] = {}  # fingerprints, by index, where computed
    holders: dict[int, str] = {}  # for a store that remembers: each stored record's holder, by index
    reasons: Counter[str] = Counter()
    unanswerable: list[int] = []  # entries with no recordId to answer with: left out of the response
    ok = firehose_records.OK
    compiled = compiled_call()  # events.first_arrival, unrolled: the compiled path, else the Python paths
    hot = batch = None
    if compiled is not None:
        hot, batch, names, metadatas = compiled
        if type(records) is not list:
            batch = None
    # The common fields of every record for a store that remembers (its fingerprints), else of repeats only.
    flags = (FLAG_FIELDS if remembers else FLAG_REPEAT_FIELDS) * common | FLAG_UNMARKED * unmarked
    one_flags = flags & ~FLAG_REPEAT_FIELDS  # a call per record: its fields, if asked, are every record's
    marking = first if mode.batch_marks else None
    compiled_records = 0
    index = 0
    while index < count:
        if batch is not None:  # the compiled loop, up to the next record it hands back, which Python decides
            stopped = batch(records, index, names, metadatas, flags, ok, out, marking, repeats, sents)
            compiled_records += stopped - index
            if remembers:
                for at in range(index, stopped):
                    sent = sents[at] if common else decode(records[at].get("data"))
                    prints[at] = fingerprint([sent.get(f) for f in fields])
                    holders[at] = holder_of(records[at])
            if stopped == count:
                break
            index = stopped
        at, record = index, records[index]
        index += 1
        try:
            # Encoded here, before any claim: a row that cannot be encoded raises now and never holds an id.
            answer = None if hot is None or batch is not None else hot(record, names, metadatas, one_flags)
            took = answer is not None
            if not took:
                answer = python_first_arrival(record, unmarked)
            data, metadata, key, sent = answer
            if remembers:
                if sent is None:  # the compiled path keeps only the common fields: the event, parsed again
                    sent = decode(record.get("data"))
                prints[at] = fingerprint([sent.get(f) for f in fields])
                holders[at] = holder_of(record)
        except Exception as exc:  # a poison record must not fail its whole batch
            problem = _no_record_id(record)
            if problem is not None:  # nothing to answer it with: placeholders, taken out below
                unanswerable.append(at)
                log(_unanswerable(event, at, record, problem))
                continue
            error = exc if isinstance(exc, RecordError) else _unprocessable(exc)
            reasons[error.reason] += 1
            log(_rejection(event, record, lineage_of(record), error, at))
            out[at] = firehose_records.processing_failed(record.get("recordId"), record.get("data"))
        else:  # a transformed record (firehose_records.OK), built inline
            record_id = record.get("recordId")
            if record_id is None:  # a valid event without an id to answer with: not stored, not claimed
                unanswerable.append(at)
                log(_unanswerable(event, at, record, "the record has no recordId"))
                prints.pop(at, None)
                holders.pop(at, None)
                continue
            out[at] = {"recordId": record_id, "result": ok, "data": data, "metadata": metadata}
            compiled_records += took  # counted once stored, as the compiled loop counts
            if marking is not None and first.setdefault(key, at) != at:
                repeats.append((at, key))

    changed: dict[int, Marks] = {}
    unchecked, asked, failures = 0, 0, ()
    if mode.batch_marks:
        sent_of = _Sent(sents, compiled, common)
        changed, unchecked, asked, failures = _marks(
            first, repeats, records, claims, prints, holders, fields, remembers, sent_of
        )
    rejected = sum(reasons.values()) + len(unanswerable)
    if unchecked:
        line = _store_failure(event, failures, records=len(records), rejected=rejected, ids=asked)
        line["not_checked"] = unchecked
        log(line)
        if dedupe.on_store_failure == "fail":
            raise ClaimStoreError(
                f"the dedupe store could not check {unchecked} of {asked} ids ({line['error']}, "
                f"{line['retries']} retries); failing the invocation for a retry"
            )
    for index, marks in changed.items():
        result = out[index]
        result["data"] = remark(result["data"], *marks, unmarked=unmarked)
    if unanswerable:
        out = [result for result in out if result is not None]
        reasons[Reject.UNPROCESSABLE] += len(unanswerable)

    stored: Counter[Marks] = Counter(changed.values())
    stored[mode.first_marks] += len(records) - rejected - len(changed)
    _log_batch(log, event, len(records), reasons, stored, function_name, clock, mode, compiled_records)
    return {"records": out}


def _no_record_id(record: Any) -> str | None:
    """Why an entry of ``records`` cannot be answered per record (None: it can)."""
    if type(record) is not dict:
        return f"the entry is {json_kind(record)}, not an object"
    if record.get("recordId") is None:
        return "the record has no recordId"
    return None


def _unanswerable(event: Mapping[str, Any], index: int | None, record: Any, problem: str) -> dict[str, Any]:
    """The log line of an entry Firehose gets no answer for (it fails it as ``Lambda.MissingRecordId`` and
    keeps its original bytes under the error prefix): where it sat and why, never its contents."""
    lineage = lineage_of(record) if type(record) is dict else Lineage(None, None, None)
    return {
        "level": "WARNING",
        "message": LogMessage.RECORD_REJECTED.value,
        "reason": str(Reject.UNPROCESSABLE),
        "detail": f"{problem}: left out of the response, Firehose fails it as a missing recordId",
        "index": index,
        "recordId": None,
        "shardId": lineage.shard_id,
        "sequenceNumber": lineage.sequence_number,
        "subSequenceNumber": lineage.subsequence_number,
        "invocationId": event.get("invocationId"),
    }


def _store_failure(
    event: Mapping[str, Any], failures: Sequence[StoreFailure], *, records: int, rejected: int, ids: int
) -> dict[str, Any]:
    """The store-outage line: its cause first (the call, AWS's error code and message or the exception's
    type, the retries made), every cause with the ids it left, and the batch's counts, so an operator tells
    throttling (raise capacity, wait) from AccessDenied (fix the policy) from a missing table (the config)."""
    first = failures[0] if failures else StoreFailure("claim", "NoCause", "the store gave no cause", None, 0)
    return {
        "level": "ERROR",
        "message": LogMessage.DEDUPE_UNCHECKED.value,
        "invocationId": event.get("invocationId"),
        "error": f"{first.code}: {first.message}" if first.message else first.code,
        "error_code": first.code,
        "error_message": first.message,
        "operation": first.operation,
        "retries": first.retries,
        "causes": [f._asdict() for f in failures],
        "records": records,
        "rejected": rejected,
        "ids": ids,
    }


def _log_batch(
    log: Log,
    event: Mapping[str, Any],
    records: int,
    reasons: Counter[str],
    stored: Counter[Marks],
    function_name: str,
    clock: Callable[[], float],
    mode: DedupeMode = dedupe_modes.CLAIMS,
    compiled_records: int = 0,
) -> None:
    """One summary line per batch, carrying the batch's metrics (embedded metric format), and one line per
    rejection reason with that reason's count as a metric dimensioned by it. ``not_checked`` counts null
    marks: a store outage with claims, rows left for compaction to mark in the other modes (``dedupe``)."""
    now_ms = int(clock() * 1000)
    function = {DIMENSION_FUNCTION: function_name}
    rejected = sum(reasons.values())
    summary = {
        "level": "INFO",
        "message": LogMessage.BATCH_PROCESSED.value,
        "invocationId": event.get("invocationId"),
        "records": records,
        "ok": records - rejected,
        "duplicates": stored[(True, False)],
        "reused_ids": stored[(False, True)],
        "not_checked": stored[(None, None)],
        "dedupe": mode.name,
        "rejected": dict(reasons),
        "compiled_path": compiled_path(),
        "compiled_records": compiled_records,  # rows the compiled path wrote: the rest cost ~2.5x the CPU
    }
    counts = {
        Metric.RECORDS.value: records,
        Metric.RECORDS_OK.value: records - rejected,
        Metric.RECORDS_REJECTED.value: rejected,
        Metric.DUPLICATES.value: stored[(True, False)],
        Metric.REUSED_IDS.value: stored[(False, True)],
        Metric.NOT_CHECKED.value: stored[(None, None)],
        COMPILED_RECORDS: compiled_records,
    }
    log(emf(summary, dimensions=function, metrics=counts, timestamp_ms=now_ms))
    for reason, count in sorted(reasons.items()):
        line = {
            "level": "INFO",
            "message": LogMessage.REJECTED_BY_REASON.value,
            "invocationId": event.get("invocationId"),
        }
        log(
            emf(
                line,
                dimensions={**function, DIMENSION_REASON: str(reason)},
                metrics={Metric.RECORDS_REJECTED_BY_REASON.value: count},
                timestamp_ms=now_ms,
            )
        )


class _Sent:
    """The event's fields as sent of a stored record whose fingerprint the loop did not compute (a repeat, or
    the record it repeats, when the store remembers nothing): as the compiled loop kept them (a repeat's),
    else the compiled path's common fields (one more parse, in C), else the event decoded again. Only for
    repeats: rare, and keeping every event for them would cost every record (its memory kept to the end)."""

    def __init__(self, kept: dict[int, Mapping[str, Any]], compiled: Compiled | None, common: bool) -> None:
        self.kept = kept
        self.compiled = compiled if compiled is not None and compiled.batch is not None and common else None

    def __call__(self, record: Mapping[str, Any], index: int) -> Mapping[str, Any]:
        sent = self.kept.get(index)
        if sent is None and self.compiled is not None:
            answer = self.compiled.one(record, self.compiled.names, self.compiled.metadatas, FLAG_FIELDS)
            sent = None if answer is None else answer[3]
        return sent if sent is not None else decode(record.get("data"))


def _marks(
    first: dict[str, int],
    repeats: list[tuple[int, str]],
    records: Sequence[Mapping[str, Any]],
    claims: ClaimStore,
    prints: dict[int, str],
    holders: dict[int, str],
    fields: Sequence[str],
    remembers: bool,
    sent_of: Callable[[Mapping[str, Any], int], Mapping[str, Any]],
) -> tuple[dict[int, Marks], int, int, tuple[StoreFailure, ...]]:
    """The marks of every stored record that is not a plain first arrival, by index; how many ids the store
    could not check, of how many asked; and why (``StoreFailure``s: the store's own, or the exception it
    raised, or, from a store that says nothing, that it said nothing).

    ``first`` holds each id's first stored record in the batch, ``repeats`` the later ones (the loop found
    them). The first arrival of an id claims it for all; the others are judged against whoever holds the
    claim: the same fingerprint is a repeat, another is a reused id. A store that remembers nothing
    (``NoClaims``) is not called, and a fingerprint it did not get is computed only for an id the batch
    repeats (``sent_of``: keeping every event for it is not worth it)."""
    changed: dict[int, Marks] = {}
    if not first:
        return changed, 0, 0, ()

    def print_of(index: int) -> str:
        if index not in prints:
            sent = sent_of(records[index], index)
            prints[index] = fingerprint([sent.get(f) for f in fields])
        return prints[index]

    owners: dict[str, Claim] | None = None
    failures: tuple[StoreFailure, ...] = ()
    unchecked = asked = 0
    if remembers:
        wanted = [_new_tuple(Claim, (key, holders[i], prints[i])) for key, i in first.items()]
        asked = len(wanted)
        try:
            owners = claims.claim(wanted)
            failures = getattr(owners, "failures", ())
        except Exception as exc:  # a store that raises instead of answering: nothing was checked
            owners = {}
            failures = (StoreFailure("claim", *cause_of(exc), None, asked),)
        for claim in wanted:
            owner = owners.get(claim.key)
            if owner is None:
                unchecked += 1
                changed[first[claim.key]] = UNCHECKED
            elif owner.holder != claim.holder:
                changed[first[claim.key]] = _against(owner.fingerprint, claim.fingerprint)
    for index, key in repeats:
        owner = owners.get(key) if owners is not None else None
        held = owner.fingerprint if owner is not None else print_of(first[key])
        changed[index] = _against(held, print_of(index))
    if unchecked and not failures:
        said = f"{type(claims).__name__} left {unchecked} ids unanswered"
        failures = (StoreFailure("claim", "NoCause", said, None, unchecked),)
    return changed, unchecked, asked, failures


def _against(held: str, fingerprint: str) -> Marks:
    return (True, False) if held == fingerprint else (False, True)


def _rejection(
    event: Mapping[str, Any], record: Mapping[str, Any], lineage: Lineage, error: RecordError, index: int
) -> dict[str, Any]:
    """What an operator needs to find the record; never the payload itself."""
    return {
        "level": "WARNING",
        "message": LogMessage.RECORD_REJECTED.value,
        "reason": str(error.reason),
        "detail": error.detail,
        "index": index,
        "recordId": record.get("recordId"),
        "shardId": lineage.shard_id,
        "sequenceNumber": lineage.sequence_number,
        "subSequenceNumber": lineage.subsequence_number,  # one user record of a KPL aggregate
        "invocationId": event.get("invocationId"),
    }


def _unprocessable(exc: BaseException) -> RecordError:
    """Any failure nobody foresaw becomes that record's error. The exception's text may quote the payload;
    its type and place are enough to find it."""
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next  # the frame that raised
    line = f" at {where.tb_frame.f_code.co_name}:{where.tb_lineno}" if where else ""
    return RecordError(Reject.UNPROCESSABLE, f"{type(exc).__name__}{line}")


def holder_of(record: Mapping[str, Any]) -> str:
    """``claim_holder`` of a record, read straight from Firehose's ``kinesisRecordMetadata`` when it is as
    Firehose sends it (once per record with a remembering store), else through ``lineage_of``."""
    meta = record.get("kinesisRecordMetadata")
    if type(meta) is dict:
        shard, sequence = meta.get("shardId"), meta.get("sequenceNumber")
        subsequence = meta.get("subsequenceNumber")
        if (
            type(shard) is str
            and shard
            and type(sequence) is str
            and sequence
            and (subsequence is None or type(subsequence) is int)
        ):
            return f"{shard}:{sequence}:{subsequence or 0}"
    return claim_holder(record, lineage_of(record))


def claim_holder(record: Mapping[str, Any], lineage: Lineage) -> str:
    """Identity of the source record, stable across Firehose's retries: shard + sequence number +
    subsequence number (the user records of one KPL aggregate share a sequence number)."""
    if lineage.shard_id and lineage.sequence_number:
        return f"{lineage.shard_id}:{lineage.sequence_number}:{lineage.subsequence_number or 0}"
    return f"record:{record.get('recordId')}"
