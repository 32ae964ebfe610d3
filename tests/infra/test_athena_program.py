"""Athena as the real ``__main__.py`` registers it for dev and prod: the workgroup, one saved query per
``glue/sql`` file, the unique-events view (a Glue ``VIRTUAL_VIEW`` holding a Presto view definition), the
events table's partition index, the results lifecycle rule, the lake key's policy and the readers'
(analysts') policy.

Expected values are derived here independently where they can be: the query headers by the local Athena's
own parser (``eventlake.athena.engine``), the view's JSON by decoding its text, its output columns by
parsing its SQL.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import sqlglot
from conftest import ACCOUNT_ID, Deployment
from moto import mock_aws

from aws_contract import limits
from eventlake.athena.engine import SQL_DIR, load_queries, query_header
from glue import schema
from glue.event_catalog import load_catalog
from infra.athena_spec import NamedQuerySpec, ViewSpec, decode_view_text, named_queries, view_table_input
from infra.catalog_spec import CatalogSpec, GluePartitionIndex
from infra.settings import Settings, SettingsError, stack_config

KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
TABLE = "aws:glue/catalogTable:CatalogTable"
INDEX = "aws:glue/partitionIndex:PartitionIndex"
WORKGROUP = "aws:athena/workgroup:Workgroup"
NAMED_QUERY = "aws:athena/namedQuery:NamedQuery"
POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
STREAM = "aws:kinesis/stream:Stream"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"

RESULTS_PREFIX = "athena-results/"
HIVE_TO_PRESTO = {"string": "varchar", "bigint": "bigint", "boolean": "boolean", "timestamp": "timestamp(3)"}


def arn(d: Deployment, typ: str, name_part: str = "") -> str:
    return d.one(typ, name_part).state["arn"]


def events_table(d: Deployment) -> dict[str, Any]:
    return d.one(TABLE, "catalog-table").inputs


def view(d: Deployment) -> dict[str, Any]:
    return d.one(TABLE, "unique_events").inputs


def select_of(sql: str) -> str:
    """The query without its leading ``--`` header lines (what Athena stores as a view's SQL)."""
    lines = sql.splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()


# --- workgroup ------------------------------------------------------------------------------------


def test_workgroup_enforces_engine_v3_encrypted_results_metrics_and_the_scan_cutoff(
    deployment: Deployment,
) -> None:
    d, s = deployment, deployment.settings
    workgroup = d.one(WORKGROUP).inputs
    configured_gb = stack_config(d.stack)["eventlake:athenaScanLimitGb"]
    assert s.athena_scan_limit_gb == configured_gb
    assert workgroup["name"] == f"eventlake-{d.stack}-analysts"
    assert workgroup["state"] == "ENABLED"
    assert workgroup["configuration"] == {
        "enforceWorkgroupConfiguration": True,
        "engineVersion": {"selectedEngineVersion": "Athena engine version 3"},
        "publishCloudwatchMetricsEnabled": True,
        "bytesScannedCutoffPerQuery": configured_gb * 1_000_000_000,
        "resultConfiguration": {
            "outputLocation": f"s3://{d.outputs['bucket_name']}/{RESULTS_PREFIX}",
            "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": arn(d, KEY)},
        },
    }
    assert workgroup["configuration"]["bytesScannedCutoffPerQuery"] >= limits.ATHENA_MIN_BYTES_SCANNED_CUTOFF
    assert d.outputs["athena_workgroup"] == workgroup["name"]


def test_prod_protects_and_retains_the_workgroup(prod: Deployment) -> None:
    workgroup = prod.one(WORKGROUP)
    assert (workgroup.protect, workgroup.retain_on_delete) == (True, True)
    assert workgroup.inputs["forceDestroy"] is False


def test_dev_workgroup_is_disposable(dev: Deployment) -> None:
    workgroup = dev.one(WORKGROUP)
    assert (workgroup.protect, workgroup.retain_on_delete) == (False, False)
    assert workgroup.inputs["forceDestroy"] is True


