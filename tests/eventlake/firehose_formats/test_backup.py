"""Raw source backup objects: written as the spec's compression says, read back by extension."""

from __future__ import annotations

import pytest

from eventlake.firehose_formats import backup
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings

RECORDS = [b'{"a":1}\n', b"\xff\x00 not json\n", b'{"b":2}\n']


@pytest.mark.parametrize("compression", ["GZIP", "UNCOMPRESSED"])
def test_backup_round_trips_the_exact_bytes(compression: str) -> None:
    body = backup.encode(RECORDS, compression)
    key = "raw/2026/11/25/13/stream-1-2026-11-25-13-00-00-x" + backup.EXTENSIONS[compression]
    assert backup.decode(body, key) == b"".join(RECORDS)
    assert (body[:2] == b"\x1f\x8b") == (compression == "GZIP")


def test_the_deployed_backup_compression_is_one_the_model_writes() -> None:
    spec = DeliverySpec.from_settings(Settings.from_stack_file("prod"))
    assert spec.backup_compression in backup.EXTENSIONS


def test_unknown_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="SNAPPY"):
        backup.encode(RECORDS, "SNAPPY")
