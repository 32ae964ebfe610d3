"""Stack settings: one typed class, two loaders (Pulumi config in the program, the
``Pulumi.<stack>.yaml`` file everywhere else), so the stack files are the one source of every
size, name and switch."""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aws_contract import limits
from glue import marks
from glue.compactor_contract import DEFAULT_COMPRESSION as DEFAULT_COMPACTION_COMPRESSION
from glue.compactor_contract import SWEEP_GRACE

if TYPE_CHECKING:
    from infra.processors import Processor

NAMESPACE = "eventlake"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# AWS documents no maximum for the processor's NumberOfRetries; more than this is a mistake, not a plan.
MAX_PROCESSOR_RETRIES = 300
# Graviton: Lambda bills arm64 about 20 % less per GB-second than x86_64 for the same work.
LAMBDA_ARCHITECTURE = "arm64"
# Athena bills and caps the bytes a query scans in decimal units (10 MB minimum, $ per TB).
BYTES_PER_GB = 1_000_000_000
SECONDS_PER_HOUR = 3600
# The automatic data-freshness alarm threshold: this many times the freshness healthy delivery can reach.
FRESHNESS_MARGIN = 2
# Compaction windows beyond a year are a mistake (a replay of older hours names its range explicitly).
MAX_COMPACTION_HOURS = 366 * 24
SWEEP_GRACE_HOURS = int(SWEEP_GRACE.total_seconds()) // 3600
# A copy can be superseded up to the lookback after it was written; expiry (counted from creation) must leave
# at least this long after that for queries and replays that started before the switch.
MIN_SUPERSEDED_GAP_HOURS = 24
# EventBridge schedule expressions (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
_SCHEDULE = re.compile(r"rate\(1 (minute|hour|day)\)|rate\([1-9][0-9]* (minutes|hours|days)\)|cron\(.+\)")
# ``processor`` values: the transform Lambda, or Firehose's JQ partitioning (MetadataExtraction) alone.
PROCESSOR_LAMBDA = "lambda"
PROCESSOR_JQ = "jq"
PROCESSORS = (PROCESSOR_LAMBDA, PROCESSOR_JQ)
# DynamoDB's billing modes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/capacity-mode.html).
CLAIMS_BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
# Domains reserved for examples and tests (RFC 2606, RFC 6761): mail to them reaches nobody.
RESERVED_MAIL_DOMAINS = (
    "example.com",
    "example.net",
    "example.org",
    "example",
    "test",
    "invalid",
    "localhost",
)


def placeholder_email(email: str | None) -> bool:
    """An address in a reserved domain, as stack files shipped it until a team set its own: its subscription
    is never confirmed, so every alarm would reach nobody."""
    if not email:
        return False
    domain = email.rpartition("@")[2].lower().rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in RESERVED_MAIL_DOMAINS)


class SettingsError(ValueError):
    """A stack config value is missing its type or outside what AWS accepts."""


T = TypeVar("T")
Check = Callable[["Settings", str], None]  # (the settings, the field's name): reports through ``_check``


@dataclass(frozen=True)
class Setting:
    """What one stack key means and what it accepts, kept on its field (``dataclasses.field``'s metadata), so
    validation, README's configuration table and the CLI's help where it names the key are one text.
    ``shown_default``: README's default cell where the value is derived (``eventlake-<stack>``)."""

    description: str
    checks: tuple[Check, ...] = ()
    shown_default: str = ""


SETTING = "setting"  # the metadata key of a field's ``Setting``


def setting(default: Any, description: str, *checks: Check, shown_default: str = "") -> Any:
    """A ``Settings`` field: its default, its meaning and its checks (run in order, every problem kept)."""
    return dataclasses.field(default=default, metadata={SETTING: Setting(description, checks, shown_default)})


Bound = int | Callable[["Settings"], int]  # a bound, or one that follows another setting


def between(low: Bound, high: Bound) -> Check:
    """The value is within ``low``..``high``, both included."""

    def check(settings: Settings, name: str) -> None:
        bounds = [b(settings) if callable(b) else b for b in (low, high)]
        _range(settings, name, *bounds)

    return check


def one_of(choices: tuple[str, ...]) -> Check:
    """The value is one of ``choices``, all named in the message."""

    def check(settings: Settings, name: str) -> None:
        _check(getattr(settings, name) in choices, config_key(name), _one_of(choices))

    return check


def closest_of(choices: tuple[str, ...]) -> Check:
    """The value is one of ``choices``; the message names the closest (``did you mean``)."""

    def check(settings: Settings, name: str) -> None:
        _choice(name, getattr(settings, name), choices)

    return check


def rule(ok: Callable[[Settings], bool], expected: str | Callable[[Settings], str]) -> Check:
    """Any other condition, with what the key must be (text, or built from the settings when it fails)."""

    def check(settings: Settings, name: str) -> None:
        if not ok(settings):
            _check(False, config_key(name), expected if isinstance(expected, str) else expected(settings))

    return check