def test_the_scan_limit_and_results_retention_are_validated() -> None:
    with pytest.raises(SettingsError, match=r"athenaScanLimitGb must be .* 10000000 bytes"):
        Settings.from_lookup("dev", {"athenaScanLimitGb": 0}.get)
    with pytest.raises(SettingsError, match="athenaResultsRetentionDays must be between 1 and"):
        Settings.from_lookup("dev", {"athenaResultsRetentionDays": 0}.get)
    assert Settings(stack="x").athena_scan_limit_bytes == 100 * 10**9


# --- saved queries --------------------------------------------------------------------------------


def test_every_sql_file_is_a_saved_query_in_the_workgroup_and_database(deployment: Deployment) -> None:
    d = deployment
    files = sorted(SQL_DIR.glob("*.sql"))
    assert len(files) >= 5
    expected = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        header = query_header(text)
        expected[header["name"]] = (header["description"][:1024], text)
    assert set(expected) == set(load_queries())  # the names the local runner runs them by

    deployed = {r.inputs["name"]: r.inputs for r in d.all(NAMED_QUERY)}
    assert set(deployed) == set(expected)
    for name, (description, text) in expected.items():
        query = deployed[name]
        assert query["database"] == d.settings.glue_database, name
        assert query["workgroup"] == d.one(WORKGROUP).inputs["name"], name
        assert query["query"] == text, name
        assert query["description"] == description, name
        assert set(query) == {"name", "database", "workgroup", "query", "description"}, name


def test_a_long_description_is_cut_to_the_api_limit_and_a_bad_header_refused(tmp_path: Path) -> None:
    long = "x" * (limits.ATHENA_NAMED_QUERY_DESCRIPTION_MAX_CHARS + 500)
    (tmp_path / "a.sql").write_text(f"-- name: a\n-- description: {long}\nSELECT 1\n")
    query = NamedQuerySpec.from_file(tmp_path / "a.sql")
    assert query.description == long[: limits.ATHENA_NAMED_QUERY_DESCRIPTION_MAX_CHARS]
    assert query.body == "SELECT 1"
    assert query.query == f"-- name: a\n-- description: {long}\nSELECT 1\n"

    (tmp_path / "b.sql").write_text("-- name: a\nSELECT 2\n")
    with pytest.raises(ValueError, match="used twice"):
        named_queries(tmp_path)
    (tmp_path / "b.sql").write_text("SELECT 2\n")
    with pytest.raises(ValueError, match="name"):
        named_queries(tmp_path)


# --- the unique-events view -----------------------------------------------------------------------


def test_the_view_is_a_presto_view_of_the_unique_events_query(deployment: Deployment) -> None:
    d = deployment
    table = view(d)
    assert table["name"] == "unique_events"
    assert table["databaseName"] == d.settings.glue_database
    assert table["tableType"] == "VIRTUAL_VIEW"
    assert table["parameters"] == {"presto_view": "true", "comment": "Presto View"}
    assert table["viewExpandedText"] == "/* Presto View */"
    assert "partitionKeys" not in table

    text = table["viewOriginalText"]
    assert text.startswith("/* Presto View: ") and text.endswith(" */")
    definition = json.loads(base64.b64decode(text.removeprefix("/* Presto View: ").removesuffix(" */")))
    assert definition == decode_view_text(text)
    sql = (SQL_DIR / "unique_events.sql").read_text(encoding="utf-8")
    columns = [*schema.COLUMNS, *schema.PARTITION_KEYS]
    assert definition == {
        "originalSql": select_of(sql),
        "catalog": "awsdatacatalog",
        "schema": d.settings.glue_database,
        "columns": [{"name": c.name, "type": HIVE_TO_PRESTO[c.type]} for c in columns],
        "owner": "eventlake",
        "runAsInvoker": False,
    }
    assert not definition["originalSql"].startswith("--")
    assert definition["originalSql"].upper().startswith("SELECT")

    # Glue holds the same columns in Hive types, partition keys as ordinary columns at the end.
    assert table["storageDescriptor"] == {
        "columns": [{"name": c.name, "type": c.type, "comment": c.comment} for c in columns]
    }


def test_the_view_sql_selects_exactly_the_declared_columns_from_the_events_table() -> None:
    definition = ViewSpec.from_settings(Settings(stack="dev")).presto_definition()
    statement = sqlglot.parse_one(definition["originalSql"], read="athena")
    assert [s.alias_or_name for s in statement.selects] == [c["name"] for c in definition["columns"]]
    tables = {t.name for t in statement.find_all(sqlglot.exp.Table)}
    assert tables == {schema.TABLE_NAME}


