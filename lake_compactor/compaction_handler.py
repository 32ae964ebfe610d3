"""The compactor Lambda: invoked on the stack's schedule (EventBridge), it compacts every closed partition of
the lookback window that has objects its current copy lacks. An operator may invoke it with
``{"from": "2026-11-01T00", "to": "2026-11-07T23"}`` (event hours, UTC) to compact an older range, e.g. after
turning compaction on over an existing lake or after a replay of old hours.

It stops starting new statements when less than ``MIN_SECONDS_LEFT`` of its timeout remain; what it did not
reach stays a candidate for the next run.

**What it may tag.** Tagging an object ``eventlake-compacted=superseded`` expires it (the lake bucket's
lifecycle), so the compactor's S3 client is a ``TagScope``: it lets a tag through only for an original object
a manifest the run read names (a manifest lives under ``compacted/``, which no other role may write) and
for the objects of a copy that is not the one its partition reads (as the run last saw it in Glue); anything
else raises ``TagRefused`` (the partition fails, the run fails, its failure queue and alarm say so). IAM
cannot say "named by a manifest": the role's tagging grant is limited to the partition folders and to
exactly that one tag (``infra.iam.compactor_policy``), and this scope is the narrower path on top.

**What it reports.** The run's log line carries CloudWatch embedded metrics (namespace ``EventLake``,
dimension ``FunctionName``): ``ObjectsTagged``, ``TagsOutsideManifests`` (tags refused, plus any the scope
did not see) and ``MaxPartitionTaggedPercent`` (the largest share of one partition's objects the run saw
that it tagged); the stack alarms on the last two (``infra.alarm_spec``).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from glue import schema
from glue.compactor_contract import (
    ENV_BUCKET,
    ENV_COMPRESSION,
    ENV_DATABASE,
    ENV_FINGERPRINT_FIELDS,
    ENV_LATE_WINDOW_HOURS,
    ENV_LOOKBACK_HOURS,
    ENV_MARK,
    ENV_SOURCE_TABLE,
    ENV_TABLE,
    ENV_WORKGROUP,
    METRIC_PARTITION_TAGGED_PERCENT,
    METRIC_TAGGED,
    METRIC_TAGS_OUTSIDE_MANIFESTS,
)
from glue.errors import DIMENSION_FUNCTION, METRIC_NAMESPACE
from glue.marks import DEFAULT_FINGERPRINT_FIELDS
from lake_compactor import compaction_plan as plan
from lake_compactor.athena_unload import AthenaUnload
from lake_compactor.compactor import CompactionReport, Compactor, CompactorConfig

# A statement on one partition takes seconds; leave room to finish the wave in flight.
MIN_SECONDS_LEFT = 180.0
HOUR_FORMAT = "%Y-%m-%dT%H"
# Set by Lambda in every function's environment.
ENV_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"
_ROOTS = (schema.DATA_ROOT, schema.COMPACTED_ROOT)


class TagRefused(PermissionError):
    """A tag the compactor may not put: an original no manifest it read names, a copy its partition reads,
    or a key outside the partition folders. Nothing was tagged."""


def partition_of(key: str) -> str | None:
    """``event_type=…/event_date=…/event_hour=…/`` of a key under the data or compacted root, else None."""
    for root in _ROOTS:
        if key.startswith(root):
            parts = key[len(root) :].split("/")
            names = [p.partition("=")[0] for p in parts[: len(schema.PARTITION_KEY_NAMES)]]
            if len(parts) > len(names) and tuple(names) == schema.PARTITION_KEY_NAMES:
                return "".join(f"{p}/" for p in parts[: len(names)])
    return None


def _values(path: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in path.rstrip("/").split("/"))


@dataclass
class TagScope:
    """The compactor's S3 and Glue clients, watched: every other call passes through unchanged. What it
    learns (manifests read, partition locations, keys listed or written, keys tagged) decides each tag and
    feeds the run's metrics."""

    s3_client: Any
    glue_client: Any
    named: set[str] = field(default_factory=set)  # originals a manifest the run read names
    current: dict[str, str | None] = field(default_factory=dict)  # partition -> run id its location reads
    seen: dict[str, set[str]] = field(default_factory=dict)  # partition -> keys listed or written
    tagged: dict[str, set[str]] = field(default_factory=dict)  # partition -> keys tagged
    refused: list[str] = field(default_factory=list)

    @property
    def s3(self) -> _WatchedS3:
        return _WatchedS3(self)

    @property
    def glue(self) -> _WatchedGlue:
        return _WatchedGlue(self)

    def allow(self, key: str) -> str:
        """The partition of ``key`` when the run may tag it; else records and raises ``TagRefused``."""
        path = partition_of(key)
        reason = ""
        if path is None:
            reason = "not in a partition folder"
        elif key.startswith(schema.DATA_ROOT):
            if key not in self.named:
                reason = "an original no manifest the run read names"
        else:
            runs = plan.runs_in_folder(_values(path), [key])
            if not runs:
                reason = "not a compaction run's object"
            elif path not in self.current:
                reason = "its partition's location was not read"
            elif next(iter(runs)) == self.current[path]:
                reason = "the copy its partition reads"
        if reason:
            self.refused.append(key)
            raise TagRefused(f"refused to tag {key}: {reason}")
        assert path is not None
        return path

    def record_tag(self, path: str, key: str) -> None:
        self.tagged.setdefault(path, set()).add(key)
        self.saw(key)

    def saw(self, key: str) -> None:
        path = partition_of(key)
        if path is not None:
            self.seen.setdefault(path, set()).add(key)

    def read_manifest(self, key: str, body: bytes) -> None:
        """Originals a manifest of the run's own names (only those of its own partition count)."""
        path = partition_of(key)
        if path is None or not key.startswith(schema.COMPACTED_ROOT) or not key.endswith(".json"):
            return
        manifest = plan.RunManifest.from_json(body)
        self.named.update(k for k in manifest.sources if k.startswith(schema.DATA_ROOT + path))

    def located(self, partition: Mapping[str, Any]) -> None:
        values = dict(zip(schema.PARTITION_KEY_NAMES, partition["Values"], strict=True))
        location = partition["StorageDescriptor"]["Location"]
        self.current[plan.partition_path(values)] = plan.run_of_location(location)

    @property
    def tag_count(self) -> int:
        return sum(len(keys) for keys in self.tagged.values())

    def max_partition_percent(self) -> float:
        """The largest share (%) of one partition's objects the run saw (listed or wrote) that it tagged."""
        shares = [
            100.0 * len(keys) / len(self.seen.get(path, set()) | keys) for path, keys in self.tagged.items()
        ]
        return max(shares, default=0.0)


