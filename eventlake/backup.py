"""Source-record backup: what Firehose writes under the backup prefix, and how.

Firehose backs up every untransformed record it reads, concatenated exactly as the producer sent it
("Firehose concatenates multiple incoming records ... you might want to add a record separator at the
end of each record", basic-deliver.md): it adds no delimiter of its own. The producer here ends every
record with a newline, so the backup is line-splittable. The backup destination has its own
compression and buffering hints; DeliverySpec does not carry them yet, so they live here, once.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

COMPRESSION = "GZIP"
# Firehose's default extension for GZIP-compressed objects (s3-object-name.html).
EXTENSION = ".gz"


def encode(records: Iterable[bytes]) -> bytes:
    """One backup object: the records' bytes concatenated, gzip-compressed."""
    return gzip.compress(b"".join(records), compresslevel=6, mtime=0)


def decode(body: bytes) -> bytes:
    return gzip.decompress(body)