def test_the_view_waits_for_the_events_table(deployment: Deployment) -> None:
    d = deployment
    assert d.one(TABLE, "catalog-table").urn in d.one(TABLE, "unique_events").dependencies


def test_the_program_renders_the_view_spec_and_the_embedded_glue_accepts_it(deployment: Deployment) -> None:
    d = deployment
    spec = ViewSpec.from_settings(d.settings)
    expected = view_table_input(spec)
    table = view(d)
    rendered = {
        "Name": table["name"],
        "TableType": table["tableType"],
        "Parameters": table["parameters"],
        "ViewOriginalText": table["viewOriginalText"],
        "ViewExpandedText": table["viewExpandedText"],
        "StorageDescriptor": {
            "Columns": [
                {"Name": c["name"], "Type": c["type"], "Comment": c["comment"]}
                for c in table["storageDescriptor"]["columns"]
            ]
        },
    }
    assert set(table) == {"name", "databaseName", *(k[0].lower() + k[1:] for k in rendered)}
    assert rendered == expected
    assert table["databaseName"] == spec.database_name
    with mock_aws():
        glue = boto3.client("glue", region_name="eu-west-1")
        glue.create_database(DatabaseInput={"Name": spec.database_name})
        glue.create_table(DatabaseName=spec.database_name, TableInput=expected)
        stored = glue.get_table(DatabaseName=spec.database_name, Name=spec.name)["Table"]
    assert stored["TableType"] == "VIRTUAL_VIEW"
    assert decode_view_text(stored["ViewOriginalText"]) == spec.presto_definition()


# --- partition index ------------------------------------------------------------------------------


def test_the_events_table_has_a_partition_index_athena_uses(deployment: Deployment) -> None:
    d = deployment
    (index,) = d.all(INDEX)
    assert index.inputs == {
        "databaseName": d.settings.glue_database,
        "tableName": schema.TABLE_NAME,
        "partitionIndex": {
            "indexName": "by_type_date_hour",
            "keys": ["event_type", "event_date", "event_hour"],
        },
    }
    assert list(schema.PARTITION_KEY_NAMES) == index.inputs["partitionIndex"]["keys"]
    assert len(d.all(INDEX)) <= limits.GLUE_PARTITION_INDEXES_MAX
    table = events_table(d)
    assert table["parameters"]["partition_filtering.enabled"] == "true"
    # Not the table's own (ForceNew) argument: adding the index must not replace the table.
    assert "partitionIndexes" not in table
    assert d.one(TABLE, "catalog-table").urn in index.dependencies


# --- results lifecycle ----------------------------------------------------------------------------


def test_query_results_expire(deployment: Deployment) -> None:
    d = deployment
    rules = {r["id"]: r for r in d.one(LIFECYCLE, "-lake").inputs["rules"]}
    configured = stack_config(d.stack)["eventlake:athenaResultsRetentionDays"]
    assert rules["expire-athena-results"] == {
        "id": "expire-athena-results",
        "status": "Enabled",
        "filter": {"prefix": RESULTS_PREFIX},
        "expiration": {"days": configured},
    }
    assert d.settings.athena_results_retention_days == configured
    # Results never sit under the table's data, the error records or the raw backup.
    for root in (schema.DATA_ROOT, schema.ERROR_ROOT, schema.BACKUP_ROOT):
        assert not RESULTS_PREFIX.startswith(root) and not root.startswith(RESULTS_PREFIX)


# --- IAM ------------------------------------------------------------------------------------------


ALARM_SLUGS = (
    "delivery-freshness",
    "delivery-success",
    "processing-success",
    "format-conversion-failed",
    "partition-count-exceeded",
    "partition-headroom",
    "stream-iterator-age",
    "stream-write-throttled",
    "transform-errors",
    "transform-throttles",
    "transform-duration",
    "registrar-errors",
    "transform-rejected",
    "dedupe-not-checked",
    "claims-write-throttled",
    "claims-read-throttled",
    # Failures nobody else would see, and what a compaction run tagged for expiry (issue 31).
    "registrar-failed-events",
    "registrar-rule-failed",
    "compactor-failed-runs",
    "compaction-schedule-failed",
    "compaction-tags-outside-manifests",
    "compaction-partition-tagged",
)


