"""Source-record backup: what Firehose writes under the backup prefix, and how.

Firehose backs up every untransformed record it reads, concatenated exactly as the producer sent it
("Firehose concatenates multiple incoming records ... you might want to add a record separator at the
end of each record", basic-deliver.md): it adds no delimiter of its own. The producer here ends every
record with a newline, so the backup is line-splittable. The backup destination has its own
compression (``DeliverySpec.backup_compression``) and uses the stream's buffering hints.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

# Firehose's default extension per S3 compression format (s3-object-name.html).
EXTENSIONS = {"UNCOMPRESSED": "", "GZIP": ".gz"}


def encode(records: Iterable[bytes], compression: str) -> bytes:
    """One backup object: the records' bytes concatenated, compressed as configured."""
    if compression not in EXTENSIONS:
        raise ValueError(f"the local model writes backups as {sorted(EXTENSIONS)}, not {compression}")
    body = b"".join(records)
    return gzip.compress(body, compresslevel=6, mtime=0) if compression == "GZIP" else body


def decode(body: bytes, key: str) -> bytes:
    """The object's extension says how it was written, as it does for anyone reading the bucket."""
    return gzip.decompress(body) if key.endswith(EXTENSIONS["GZIP"]) else body