@dataclass(frozen=True)
class Settings:
    """Every knob of a stack. Defaults are safe for a small dev stack. Each key carries its meaning and its
    checks (``setting``): validation runs them, README's configuration table is ``configuration_table()``."""

    stack: str
    name_prefix: str = setting(
        "",
        "prefix of every resource name",
        rule(
            lambda s: re.fullmatch(r"[a-z0-9][a-z0-9-]{0,29}", s.name_prefix) is not None,
            "1-30 lower-case letters, digits or '-' (it starts S3 bucket names, which allow 63 in all)",
        ),
        shown_default="`eventlake-<stack>`",
    )
    glue_database: str = setting(
        "",
        "Glue database of the `events` table (per stack, so stacks can share an account)",
        rule(
            lambda s: (
                re.fullmatch(rf"[a-z0-9_]{{1,{limits.GLUE_NAME_MAX_CHARS}}}", s.glue_database) is not None
            ),
            "lower-case letters, digits and underscores (Glue lowercases names; Athena dislikes '-')",
        ),
        shown_default="`eventlake_<stack>`",
    )
    # Kinesis
    stream_mode: str = setting(
        "ON_DEMAND",
        "`ON_DEMAND` or `PROVISIONED`",
        one_of(("ON_DEMAND", "PROVISIONED")),
    )
    stream_shard_count: int = setting(
        1,
        "shards when `PROVISIONED` (1 MB/s or 1,000 records/s in per shard)",
        between(*limits.STREAM_SHARD_COUNT_RANGE),
    )
    stream_retention_hours: int = setting(
        24,
        "how long Kinesis keeps records (24-8760): the replay window if Firehose stalls",
        between(*limits.STREAM_RETENTION_HOURS_RANGE),
    )
    # What derives the partition keys: the transform Lambda (validation, enrichment, dedupe marks, Parquet),
    # or Firehose's own JQ (no Lambda, no claims table; records stored as sent, JSON Lines, GZIP).
    processor: str = setting(
        "lambda",
        (
            "`lambda` (the transform: validation, enrichment, dedupe marks, Parquet) or `jq` (no Lambda, no "
            "claims table: Firehose's JQ partitions the records, stored as sent; see [Without the "
            "Lambda](#without-the-lambda-processor-jq))"
        ),
        one_of(PROCESSORS),
    )
    # Firehose delivery (dynamic partitioning + Parquet need >= 64 MiB and >= 60 s)
    buffering_size_mib: int = setting(
        128,
        "S3 buffer per partition, 64-128 (dynamic partitioning and Parquet need ≥ 64)",
        between(
            max(limits.PARTITIONED_MIN_BUFFER_MIB, limits.CONVERSION_MIN_BUFFER_MIB),
            limits.BUFFERING_SIZE_MIB_RANGE[1],
        ),
    )
    buffering_interval_seconds: int = setting(
        300,
        "S3 buffer interval, 60-900; latency can reach ~1.5x this",
        between(limits.PARTITIONED_MIN_INTERVAL_S, limits.BUFFERING_INTERVAL_S_RANGE[1]),
    )
    processor_buffer_interval_seconds: int = setting(
        60,
        "how long Firehose gathers records before invoking the Lambda (0-900)",
        between(*limits.PROCESSOR_INTERVAL_S_RANGE),
    )
    processor_retries: int = setting(
        3,
        "Lambda invocation retries before a batch goes to `processing-failed`",
        between(0, MAX_PROCESSOR_RETRIES),
    )
    delivery_retry_seconds: int = setting(
        300,
        "how long Firehose retries S3 delivery (0-7200)",
        between(*limits.PARTITIONING_RETRY_S_RANGE),
    )
    parquet_compression: str = setting(
        "SNAPPY",
        "`SNAPPY`, `GZIP` or `UNCOMPRESSED`",
        one_of(limits.PARQUET_COMPRESSIONS),
    )
    source_backup: bool = setting(
        True,
        "keep every raw record under `raw/` (can be turned on later, never off)",
    )
    # Lambda
    lambda_runtime: str = setting(
        "python3.13",
        "`python3.12`, `python3.13` or `python3.14`",
        one_of(limits.LAMBDA_PYTHON_RUNTIMES),
    )
    lambda_memory_mb: int = setting(
        512,
        "transform memory (CPU scales with it)",
        between(*limits.LAMBDA_MEMORY_MB_RANGE),
    )
    # Firehose gives an invocation at most 5 minutes, less than Lambda's own maximum
    lambda_timeout_seconds: int = setting(
        120,
        "transform timeout, ≤ 300 (Firehose's limit)",
        between(1, limits.FIREHOSE_MAX_INVOCATION_S),
    )
    log_retention_days: int = setting(
        14,
        "CloudWatch retention for the Lambda's and Firehose's logs",
        rule(
            lambda s: s.log_retention_days in limits.LOG_RETENTION_DAYS,
            f"one of CloudWatch's values {list(limits.LOG_RETENTION_DAYS)}",
        ),
    )
    # Who marks duplicates (glue.marks): claims (a DynamoDB claims table, real time, exact after compaction),
    # compaction (no table: marks within a batch at once, across batches when the hour is compacted) or off.
    dedupe: str = setting(
        marks.DEFAULT.name,
        (
            "who marks duplicates (see [Duplicates](#duplicates-what-the-marks-mean)): `claims` (real-time "
            "marks from a DynamoDB claims table, made exact by compaction), `compaction` (no claims table, no"
            " DynamoDB call: repeats within a batch marked at once, the rest when its hour is compacted; "
            "needs `compactionEnabled`) or `off`; replaces `dedupeEnabled`"
        ),
        closest_of(tuple(marks.MODES)),
        rule(
            lambda s: (
                s.compaction_enabled or s.dedupe_mode.claims_table or not s.dedupe_mode.compaction_marks
            ),
            "claims or off while compactionEnabled is false (dedupe: compaction marks rows when their hour "
            "is compacted; without the compactor they would stay null)",
        ),
    )
    # The claims table's capacity: PAY_PER_REQUEST (on demand) or PROVISIONED with target-tracking auto
    # scaling of reads and writes between bounds derived from the declared load.
    claims_billing_mode: str = setting(
        "PAY_PER_REQUEST",
        (
            "the claims table's capacity: `PAY_PER_REQUEST` (on demand) or `PROVISIONED`, reads and writes "
            "auto-scaled by target tracking at 70 % use between bounds derived from `expectedEventsPerHour` "
            "(minimum: the load at 70 %; maximum 4x that; 5-100 units when no load is declared)"
        ),
        closest_of(CLAIMS_BILLING_MODES),
    )
    dedupe_ttl_days: int = setting(
        7,
        "how long an `event_uuid` is remembered",
        between(1, 3650),
    )
    # What tells a repeat (same fields) from a different event reusing its id: top-level field names.
    dedupe_fingerprint_fields: str = setting(
        ",".join(marks.DEFAULT_FINGERPRINT_FIELDS),
        "fields that tell a repeat (same values) from a different event reusing its id (`uuid_reused`)",
        rule(
            lambda s: all(
                re.fullmatch(r"[A-Za-z0-9_.$-]{1,128}", f) for f in s.dedupe_fingerprint_fields.split(",")
            ),
            "a comma-separated list of top-level event field names (no spaces), e.g. event_name,created_at",
        ),
    )
    # deliver: rows the store could not check get is_duplicate = null; fail: the invocation fails (retried).
    dedupe_on_store_failure: str = setting(
        "deliver",
        (
            "claims table unavailable past its retries: `deliver` (rows marked `is_duplicate` null) or `fail`"
            " (Firehose retries the batch)"
        ),
        one_of(("deliver", "fail")),
    )
    dedupe_point_in_time_recovery: bool = setting(
        False,
        "point-in-time recovery of the claims table (on in prod)",
    )
    # Lake bucket
    error_retention_days: int = setting(
        90,
        "lifecycle expiry of `errors/`",
        between(1, 36500),
    )
    backup_retention_days: int = setting(
        30,
        "lifecycle expiry of `raw/`",
        between(1, 36500),
    )
    # raw/ objects move to S3 Glacier Instant Retrieval this many days after they were written (0: never):
    # read only to replay, in milliseconds like Standard, at a fifth of its storage price.
    backup_archive_days: int = setting(
        0,
        (
            "`raw/` objects move to S3 Glacier Instant Retrieval this many days after they were written (0: "
            "never; fewer than `backupRetentionDays`): read only to replay, in milliseconds as from Standard,"
            " at a fifth of its storage price ($0.004 a GB-month, $0.03 a GB read, billed 90 days at least); "
            "only objects above its 128 KB minimum move. prod and huge: 7"
        ),
        rule(
            lambda s: s.backup_archive_days == 0 or 0 < s.backup_archive_days < s.backup_retention_days,
            lambda s: (
                f"0 (raw/ stays in S3 Standard) or fewer days than backupRetentionDays "
                f"({s.backup_retention_days}; got {s.backup_archive_days})"
            ),
        ),
    )
    noncurrent_version_days: int = setting(
        30,
        "expiry of overwritten/deleted object versions",
        between(1, 36500),
    )
    protect_data: bool = setting(
        False,
        (
            "protect (and retain) the lake bucket, its KMS key and the claims table (deletion protection on):"
            " `pulumi destroy` cannot delete data"
        ),
    )
    kms_deletion_window_days: int = setting(
        30,
        "KMS key deletion window (7-30)",
        between(*limits.KMS_DELETION_WINDOW_DAYS_RANGE),
    )
    # Athena: the stack's workgroup cancels a query past this many GB scanned; its results expire
    athena_scan_limit_gb: int = setting(
        100,
        (
            "the stack's Athena workgroup cancels a query that scans more than this many GB (10^9 bytes; ≥ "
            "Athena's 10 MB minimum)"
        ),
        rule(
            lambda s: s.athena_scan_limit_bytes >= limits.ATHENA_MIN_BYTES_SCANNED_CUTOFF,
            lambda s: (
                f"a whole number of GB of at least Athena's minimum cutoff of "
                f"{limits.ATHENA_MIN_BYTES_SCANNED_CUTOFF} bytes (got {s.athena_scan_limit_gb})"
            ),
        ),
    )
    athena_results_retention_days: int = setting(
        30,
        "lifecycle expiry of Athena query results (`athena-results/` in the lake bucket)",
        between(1, 36500),
    )
    # Alarms: every alarm notifies one SNS topic; an e-mail address (optional) is subscribed to it.
    alarm_email: str = setting(
        "",
        (
            "e-mail address subscribed to the stack's alarm topic (SNS, encrypted with the lake key); empty: "
            "no subscription. No stack file names one: set it with `pulumi config set eventlake:alarmEmail "
            "<address>`. With `protectData: true`, preview and up fail while it is empty or in a reserved "
            "domain (example.com, .test, ...); otherwise a reserved domain only warns"
        ),
        rule(
            lambda s: (
                s.alarm_email == "" or re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", s.alarm_email) is not None
            ),
            "an e-mail address, or empty for no subscription",
        ),
        shown_default="empty",
    )
    # Oldest record Firehose has not yet delivered to S3; 0: twice what healthy delivery can reach.
    alarm_freshness_seconds: int = setting(
        0,
        (
            "alarm when the oldest record not yet in S3 is older than this (Firehose "
            "`DeliveryToS3.DataFreshness`); must exceed 1.5x `bufferingIntervalSeconds` + "
            "`processorBufferIntervalSeconds` (the latter only with `processor: lambda`); `0`: twice that"
        ),
        rule(
            lambda s: (
                s.alarm_freshness_seconds == 0 or s.alarm_freshness_seconds > s.min_alarm_freshness_seconds
            ),
            lambda s: (
                f"0 (automatic) or more than {s.min_alarm_freshness_seconds:g} s (with dynamic partitioning "
                f"Firehose may take {limits.PARTITIONED_DELIVERY_DELAY_FACTOR}x bufferingIntervalSeconds"
                + s.processing.freshness_note
                + f"; got {s.alarm_freshness_seconds})"
            ),
        ),
    )
    # How far Firehose's reads lag behind the newest record in the stream.
    alarm_iterator_age_seconds: int = setting(
        600,
        (
            "alarm when Firehose reads the stream this far behind its newest record (Kinesis "
            "`GetRecords.IteratorAgeMilliseconds`); below the retention"
        ),
        between(1, lambda s: s.stream_retention_hours * SECONDS_PER_HOUR - 1),
    )
    # Share of a period's records the transform rejects (to the processing-failed prefix).
    alarm_rejected_percent: int = setting(
        1,
        (
            "alarm when the transform rejects more than this share of a period's records (0-100; `0`: any "
            "rejection)"
        ),
        between(0, 100),
    )
    # The transform's longest invocation, as a share of its timeout.
    alarm_duration_percent: int = setting(
        80,
        "alarm when a transform invocation takes more than this share of `lambdaTimeoutSeconds`",
        between(1, 100),
    )
    # Active partitions as a share of the stream's active-partition limit (before records go to errors).
    alarm_partition_percent: int = setting(
        80,
        (
            "alarm when active partitions pass this share of the stream's active-partition limit (records "
            "beyond it go to `errors/`)"
        ),
        between(1, 100),
    )
    # One compaction run tagged (for expiry) this share of one partition's objects it saw: 100 means all of
    # them, its current copy included, which no correct run does (it never tags the copy readers see).
    alarm_compaction_tagged_percent: int = setting(
        100,
        (
            "alarm when one compaction run tags (for expiry) this share or more of one partition's objects it"
            " saw (1-100); `100`, the copy readers see included, is what no correct run does"
        ),
        between(1, 100),
    )
    # S3 server access logs of the lake bucket, into a bucket of their own, kept this many days.
    access_logging: bool = setting(
        False,
        (
            "S3 server access logs of every request to the lake bucket, into a bucket of its own "
            "(`<namePrefix>-logs-<account>-<region>`, SSE-S3, private, versioned; only S3's log delivery may "
            "write); on in prod and huge"
        ),
    )
    access_log_retention_days: int = setting(
        365,
        (
            "lifecycle expiry of the access logs (1-36500); their noncurrent versions go after "
            "`noncurrentVersionDays`"
        ),
        between(1, 36500),
    )
    # Compaction (lake_compactor): closed hour partitions rewritten into one large file each, on a schedule.
    compaction_enabled: bool = setting(
        True,
        (
            "provision the compactor (a scheduled Lambda; see [Compaction](#compaction-few-large-files)); "
            "with `processor: jq` none is (its table is the records as sent, text: nothing to rewrite as "
            "Parquet, no marks)"
        ),
    )
    compaction_schedule: str = setting(
        "rate(1 hour)",
        "when it runs: an EventBridge `rate(...)` or `cron(...)` expression",
        rule(
            lambda s: _SCHEDULE.fullmatch(s.compaction_schedule) is not None,
            "an EventBridge schedule expression, rate(<n> <unit>) or cron(...), e.g. rate(1 hour)",
        ),
    )
    # An hour is compacted once it ended this long ago; later objects join at the next run after they land.
    compaction_late_window_hours: int = setting(
        3,
        "an event hour is compacted once it ended this long ago (1-8784)",
        between(1, MAX_COMPACTION_HOURS),
    )
    # How far back each run looks for hours to compact or for late objects of compacted hours.
    compaction_lookback_hours: int = setting(
        48,
        (
            "how far back each run looks for hours to compact and for late objects of compacted hours (at "
            "least the late window + 7 h: a copy left by a crashed run is swept once 6 h old, while its hour "
            "is still looked at)"
        ),
        between(lambda s: s.compaction_late_window_hours + SWEEP_GRACE_HOURS + 1, MAX_COMPACTION_HOURS),
    )
    compaction_compression: str = setting(
        DEFAULT_COMPACTION_COMPRESSION,
        "Parquet codec of the compacted files: `SNAPPY`, `GZIP` or `ZSTD` (Athena UNLOAD's; ZSTD at level 9)",
        one_of(limits.ATHENA_UNLOAD_PARQUET_COMPRESSIONS),
    )
    # What a compaction superseded (originals in its copy, older copies) expires this many days after it was
    # written (S3 lifecycle counts from creation); 0: never expires.
    compaction_expiry_days: int = setting(
        7,
        (
            "what a compaction replaced (originals in its copy, older copies; tagged by the compactor) "
            "expires this many days after S3 wrote it; at least `compactionLookbackHours` + 24 h; `0`: kept "
            "forever (see [Expiry](#expiry-of-what-a-compaction-replaced))"
        ),
        between(0, 36500),
        rule(
            lambda s: (
                s.compaction_expiry_days == 0
                or s.compaction_expiry_days * 24 >= s.compaction_lookback_hours + MIN_SUPERSEDED_GAP_HOURS
            ),
            lambda s: (
                f"0 (never expire) or at least compactionLookbackHours + {MIN_SUPERSEDED_GAP_HOURS} h "
                f"({-(-(s.compaction_lookback_hours + MIN_SUPERSEDED_GAP_HOURS) // 24)} days; "
                f"got {s.compaction_expiry_days})"
            ),
        ),
    )
    # The load the stack is sized for (0 events: not declared). `eventlake sizing` and tests/infra/
    # test_capacity.py check the stack's settings against what that load needs; the only resource that reads
    # one is a PROVISIONED claims table, whose auto-scaling bounds follow expectedEventsPerHour.
    expected_events_per_hour: int = setting(
        0,
        (
            "the load the stack is sized for, in events an hour (0: none declared): `eventlake sizing` and "
            "`tests/infra/test_capacity.py` check the stack's settings against what it needs; a `PROVISIONED`"
            " claims table's auto-scaling bounds follow it (see "
            "[Scaling](#scaling-1000x-smaller-or-bigger-is-stack-config))"
        ),
        between(0, 10**15),
    )
    expected_event_bytes: int = setting(
        222,
        "the declared load's average event size in bytes (read by sizing alone)",
        between(1, limits.KINESIS_RECORD_MAX_BYTES),
    )
    expected_event_types: int = setting(
        100,
        "the declared load's number of event types (read by sizing alone)",
        between(1, 10**6),
    )
    expected_late_spread_hours: int = setting(
        1,
        "the declared load's events arrive up to this many hours late, uniformly (read by sizing alone)",
        between(0, 24 * 366),
    )
    # User events per Kinesis record: 1 unless producers aggregate (KPL format, `eventlake send --aggregate`).
    expected_events_per_record: int = setting(
        1,
        (
            "the declared load's events per Kinesis record: 1 unless producers aggregate (KPL format, "
            "`eventlake send --aggregate`; read by sizing alone)"
        ),
        between(1, 10**6),
    )

    def __post_init__(self) -> None:
        if not self.name_prefix:
            default = re.sub(r"[^a-z0-9-]", "-", f"{NAMESPACE}-{self.stack}".lower())
            object.__setattr__(self, "name_prefix", default)
        if not self.glue_database:
            default = re.sub(r"[^a-z0-9_]", "_", f"{NAMESPACE}_{self.stack}".lower())
            object.__setattr__(self, "glue_database", default)
        for field in stack_keys():
            for check in field.metadata[SETTING].checks:
                check(self, field.name)

    def resource_name(self, suffix: str) -> str:
        return f"{self.name_prefix}-{suffix}"

    def check_deployable(self) -> None:
        """What only a deployment needs (``pulumi preview``/``up``; ``eventlake sizing`` and the local runner
        read the same stack files without deploying): a stack that protects its data pages a real address,
        or a failure there reaches nobody. One line, as every settings problem."""
        _check(
            not self.protect_data or (bool(self.alarm_email) and not placeholder_email(self.alarm_email)),
            "alarmEmail",
            "your on-call address while protectData is true, not "
            + (f"{self.alarm_email} (a reserved domain)" if self.alarm_email else "empty")
            + ": pulumi config set eventlake:alarmEmail <address>",
        )

    @property
    def processing(self) -> Processor:
        """The stack's processor object (``infra.processors``): what differs between ``processor`` modes is
        asked of it, never tested here."""
        from infra import processors  # it reads Settings, so it is imported once a Settings exists

        return processors.processor_for(self)

    @property
    def compacts(self) -> bool:
        """The compactor runs: ``compactionEnabled``, where the processor's table can be compacted
        (``processor: jq``'s never is)."""
        return self.processing.compacts(self)

    @property
    def dedupe_mode(self) -> marks.DedupeMode:
        """The ``dedupe`` key as its mode object (``claims`` when the key is misspelled: that is reported)."""
        return marks.MODES.get(self.dedupe, marks.DEFAULT)

    @property
    def uses_claims(self) -> bool:
        """A DynamoDB claims table is deployed and claimed by the transform (with ``processor: lambda``)."""
        return self.processing.marks(self.dedupe_mode).claims_table

    @property
    def claims_table_name(self) -> str:
        return self.resource_name("claims")

    @property
    def dedupe_ttl_seconds(self) -> int:
        return self.dedupe_ttl_days * 86_400

    @property
    def athena_scan_limit_bytes(self) -> int:
        return self.athena_scan_limit_gb * BYTES_PER_GB

    @property
    def min_alarm_freshness_seconds(self) -> float:
        """The freshness a healthy stream can reach: records wait for the Lambda processor's buffer (jq mode
        has none: the query runs as records arrive), then up to 1.5x the S3 buffering interval with dynamic
        partitioning."""
        processor_wait = self.processing.buffer_wait_seconds(self)
        return limits.PARTITIONED_DELIVERY_DELAY_FACTOR * self.buffering_interval_seconds + processor_wait

    @property
    def freshness_alarm_seconds(self) -> int:
        """``alarmFreshnessSeconds``, or with 0 twice the freshness healthy delivery can reach."""
        if self.alarm_freshness_seconds:
            return self.alarm_freshness_seconds
        return math.ceil(FRESHNESS_MARGIN * self.min_alarm_freshness_seconds)

    @property
    def stream_name(self) -> str:
        return self.resource_name("events")

    @property
    def function_name(self) -> str:
        return self.resource_name("transform")

    @classmethod
    def from_lookup(cls, stack: str, lookup: Callable[[str], Any], problems: Sequence[str] = ()) -> Settings:
        """Build from any ``key -> value or None`` source; keys are the camelCase config keys. Every problem
        (``problems`` found before, a value of the wrong type, a value out of range) is reported at once."""
        found = list(problems)
        values: dict[str, Any] = {}
        for field in stack_keys():
            raw = lookup(config_key(field.name))
            if raw is not None:
                try:
                    values[field.name] = _coerce(field, raw)
                except SettingsError as exc:
                    found.append(str(exc))
        token = _PROBLEMS.set(found)
        try:
            settings = cls(stack=stack, **values)
        finally:
            _PROBLEMS.reset(token)
        if found:
            raise SettingsError("\n".join(found))
        return settings

    @classmethod
    def from_pulumi(cls) -> Settings:
        """Read the running stack's config; a misspelled key fails the preview instead of silently
        falling back to its default."""
        import pulumi
        from pulumi.runtime import config as runtime_config

        keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
        unknown = unknown_keys(keys, f"the config of stack {pulumi.get_stack()}")
        return cls.from_lookup(pulumi.get_stack(), pulumi.Config(NAMESPACE).get, unknown)

    @classmethod
    def for_deployment(cls) -> Settings:
        """``from_pulumi``, then what a deployment alone requires (``check_deployable``): the program's
        loader, so a preview of a protected stack without its on-call address fails before anything."""
        settings = cls.from_pulumi()
        settings.check_deployable()
        return settings

    @classmethod
    def from_stack_file(cls, stack: str, root: Path | None = None) -> Settings:
        """Read ``Pulumi.<stack>.yaml`` without a Pulumi engine (local runner, CLI, tests); ``root`` as
        ``find_stack_file`` takes it."""
        path = find_stack_file(stack, root)
        config = _read_stack_file(path)
        unknown = unknown_keys(set(config), path.name)
        return cls.from_lookup(stack, lambda key: config.get(f"{NAMESPACE}:{key}"), unknown)