@dataclass
class _WatchedS3:
    scope: TagScope

    def __getattr__(self, name: str) -> Any:
        return getattr(self.scope.s3_client, name)

    def put_object_tagging(self, **kwargs: Any) -> Any:
        path = self.scope.allow(kwargs["Key"])
        response = self.scope.s3_client.put_object_tagging(**kwargs)
        self.scope.record_tag(path, kwargs["Key"])
        return response

    def put_object(self, **kwargs: Any) -> Any:
        path = self.scope.allow(kwargs["Key"]) if kwargs.get("Tagging") else None
        response = self.scope.s3_client.put_object(**kwargs)
        self.scope.saw(kwargs["Key"])
        if path is not None:
            self.scope.record_tag(path, kwargs["Key"])
        return response

    def get_object(self, **kwargs: Any) -> Any:
        response = self.scope.s3_client.get_object(**kwargs)
        body = response["Body"].read()
        self.scope.read_manifest(kwargs["Key"], body)
        return {**response, "Body": io.BytesIO(body)}

    def get_paginator(self, operation: str) -> Any:
        paginator = self.scope.s3_client.get_paginator(operation)
        return _WatchedListing(self.scope, paginator) if operation == "list_objects_v2" else paginator


@dataclass
class _WatchedListing:
    scope: TagScope
    paginator: Any

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self.paginator.paginate(**kwargs):
            for item in page.get("Contents", []):
                self.scope.saw(item["Key"])
            yield page


@dataclass
class _WatchedGlue:
    scope: TagScope

    def __getattr__(self, name: str) -> Any:
        return getattr(self.scope.glue_client, name)

    def get_partition(self, **kwargs: Any) -> Any:
        response = self.scope.glue_client.get_partition(**kwargs)
        self.scope.located(response["Partition"])
        return response

    def update_partition(self, **kwargs: Any) -> Any:
        response = self.scope.glue_client.update_partition(**kwargs)
        self.scope.located(kwargs["PartitionInput"])
        return response

    def get_paginator(self, operation: str) -> Any:
        paginator = self.scope.glue_client.get_paginator(operation)
        return _WatchedPartitions(self.scope, paginator) if operation == "get_partitions" else paginator


@dataclass
class _WatchedPartitions:
    scope: TagScope
    paginator: Any

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self.paginator.paginate(**kwargs):
            for partition in page.get("Partitions", []):
                self.scope.located(partition)
            yield page


def run_line(report: CompactionReport, scope: TagScope, function_name: str, now_ms: int) -> dict[str, Any]:
    """The run's log line: its report, with the tag metrics in CloudWatch's embedded metric format
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)."""
    outside = len(scope.refused) + max(0, report.tagged - scope.tag_count)
    metrics: dict[str, tuple[float, str]] = {
        METRIC_TAGGED: (report.tagged, "Count"),
        METRIC_TAGS_OUTSIDE_MANIFESTS: (outside, "Count"),
        METRIC_PARTITION_TAGGED_PERCENT: (round(scope.max_partition_percent(), 1), "Percent"),
    }
    failed = report.failed or outside
    return {
        "level": "ERROR" if failed else "INFO",
        "message": "compaction run",
        **report.as_dict(),
        "refused": scope.refused[:20],
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [[DIMENSION_FUNCTION]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                }
            ],
        },
        DIMENSION_FUNCTION: function_name,
        **{name: value for name, (value, _) in metrics.items()},
    }


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
    scope = TagScope(s3_client=boto3.client("s3"), glue_client=boto3.client("glue"))
    compactor = Compactor(
        glue=scope.glue,
        s3=scope.s3,
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
    function_name = getattr(context, "function_name", None) or os.environ.get(ENV_FUNCTION_NAME, "")
    line = run_line(report, scope, function_name, int(time.time() * 1000))
    sys.stdout.write(json.dumps(line) + "\n")
    if report.failed:
        raise RuntimeError(f"{len(report.failed)} partition(s) failed to compact: {report.failed[:3]}")
    if line[METRIC_TAGS_OUTSIDE_MANIFESTS]:
        raise RuntimeError(f"tagged {line[METRIC_TAGS_OUTSIDE_MANIFESTS]} object(s) outside its manifests")
    return report.as_dict()
