"""What a run sent, kept beside its lake mirror, so ``eventlake check`` can re-check the lake later without
re-running anything: the producer's ledger, the Lambda's rejection log, the faults that were injected, and
which processor wrote the lake (so the check applies that mode's invariant)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from eventlake.checks.invariant import Faults, Rejections
from eventlake.traffic.producer import Sent
from eventlake.traffic.sample_events import Expect
from glue import marks
from glue.errors import Reject
from glue.marks import DedupeMode
from infra.settings import PROCESSOR_LAMBDA, Settings, SettingsError

RUN_RECORD = ".eventlake-run.jsonl"  # a dot file: the mirror's listing of lake objects skips it
VERSION = 1


@dataclass(frozen=True)
class RunRecord:
    stack: str
    sent: list[Sent]
    rejections: dict[tuple[str, str, int], list[str]]
    faults: Faults
    dedupe: DedupeMode
    backup_enabled: bool
    # ``lambda`` or ``jq`` (infra.settings.PROCESSORS); a record written before the field existed takes its
    # stack file's setting.
    processor: str = PROCESSOR_LAMBDA
    compacted: bool = False  # the demo compacted every partition before the record was written
    locations: tuple[str, ...] = ()  # compacted: the table's partition locations, as its catalog reads them


def write(
    root: Path,
    *,
    stack: str,
    sent: Sequence[Sent],
    rejections: Rejections,
    faults: Faults,
    dedupe: DedupeMode,
    backup_enabled: bool,
    processor: str = PROCESSOR_LAMBDA,
    compacted: bool = False,
    locations: Sequence[str] = (),
) -> Path:
    """One header line, then one line per record sent (its bytes base64-encoded)."""
    header = {
        "version": VERSION,
        "stack": stack,
        "dedupe": dedupe.name,
        "compacted": compacted,
        "locations": sorted(locations),
        "backup_enabled": backup_enabled,
        "processor": processor,
        "rejections": [[shard, seq, sub, list(reasons)] for (shard, seq, sub), reasons in rejections.items()],
        "faults": {
            "invocations": faults.invocations,
            "dedupe": faults.dedupe,
            "concurrent": faults.concurrent,
            "conversion": sorted(list(x) for x in faults.conversion),
            "redelivered": sorted(list(x) for x in faults.redelivered),
        },
    }
    path = root / RUN_RECORD
    with path.open("w") as out:  # line by line: a production hour's million records never sit in one string
        out.write(json.dumps(header) + "\n")
        for s in sent:
            out.write(_line(s) + "\n")
    return path


def _line(s: Sent) -> str:
    return json.dumps(
        {
            "index": s.index,
            "data": base64.b64encode(s.data).decode("ascii"),
            "partition_key": s.partition_key,
            "expect": s.expect.value,
            "reason": s.reason.value if s.reason else None,
            "event_uuid": s.event_uuid,
            "shard_id": s.shard_id,
            "sequence_number": s.sequence_number,
            "resent_batch": s.resent_batch,
            "subsequence_number": s.subsequence_number,
            "aggregated": s.aggregated,
        }
    )


def read(root: Path) -> RunRecord | None:
    path = root / RUN_RECORD
    if not path.exists():
        return None
    first, *rest = path.read_text().splitlines()
    header = json.loads(first)
    if header.get("version") != VERSION:
        raise ValueError(f"{path} is version {header.get('version')}, this eventlake reads {VERSION}")
    faults: Mapping = header["faults"]
    return RunRecord(
        stack=header["stack"],
        sent=[_sent(json.loads(line)) for line in rest if line],
        rejections={_lineage(entry[:-1]): list(entry[-1]) for entry in header["rejections"]},
        faults=Faults(
            invocations=faults["invocations"],
            dedupe=faults["dedupe"],
            concurrent=faults["concurrent"],
            conversion=frozenset(_lineage(x) for x in faults["conversion"]),
            redelivered=frozenset(_lineage(x) for x in faults["redelivered"]),
        ),
        dedupe=_dedupe(header),
        backup_enabled=header["backup_enabled"],
        processor=header.get("processor") or _stack_processor(header["stack"]),
        compacted=bool(header.get("compacted")),
        locations=tuple(header.get("locations") or ()),
    )


def _lineage(values: Sequence) -> tuple[str, str, int]:
    """(shard, sequence, subsequence); a record from before subsequence numbers names two (0: put alone)."""
    shard, sequence, *rest = values
    return str(shard), str(sequence), int(rest[0]) if rest else 0


def _dedupe(header: Mapping) -> DedupeMode:
    """The run's dedupe mode; a record from before the modes says ``dedupe_enabled`` (true was claims)."""
    if "dedupe" in header:
        return marks.mode(header["dedupe"])
    return marks.CLAIMS if header.get("dedupe_enabled", True) else marks.OFF


def recorded_processor(root: Path) -> str | None:
    """The processor of the run whose record is beside ``root`` (its header line only), or None."""
    path = root / RUN_RECORD
    if not path.exists():
        return None
    with path.open() as lines:
        header = json.loads(lines.readline())
    return header.get("processor") or _stack_processor(header["stack"])


def _stack_processor(stack: str) -> str:
    """The processor a stack file sets (the run's own was not recorded); the default without a stack file."""
    try:
        return Settings.from_stack_file(stack).processor
    except SettingsError:
        return PROCESSOR_LAMBDA


def _sent(item: Mapping) -> Sent:
    return Sent(
        index=item["index"],
        data=base64.b64decode(item["data"]),
        partition_key=item["partition_key"],
        expect=Expect(item["expect"]),
        reason=Reject(item["reason"]) if item["reason"] else None,
        event_uuid=item["event_uuid"],
        shard_id=item["shard_id"],
        sequence_number=item["sequence_number"],
        resent_batch=item["resent_batch"],
        subsequence_number=int(item.get("subsequence_number") or 0),
        aggregated=bool(item.get("aggregated")),
    )