def stack_keys() -> tuple[dataclasses.Field[Any], ...]:
    """The fields that are stack keys (every field but ``stack``), in their order."""
    return tuple(f for f in fields(Settings) if SETTING in f.metadata)


def described(name: str) -> Setting:
    """The ``Setting`` of a field (by its Python name): its meaning, checks and shown default."""
    return next(f.metadata[SETTING] for f in stack_keys() if f.name == name)


def default_text(field: dataclasses.Field[Any]) -> str:
    """A key's default as a stack file spells it (``true``, ``ON_DEMAND``, ``0``)."""
    return str(field.default).lower() if isinstance(field.default, bool) else str(field.default)


def shown_default(field: dataclasses.Field[Any]) -> str:
    """A key's default as README's configuration table shows it."""
    return field.metadata[SETTING].shown_default or f"`{default_text(field)}`"


def key_help(name: str, what: str) -> str:
    """The help of a CLI flag that stands for a stack key (by its field name): ``what`` it sets, then the key
    and its default, as the settings define them."""
    field = next(f for f in stack_keys() if f.name == name)
    return f"{what} (default: the stack's {config_key(name)}, else {default_text(field)})"


def configuration_table() -> str:
    """README's configuration table (under "Configuration"), one row per stack key, from the fields."""
    rows = [
        f"| `{config_key(f.name)}` | {shown_default(f)} | {f.metadata[SETTING].description} |"
        for f in stack_keys()
    ]
    return "\n".join(["| key | default | meaning |", "|---|---|---|", *rows])


