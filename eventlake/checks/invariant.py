"""THE INVARIANT: every record the producer sent is in the lake exactly once, and correct.

Exactly once means: one Parquet row (found by its Kinesis shard, sequence number and subsequence number,
which the Lambda writes into every row: the user records of one KPL aggregate share the first two), or one
error record (``processing-failed`` records carry the producer's
original bytes; the later stages carry the Lambda's output, which names the source record). Beyond
that: each row's fields are what the Lambda must derive from the record (uuid, name, subtype, both
event times, lineage, arrival, the type-specific payload compared type-strictly), each row sits in the
partition of its own event type and event hour, each malformed record was rejected, with exactly one
log line, for the reason the producer built into it, the unique-events view holds exactly one row per
delivered valid event (its earliest-arriving copy), the dedupe marks say what the stack's dedupe mode
promises (``glue.marks``; with claims, exact by expectation without faults: the first copy ``false``, every
later copy ``true``, ``null`` only when the store was failing; once the lake is compacted, exact in every
mode that marks: the earliest-arriving copy ``false``, every other ``true``; never ``uuid_reused`` for ids
the producer never reused), and the raw backup holds every Kinesis record as sent (an aggregate whole).

Where AWS's documented behaviour makes a guarantee impossible (a batch whose every invocation
attempt failed, a record the converter rejected, a partition over the active limit), the record is
*affected*, not a violation: the result says what happened, how many, where they went and whether
the original bytes can be recovered from the raw backup.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from aws_contract import kpl_aggregation
from eventlake.checks.lake_contents import ErrorLine, LakeContents, RecoveredLine, Row, column_values
from eventlake.traffic.producer import Sent, kinesis_records
from eventlake.traffic.sample_events import Expect
from glue import marks, schema
from glue.errors import ErrorCode, ErrorOutputType
from glue.marks import DedupeMode

# A record sent: (shard, sequence number, subsequence number); the user records of one aggregate share the
# first two, a record put on its own is subsequence 0.
Lineage = tuple[str, str, int]
# The Lambda's LogMessage.RECORD_REJECTED log lines by source record: one reason per line.
Rejections = Mapping[Lineage, Sequence[str]]
MAX_LISTED = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The checks, in the order the report lists them.
EXACTLY_ONCE = "every record exactly once, as a row or an error record"
ROW_CONTENT = "rows keep uuid, name, subtype, times, lineage and the exact payload"
PARTITION = "rows sit in their event type + event hour partition"
REJECTION = "malformed records rejected once, for the reason they were built with"
UNIQUE_VIEW = "unique-events view: one row per delivered event, its first arrival"
ORIGINALS = "one is_duplicate=false row per distinct valid event_uuid"
FIRST_COPY = "is_duplicate=false is the first copy to arrive"
BACKUP = "raw backup holds every Kinesis record as sent"
CHECKS = (EXACTLY_ONCE, ROW_CONTENT, PARTITION, REJECTION, UNIQUE_VIEW, ORIGINALS, FIRST_COPY, BACKUP)
# What the unique-events view returned: (lower-cased event_uuid, (source shard, source sequence number)): its
# Kinesis record (copies of an event in one aggregate are the same row but for their marks).
UniqueRows = Sequence[tuple[str, tuple[str, str]]]


def unique_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[tuple[str, tuple[str, str]]]:
    """The unique-events view's result as the invariant reads it: (lower-cased event_uuid, lineage)."""
    at = {name: i for i, name in enumerate(columns)}
    return [
        (str(r[at["event_uuid"]]).lower(), (r[at["source_shard_id"]], r[at["source_sequence_number"]]))
        for r in rows
    ]


@dataclass(frozen=True)
class Affected:
    what: str
    where: str
    count: int
    recoverable: int  # how many have their original bytes in the raw backup
    examples: tuple[str, ...]


@dataclass
class InvariantResult:
    records: int = 0
    rows: int = 0
    error_records: int = 0
    violations: list[str] = field(default_factory=list)  # the first MAX_LISTED, for the report
    failed_checks: Counter[str] = field(default_factory=Counter)
    affected: list[Affected] = field(default_factory=list)
    # The first MAX_LISTED violations of each check: what a report lists beside that check.
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def violation_count(self) -> int:
        return sum(self.failed_checks.values())

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def violate(self, check: str, message: str) -> None:
        self.failed_checks[check] += 1
        if len(self.violations) < MAX_LISTED:
            self.violations.append(message)
        if len(self.examples[check]) < MAX_LISTED:
            self.examples[check].append(message)


