"""Fix functions for ``eventlake reprocess --fix`` in the tests: what an operator would write."""

from __future__ import annotations

import json

from eventlake.firehose_formats.error_records import ErrorRecord
from glue.errors import ErrorCode

# The event time a producer forgot to send, as the operator found it in their own records.
FOUND_CREATED_AT = 1_764_054_000


def add_created_at(raw: bytes, record: ErrorRecord) -> bytes | None:
    """Rejected records missing ``created_at`` get it back; other rejected records are kept (None); records
    that only need sending again go as they are."""
    if record.error_code != ErrorCode.PROCESSING_FAILED_STATUS:
        return raw
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(event, dict) or "created_at" in event:
        return None
    event["created_at"] = FOUND_CREATED_AT
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"