def test_the_key_policy_names_exactly_who_may_use_the_key(deployment: Deployment) -> None:
    """AWS's default statement (the account's IAM decides, ``kms:*``) is gone: administration for the account,
    each use through its service, for the stack's roles, log groups and alarms, producers and readers."""
    d = deployment
    prefix = f"eventlake-{d.stack}"
    region = f"eu-west-1:{ACCOUNT_ID}"
    root = {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    document = json.loads(d.one(KEY).inputs["policy"])
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KeyAdministration",
                "Effect": "Allow",
                "Principal": root,
                "Action": [
                    "kms:CancelKeyDeletion",
                    "kms:CreateAlias",
                    "kms:DeleteAlias",
                    "kms:DescribeKey",
                    "kms:DisableKey",
                    "kms:DisableKeyRotation",
                    "kms:EnableKey",
                    "kms:EnableKeyRotation",
                    "kms:GetKeyPolicy",
                    "kms:GetKeyRotationStatus",
                    "kms:ListGrants",
                    "kms:ListKeyPolicies",
                    "kms:ListKeyRotations",
                    "kms:ListResourceTags",
                    "kms:PutKeyPolicy",
                    "kms:RetireGrant",
                    "kms:RevokeGrant",
                    "kms:RotateKeyOnDemand",
                    "kms:ScheduleKeyDeletion",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:UpdateAlias",
                    "kms:UpdateKeyDescription",
                ],
                "Resource": "*",
            },
            {
                "Sid": "FirehoseDelivery",
                "Effect": "Allow",
                "Principal": root,
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": arn(d, ROLE, "delivery")},
                    "StringEquals": {
                        "kms:ViaService": ["s3.eu-west-1.amazonaws.com", "kinesis.eu-west-1.amazonaws.com"]
                    },
                },
            },
            {
                "Sid": "RegistrarFailedEvents",
                "Effect": "Allow",
                "Principal": root,
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": arn(d, ROLE, "registrar")},
                    "StringEquals": {"kms:ViaService": ["sqs.eu-west-1.amazonaws.com"]},
                },
            },
            {
                "Sid": "CompactorFailedRuns",
                "Effect": "Allow",
                "Principal": root,
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": arn(d, ROLE, "compactor")},
                    "StringEquals": {"kms:ViaService": ["sqs.eu-west-1.amazonaws.com"]},
                },
            },
            {
                # Only for this account's two rules: the registrar's and the compactor's schedule.
                "Sid": "EventBridgeDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnEquals": {
                        "aws:SourceArn": [
                            f"arn:aws:events:{region}:rule/{prefix}-data-object-created",
                            f"arn:aws:events:{region}:rule/{prefix}-compaction-schedule",
                        ]
                    },
                },
            },
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                "Action": [
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:Encrypt",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:logs:arn": [
                            arn(d, LOG_GROUP, "delivery"),
                            arn(d, LOG_GROUP, "processor"),
                            arn(d, LOG_GROUP, "registrar"),
                            *([arn(d, LOG_GROUP, "compactor")] if d.settings.compaction_enabled else []),
                        ]
                    }
                },
            },
            {
                "Sid": "CloudWatchAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": [
                            f"arn:aws:cloudwatch:{region}:alarm:{prefix}-{slug}" for slug in ALARM_SLUGS
                        ]
                    },
                },
            },
            {
                "Sid": "ClaimsTable",
                "Effect": "Allow",
                "Principal": root,
                "Action": [
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:Encrypt",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": ACCOUNT_ID,
                        "kms:ViaService": ["dynamodb.eu-west-1.amazonaws.com"],
                    }
                },
            },
            {
                "Sid": "ClaimsTableGrant",
                "Effect": "Allow",
                "Principal": root,
                "Action": ["kms:CreateGrant"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": ACCOUNT_ID,
                        "kms:ViaService": ["dynamodb.eu-west-1.amazonaws.com"],
                    },
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            },
            {
                "Sid": "Producers",
                "Effect": "Allow",
                "Principal": root,
                "Action": ["kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": ACCOUNT_ID,
                        "kms:ViaService": ["kinesis.eu-west-1.amazonaws.com"],
                        "kms:EncryptionContext:aws:kinesis:arn": arn(d, STREAM),
                    }
                },
            },
            {
                "Sid": "Readers",
                "Effect": "Allow",
                "Principal": root,
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": ACCOUNT_ID,
                        "kms:ViaService": ["s3.eu-west-1.amazonaws.com"],
                    }
                },
            },
        ],
    }
    # Every alarm the key admits exists, and every alarm is admitted (an encrypted topic drops the rest).
    alarms = sorted(a.state["arn"] for a in d.all("aws:cloudwatch/metricAlarm:MetricAlarm"))
    (cloudwatch,) = [s for s in document["Statement"] if s["Sid"] == "CloudWatchAlarms"]
    assert sorted(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]) == alarms