@dataclass(frozen=True)
class Faults:
    """Which faults were injected: what they cause is reported, not counted as a violation."""

    invocations: bool = False
    dedupe: bool = False
    conversion: frozenset[Lineage] = frozenset()  # records whose transformed bytes were corrupted
    concurrent: bool = False  # up to five invocations per shard at once: any copy may win the claim
    redelivered: frozenset[Lineage] = frozenset()  # records Firehose processed and delivered twice


@dataclass(frozen=True, slots=True)
class _RowFacts:
    """What the checks need of one row once it has been read: its content findings (``_check_row``'s, made
    as the row streams by, reported only if the record turns out to be in the lake exactly once, as before)
    and the marks and arrival the dedupe and view checks compare. The row itself is not kept."""

    is_duplicate: Any
    uuid_reused: Any
    arrival_ms: int | None
    findings: tuple[tuple[str, str], ...]
    lineage: Lineage  # the row's own Kinesis record (a re-sent copy's, for a record reprocess sent again)
    key: str  # the object the row is in, named by every violation about it (one string per object)

    @classmethod
    def of(cls, row: Row, s: Sent) -> _RowFacts:
        values = row.values
        findings = () if s.expect is Expect.MALFORMED else _row_findings(s, row, f"{_label(s)} in {row.key}")
        return cls(
            values.get("is_duplicate"),
            values.get("uuid_reused"),
            _instant_ms(values.get("source_arrival_datetime")),
            findings,
            s.lineage,
            row.key,
        )


@dataclass(slots=True)
class _Place:
    kind: str  # "row" or an error output type
    row: _RowFacts | None = None
    error: ErrorLine | None = None

    @property
    def key(self) -> str:
        """The object this copy of the record is in."""
        return self.row.key if self.row is not None else self.error.key if self.error is not None else ""


