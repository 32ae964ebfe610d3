"""Stack settings: both stack files load, and a bad value fails with the key that is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from glue import marks
from infra.settings import Settings, SettingsError, config_key, stack_config


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_load(stack: str) -> None:
    settings = Settings.from_stack_file(stack)
    assert settings.name_prefix == f"eventlake-{stack}"
    assert stack_config(stack)["aws:region"]


def test_stacks_differ_only_in_config_values() -> None:
    dev, prod = Settings.from_stack_file("dev"), Settings.from_stack_file("prod")
    assert prod.protect_data and not dev.protect_data
    assert prod.stream_mode == "PROVISIONED" and dev.stream_mode == "ON_DEMAND"
    assert prod.stream_retention_hours > dev.stream_retention_hours


def test_defaults_are_safe_for_firehose() -> None:
    settings = Settings(stack="x")
    assert settings.buffering_size_mib >= 64 and settings.buffering_interval_seconds >= 60
    assert settings.lambda_timeout_seconds <= 300


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("bufferingSizeMib", 5, "bufferingSizeMib must be between 64 and 128"),
        ("bufferingIntervalSeconds", 30, "bufferingIntervalSeconds must be between 60 and 900"),
        ("streamMode", "SOMETIMES", "streamMode must be ON_DEMAND or PROVISIONED"),
        ("lambdaTimeoutSeconds", 900, "lambdaTimeoutSeconds must be between 1 and 300"),
        ("lambdaRuntime", "python3.11", "lambdaRuntime must be python3.12"),
        ("logRetentionDays", 10, "logRetentionDays must be one of"),
        ("protectData", "maybe", "protectData must be a bool"),
        ("streamShardCount", "two", "streamShardCount must be a int"),
        ("parquetCompression", "ZSTD", "parquetCompression must be UNCOMPRESSED, GZIP or SNAPPY"),
        ("glueDatabase", "Event-Lake", "glueDatabase must be lower-case letters"),
        (
            "backupArchiveDays",
            30,
            r"backupArchiveDays must be 0 .* fewer days than backupRetentionDays \(30; got 30\)",
        ),
    ],
)
def test_bad_values_name_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_lookup("dev", {key: value}.get)


def test_string_values_from_pulumi_config_are_coerced() -> None:
    settings = Settings.from_lookup("dev", {"protectData": "true", "streamShardCount": "4"}.get)
    assert settings.protect_data is True and settings.stream_shard_count == 4


def test_unknown_keys_in_a_stack_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.typo.yaml").write_text("config:\n  eventlake:bufferingSizeMB: 64\n")
    with pytest.raises(SettingsError, match="bufferingSizeMB"):
        Settings.from_stack_file("typo", tmp_path)


def test_glue_database_defaults_per_stack_in_glue_safe_form() -> None:
    assert Settings(stack="prod").glue_database == "eventlake_prod"
    assert Settings(stack="eu-Dev").glue_database == "eventlake_eu_dev"


def test_config_keys_are_camel_case() -> None:
    assert config_key("buffering_interval_seconds") == "bufferingIntervalSeconds"


def test_every_config_key_is_documented_in_the_readme() -> None:
    from dataclasses import fields

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [
        config_key(f.name)
        for f in fields(Settings)
        if f.name != "stack" and f"`{config_key(f.name)}`" not in readme
    ]
    assert not missing


@pytest.fixture
def pulumi_config() -> Any:
    from pulumi.runtime import config as runtime_config

    saved = dict(runtime_config.CONFIG.get())
    yield runtime_config.set_all_config
    runtime_config.set_all_config(saved)


def test_the_program_refuses_a_misspelled_key_instead_of_using_its_default(pulumi_config: Any) -> None:
    pulumi_config({"eventlake:bufferingIntervalSecs": "900", "aws:region": "eu-west-1"})
    with pytest.raises(SettingsError, match="bufferingIntervalSecs"):
        Settings.from_pulumi()


def test_the_program_reads_typed_values_from_pulumi_config(pulumi_config: Any) -> None:
    pulumi_config({"eventlake:bufferingIntervalSeconds": "900", "eventlake:protectData": "true"})
    settings = Settings.from_pulumi()
    assert settings.buffering_interval_seconds == 900 and settings.protect_data is True


@pytest.mark.parametrize("prefix", ["EventLake", "a" * 31, "-lead", "under_score"])
def test_name_prefix_must_make_valid_bucket_names(prefix: str) -> None:
    with pytest.raises(SettingsError, match="namePrefix"):
        Settings(stack="dev", name_prefix=prefix)


def test_every_config_problem_is_reported_at_once_with_the_closest_key(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.typos.yaml").write_text(
        "config:\n"
        "  aws:regoin: eu-west-1\n"  # a typo in the AWS provider's namespace
        "  eventLake:bufferingSizeMib: 64\n"  # the project's namespace, miscapitalised
        "  eventlake:bufferingSizeMb: 64\n"  # a key of the right namespace, misspelled
        "  eventlake:lambdaMemoryMb: 64\n"  # out of range
        "  eventlake:sourceBackup: maybe\n"  # the wrong type
        "  aws:region: eu-west-1\n"
        "  pulumi:template: aws-python\n"  # another namespace: not ours to judge
    )
    with pytest.raises(SettingsError) as raised:
        Settings.from_stack_file("typos", tmp_path)
    lines = str(raised.value).splitlines()
    assert len(lines) == 5, lines
    text = str(raised.value)
    assert "aws:regoin" in text and "did you mean aws:region?" in text
    assert "eventLake:bufferingSizeMib" in text and "did you mean eventlake:bufferingSizeMib?" in text
    assert "eventlake:bufferingSizeMb" in text and "did you mean eventlake:bufferingSizeMib?" in text
    assert "lambdaMemoryMb must be between" in text and "sourceBackup must be a bool" in text


def test_the_dedupe_mode_is_checked_with_the_closest_spelling(tmp_path: Path) -> None:
    for value, hint in (("claim", "did you mean claims?"), ("Compaction", "did you mean compaction?")):
        with pytest.raises(SettingsError) as raised:
            Settings(stack="t", dedupe=value)
        assert str(raised.value).count("\n") == 0  # one line
        assert "eventlake:dedupe must be claims, compaction or off" in str(raised.value) and hint in str(
            raised.value
        )
    assert Settings(stack="t", dedupe="compaction").dedupe_mode is marks.COMPACTION
    assert Settings(stack="t").dedupe_mode is marks.CLAIMS and Settings(stack="t").uses_claims
    assert not Settings(stack="t", dedupe="compaction").uses_claims
    assert not Settings(stack="t", processor="jq").uses_claims  # no Lambda, no claims
    with pytest.raises(SettingsError, match="claimsBillingMode must be PAY_PER_REQUEST or PROVISIONED"):
        Settings(stack="t", claims_billing_mode="ON_DEMAND")


def test_dedupe_by_compaction_needs_the_compactor() -> None:
    with pytest.raises(SettingsError, match="eventlake:dedupe must be claims or off while compactionEnabled"):
        Settings(stack="t", dedupe="compaction", compaction_enabled=False)
    assert Settings(stack="t", dedupe="off", compaction_enabled=False).dedupe_mode is marks.OFF


def test_the_retired_dedupe_enabled_key_says_what_replaced_it(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.old.yaml").write_text("config:\n  eventlake:dedupeEnabled: false\n", encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        Settings.from_stack_file("old", tmp_path)
    assert "eventlake:dedupeEnabled" in str(raised.value)
    assert "replaced by eventlake:dedupe: claims, compaction or off" in str(raised.value)