READS = "reads"  # the metadata key of a component argument's ``reads``


def reads(attribute: str, **field_options: Any) -> Any:
    """A component argument (a field of an args or spec dataclass) taken from the ``Settings`` attribute
    ``attribute``, a stack key or a property derived from keys: ``settings_args`` fills it, so a setting
    reaches its component where the argument is declared, without a copy in each ``from_settings``.
    ``field_options`` as ``dataclasses.field`` takes them (a default, for arguments also built by hand)."""
    if not hasattr(Settings, attribute):
        raise AttributeError(f"Settings has no {attribute!r} for a component argument to read")
    return dataclasses.field(metadata={READS: attribute}, **field_options)


def settings_args(cls: type[T], settings: Settings, **derived: Any) -> T:
    """``cls`` (a component's arguments, a dataclass) built from the settings: each field declared with
    ``reads`` takes its attribute's value, ``derived`` gives the others (names, constants, values computed
    from several keys)."""
    arguments = fields(cls)  # type: ignore[arg-type]
    taken = {f.name: getattr(settings, f.metadata[READS]) for f in arguments if READS in f.metadata}
    return cls(**taken, **derived)


# The AWS provider's own config keys (https://www.pulumi.com/registry/packages/aws/installation-configuration/):
# a typo among them (aws:regoin) would otherwise be ignored and the stack deployed to the default region.
AWS_PROVIDER_KEYS = frozenset(
    {
        "region", "profile", "accessKey", "secretKey", "token", "assumeRole", "assumeRoles",
        "assumeRoleWithWebIdentity", "allowedAccountIds", "forbiddenAccountIds", "defaultTags", "ignoreTags",
        "endpoints", "maxRetries", "retryMode", "sharedConfigFiles", "sharedCredentialsFiles",
        "skipCredentialsValidation", "skipMetadataApiCheck", "skipRegionValidation",
        "skipRequestingAccountId",
        "insecure", "httpProxy", "httpsProxy", "noProxy", "customCaBundle", "ec2MetadataServiceEndpoint",
        "ec2MetadataServiceEndpointMode", "s3UsePathStyle", "s3UsEast1RegionalEndpoint", "stsRegion",
        "useDualstackEndpoint", "useFipsEndpoint", "skipGetEc2Platforms", "tokenBucketRateLimiterCapacity",
    }
)  # fmt: skip