def check(
    sent: list[Sent],
    lake: LakeContents,
    *,
    rejections: Rejections,
    dedupe: DedupeMode,
    backup_enabled: bool,
    faults: Faults = Faults(),
    unique: UniqueRows | None = None,
    compacted: bool = False,
) -> InvariantResult:
    """``compacted``: ``lake.rows`` are the table as its catalog reads it after every partition was compacted,
    so the marks must be exact whatever the faults."""
    result = InvariantResult(records=len(sent), rows=len(lake.rows), error_records=len(lake.errors))
    by_lineage = {s.lineage: s for s in sent}
    # Records ``eventlake reprocess`` sent again: each re-sent Kinesis record stands for the one it recovers.
    recovery = _Recovery.follow(sent, lake, result)
    logged: dict[Lineage, list[str]] = defaultdict(list)
    for lineage, reasons in rejections.items():
        if lineage not in by_lineage and lineage not in recovery.as_sent:
            result.violate(REJECTION, f"{len(reasons)} rejection log line(s) name no sent record {lineage}")
        logged[recovery.original(lineage)].extend(reasons)
    places: dict[Lineage, list[_Place]] = defaultdict(list)

    for row in lake.rows:  # one pass; only each row's facts are kept
        lineage = row.lineage
        sent_record = by_lineage.get(lineage) or recovery.as_sent.get(lineage)
        if sent_record is None:
            result.violate(EXACTLY_ONCE, f"row in {row.key} matches no sent record")
            continue
        # Keyed by the ledger's strings, not the row's copies: a production hour keeps a million of these.
        original = by_lineage[recovery.original(sent_record.lineage)].lineage
        places[original].append(_Place("row", row=_RowFacts.of(row, sent_record)))

    unattributed: list[ErrorLine] = []
    for line in lake.errors:
        if line.output_type == ErrorOutputType.PROCESSING_FAILED:
            unattributed.append(line)
            continue
        lineage = _transformed_lineage(line.record.raw)
        if lineage is not None:
            lineage = recovery.original(lineage)
        if lineage is None or lineage not in by_lineage:
            result.violate(EXACTLY_ONCE, f"{line.output_type} record in {line.key} names no sent record")
            continue
        places[lineage].append(_Place(line.output_type, error=line))

    # processing-failed records carry the original bytes only: match them to unplaced sent records.
    waiting: dict[bytes, list[Sent]] = defaultdict(list)
    for s in sent:
        if s.lineage not in places:
            waiting[s.data].append(s)
    again: dict[bytes, list[Sent]] = defaultdict(list)  # redelivered records: their second error record
    for s in sent:
        if s.lineage in faults.redelivered:
            again[s.data].append(s)
    for line in unattributed:
        candidates = waiting.get(line.record.raw)
        if candidates:
            places[candidates.pop(0).lineage].append(_Place(line.output_type, error=line))
        elif pending := again.get(line.record.raw):
            # Copies of one event share their bytes (in one aggregate, often one batch): the copy still short
            # of its second delivery takes it.
            pick = next((c for c in pending if len(places.get(c.lineage, [])) < 2), pending[0])
            pending.remove(pick)
            places[pick.lineage].append(_Place(line.output_type, error=line))
        else:
            result.violate(EXACTLY_ONCE, f"processing-failed {line.key} matches no undelivered record")

    affected: dict[tuple[str, str], list[Sent]] = defaultdict(list)
    for s in sent:
        found = places.get(s.lineage, [])
        if len(found) == 2 and s.lineage in faults.redelivered and found[0].kind == found[1].kind:
            what = "processed twice: Firehose redelivered its batch (at least once); the view keeps one row"
            affected[(what, f"two {found[0].kind} records, same source record")].append(s)
            found = found[:1]
        elif len(found) == 2 and s.lineage in faults.redelivered:
            # Each delivery of a redelivered batch met its own fate: one landed and a fault hit the other (or
            # faults hit both). Both copies are checked; the row, if any, is the one the marks checks read.
            what = "processed twice: Firehose redelivered its batch, and a fault hit one delivery"
            affected[(what, " and ".join(sorted(p.kind for p in found)))].append(s)
            found.sort(key=lambda p: p.row is None)
            _check_place(s, found[1], logged.get(s.lineage, []), faults, result, affected)
            found = found[:1]
        if len(found) != 1:
            where = ", ".join(sorted(p.kind for p in found)) or "nowhere"
            objects = f" (in {', '.join(sorted(p.key for p in found))})" if found else _where_missing(s, lake)
            result.violate(
                EXACTLY_ONCE, f"record #{s.index} ({s.expect}) found {len(found)} times: {where}{objects}"
            )
            continue
        _check_place(s, found[0], logged.get(s.lineage, []), faults, result, affected)

    if compacted and dedupe.compaction_marks:
        _check_exact_marks(sent, places, result)
    elif dedupe.claims_table:
        _check_duplicates(sent, places, faults, result, affected)
    else:
        _check_unclaimed_marks(sent, places, dedupe, faults, result)
    if unique is not None:
        _check_unique_view(sent, places, unique, result)
    if backup_enabled:
        check_backup(sent, lake, result, recovery.resent_bytes())

    originals = backed_up_records(lake.backed_up) if affected else Counter()
    for (what, where), records in affected.items():
        result.affected.append(
            Affected(
                what=what,
                where=where,
                count=len(records),
                recoverable=sum(1 for s in records if originals[s.data] > 0),
                examples=tuple(_where_sent(s) for s in records[:3]),
            )
        )
    return result


