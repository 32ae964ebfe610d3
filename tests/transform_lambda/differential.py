"""The Python paths' answer for a record, the reference the compiled path is held to (the differential tests
in test_hot_path.py and the sanitizer lane's fuzzer, tools/sanitize/fuzz.py)."""

from __future__ import annotations

import base64
from typing import Any

from transform_lambda.events import RecordError, decode, lineage_of, parse_event, stored_row

META = {
    "shardId": "shardId-000000000007",
    "sequenceNumber": "49655373263357467163393349311138426426574112409587572850",
    "approximateArrivalTimestamp": 1_764_072_000_123,
}


def general(record: dict[str, Any], unmarked: bool = False) -> Any:
    """The general path: decode, parse, lineage, stored_row; a rejection as ``("rejected", reason)``."""
    try:
        event = parse_event(decode(record.get("data")))
        data, partition = stored_row(event, lineage_of(record), unmarked)
    except RecordError as exc:
        return ("rejected", exc.reason)
    except UnicodeEncodeError:
        return ("unencodable",)
    except (ValueError, OverflowError):  # an arrival beyond year 9999: the handler fails the record
        return ("failed",)
    return data, {"partitionKeys": partition}, event.event_uuid.lower()


def firehose_record(text: bytes, meta: Any = META) -> dict[str, Any]:
    """One of Firehose's records carrying ``text`` (no ``kinesisRecordMetadata`` when ``meta`` is None)."""
    record: dict[str, Any] = {"recordId": "r", "data": base64.b64encode(text).decode()}
    if meta is not None:
        record["kinesisRecordMetadata"] = meta
    return record