# Keys earlier releases read, with what replaced them: a stack file still naming one gets that answer.
RENAMED_KEYS = {
    f"{NAMESPACE}:dedupeEnabled": f"replaced by {NAMESPACE}:dedupe: claims, compaction or off; "
    "true was claims, false is now compaction or off",
}


def unknown_keys(keys: set[str], where: str) -> list[str]:
    """One line per key that is not a setting of this project or of the AWS provider, with the closest
    valid key; a namespace spelled like ``eventlake`` (``eventLake:``) is a typo, not another project's."""
    known = [f"{NAMESPACE}:{config_key(f.name)}" for f in stack_keys()]
    aws_known = [f"aws:{k}" for k in sorted(AWS_PROVIDER_KEYS)]
    problems = []
    for key in sorted(keys):
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE and key not in known:
            candidates = known
        elif namespace == "aws" and name not in AWS_PROVIDER_KEYS:
            candidates = aws_known
        elif namespace != NAMESPACE and difflib.get_close_matches(namespace.lower(), [NAMESPACE], cutoff=0.8):
            candidates = known
        else:
            continue
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if key in RENAMED_KEYS:
            hint = f" ({RENAMED_KEYS[key]})"
        problems.append(f"unknown config key {key} in {where}{hint}")
    return problems


def stack_config(stack: str, root: Path | None = None) -> dict[str, Any]:
    """The ``config`` of the stack's file (``root`` as ``find_stack_file`` takes it)."""
    return _read_stack_file(find_stack_file(stack, root))