@dataclass
class _Recovery:
    """What ``eventlake reprocess`` sent again (``lake.recovered``, from its ``.reprocessed.json`` records):
    each re-sent Kinesis record (its lineage) and the ledger's record it recovers, followed through chains
    (a re-sent record that failed and was recovered again)."""

    as_sent: dict[Lineage, Sent] = field(default_factory=dict)  # re-sent lineage -> it, as a Sent
    origin: dict[Lineage, Lineage] = field(default_factory=dict)  # re-sent lineage -> the ledger's

    def original(self, lineage: Lineage) -> Lineage:
        return self.origin.get(lineage, lineage)

    def resent_bytes(self) -> Counter[bytes]:
        return Counter(s.data for s in self.as_sent.values())

    @classmethod
    def follow(cls, sent: list[Sent], lake: LakeContents, result: InvariantResult) -> _Recovery:
        found = cls()
        lines = [r for r in lake.recovered if r.outcome == "resent"]
        if not lines:
            return found
        by_lineage = {s.lineage: s for s in sent}
        # A processing-failed line names no record: it recovers one that sent those bytes and has no row.
        with_rows = set(
            (shard, sequence, subsequence or 0)
            for shard, sequence, subsequence in zip(
                column_values(lake.rows, "source_shard_id"),
                column_values(lake.rows, "source_sequence_number"),
                column_values(lake.rows, "source_subsequence_number"),
                strict=True,
            )
        )
        # Records an error record of a stage after the Lambda names (recovered or not): never anonymous.
        named_elsewhere = {
            _transformed_lineage(line.record.raw)
            for line in (*lake.recovered, *lake.errors)
            if line.output_type != ErrorOutputType.PROCESSING_FAILED
        }
        by_bytes: dict[bytes, list[Lineage]] = defaultdict(list)
        for s in sent:
            if s.lineage not in with_rows and s.lineage not in named_elsewhere:
                by_bytes[s.data].append(s.lineage)
        waiting = sorted(lines, key=lambda r: r.key)  # by arrival hour: a chain's links in order
        while waiting:
            line, waiting = waiting[0], waiting[1:]
            named = cls._named(line, by_bytes)
            later = named is not None and named not in by_lineage and named not in found.origin
            if later and any(named == r.lineage for r in waiting):  # its own recovery comes later: after it
                waiting.append(line)
                continue
            if named is None or found.original(named) not in by_lineage or line.lineage is None:
                result.violate(EXACTLY_ONCE, f"recovered record in {line.key} names no sent record")
                continue
            original = by_lineage[found.original(named)]
            again = dataclasses.replace(
                original,
                data=line.data or original.data,
                shard_id=line.lineage[0],
                sequence_number=line.lineage[1],
                subsequence_number=line.lineage[2],
                aggregated=False,
            )
            found.as_sent[line.lineage] = again
            found.origin[line.lineage] = original.lineage
            if line.lineage not in with_rows and line.lineage not in named_elsewhere:
                by_bytes[again.data].append(line.lineage)  # failed again: a later recovery names it by bytes
        return found

    @staticmethod
    def _named(line: RecoveredLine, by_bytes: dict[bytes, list[Lineage]]) -> Lineage | None:
        if line.output_type != ErrorOutputType.PROCESSING_FAILED:
            return _transformed_lineage(line.record.raw)
        waiting = by_bytes.get(line.record.raw)
        return waiting.pop(0) if waiting else None


def _transformed_lineage(raw: bytes) -> Lineage | None:
    try:
        row = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(row, dict):
        return None
    subsequence = row.get("source_subsequence_number")
    return (
        str(row.get("source_shard_id")),
        str(row.get("source_sequence_number")),
        subsequence if isinstance(subsequence, int) and not isinstance(subsequence, bool) else 0,
    )


