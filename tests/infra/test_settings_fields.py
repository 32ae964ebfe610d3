"""Each stack key carries its meaning and its checks on its ``Settings`` field (issue 26 item 4): README's
configuration table is generated from them, the CLI's help names keys and defaults from them, and every check
rejects what it should with the messages the loaders have always given (one line each, all at once, the
closest valid spelling where there is one). Components' arguments declare the setting each reads
(``reads``), and one constructor fills them (``settings_args``) instead of a copy per adapter."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from eventlake.cli.main import main as cli
from infra.claims_spec import ClaimsTableSpec
from infra.pipeline import EventLakeArgs
from infra.settings import (
    PROJECT_ROOT,
    READS,
    SETTING,
    Settings,
    SettingsError,
    config_key,
    configuration_table,
    key_help,
    reads,
    settings_args,
    stack_keys,
)

README = PROJECT_ROOT / "README.md"

# One value each check must refuse: key -> (value, what follows "config eventlake:<key> must be ").
REFUSED: dict[str, tuple[Any, str]] = {
    "namePrefix": ("EventLake", "1-30 lower-case letters, digits or '-' (it starts S3 bucket names"),
    "glueDatabase": ("Event-Lake", "lower-case letters, digits and underscores"),
    "streamMode": ("SOMETIMES", "ON_DEMAND or PROVISIONED"),
    "streamShardCount": (0, "between 1 and 10000 (got 0)"),
    "streamRetentionHours": (1, "between 24 and 8760 (got 1)"),
    "processor": ("lamda", "lambda or jq"),
    "bufferingSizeMib": (5, "between 64 and 128 (got 5)"),
    "bufferingIntervalSeconds": (30, "between 60 and 900 (got 30)"),
    "processorBufferIntervalSeconds": (901, "between 0 and 900 (got 901)"),
    "processorRetries": (301, "between 0 and 300 (got 301)"),
    "deliveryRetrySeconds": (7201, "between 0 and 7200 (got 7201)"),
    "parquetCompression": ("ZSTD", "UNCOMPRESSED, GZIP or SNAPPY"),
    "lambdaRuntime": ("python3.11", "python3.12, python3.13 or python3.14"),
    "lambdaMemoryMb": (64, "between 128 and 10240 (got 64)"),
    "lambdaTimeoutSeconds": (900, "between 1 and 300 (got 900)"),
    "logRetentionDays": (10, "one of CloudWatch's values [1, 3, 5, 7, 14,"),
    "dedupe": ("claim", "claims, compaction or off (got 'claim'; did you mean claims?)"),
    "claimsBillingMode": (
        "PROVISONED",
        "PAY_PER_REQUEST or PROVISIONED (got 'PROVISONED'; did you mean PROVISIONED?)",
    ),
    "dedupeTtlDays": (0, "between 1 and 3650 (got 0)"),
    "dedupeFingerprintFields": (
        "event_name, created_at",
        "a comma-separated list of top-level event field names",
    ),
    "dedupeOnStoreFailure": ("drop", "deliver or fail"),
    "errorRetentionDays": (0, "between 1 and 36500 (got 0)"),
    "backupRetentionDays": (0, "between 1 and 36500 (got 0)"),
    "backupArchiveDays": (
        30,
        "0 (raw/ stays in S3 Standard) or fewer days than backupRetentionDays (30; got 30)",
    ),
    "noncurrentVersionDays": (0, "between 1 and 36500 (got 0)"),
    "kmsDeletionWindowDays": (6, "between 7 and 30 (got 6)"),
    "athenaScanLimitGb": (
        0,
        "a whole number of GB of at least Athena's minimum cutoff of 10000000 bytes (got 0)",
    ),
    "athenaResultsRetentionDays": (0, "between 1 and 36500 (got 0)"),
    "alarmEmail": ("on-call", "an e-mail address, or empty for no subscription"),
    "alarmFreshnessSeconds": (
        60,
        "0 (automatic) or more than 510 s (with dynamic partitioning Firehose may take 1.5x "
        "bufferingIntervalSeconds, after the processor's processorBufferIntervalSeconds; got 60)",
    ),
    "alarmIteratorAgeSeconds": (86_400, "between 1 and 86399 (got 86400)"),
    "alarmRejectedPercent": (101, "between 0 and 100 (got 101)"),
    "alarmDurationPercent": (0, "between 1 and 100 (got 0)"),
    "alarmPartitionPercent": (0, "between 1 and 100 (got 0)"),
    "alarmCompactionTaggedPercent": (0, "between 1 and 100 (got 0)"),
    "accessLogRetentionDays": (0, "between 1 and 36500 (got 0)"),
    "compactionSchedule": ("hourly", "an EventBridge schedule expression, rate(<n> <unit>) or cron(...)"),
    "compactionLateWindowHours": (0, "between 1 and 8784 (got 0)"),
    "compactionLookbackHours": (9, "between 10 and 8784 (got 9)"),
    "compactionCompression": ("LZ4", "SNAPPY, GZIP or ZSTD"),
    "compactionExpiryDays": (
        2,
        "0 (never expire) or at least compactionLookbackHours + 24 h (3 days; got 2)",
    ),
    "expectedEventsPerHour": (-1, "between 0 and 1000000000000000 (got -1)"),
    "expectedEventBytes": (0, "between 1 and 1048576 (got 0)"),
    "expectedEventTypes": (0, "between 1 and 1000000 (got 0)"),
    "expectedLateSpreadHours": (-1, "between 0 and 8784 (got -1)"),
    "expectedEventsPerRecord": (0, "between 1 and 1000000 (got 0)"),
}


def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("| key | default | meaning |")
    return text[start : text.index("\n\n", start)]


def test_readmes_configuration_table_is_what_the_fields_generate() -> None:
    assert _readme_table() == configuration_table()


def test_every_stack_key_has_a_description_and_only_stack_is_not_a_key() -> None:
    keys = stack_keys()
    assert {f.name for f in keys} | {"stack"} == set(Settings.__dataclass_fields__)
    assert all(f.metadata[SETTING].description.strip() for f in keys)


def test_every_key_with_checks_has_a_refused_value_here() -> None:
    checked = {config_key(f.name) for f in stack_keys() if f.metadata[SETTING].checks}
    assert checked == set(REFUSED)


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_each_check_refuses_its_value_with_its_message(key: str) -> None:
    value, expected = REFUSED[key]
    with pytest.raises(SettingsError) as raised:
        Settings.from_lookup("dev", {key: value}.get)
    assert f"config eventlake:{key} must be {expected}" in str(raised.value)


def test_a_value_each_check_accepts_passes() -> None:
    # The defaults pass every check, and so does each bound of a range (both are included).
    Settings(stack="dev")
    Settings.from_lookup(
        "dev", {"streamRetentionHours": 8760, "alarmIteratorAgeSeconds": 8760 * 3600 - 1}.get
    )
    Settings.from_lookup("dev", {"compactionLookbackHours": 10, "compactionExpiryDays": 2}.get)


def test_every_problem_is_reported_at_once_one_line_each() -> None:
    # Less those whose refused value is only wrong beside the other keys' defaults: the freshness floor
    # follows the buffering interval, the lookback's floor the late window, the expiry's floor the lookback.
    beside_defaults = ("alarmFreshnessSeconds", "compactionLateWindowHours", "compactionExpiryDays")
    lookup = {key: value for key, (value, _) in REFUSED.items() if key not in beside_defaults}
    with pytest.raises(SettingsError) as raised:
        Settings.from_lookup("dev", lookup.get)
    lines = str(raised.value).splitlines()
    for key in lookup:
        assert sum(line.startswith(f"config eventlake:{key} must be ") for line in lines) >= 1, key
    assert all(line.startswith("config eventlake:") for line in lines)


def test_the_clis_help_names_each_key_it_stands_for_with_its_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert key_help("expected_event_bytes", "average event size") == (
        "average event size (default: the stack's expectedEventBytes, else 222)"
    )
    assert cli(["sizing", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for key, default in [
        ("expectedEventBytes", "222"),
        ("expectedEventTypes", "100"),
        ("expectedLateSpreadHours", "1"),
        ("expectedEventsPerRecord", "1"),
        ("dedupe", "claims"),
        ("processor", "lambda"),
        ("claimsBillingMode", "PAY_PER_REQUEST"),
    ]:
        assert f"the stack's {key}, else {default}" in out, key


def test_a_stack_file_value_is_checked_as_a_lookup_is(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.t.yaml").write_text("config:\n  eventlake:dedupe: claim\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="did you mean claims"):
        Settings.from_stack_file("t", tmp_path)


# --- component arguments read from the settings where they are declared -----------------------------------


def _declared_reads(value: Any) -> list[tuple[str, str, Any]]:
    """(class.field, attribute, value) of every ``reads`` field in a tree of component arguments."""
    found: list[tuple[str, str, Any]] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            inner = getattr(value, f.name)
            if READS in f.metadata:
                found.append((f"{type(value).__name__}.{f.name}", f.metadata[READS], inner))
            found += _declared_reads(inner)
    elif isinstance(value, tuple):
        for inner in value:
            found += _declared_reads(inner)
    return found


def test_every_argument_declared_as_read_from_a_setting_holds_that_settings_value() -> None:
    # Not the defaults, so a value taken from the wrong key would show.
    settings = Settings(
        stack="t",
        lambda_runtime="python3.12",
        lambda_memory_mb=1024,
        log_retention_days=30,
        compaction_schedule="rate(2 hours)",
        compaction_lookback_hours=72,
        claims_billing_mode="PROVISIONED",
        dedupe_point_in_time_recovery=True,
        protect_data=True,
        alarm_email="oncall@company.io",
        athena_results_retention_days=9,
        compaction_expiry_days=5,
        delivery_retry_seconds=77,
        kms_deletion_window_days=8,
    )
    args = EventLakeArgs.from_settings(settings)
    read = _declared_reads(args) + _declared_reads(ClaimsTableSpec.from_settings(settings))
    names = {name for name, _, _ in read}
    # Each component that takes settings declares what it reads (none copies a key by hand any more).
    assert {
        "TransformFunctionArgs.runtime",
        "CompactionSpec.lookback_hours",
        "ClaimsTableSpec.billing_mode",
        "EventStreamArgs.shard_count",
        "LakeBucketArgs.results_retention_days",
        "DeliverySpec.retry_duration_seconds",
        "RegistrationSpec.runtime",
        "WorkgroupSpec.bytes_scanned_cutoff",
        "CatalogSpec.database_name",
        "LakeKeyArgs.deletion_window_days",
        "MonitoringSpec.stream_name",
        "DeliveryStreamArgs.log_retention_days",
    } <= names
    assert [(name, value) for name, attribute, value in read if value != getattr(settings, attribute)] == []


def test_settings_args_fills_what_is_declared_and_takes_the_rest_as_given() -> None:
    @dataclasses.dataclass(frozen=True)
    class Args:
        name: str
        days: int = reads("error_retention_days")
        claims: bool = reads("uses_claims")

    args = settings_args(Args, Settings(stack="t", error_retention_days=12, dedupe="off"), name="n")
    assert args == Args(name="n", days=12, claims=False)
    with pytest.raises(AttributeError, match="no 'error_retention' for a component argument"):
        reads("error_retention")


def test_no_component_argument_is_a_hand_copied_setting() -> None:
    """A call in infra/ passing ``name=settings.attribute`` is a copy ``reads`` replaces: the argument should
    declare the setting it reads, so a new setting touches its field and its component only."""
    copies = []
    for path in sorted((PROJECT_ROOT / "infra").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                copies += [
                    f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {kw.arg}"
                    for kw in node.keywords
                    if isinstance(kw.value, ast.Attribute)
                    and isinstance(kw.value.value, ast.Name)
                    and kw.value.value.id == "settings"
                ]
    assert copies == []
