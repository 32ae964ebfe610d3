"""The compactor Lambda: invoked on the stack's schedule (EventBridge), it compacts every closed partition of
the lookback window that has objects its current copy lacks. An operator may invoke it with
``{"from": "2026-11-01T00", "to": "2026-11-07T23"}`` (event hours, UTC) to compact an older range, e.g. after
turning compaction on over an existing lake or after a replay of old hours.

It stops starting new statements when less than ``MIN_SECONDS_LEFT`` of its timeout remain; what it did not
reach stays a candidate for the next run.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from glue.marks import DEFAULT_FINGERPRINT_FIELDS
from lake_compactor.athena_unload import AthenaUnload
from lake_compactor.compactor import Compactor, CompactorConfig

ENV_DATABASE = "GLUE_DATABASE"
ENV_TABLE = "GLUE_TABLE"
ENV_SOURCE_TABLE = "GLUE_SOURCE_TABLE"
ENV_BUCKET = "LAKE_BUCKET"
ENV_WORKGROUP = "ATHENA_WORKGROUP"
ENV_LATE_WINDOW_HOURS = "LATE_WINDOW_HOURS"
ENV_LOOKBACK_HOURS = "LOOKBACK_HOURS"
ENV_COMPRESSION = "COMPRESSION"
ENV_MARK = "MARK_DUPLICATES"  # "true": recompute the duplicate marks (glue.marks), "false": keep the rows'
ENV_FINGERPRINT_FIELDS = "FINGERPRINT_FIELDS"  # comma-separated, as the transform's
# A statement on one partition takes seconds; leave room to finish the wave in flight.
MIN_SECONDS_LEFT = 180.0
HOUR_FORMAT = "%Y-%m-%dT%H"


def config_from_env(env: Mapping[str, str]) -> CompactorConfig:
    return CompactorConfig(
        database=env[ENV_DATABASE],
        table=env[ENV_TABLE],
        source_table=env[ENV_SOURCE_TABLE],
        bucket=env[ENV_BUCKET],
        late_window_hours=int(env[ENV_LATE_WINDOW_HOURS]),
        lookback_hours=int(env[ENV_LOOKBACK_HOURS]),
        compression=env[ENV_COMPRESSION],
        mark=env.get(ENV_MARK, "true") == "true",
        fingerprint_fields=tuple(f for f in env.get(ENV_FINGERPRINT_FIELDS, "").split(",") if f)
        or DEFAULT_FINGERPRINT_FIELDS,
    )


def hour_bound(value: Any) -> datetime | None:
    """An event hour ``yyyy-MM-ddTHH`` (UTC) from the invocation event, or None when absent."""
    if value in (None, ""):
        return None
    return datetime.strptime(str(value), HOUR_FORMAT).replace(tzinfo=UTC)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    import boto3  # provided by the Lambda runtime

    config = config_from_env(os.environ)
    compactor = Compactor(
        glue=boto3.client("glue"),
        s3=boto3.client("s3"),
        engine=AthenaUnload(boto3.client("athena"), os.environ[ENV_WORKGROUP], config.database),
        config=config,
    )
    event = event if isinstance(event, Mapping) else {}
    report = compactor.run(
        first=hour_bound(event.get("from")),
        last=hour_bound(event.get("to")),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        min_seconds=MIN_SECONDS_LEFT,
    )
    line = {"level": "ERROR" if report.failed else "INFO", "message": "compaction run", **report.as_dict()}
    sys.stdout.write(json.dumps(line) + "\n")
    if report.failed:
        raise RuntimeError(f"{len(report.failed)} partition(s) failed to compact: {report.failed[:3]}")
    return report.as_dict()