def _check_place(
    s: Sent,
    place: _Place,
    logged: list[str],
    faults: Faults,
    result: InvariantResult,
    affected: dict[tuple[str, str], list[Sent]],
) -> None:
    label = f"{_label(s)} in {place.key}"
    if s.expect is not Expect.MALFORMED and logged:
        result.violate(REJECTION, f"{label}: valid but logged as rejected ({', '.join(logged)})")
    if s.expect is Expect.MALFORMED and any(reason != str(s.reason) for reason in logged):
        result.violate(REJECTION, f"{label}: logged as rejected for {', '.join(logged)}, not {s.reason}")
    if place.row is not None:
        if s.expect is Expect.MALFORMED:
            result.violate(REJECTION, f"{label}: malformed ({s.reason}) but delivered as a row")
        else:
            for check_name, message in place.row.findings:
                result.violate(check_name, message)
        return
    assert place.error is not None
    record = place.error.record
    kind = place.kind
    if kind == ErrorOutputType.PROCESSING_FAILED:
        if record.raw != s.data:
            result.violate(EXACTLY_ONCE, f"{label}: processing-failed rawData differs from the bytes sent")
        if record.error_code == ErrorCode.PROCESSING_FAILED_STATUS:
            if s.expect is not Expect.MALFORMED:
                result.violate(
                    REJECTION, f"{label}: valid but rejected ({', '.join(logged) or 'no log line'})"
                )
            elif not logged:
                result.violate(REJECTION, f"{label}: rejected ({s.reason}) without a rejection log line")
            elif len(logged) > 1 and not faults.invocations and s.lineage not in faults.redelivered:
                # A retried invocation runs the function again, and it logs again; nothing else does.
                result.violate(REJECTION, f"{label}: {len(logged)} rejection log lines for one record")
        elif record.error_code == ErrorCode.FUNCTION_ERROR and faults.invocations:
            # Never because of the dedupe store: an outage delivers rows marked "not checked".
            what = "every invocation attempt of its batch failed (injected faults)"
            affected[(what, f"{kind}, {ErrorCode.FUNCTION_ERROR}, original bytes")].append(s)
        else:
            result.violate(EXACTLY_ONCE, f"{label}: processing-failed with {record.error_code}")
        return
    row_names = _transformed_lineage(record.raw) if kind == ErrorOutputType.FORMAT_CONVERSION_FAILED else None
    if row_names is not None and (record.sequence_number, record.subsequence_number) != row_names[1:]:
        # The documented shape names the user record (its aggregate's sequence number, its place in it), as
        # the Lambda's row it carries does.
        result.violate(
            EXACTLY_ONCE,
            f"{label}: {kind} names sequence {record.sequence_number} / subsequence "
            f"{record.subsequence_number}, its row {row_names[1]} / {row_names[2]}",
        )
    if kind == ErrorOutputType.FORMAT_CONVERSION_FAILED and s.lineage in faults.conversion:
        what = "Parquet conversion rejected its transformed bytes (injected +00:00 timestamp)"
        affected[(what, f"{kind}, {record.error_code}, transformed bytes; original in raw backup")].append(s)
    elif kind == ErrorOutputType.ACTIVE_PARTITION_EXCEEDED:
        what = "more partitions open at once than the active-partition limit"
        affected[(what, f"{kind}, transformed bytes; original in raw backup")].append(s)
    else:
        result.violate(EXACTLY_ONCE, f"{label}: {kind} with {record.error_code}: {record.error_message}")


def _label(s: Sent) -> str:
    return f"record #{s.index} ({_where_sent(s)})"


def _where_sent(s: Sent) -> str:
    """shard/sequence, and /subsequence for a user record of an aggregate."""
    where = f"{s.shard_id}/{s.sequence_number}"
    return f"{where}/{s.subsequence_number}" if s.aggregated else where


def backed_up_records(backed_up: Counter[bytes]) -> Counter[bytes]:
    """The records a raw backup holds, each aggregate's user records on their own (what an error record's
    original bytes are found among)."""
    out: Counter[bytes] = Counter()
    for record, count in backed_up.items():
        users = kpl_aggregation.deaggregate(record)
        for data in [record] if users is None else [u.data for u in users]:
            out[data] += count
    return out


def _in(keys: Any, lead: str = "in ", listed: int = 3) -> str:
    """`` (in k1, k2, and 3 more)``: the objects a violation is about, or nothing."""
    names = sorted(set(keys))
    if not names:
        return ""
    more = f", and {len(names) - listed} more" if len(names) > listed else ""
    return f" ({lead}{', '.join(names[:listed])}{more})"


