"""Compaction as the real ``__main__.py`` registers it: a schedule (from stack config) invokes the compactor
Lambda, whose environment names the stack's table, source table, bucket and workgroup and whose role reaches
exactly what one compaction touches; the source table mirrors the events table; the zip runs on the standard
library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ACCOUNT_ID, Deployment

from aws_contract import limits
from glue import compactor_contract as env
from glue import schema
from glue.compactor_contract import SOURCE_TABLE, SUPERSEDED_TAG, SWEEP_GRACE
from infra import iam
from infra.athena_spec import RESULTS_ROOT
from infra.compaction_spec import superseded_expiry_rules
from infra.pipeline import EventLakeArgs
from infra.settings import PROJECT_ROOT, Settings, SettingsError

FUNCTION = "aws:lambda/function:Function"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"
TABLE = "aws:glue/catalogTable:CatalogTable"
QUEUE = "aws:sqs/queue:Queue"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
WORKGROUP = "aws:athena/workgroup:Workgroup"
BUCKET = "aws:s3/bucket:Bucket"
DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
KEY = "aws:kms/key:Key"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
SHIPPED = ("lake_compactor", "glue", "aws_contract")


def compactor(d: Deployment) -> dict[str, Any]:
    return d.one(FUNCTION, "compactor").inputs


def test_the_schedule_from_stack_config_invokes_the_compactor(deployment: Deployment) -> None:
    d = deployment
    rule = d.one(RULE, "compactor")
    assert rule.inputs["scheduleExpression"] == d.settings.compaction_schedule
    target = d.one(TARGET, "compactor")
    assert target.inputs["rule"] == rule.inputs["name"]
    assert target.inputs["arn"] == d.one(FUNCTION, "compactor").state["arn"]
    permission = d.one(PERMISSION, "compactor")
    assert permission.inputs["sourceArn"] == rule.state["arn"]
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.urn in target.dependencies
    # A failed scheduled run is not retried: the next run takes up what it left.
    assert d.one(INVOKE_CONFIG, "compactor").inputs["maximumRetryAttempts"] == 0


def test_the_compactor_reads_the_stacks_names_and_windows(deployment: Deployment) -> None:
    d = deployment
    fn = compactor(d)
    assert fn["handler"] == "lake_compactor.compaction_handler.handler"
    assert fn["timeout"] == limits.LAMBDA_MAX_TIMEOUT_S  # the longest run Lambda allows
    assert fn["architectures"] == ["arm64"]
    assert fn["environment"]["variables"] == {
        env.ENV_DATABASE: d.settings.glue_database,
        env.ENV_TABLE: schema.TABLE_NAME,
        env.ENV_SOURCE_TABLE: SOURCE_TABLE,
        env.ENV_BUCKET: d.outputs["bucket_name"],
        env.ENV_WORKGROUP: d.one(WORKGROUP).inputs["name"],
        env.ENV_LATE_WINDOW_HOURS: str(d.settings.compaction_late_window_hours),
        env.ENV_LOOKBACK_HOURS: str(d.settings.compaction_lookback_hours),
        env.ENV_COMPRESSION: d.settings.compaction_compression,
        env.ENV_MARK: "true",  # every stack's dedupe mode marks (claims, compaction)
        env.ENV_FINGERPRINT_FIELDS: d.settings.dedupe_fingerprint_fields,
    }
    assert d.one(LOG_GROUP, "compactor").inputs["kmsKeyId"] == d.one(KEY).state["arn"]


def test_the_source_table_mirrors_the_events_table_under_its_own_name(deployment: Deployment) -> None:
    d = deployment
    events = d.one(TABLE, "catalog-table").inputs
    source = d.one(TABLE, "source-table").inputs
    assert source["name"] == SOURCE_TABLE != events["name"]
    assert source["databaseName"] == events["databaseName"]
    assert source["partitionKeys"] == events["partitionKeys"]
    for field in ("columns", "location", "inputFormat", "outputFormat", "serDeInfo"):
        assert source["storageDescriptor"][field] == events["storageDescriptor"][field], field


def test_the_compactor_policy_grants_exactly_one_compaction(deployment: Deployment) -> None:
    d = deployment
    bucket = d.one(BUCKET, "-lake").state["arn"]
    catalog = [f"arn:aws:glue:eu-west-1:{ACCOUNT_ID}:catalog", d.one(DATABASE).state["arn"]]
    events, source = d.one(TABLE, "catalog-table").state["arn"], d.one(TABLE, "source-table").state["arn"]
    document = json.loads(d.one(ROLE_POLICY, "compactor").inputs["policy"])
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in document["Statement"]}
    assert grants == {
        "Logs": (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [f"{d.one(LOG_GROUP, 'compactor').state['arn']}:*"],
        ),
        "Workgroup": (
            ["athena:StartQueryExecution", "athena:GetQueryExecution"],
            [f"arn:aws:athena:eu-west-1:{ACCOUNT_ID}:workgroup/{d.one(WORKGROUP).inputs['name']}"],
        ),
        "ReadCatalog": (iam.COMPACTOR_GLUE_READ_ACTIONS, [*catalog, events, source]),
        # The switch only on the events table; partitions are created only in the source table.
        "SwitchPartitions": (["glue:UpdatePartition"], [*catalog, events]),
        "SourcePartitions": (["glue:BatchCreatePartition"], [*catalog, source]),
        "LakeBucket": (["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], [bucket]),
        "ListPartitions": (["s3:ListBucket"], [bucket]),
        "ReadData": (
            ["s3:GetObject"],
            [
                f"{bucket}/{schema.DATA_ROOT}*",
                f"{bucket}/{schema.COMPACTED_ROOT}*",
                f"{bucket}/{schema.COMPACTION_STAGING_ROOT}*",
            ],
        ),
        # Writes only under the compacted root, a batch's staging folder and the results: the originals are
        # never touched.
        "WriteCompacted": (
            iam.COMPACTOR_WRITE_ACTIONS,
            [f"{bucket}/{schema.COMPACTED_ROOT}*", f"{bucket}/{schema.COMPACTION_STAGING_ROOT}*"],
        ),
        # Tags what a switch superseded, on both roots, for the lifecycle rule: tagging and nothing else.
        "TagSuperseded": (
            ["s3:PutObjectTagging"],
            [f"{bucket}/{schema.DATA_ROOT}*", f"{bucket}/{schema.COMPACTED_ROOT}*"],
        ),
        "Results": (iam.ATHENA_RESULTS_ACTIONS, [f"{bucket}/{RESULTS_ROOT}*"]),
        # A failed run's event, to its failure queue (Lambda's on-failure destination sends as the role).
        "FailedRuns": (["sqs:SendMessage"], [d.one(QUEUE, "compactor").state["arn"]]),
        "FailedRunsKey": (["kms:GenerateDataKey", "kms:Decrypt"], [d.one(KEY).state["arn"]]),
        "LakeKey": (iam.KMS_DATA_ACTIONS, [d.one(KEY).state["arn"]]),
    }
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    # Lists only the two roots' partition folders and the results; tags only with the one superseded tag.
    assert by_sid["ListPartitions"]["Condition"] == {
        "StringLike": {
            "s3:prefix": [
                f"{schema.DATA_ROOT}event_type=*",
                f"{schema.COMPACTED_ROOT}event_type=*",
                f"{schema.COMPACTION_STAGING_ROOT}*",
                f"{RESULTS_ROOT}*",
            ]
        }
    }
    assert by_sid["TagSuperseded"]["Condition"] == {
        "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": [SUPERSEDED_TAG[0]]},
        "StringEquals": {f"s3:RequestObjectTag/{SUPERSEDED_TAG[0]}": SUPERSEDED_TAG[1]},
    }
    key = next(s for s in document["Statement"] if s["Sid"] == "LakeKey")
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com"]}}
    assert not any("Delete" in a for s in document["Statement"] for a in s["Action"])


def test_the_bucket_expires_what_compaction_superseded_after_the_configured_days(
    deployment: Deployment,
) -> None:
    d = deployment
    lifecycle = d.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-lake")
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    tag_key, tag_value = SUPERSEDED_TAG
    for name, root in (("originals", schema.DATA_ROOT), ("copies", schema.COMPACTED_ROOT)):
        rule = rules[f"expire-superseded-{name}"]
        # Only tagged objects under the root: a late object (untagged) or another prefix never expires here.
        assert rule["filter"] == {"and": {"prefix": root, "tags": {tag_key: tag_value}}}
        assert rule["expiration"] == {"days": d.settings.compaction_expiry_days}
        # The bucket is versioned: expiry leaves a noncurrent version, kept noncurrentVersionDays as every
        # other object's (a tag must not shorten it: that was a week to empty the lake, versions included).
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": d.settings.noncurrent_version_days}
        markers = rules[f"remove-delete-markers-{name}"]
        assert markers["filter"] == {"prefix": root}
        assert markers["expiration"] == {"expiredObjectDeleteMarker": True}
    versioning = d.one("aws:s3/bucketVersioning:BucketVersioning", "-lake").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"


def test_expiry_days_zero_keeps_everything_and_short_expiry_is_refused() -> None:
    kept = EventLakeArgs.from_settings(Settings(stack="x", compaction_expiry_days=0)).lake
    assert kept.superseded_expiry_days == 0 and superseded_expiry_rules(0) == []
    # A copy may be superseded up to the lookback after it was written: expiry must come a day after that.
    with pytest.raises(SettingsError, match="compactionExpiryDays"):
        Settings(stack="x", compaction_lookback_hours=48, compaction_expiry_days=2)
    Settings(stack="x", compaction_lookback_hours=48, compaction_expiry_days=3)


def test_readers_may_read_compacted_copies(deployment: Deployment) -> None:
    reader = json.loads(deployment.one("aws:iam/policy:Policy", "analyst").inputs["policy"])
    (read,) = [s for s in reader["Statement"] if s["Sid"] == "ReadData"]
    assert any(r.endswith(f"/{schema.COMPACTED_ROOT}*") for r in read["Resource"])


def test_compaction_off_provisions_nothing() -> None:
    assert EventLakeArgs.from_settings(Settings(stack="x", compaction_enabled=False)).compaction is None
    assert EventLakeArgs.from_settings(Settings(stack="x")).compaction is not None


def shipped_files() -> set[str]:
    return {
        p.relative_to(PROJECT_ROOT).as_posix()
        for package in SHIPPED
        for p in (PROJECT_ROOT / package).glob("*.py")
    }


def test_the_zip_holds_the_compactor_and_runs_on_the_standard_library(
    dev: Deployment, tmp_path: Path
) -> None:
    files = set(compactor(dev)["code"].assets)
    assert files == shipped_files()
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes((PROJECT_ROOT / rel).read_bytes())
    script = (
        "import sys; sys.path.insert(0, '.');"
        "from lake_compactor.compaction_handler import config_from_env, hour_bound;"
        "from lake_compactor.compaction_plan import CompactionStatement;"
        "s = CompactionStatement('db', 'events', 'events_landing', "
        "{'event_type': 'a', 'event_date': '2026-11-25', 'event_hour': '07'}, True, ('s3://b/k',), 's3://b/t/');"
        "print(s.athena_sql().split('(')[0], hour_bound('2026-11-25T07').hour)"
    )
    run = subprocess.run(
        [sys.executable, "-S", "-c", script],  # -S: no site-packages, only what the zip holds
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert run.stdout.split() == ["UNLOAD", "7"]


def test_the_lookback_keeps_a_crashed_copy_a_candidate_past_the_sweeps_grace() -> None:
    """A run that crashed when its hour closed leaves a copy only a sweep tags, and only once past the grace:
    the hour must still be in the lookback then."""
    grace = int(SWEEP_GRACE.total_seconds()) // 3600
    with pytest.raises(SettingsError, match="compactionLookbackHours"):
        Settings(stack="x", compaction_late_window_hours=3, compaction_lookback_hours=3 + grace)
    Settings(stack="x", compaction_late_window_hours=3, compaction_lookback_hours=3 + grace + 1)
