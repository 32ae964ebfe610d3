"""Partition registration as plain data: which objects wake the registrar Lambda, how it runs, and how
long a failed event is retried and kept.

S3 tells EventBridge of every object (``Object Created``, https://docs.aws.amazon.com/AmazonS3/latest/
userguide/ev-events.html); a rule on the default bus matches the lake bucket's data prefix and invokes
``partition_registrar`` asynchronously. Two retry layers keep an event: EventBridge retries delivering it
(then its dead-letter queue keeps it), and Lambda retries a failed invocation (then its on-failure
destination, the same queue, keeps it). ``infra/partition_registration.py`` renders this; no Pulumi here, so
the local runner can read it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_contract import limits
from glue import schema
from glue.registrar_contract import ENV_DATABASE, ENV_TABLE
from infra.settings import Settings, reads, settings_args

HANDLER = "partition_registrar.registrar_handler.handler"
LAMBDA_PACKAGE = "partition_registrar"
# One Glue call per new partition (GetTable once per container): small and quick.
MEMORY_MB = 256
TIMEOUT_SECONDS = 60
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 24 * SECONDS_PER_HOUR

__all__ = ["ENV_DATABASE", "ENV_TABLE", "HANDLER", "LAMBDA_PACKAGE", "RegistrationSpec"]


@dataclass(frozen=True)
class RegistrationSpec:
    function_name: str
    runtime: str = reads("lambda_runtime")
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int = reads("log_retention_days")
    rule_name: str
    queue_name: str
    data_root: str
    # EventBridge -> Lambda delivery (throttling, permissions): as long and as often as EventBridge allows.
    delivery_retry_attempts: int
    delivery_max_event_age_seconds: int
    # A failed invocation (Glue refused or was unreachable): Lambda's own asynchronous retries, at most.
    invocation_retry_attempts: int
    invocation_max_event_age_seconds: int
    # What neither retry saved waits in the queue this long (the longest SQS keeps a message).
    dead_letter_retention_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RegistrationSpec:
        function_name = settings.resource_name("partition-registrar")
        return settings_args(
            cls,
            settings,
            function_name=function_name,
            memory_mb=MEMORY_MB,
            timeout_seconds=TIMEOUT_SECONDS,
            rule_name=settings.resource_name("data-object-created"),
            queue_name=f"{function_name}-failed",
            data_root=schema.DATA_ROOT,
            delivery_retry_attempts=limits.EVENTBRIDGE_MAX_RETRY_ATTEMPTS,
            delivery_max_event_age_seconds=limits.EVENTBRIDGE_MAX_EVENT_AGE_HOURS * SECONDS_PER_HOUR,
            invocation_retry_attempts=limits.LAMBDA_ASYNC_MAX_RETRY_ATTEMPTS,
            invocation_max_event_age_seconds=limits.LAMBDA_ASYNC_MAX_EVENT_AGE_HOURS * SECONDS_PER_HOUR,
            dead_letter_retention_seconds=limits.SQS_MAX_MESSAGE_RETENTION_DAYS * SECONDS_PER_DAY,
        )

    def event_pattern(self, bucket: str) -> dict[str, Any]:
        """Objects created under the data prefix of ``bucket`` (errors, raw backups and query results are
        not partitions)."""
        return {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": self.data_root}]}},
        }