def _where_missing(s: Sent, lake: LakeContents) -> str:
    """Where a record found nowhere belongs (its partition's folder, or its error type's), and the objects
    there the mirror wrote that are gone since (``lake.missing``): the deleted object behind the violation."""
    if s.expect is Expect.MALFORMED:
        folder = f"{schema.ERROR_ROOT}{ErrorOutputType.PROCESSING_FAILED.value}/"
    else:
        try:
            event = json.loads(s.data)
            folder = schema.partition_folder(
                schema.partition_values(event["event_name"].split(":")[0], event["created_at"])
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return ""
    gone = [k for k in lake.missing if k.startswith(folder)]
    return _in(gone, "deleted since mirrored: ") if gone else f" (expected under {folder})"


def _row_findings(s: Sent, row: Row, label: str) -> tuple[tuple[str, str], ...]:
    """The row's violations (check, message): its fields are what the Lambda must derive from the record,
    and it sits in its own partition."""
    findings: list[tuple[str, str]] = []
    sent_event = json.loads(s.data)
    values = row.values
    created = sent_event["created_at"]
    name_parts = sent_event["event_name"].split(":")
    expected_partition = schema.partition_values(name_parts[0], created)
    problems = []
    if values.get("event_uuid") != sent_event["event_uuid"]:
        problems.append("event_uuid differs")
    if values.get("event_name") != sent_event["event_name"]:
        problems.append("event_name differs")
    subtype = name_parts[1] if len(name_parts) > 1 else None
    if values.get("event_subtype") != subtype:
        problems.append(f"event_subtype {values.get('event_subtype')!r} != {subtype!r}")
    created_at = values.get("created_at")
    if type(created_at) is not int or created_at != math.floor(created):
        problems.append(f"created_at {created_at!r} != {math.floor(created)}")
    # The instant as sent, exactly (the JSON text, not a float), cut to the millisecond as the Lambda does.
    exact = created if type(created) is int else json.loads(s.data, parse_float=Decimal)["created_at"]
    sent_ms = math.floor(Decimal(exact) * 1000)
    stored_ms = _instant_ms(values.get("created_datetime"))
    if stored_ms != sent_ms:
        problems.append(
            f"created_datetime {values.get('created_datetime')!r} is not created_at {created} (UTC, ms)"
        )
    if (
        values.get("source_shard_id") != s.shard_id
        or values.get("source_sequence_number") != s.sequence_number
        or values.get("source_subsequence_number") != s.subsequence_number
    ):
        problems.append("source_shard_id/sequence/subsequence numbers differ from the record's lineage")
    if _instant_ms(values.get("source_arrival_datetime")) is None:
        problems.append(
            f"source_arrival_datetime {values.get('source_arrival_datetime')!r} is not a timestamp"
        )
    remainder = {k: v for k, v in sent_event.items() if k not in schema.INPUT_FIELDS}
    payload: Any = values.get("payload")
    if not isinstance(payload, str) or not same_json(_json_or_none(payload), remainder):
        problems.append("payload differs from the type-specific fields sent")
    if row.partition != expected_partition:
        findings.append((PARTITION, f"{label}: in partition {row.partition}, expected {expected_partition}"))
    if problems:
        findings.append((ROW_CONTENT, f"{label}: " + "; ".join(problems)))
    return tuple(findings)


def same_json(a: Any, b: Any) -> bool:
    """``canonical_json(a) == canonical_json(b)``, by orjson's sorted-key encoding where it is as strict: it
    tells ``1``, ``1.0`` and ``true`` apart too, but writes NaN and infinities as ``null`` (so any ``null`` is
    decided by ``json``) and refuses integers beyond 64 bits and lone surrogates (decided by ``json`` too)."""
    try:
        encoded_a = orjson.dumps(a, option=orjson.OPT_SORT_KEYS)
        encoded_b = orjson.dumps(b, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is one
        return canonical_json(a) == canonical_json(b)
    if b"null" in encoded_a or b"null" in encoded_b:
        return canonical_json(a) == canonical_json(b)
    return encoded_a == encoded_b


def canonical_json(value: Any) -> str:
    """Type-strict JSON: ``1``, ``1.0`` and ``true`` differ here (Python's ``==`` calls them equal)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _instant_ms(value: Any) -> int | None:
    """A Parquet timestamp (zoneless, i.e. UTC) as epoch milliseconds; None if it is not one, or finer."""
    if not isinstance(value, datetime) or value.microsecond % 1000:
        return None
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _valid_copies(sent: list[Sent]) -> dict[str, list[Sent]]:
    """The copies of each valid event, by lower-cased id, in the order they were sent."""
    by_uuid: dict[str, list[Sent]] = defaultdict(list)
    for s in sent:
        if s.expect is not Expect.MALFORMED and s.event_uuid:
            by_uuid[s.event_uuid.lower()].append(s)
    for copies in by_uuid.values():
        copies.sort(key=lambda c: c.index)
    return by_uuid


def _check_exact_marks(
    sent: list[Sent], places: dict[Lineage, list[_Place]], result: InvariantResult
) -> None:
    """After compaction, in every mode that marks (``glue.marks``): per valid event, its earliest-arriving row
    (``ARRIVAL_ORDER``: arrival, shard, sequence and subsequence numbers) is the one ``false`` row and every
    other row, the same record stored twice included, is ``true``; ``uuid_reused`` is false (the producer
    never reuses an id)."""
    for event_id, copies in _valid_copies(sent).items():
        rows = [
            (
                (
                    p.row.arrival_ms is None,
                    p.row.arrival_ms or 0,
                    p.row.lineage[0],
                    len(p.row.lineage[1]),
                    p.row.lineage[1],
                    p.row.lineage[2],
                ),
                p.row,
            )
            for s in copies
            for p in places.get(s.lineage, [])
            if p.row is not None
        ]
        if not rows:
            continue
        rows.sort(key=lambda item: item[0])
        originals = [(order, row.key) for order, row in rows if row.is_duplicate is False]
        if len(originals) != 1:
            where = _in(k for _, k in originals)
            message = f"event {event_id}: {len(originals)} rows marked is_duplicate = false{where}"
            result.violate(ORIGINALS, message)
        elif originals[0][0] != rows[0][0]:
            result.violate(
                FIRST_COPY,
                f"event {event_id}: is_duplicate = false ({originals[0][1]}) is not its earliest arrival "
                f"({rows[0][1].key})",
            )
        for _, row in rows:
            if row.is_duplicate is None or row.uuid_reused is not False:
                result.violate(
                    FIRST_COPY,
                    f"event {event_id}: marks ({row.is_duplicate!r}, {row.uuid_reused!r}) after compaction "
                    f"in {row.key}",
                )


def _check_unclaimed_marks(
    sent: list[Sent],
    places: dict[Lineage, list[_Place]],
    dedupe: DedupeMode,
    faults: Faults,
    result: InvariantResult,
) -> None:
    """Before compaction, without a claims table (``glue.marks``): ``off`` writes no marks; ``compaction``
    marks only repeats within a batch (``true``), so a first copy sent is never ``true`` (unless invocations
    raced or failed) and nothing is ``false``: every other row waits, ``null``, for its partition's
    compaction."""
    ordered = not (faults.invocations or faults.concurrent)
    for event_id, copies in _valid_copies(sent).items():
        for s in copies:
            for place in places.get(s.lineage, [])[:1]:
                row = place.row
                if row is None:
                    continue
                marks_of_row = (row.is_duplicate, row.uuid_reused)
                label = f"record #{s.index} ({s.expect}, event {event_id}) in {row.key}"
                allowed = {marks.UNCHECKED} | ({marks.REPEAT} if dedupe.batch_marks else set())
                if marks_of_row not in allowed:
                    result.violate(FIRST_COPY, f"{label}: marks {marks_of_row!r} with dedupe {dedupe}")
                elif ordered and s.expect is Expect.VALID and row.is_duplicate:
                    result.violate(FIRST_COPY, f"{label}: the first copy is marked duplicate")


def _check_duplicates(
    sent: list[Sent],
    places: dict[Lineage, list[_Place]],
    faults: Faults,
    result: InvariantResult,
    affected: dict[tuple[str, str], list[Sent]],
) -> None:
    """Per valid event id, the marks the handler promises with a claims table (``dedupe: claims``).

    Every copy of an event has the same partition key, so the same shard, and the ledger's order is the
    shard's order. Without invocation, store or concurrency faults every claim is decided in that order, so
    the first copy sent (``Expect.VALID``) is ``false`` and every later copy (``Expect.DUPLICATE``) is
    ``true``. With concurrent invocations any copy may win, but exactly one row is ``false``. With a failing
    store, rows may be ``null`` (not checked) and nothing is lost. The producer never reuses an id, so
    ``uuid_reused`` is never true.
    """
    ordered = not (faults.invocations or faults.dedupe or faults.concurrent)
    for event_id, copies in _valid_copies(sent).items():
        delivered = [(s, p.row) for s in copies for p in places.get(s.lineage, [])[:1] if p.row is not None]
        for s, row in delivered:
            flag, reused = row.is_duplicate, row.uuid_reused
            label = f"record #{s.index} ({s.expect}, event {event_id}) in {row.key}"
            if flag is None and not faults.dedupe:
                result.violate(FIRST_COPY, f"{label}: is_duplicate is null without a dedupe-store fault")
            elif flag is not None and not isinstance(flag, bool):
                result.violate(FIRST_COPY, f"{label}: is_duplicate is {flag!r}")
            elif reused is True or (reused is None) != (flag is None):
                result.violate(FIRST_COPY, f"{label}: uuid_reused is {reused!r} beside is_duplicate {flag!r}")
            elif ordered and s.expect is Expect.VALID and flag:
                result.violate(FIRST_COPY, f"{label}: the first copy is marked duplicate")
            elif ordered and s.expect is Expect.DUPLICATE and not flag:
                result.violate(FIRST_COPY, f"{label}: a later copy is not marked duplicate")
        if delivered and not ordered and any(r.is_duplicate is False for _, r in delivered):
            first, first_row = delivered[0]
            # A first copy the store could not check (null) leaves the id to a later copy; one marked true
            # while a later copy holds the claim is a bug (unless copies raced in concurrent invocations).
            if not faults.concurrent and first_row.is_duplicate is True:
                result.violate(
                    FIRST_COPY,
                    f"event {event_id}: kept a later copy, not the first delivered #{first.index} "
                    f"({first_row.key})",
                )

        rows = [row for _, row in delivered]
        originals = [r for r in rows if r.is_duplicate is False]
        failed = [s for s in copies if any(p.row is None for p in places.get(s.lineage, []))]
        if len(originals) == 1:
            continue
        if not originals and failed:
            if rows:
                what = "marked duplicate of a copy that went to error output (its id was claimed first)"
                where = "rows with is_duplicate = true; the claiming copy is under errors/"
                affected[(what, where)].extend(s for s in copies if s not in failed)
            continue
        if not originals and faults.dedupe and any(r.is_duplicate is None for r in rows):
            what = "not checked: the dedupe store failed, so no copy could claim the id"
            affected[(what, "rows with is_duplicate = null; the unique-events view keeps one")].extend(copies)
            continue
        result.violate(
            ORIGINALS,
            f"event {event_id}: {len(originals)} rows not marked duplicate{_in(r.key for r in originals)}",
        )


def _check_unique_view(
    sent: list[Sent], places: dict[Lineage, list[_Place]], unique: UniqueRows, result: InvariantResult
) -> None:
    """The view is the exact answer whatever the marks say: one row per valid event that has a row, and
    that row is the copy that reached Kinesis first."""
    earliest: dict[str, tuple[Any, ...]] = {}
    for s in sent:
        if s.expect is Expect.MALFORMED or not s.event_uuid:
            continue
        for place in places.get(s.lineage, []):
            if place.row is not None:
                arrival, (shard, sequence, _) = place.row.arrival_ms, place.row.lineage
                order = (arrival, shard, len(sequence), sequence, place.row.lineage)
                event_id = s.event_uuid.lower()
                earliest[event_id] = min(earliest.get(event_id, order), order)
    seen: Counter[str] = Counter(event_id for event_id, _ in unique)
    for event_id, count in seen.items():
        if count != 1:
            result.violate(UNIQUE_VIEW, f"event {event_id}: {count} rows in the unique-events view")
    for event_id in earliest:
        if seen[event_id] == 0:
            result.violate(
                UNIQUE_VIEW, f"event {event_id}: delivered but missing from the unique-events view"
            )
    for event_id, lineage in unique:
        first = earliest.get(event_id)
        if first is None:
            result.violate(UNIQUE_VIEW, f"event {event_id}: in the unique-events view but never delivered")
        elif first[-1][:2] != tuple(lineage):
            result.violate(UNIQUE_VIEW, f"event {event_id}: the view keeps {lineage}, not the first arrival")


def check_backup(
    sent: list[Sent], lake: LakeContents, result: InvariantResult, resent: Counter[bytes] | None = None
) -> None:
    """Every Kinesis record sent (an aggregate whole: ``kinesis_records``), and every one reprocess sent again
    (``resent``, each record on its own), is in the raw backup as sent."""
    expected = kinesis_records(sent) + (resent or Counter())
    missing = expected - lake.backed_up
    extra = lake.backed_up - expected
    if missing:
        gone = [k for k in lake.missing if k.startswith(schema.BACKUP_ROOT)]
        result.violate(BACKUP, f"raw backup is missing {sum(missing.values())} records{_in(gone, 'gone: ')}")
    if extra:
        holding = [k for k, records in lake.backups.items() if any(r in extra for r in records)]
        result.violate(BACKUP, f"raw backup holds {sum(extra.values())} records nobody sent{_in(holding)}")