def _read_stack_file(path: Path) -> dict[str, Any]:
    import yaml  # not in the Lambda; only the program, the runner and the tests read stack files

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SettingsError(f"stack file {path} cannot be read: {reason}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise SettingsError(f"stack file {path} is not a Pulumi stack file (no config mapping)")
    return dict(document.get("config") or {})


# The example stacks inside an installed wheel (setup.py copies the repository's ``Pulumi.<stack>.yaml``
# here); an editable checkout has none and offers its own stacks, beside its ``Pulumi.yaml``, instead.
WHEEL_STACKS = Path(__file__).resolve().parent / "stacks"
_STACK_FILE = re.compile(r"Pulumi\.(?P<stack>.+)\.yaml")


def shipped_stacks() -> Path | None:
    """Where the example stacks that come with eventlake are: the wheel's copies, or the checkout's own."""
    if WHEEL_STACKS.is_dir():
        return WHEEL_STACKS
    return PROJECT_ROOT if (PROJECT_ROOT / "Pulumi.yaml").is_file() else None


def stack_name(path: Path) -> str | None:
    """The stack a file named ``Pulumi.<stack>.yaml`` configures; None for any other name."""
    match = _STACK_FILE.fullmatch(path.name)
    return match["stack"] if match else None


def local_stack_dirs(cwd: Path | None = None) -> list[Path]:
    """The user's own places for stack files, as ``pulumi`` finds them: the working directory, then the
    stack config folder of the Pulumi project it is in (the nearest ``Pulumi.yaml`` above it, and that
    file's ``stackConfigDir``)."""
    here = (cwd or Path.cwd()).resolve()
    dirs = [here]
    project = next((d for d in (here, *here.parents) if (d / "Pulumi.yaml").is_file()), None)
    if project is not None:
        dirs.append((project / _stack_config_dir(project / "Pulumi.yaml")).resolve())
    return list(dict.fromkeys(dirs))


def stack_dirs(cwd: Path | None = None) -> list[Path]:
    """Where a stack's file is looked for, in order: ``local_stack_dirs``, then the example stacks that come
    with eventlake (so the demo and sizing run anywhere)."""
    shipped = shipped_stacks()
    return list(dict.fromkeys([*local_stack_dirs(cwd), *([shipped] if shipped else [])]))


def is_example_stack(path: Path, cwd: Path | None = None) -> bool:
    """Whether ``path`` is one of eventlake's example stacks, found because the user has no such stack."""
    folder = path.resolve().parent
    return folder == shipped_stacks() and folder not in local_stack_dirs(cwd)


def _stack_config_dir(project_file: Path) -> str:
    """``stackConfigDir`` of a ``Pulumi.yaml`` (its stack files' folder, relative to it), else ``.``."""
    import yaml

    try:
        document = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return "."
    folder = document.get("stackConfigDir") if isinstance(document, dict) else None
    return str(folder) if isinstance(folder, str) and folder else "."


def stacks_in(folder: Path) -> list[str]:
    """The stacks whose ``Pulumi.<stack>.yaml`` is in ``folder``."""
    names = (stack_name(path) for path in folder.glob("Pulumi.*.yaml") if path.is_file())
    return sorted(name for name in names if name)


def find_stack_file(stack: str, root: Path | None = None) -> Path:
    """The file of ``stack``: ``root`` itself when it is a file (``--stack-file``), ``Pulumi.<stack>.yaml`` in
    ``root`` when it is a folder, else the first in ``stack_dirs()``. A stack that is nowhere is one line
    naming where it looked, with the closest stack found there."""
    if root is not None and not root.is_dir():
        if root.is_file():
            return root
        raise SettingsError(f"no stack file {root}")
    folders = [root] if root is not None else stack_dirs()
    wanted = f"Pulumi.{stack}.yaml"
    for folder in folders:
        if (folder / wanted).is_file():
            return folder / wanted
    known = sorted({name for folder in folders for name in stacks_in(folder)})
    close = difflib.get_close_matches(stack, known, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]}?)" if close else ""
    if known and not close:
        hint = f" (stacks there: {', '.join(known)})"
    shipped = shipped_stacks()
    places = [str(f) if f != shipped else "eventlake's example stacks" for f in folders]
    raise SettingsError(f"no stack file {wanted} in {' or '.join(places)}{hint}")


