"""THE INVARIANT for ``processor: jq``, i.e. what that mode guarantees (no Lambda: no validation with reasons,
no dedupe marks, no added fields, no lineage).

- Every record whose partition keys can be computed is stored once per delivery, as its own bytes, in the
  partition of its event type and event hour (the same layout as the Lambda mode); malformed records the
  query can still evaluate (a bad uuid, say) are stored too: nothing validates them.
- Every record that cannot yield keys (not JSON, a missing or mistyped field, an unsafe event type, a time
  outside the window) is under ``errors/partitioning-failed/`` with its original bytes, once.
- Every valid or duplicate record the producer sent yields keys (so none is lost), the unique-events view
  holds one row per distinct event with the fields it computes right, and the raw backup holds every record.

Which records yield keys is decided here by :func:`expected_keys`, a plain-Python reading of the query's
rules (``glue.partition_query``), not by jq: the model evaluates the query with jq, this module checks it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventlake.checks.invariant import (
    BACKUP,
    EXACTLY_ONCE,
    PARTITION,
    ROW_CONTENT,
    UNIQUE_VIEW,
    Affected,
    InvariantResult,
    check_backup,
)
from eventlake.checks.lake_contents import LakeContents
from eventlake.traffic.producer import Sent
from eventlake.traffic.sample_events import Expect
from glue import partition_query, schema
from glue.errors import ErrorOutputType

VALID_STORED = "valid and duplicate records yield partition keys (none lost)"
QUERY_CHECKS = (EXACTLY_ONCE, PARTITION, VALID_STORED, ROW_CONTENT, UNIQUE_VIEW, BACKUP)
_EVENT_TYPE = re.compile(schema.EVENT_TYPE_PATTERN)
_QUERY_ERROR_TYPES = (ErrorOutputType.PARTITIONING_FAILED, ErrorOutputType.ACTIVE_PARTITION_EXCEEDED)


def expected_keys(data: bytes) -> dict[str, str] | None:
    """The partition keys the query must give ``data``, or None when it must fail; the Lambda mode's layout
    (``schema.partition_values``) at the whole second the query floors ``created_at`` to."""
    try:
        event = json.loads(data.decode("utf-8"))
    except ValueError:  # not UTF-8, not JSON, or more than one JSON value
        return None
    if not isinstance(event, dict):
        return None
    name, created = event.get("event_name"), event.get("created_at")
    if not isinstance(name, str) or not _EVENT_TYPE.fullmatch(name.split(":")[0]):
        return None
    if isinstance(created, bool) or not isinstance(created, int | float):
        return None
    if not schema.MIN_CREATED_AT <= created < schema.MAX_CREATED_AT:  # also False for NaN
        return None
    return schema.partition_values(name.split(":")[0], math.floor(created))


def check_by_query(
    sent: Sequence[Sent],
    lake: LakeContents,
    *,
    backup_enabled: bool,
    unique: Sequence[dict[str, Any]] | None = None,
    deliveries: int = 1,
) -> InvariantResult:
    """``deliveries``: how many times the run put the same records through (1 unless re-sent on purpose)."""
    result = InvariantResult(records=len(sent), rows=len(lake.lines), error_records=len(lake.errors))
    record_column = partition_query.RECORD_COLUMN.name
    stored = Counter(line.values[record_column] for line in lake.lines)
    failed = Counter(
        e.record.raw for e in lake.errors if e.output_type == ErrorOutputType.PARTITIONING_FAILED
    )
    want_stored: Counter[bytes] = Counter()
    want_failed: Counter[bytes] = Counter()
    for s in sent:
        keys = expected_keys(s.data)
        (want_stored if keys is not None else want_failed)[s.data] += deliveries
        if keys is None and s.expect is not Expect.MALFORMED:
            result.violate(VALID_STORED, f"record #{s.index} ({s.expect}) yields no partition keys")
    over_limit = [e for e in lake.errors if e.output_type == ErrorOutputType.ACTIVE_PARTITION_EXCEEDED]
    limited = Counter(e.record.raw for e in over_limit)
    for data, count in (want_stored - stored - limited).items():
        result.violate(EXACTLY_ONCE, f"{count} cop(ies) of a record not stored: {data[:80]!r}")
    for data, count in (stored - want_stored).items():
        result.violate(EXACTLY_ONCE, f"{count} extra stored cop(ies) of {data[:80]!r}")
    for _, count in (want_failed - failed).items():
        result.violate(EXACTLY_ONCE, f"{count} record(s) neither stored nor under partitioning-failed")
    for _, count in (failed - want_failed).items():
        result.violate(EXACTLY_ONCE, f"{count} partitioning-failed record(s) whose keys could be computed")
    for e in lake.errors:
        if e.output_type not in _QUERY_ERROR_TYPES:
            result.violate(EXACTLY_ONCE, f"{e.key}: a {e.output_type} record in jq mode")
    for line in lake.lines:
        keys = expected_keys(line.values[record_column])
        if keys is not None and line.partition != keys:
            result.violate(PARTITION, f"{line.key}: a record of partition {keys}")
    if over_limit:
        result.affected.append(
            Affected(
                what="more partitions open at once than the active-partition limit",
                where=f"{ErrorOutputType.ACTIVE_PARTITION_EXCEEDED}, original bytes",
                count=len(over_limit),
                recoverable=len(over_limit),
                examples=tuple(e.key for e in over_limit[:3]),
            )
        )
    if unique is not None:
        _check_view(sent, stored, unique, result)
    if backup_enabled:
        check_backup(list(sent), lake, result)
    return result


def _fingerprint(event: dict[str, Any]) -> tuple[str, str, float]:
    return (str(event["event_uuid"]).lower(), event["event_name"], float(event["created_at"]))


def _check_view(
    sent: Sequence[Sent], stored: Counter[bytes], unique: Sequence[dict[str, Any]], result: InvariantResult
) -> None:
    """One view row per distinct valid event (uuid, name, time), holding one of its copies (a text line: the
    record less its newline terminator), with the fields the view computes from it."""
    events: dict[tuple[str, str, float], set[bytes]] = defaultdict(set)
    for s in sent:
        if s.expect is not Expect.MALFORMED and stored[s.data]:
            events[_fingerprint(json.loads(s.data))].add(s.data.removesuffix(b"\n"))
    seen: Counter[tuple[str, str, float]] = Counter()
    for row in unique:
        record = row.get("record")
        data = record.encode("utf-8") if isinstance(record, str) else b""
        try:
            event = json.loads(data)
            key = _fingerprint(event)
        except (ValueError, KeyError, TypeError):
            continue  # a malformed record the query could evaluate: stored, never promised a view row
        if key not in events:
            continue
        seen[key] += 1
        if data not in events[key]:
            result.violate(UNIQUE_VIEW, f"event {key[0]}: the view's record is none of its copies")
        name_parts = event["event_name"].split(":")
        subtype = name_parts[1] if len(name_parts) > 1 else None
        moment = datetime.fromtimestamp(float(event["created_at"]), tz=UTC).replace(tzinfo=None)
        computed = row.get("created_datetime")
        if row.get("event_uuid") != event["event_uuid"] or row.get("event_subtype") != subtype:
            result.violate(ROW_CONTENT, f"event {key[0]}: the view's event_uuid or event_subtype is wrong")
        if not isinstance(computed, datetime) or abs((computed - moment).total_seconds()) >= 0.001:
            result.violate(ROW_CONTENT, f"event {key[0]}: created_datetime {computed!r} is not {moment}")
    for key in events:
        if seen[key] != 1:
            result.violate(UNIQUE_VIEW, f"event {key[0]}: {seen[key]} rows in the unique-events view")
