"""Compaction as plain data: the compactor Lambda's name, schedule, windows and codec, and the environment
it reads. ``infra/lake_compaction.py`` renders it; no Pulumi here, so the key policy can read it too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_contract import limits
from glue import compactor_contract, schema
from glue.compactor_contract import SOURCE_TABLE, SUPERSEDED_TAG
from infra.athena_spec import RESULTS_ROOT
from infra.log_groups import lambda_log_group
from infra.registration_spec import RegistrationSpec
from infra.settings import Settings, reads, settings_args

HANDLER = "lake_compactor.compaction_handler.handler"
LAMBDA_PACKAGE = "lake_compactor"
# The compactor waits on Athena, it does not compute: the least memory, the longest run Lambda allows.
MEMORY_MB = 256
# The bucket is versioned: lifecycle expiry of a current version only adds a delete marker and keeps the bytes
# as a noncurrent version. The stack keeps a superseded object's noncurrent version ``noncurrentVersionDays``,
# as every other object's (the shortest expiration wins, so a shorter one here would undercut the bucket-wide
# rule: whoever could tag could then empty the lake, versions included, in a week). This default is only for
# tests of the rules' mechanics on a bucket of their own; the stack and tests/compaction_lake.py pass the
# stack's ``noncurrentVersionDays``.
SUPERSEDED_NONCURRENT_DAYS = 1
# At most one compactor at a time: two runs at once are safe but race for the same switches (README's limits).
RESERVED_CONCURRENCY = 1
# The roots whose superseded objects expire: originals under the data root, older copies under the compacted.
SUPERSEDED_ROOTS = (("originals", schema.DATA_ROOT), ("copies", schema.COMPACTED_ROOT))


@dataclass(frozen=True)
class CompactionSpec:
    function_name: str
    runtime: str = reads("lambda_runtime")
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int = reads("log_retention_days")
    rule_name: str
    schedule: str = reads("compaction_schedule")
    late_window_hours: int = reads("compaction_late_window_hours")
    lookback_hours: int = reads("compaction_lookback_hours")
    compression: str = reads("compaction_compression")
    source_table: str
    data_root: str
    compacted_root: str
    results_root: str
    mark: bool  # recompute the duplicate marks (glue.marks; the transform's rows only: jq has no marks)
    fingerprint_fields: str = reads("dedupe_fingerprint_fields")
    # A run EventBridge could not invoke, or that failed (no retries: the next run takes up its partitions),
    # is kept in this queue, as the registrar's failures are in its own.
    queue_name: str
    reserved_concurrency: int
    dead_letter_retention_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CompactionSpec | None:
        """None when the stack does not compact (``Settings.compacts``: ``compactionEnabled`` false, or
        ``processor: jq``): nothing is provisioned."""
        if not settings.compacts:
            return None
        function_name = settings.resource_name("compactor")
        registration = RegistrationSpec.from_settings(settings)
        return settings_args(
            cls,
            settings,
            function_name=function_name,
            memory_mb=MEMORY_MB,
            timeout_seconds=limits.LAMBDA_MAX_TIMEOUT_S,
            rule_name=settings.resource_name("compaction-schedule"),
            source_table=SOURCE_TABLE,
            data_root=schema.DATA_ROOT,
            compacted_root=schema.COMPACTED_ROOT,
            results_root=RESULTS_ROOT,
            mark=settings.dedupe_mode.compaction_marks,
            queue_name=f"{function_name}-failed",
            reserved_concurrency=RESERVED_CONCURRENCY,
            # As long as SQS keeps a message, as the registrar's queue.
            dead_letter_retention_seconds=registration.dead_letter_retention_seconds,
        )

    @property
    def log_group_name(self) -> str:
        return lambda_log_group(self.function_name)

    def environment(self, *, database: str, table: str, bucket: str, workgroup: str) -> dict[str, str]:
        return {
            compactor_contract.ENV_DATABASE: database,
            compactor_contract.ENV_TABLE: table,
            compactor_contract.ENV_SOURCE_TABLE: self.source_table,
            compactor_contract.ENV_BUCKET: bucket,
            compactor_contract.ENV_WORKGROUP: workgroup,
            compactor_contract.ENV_LATE_WINDOW_HOURS: str(self.late_window_hours),
            compactor_contract.ENV_LOOKBACK_HOURS: str(self.lookback_hours),
            compactor_contract.ENV_COMPRESSION: self.compression,
            compactor_contract.ENV_MARK: "true" if self.mark else "false",
            compactor_contract.ENV_FINGERPRINT_FIELDS: self.fingerprint_fields,
        }


def compaction_log_groups(settings: Settings) -> tuple[str, ...]:
    """The compactor's log group, for the lake key's policy (none when compaction is off)."""
    spec = CompactionSpec.from_settings(settings)
    return (spec.log_group_name,) if spec else ()


def superseded_expiry_rules(
    expiry_days: int, noncurrent_days: int = SUPERSEDED_NONCURRENT_DAYS
) -> list[dict[str, Any]]:
    """The lake bucket's lifecycle rules for what compaction superseded, in the S3 API's ``LifecycleRule``
    shape (``infra/lake_bucket.py`` renders them; the local runner puts them on the embedded bucket and
    applies them with ``eventlake.simulator.local_lifecycle``). None when ``expiry_days`` is 0.

    Per root: objects carrying ``SUPERSEDED_TAG`` expire ``expiry_days`` after creation (a filter ``And``
    of the root prefix and the tag, https://docs.aws.amazon.com/AmazonS3/latest/userguide/
    intro-lifecycle-filters.html), their noncurrent versions ``noncurrent_days`` after that (the stack passes
    ``noncurrentVersionDays``: a tag never shortens how long a version is kept); and delete markers left with
    no version behind them are removed (``ExpiredObjectDeleteMarker`` takes no tag filter, hence its own
    rule; such a marker hides nothing).
    """
    if expiry_days == 0:
        return []
    key, value = SUPERSEDED_TAG
    rules: list[dict[str, Any]] = []
    for name, root in SUPERSEDED_ROOTS:
        rules.append(
            {
                "ID": f"expire-superseded-{name}",
                "Status": "Enabled",
                "Filter": {"And": {"Prefix": root, "Tags": [{"Key": key, "Value": value}]}},
                "Expiration": {"Days": expiry_days},
                "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
            }
        )
        rules.append(
            {
                "ID": f"remove-delete-markers-{name}",
                "Status": "Enabled",
                "Filter": {"Prefix": root},
                "Expiration": {"ExpiredObjectDeleteMarker": True},
            }
        )
    return rules


# A batch's staging files (lake_compactor.compaction_plan.BatchStatement) are copied into each partition's own
# copy folder within the run that wrote them and never read after: a day later they expire, and so do their
# versions. They hold no data that is not in a copy folder, so this shorter noncurrent expiry empties nothing
# a reader sees (the superseded rules keep noncurrentVersionDays).
STAGING_EXPIRY_DAYS = 1
STAGING_EXPIRY_RULE: dict[str, Any] = {
    "ID": "expire-compaction-staging",
    "Status": "Enabled",
    "Filter": {"Prefix": schema.COMPACTION_STAGING_ROOT},
    "Expiration": {"Days": STAGING_EXPIRY_DAYS},
    "NoncurrentVersionExpiration": {"NoncurrentDays": STAGING_EXPIRY_DAYS},
}


def compaction_lifecycle_rules(
    compacts: bool, expiry_days: int, noncurrent_days: int = SUPERSEDED_NONCURRENT_DAYS
) -> list[dict[str, Any]]:
    """Every lifecycle rule compaction needs, in the S3 API's shape: ``superseded_expiry_rules`` and, when the
    stack compacts, the staging folder's expiry."""
    staging = [dict(STAGING_EXPIRY_RULE)] if compacts else []
    return [*superseded_expiry_rules(expiry_days, noncurrent_days), *staging]