def config_key(field_name: str) -> str:
    head, *rest = field_name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _coerce(field: dataclasses.Field[Any], raw: Any) -> Any:
    key = config_key(field.name)
    kind = field.type if isinstance(field.type, str) else field.type.__name__
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in {"true", "false"}:
                return str(raw).lower() == "true"
            raise ValueError(raw)
        if kind == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            return int(str(raw)) if not isinstance(raw, float) else int(raw)
        return str(raw)
    except ValueError:
        raise SettingsError(f"config {NAMESPACE}:{key} must be a {kind}, got {raw!r}") from None


# While ``from_lookup`` builds a Settings, checks add their problems here instead of raising one at a time.
_PROBLEMS: ContextVar[list[str] | None] = ContextVar("settings_problems", default=None)


def _check(ok: bool, key: str, expected: str) -> None:
    if not ok:
        message = f"config {NAMESPACE}:{key} must be {expected}"
        collected = _PROBLEMS.get()
        if collected is None:
            raise SettingsError(message)
        collected.append(message)


def _choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    """``value`` must be one of ``choices``: one line with the closest valid spelling."""
    if value in choices:
        return
    by_lower = {c.lower(): c for c in choices}  # any case, so PROVISONED finds PROVISIONED
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.5)
    hint = f"; did you mean {by_lower[close[0]]}?" if close else ""
    _check(False, config_key(key), f"{_one_of(choices)} (got {value!r}{hint})")


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1]


def _range(settings: Settings, name: str, low: int, high: int) -> None:
    value = getattr(settings, name)
    _check(low <= value <= high, config_key(name), f"between {low} and {high} (got {value})")
