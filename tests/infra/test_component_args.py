"""Components take narrow args built from ``Settings`` in one place (``EventLakeArgs.from_settings``):
every setting must reach some component, so a new one cannot be silently ignored."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from infra.lake_bucket import LakeBucketArgs
from infra.pipeline import EventLakeArgs
from infra.settings import Settings

FIELDS = frozenset(f.name for f in fields(Settings))
# Names the stack; read only to default namePrefix and glueDatabase, which the components do read.
# The load a stack declares is read by `eventlake sizing` (tests/infra/test_capacity.py checks each sized
# stack against it), and by a resource only with claimsBillingMode PROVISIONED (the table's auto-scaling
# bounds; tests/infra/test_claims_billing_program.py), not with the default on-demand table checked here.
IDENTITY = {"stack"} | {f for f in FIELDS if f.startswith("expected_")}


class ReadRecordingSettings(Settings):
    """Settings that note every field read, through properties (``stream_name``) and methods too."""

    def __getattribute__(self, name: str) -> Any:
        reads = object.__getattribute__(self, "__dict__").get("reads")
        if reads is not None and name in FIELDS:
            reads.add(name)
        return super().__getattribute__(name)


def fields_read(**values: Any) -> set[str]:
    settings = ReadRecordingSettings(stack="dev", **values)
    reads: set[str] = set()
    object.__setattr__(settings, "reads", reads)  # from here on: construction read every field
    EventLakeArgs.from_settings(settings)
    return reads


def test_every_setting_is_read_by_some_component() -> None:
    assert fields_read(dedupe="claims") == FIELDS - IDENTITY


def test_without_dedupe_there_is_no_claims_table() -> None:
    assert EventLakeArgs.from_settings(Settings(stack="dev", dedupe="off")).claims is None
    assert EventLakeArgs.from_settings(Settings(stack="dev", dedupe="claims")).claims is not None


def test_a_setting_no_component_reads_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def ignores_noncurrent_days(settings: Settings) -> LakeBucketArgs:
        return LakeBucketArgs(
            name_base=settings.resource_name("lake"),
            protect_data=settings.protect_data,
            error_retention_days=settings.error_retention_days,
            backup_retention_days=settings.backup_retention_days,
            backup_archive_days=settings.backup_archive_days,
            noncurrent_version_days=30,
            results_retention_days=settings.athena_results_retention_days,
            superseded_expiry_days=settings.compaction_expiry_days,
            compacts=settings.compacts,
            access_log_bucket_base=settings.resource_name("logs") if settings.access_logging else "",
            access_log_retention_days=settings.access_log_retention_days,
        )

    monkeypatch.setattr(LakeBucketArgs, "from_settings", ignores_noncurrent_days)
    assert FIELDS - IDENTITY - fields_read() == {"noncurrent_version_days"}
