"""Compaction as plain data: the compactor Lambda's name, schedule, windows and codec, and the environment
it reads. ``infra/lake_compaction.py`` renders it; no Pulumi here, so the key policy can read it too."""

from __future__ import annotations

from dataclasses import dataclass

from aws_contract import limits
from glue import schema
from infra.athena_spec import RESULTS_ROOT
from infra.log_groups import lambda_log_group
from infra.settings import Settings
from lake_compactor import compaction_handler
from lake_compactor.compaction_plan import SOURCE_TABLE

HANDLER = "lake_compactor.compaction_handler.handler"
LAMBDA_PACKAGE = "lake_compactor"
# The compactor waits on Athena, it does not compute: the least memory, the longest run Lambda allows.
MEMORY_MB = 256


@dataclass(frozen=True)
class CompactionSpec:
    function_name: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    rule_name: str
    schedule: str
    late_window_hours: int
    lookback_hours: int
    compression: str
    source_table: str
    data_root: str
    compacted_root: str
    results_root: str

    @classmethod
    def from_settings(cls, settings: Settings) -> CompactionSpec | None:
        """None when ``compactionEnabled`` is false: nothing is provisioned."""
        if not settings.compaction_enabled:
            return None
        return cls(
            function_name=settings.resource_name("compactor"),
            runtime=settings.lambda_runtime,
            memory_mb=MEMORY_MB,
            timeout_seconds=limits.LAMBDA_MAX_TIMEOUT_S,
            log_retention_days=settings.log_retention_days,
            rule_name=settings.resource_name("compaction-schedule"),
            schedule=settings.compaction_schedule,
            late_window_hours=settings.compaction_late_window_hours,
            lookback_hours=settings.compaction_lookback_hours,
            compression=settings.compaction_compression,
            source_table=SOURCE_TABLE,
            data_root=schema.DATA_ROOT,
            compacted_root=schema.COMPACTED_ROOT,
            results_root=RESULTS_ROOT,
        )

    @property
    def log_group_name(self) -> str:
        return lambda_log_group(self.function_name)

    def environment(self, *, database: str, table: str, bucket: str, workgroup: str) -> dict[str, str]:
        return {
            compaction_handler.ENV_DATABASE: database,
            compaction_handler.ENV_TABLE: table,
            compaction_handler.ENV_SOURCE_TABLE: self.source_table,
            compaction_handler.ENV_BUCKET: bucket,
            compaction_handler.ENV_WORKGROUP: workgroup,
            compaction_handler.ENV_LATE_WINDOW_HOURS: str(self.late_window_hours),
            compaction_handler.ENV_LOOKBACK_HOURS: str(self.lookback_hours),
            compaction_handler.ENV_COMPRESSION: self.compression,
        }


def compaction_log_groups(settings: Settings) -> tuple[str, ...]:
    """The compactor's log group, for the lake key's policy (none when compaction is off)."""
    spec = CompactionSpec.from_settings(settings)
    return (spec.log_group_name,) if spec else ()