def test_the_analyst_policy_grants_querying_through_the_workgroup_only(deployment: Deployment) -> None:
    d = deployment
    policy = d.one(POLICY, "analyst")
    assert policy.inputs["name"] == d.one(WORKGROUP).inputs["name"]
    grants = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    bucket = arn(d, BUCKET, "-lake")
    expected = {
        "Workgroup": (
            [
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:GetQueryRuntimeStatistics",
                "athena:ListQueryExecutions",
                "athena:GetWorkGroup",
                "athena:GetNamedQuery",
                "athena:BatchGetNamedQuery",
                "athena:ListNamedQueries",
            ],
            [f"arn:aws:athena:eu-west-1:{ACCOUNT_ID}:workgroup/{d.one(WORKGROUP).inputs['name']}"],
        ),
        "Catalog": (
            [
                "glue:GetDatabase",
                "glue:GetTable",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:BatchGetPartition",
            ],
            [
                f"arn:aws:glue:eu-west-1:{ACCOUNT_ID}:catalog",
                arn(d, DATABASE),
                arn(d, TABLE, "catalog-table"),
                arn(d, TABLE, "unique_events"),
                # the catalog's typed views (tests/infra/test_event_views_program.py)
                *(arn(d, TABLE, f"-typed-{entry.view_name}") for entry in load_catalog()),
            ],
        ),
        "LakeBucket": (["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], [bucket]),
        # Lists only the table's roots and the results (s3:prefix).
        "ListTable": (["s3:ListBucket"], [bucket]),
        "ReadData": (
            ["s3:GetObject"],
            [f"{bucket}/{schema.DATA_ROOT}*", f"{bucket}/{schema.COMPACTED_ROOT}*"],
        ),
        "Results": (
            ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            [f"{bucket}/{RESULTS_PREFIX}*"],
        ),
        "LakeKey": (["kms:Decrypt", "kms:GenerateDataKey"], [arn(d, KEY)]),
    }
    assert set(grants) == set(expected)
    for sid, (actions, resources) in expected.items():
        assert grants[sid] == {
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources,
            **({"Condition": grants[sid]["Condition"]} if sid in ("LakeKey", "ListTable") else {}),
        }, sid
    assert grants["LakeKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com"]}
    }
    # The errors and the raw backup stay unlisted.
    assert grants["ListTable"]["Condition"] == {
        "StringLike": {
            "s3:prefix": [f"{schema.DATA_ROOT}*", f"{schema.COMPACTED_ROOT}*", f"{RESULTS_PREFIX}*"]
        }
    }
    assert d.outputs["athena_analyst_policy_arn"] == policy.state["arn"]


def test_the_catalog_spec_refuses_indexes_glue_would() -> None:
    spec = CatalogSpec.from_settings(Settings(stack="dev"))
    with pytest.raises(ValueError, match="partition keys only"):
        dataclasses.replace(spec, partition_indexes=(GluePartitionIndex("bad", ("event_uuid",)),))
    too_many = tuple(
        GluePartitionIndex(f"i{n}", ("event_type",)) for n in range(limits.GLUE_PARTITION_INDEXES_MAX + 1)
    )
    with pytest.raises(ValueError, match="at most"):
        dataclasses.replace(spec, partition_indexes=too_many)
