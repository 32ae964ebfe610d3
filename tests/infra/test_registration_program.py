"""Partition registration as the real ``__main__.py`` registers it for dev and prod: the bucket tells
EventBridge, a rule on the data prefix invokes the registrar Lambda (retried, dead-lettered to an SQS queue
encrypted with the lake key), and the Lambda's role reaches exactly its log group, the Glue table and the
queue."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ACCOUNT_ID, Deployment

from glue import schema
from infra.rules import check_lambda
from infra.settings import PROJECT_ROOT

KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
TABLE = "aws:glue/catalogTable:CatalogTable"
FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"

SHIPPED = ("partition_registrar", "glue", "aws_contract")


def arn(d: Deployment, typ: str, name_part: str = "") -> str:
    return d.one(typ, name_part).state["arn"]


def registrar(d: Deployment) -> dict[str, Any]:
    return d.one(FUNCTION, "registrar").inputs


# --- trigger --------------------------------------------------------------------------------------


def test_the_bucket_sends_its_object_events_to_eventbridge(deployment: Deployment) -> None:
    d = deployment
    assert d.one(NOTIFICATION).inputs == {"bucket": d.outputs["bucket_name"], "eventbridge": True}


def test_the_rule_matches_objects_created_under_the_data_prefix_of_this_bucket(
    deployment: Deployment,
) -> None:
    d = deployment
    rule = d.one(RULE, "registrar").inputs
    assert rule["name"] == f"eventlake-{d.stack}-data-object-created"
    assert json.loads(rule["eventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [d.outputs["bucket_name"]]},
            "object": {"key": [{"prefix": schema.DATA_ROOT}]},
        },
    }
    assert "eventBusName" not in rule and rule.get("state", "ENABLED") == "ENABLED"  # the default bus
    # Every data object's key has the prefix; error records, raw backups and query results do not.
    key = schema.partition_folder({"event_type": "payment", "event_date": "2026-11-25", "event_hour": "07"})
    assert (key + "part-1.parquet").startswith(schema.DATA_ROOT)
    for other in (schema.ERROR_ROOT, schema.BACKUP_ROOT, "athena-results/"):
        assert not other.startswith(schema.DATA_ROOT)


def test_the_target_invokes_the_registrar_with_retries_and_a_dead_letter_queue(
    deployment: Deployment,
) -> None:
    d = deployment
    target = d.one(TARGET, "registrar")
    assert target.inputs == {
        "rule": d.one(RULE, "registrar").inputs["name"],
        "targetId": "partition-registrar",
        "arn": arn(d, FUNCTION, "registrar"),
        # As long and as often as EventBridge allows (its defaults, stated).
        "retryPolicy": {"maximumRetryAttempts": 185, "maximumEventAgeInSeconds": 24 * 3600},
        "deadLetterConfig": {"arn": arn(d, QUEUE, "registrar")},
    }
    # Neither an invocation nor a dead letter can be refused once events flow.
    assert {d.one(PERMISSION, "registrar").urn, d.one(QUEUE_POLICY, "registrar").urn} <= set(
        target.dependencies
    )


def test_only_the_rule_may_invoke_the_registrar(deployment: Deployment) -> None:
    d = deployment
    assert d.one(PERMISSION, "registrar").inputs == {
        "action": "lambda:InvokeFunction",
        "function": registrar(d)["name"],
        "principal": "events.amazonaws.com",
        "sourceArn": arn(d, RULE, "registrar"),
    }
    rule_name = d.one(RULE, "registrar").inputs["name"]
    assert arn(d, RULE, "registrar") == f"arn:aws:events:eu-west-1:{ACCOUNT_ID}:rule/{rule_name}"


def test_the_dead_letter_queue_is_encrypted_and_only_the_rule_may_send_to_it(deployment: Deployment) -> None:
    d = deployment
    queue = d.one(QUEUE, "registrar")
    assert queue.inputs == {
        "name": f"eventlake-{d.stack}-partition-registrar-failed",
        "kmsMasterKeyId": arn(d, KEY),
        "messageRetentionSeconds": 14 * 24 * 3600,
    }
    policy = d.one(QUEUE_POLICY, "registrar").inputs
    assert policy["queueUrl"] == queue.state["url"]
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RuleDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["sqs:SendMessage"],
                "Resource": [queue.state["arn"]],
                "Condition": {"ArnEquals": {"aws:SourceArn": arn(d, RULE, "registrar")}},
            }
        ],
    }


def test_a_failed_invocation_is_retried_by_lambda_then_kept_in_the_queue(deployment: Deployment) -> None:
    d = deployment
    config = d.one(INVOKE_CONFIG, "registrar")
    assert config.inputs == {
        "functionName": registrar(d)["name"],
        "maximumRetryAttempts": 2,
        "maximumEventAgeInSeconds": 6 * 3600,
        "destinationConfig": {"onFailure": {"destination": arn(d, QUEUE, "registrar")}},
    }
    assert d.one(ROLE_POLICY, "registrar").urn in config.dependencies


# --- the function ---------------------------------------------------------------------------------


def test_the_registrar_lambda_configuration(deployment: Deployment) -> None:
    d, s = deployment, deployment.settings
    fn = d.one(FUNCTION, "registrar")
    inputs = fn.inputs
    assert check_lambda(inputs) == []
    assert inputs["name"] == f"eventlake-{d.stack}-partition-registrar"
    assert inputs["handler"] == "partition_registrar.registrar_handler.handler"
    assert inputs["runtime"] == s.lambda_runtime
    assert inputs["architectures"] == ["arm64"]
    assert inputs["role"] == arn(d, ROLE, "registrar")
    assert inputs["environment"] == {
        "variables": {"GLUE_DATABASE": s.glue_database, "GLUE_TABLE": schema.TABLE_NAME}
    }
    assert 0 < inputs["timeout"] <= 300 and inputs["memorySize"] >= 128
    group = d.one(LOG_GROUP, "registrar").inputs
    assert group == {
        "name": f"/aws/lambda/{inputs['name']}",
        "retentionInDays": s.log_retention_days,
        "kmsKeyId": arn(d, KEY),
    }
    assert inputs["loggingConfig"] == {"logFormat": "Text", "logGroup": group["name"]}
    assert {d.one(LOG_GROUP, "registrar").urn, d.one(ROLE_POLICY, "registrar").urn} <= set(fn.dependencies)
    assert d.outputs["registrar_function"] == inputs["name"]


def shipped_files() -> set[str]:
    return {
        p.relative_to(PROJECT_ROOT).as_posix()
        for package in SHIPPED
        for p in (PROJECT_ROOT / package).glob("*.py")
    }


def test_the_registrar_zip_holds_its_package_and_the_shared_modules_only(dev: Deployment) -> None:
    files = set(registrar(dev)["code"].assets)
    assert files == shipped_files()
    assert {
        "partition_registrar/__init__.py",
        "partition_registrar/registrar_handler.py",
        "glue/schema.py",
    } <= files
    assert {"aws_contract/limits.py"} <= files
    assert not any(f.startswith("transform_lambda/") or "sql" in f or "__pycache__" in f for f in files)


def test_the_shipped_files_run_the_registrar_on_the_standard_library_alone(tmp_path: Path) -> None:
    for rel in shipped_files():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / rel, tmp_path / rel)
    key = schema.partition_folder({"event_type": "payment", "event_date": "2026-11-25", "event_hour": "07"})
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "lake"}, "object": {"key": key + "part-1.parquet"}},
    }
    script = (
        "import json, sys; sys.path.insert(0, '.');"
        "from partition_registrar.registrar_handler import Registrar, created_objects, handler;"
        "calls = [];"
        "Glue = type('Glue', (), {"
        "'get_table': lambda self, **kw: {'Table': {'StorageDescriptor': {'Columns': [], 'Location': 'x'}}},"
        "'batch_create_partition': lambda self, **kw: calls.append(kw) or {'Errors': []}});"
        "done = Registrar(Glue(), 'db', 'events').register(created_objects(json.loads(sys.stdin.read())));"
        "print(json.dumps({'done': done, 'calls': calls}))"
    )
    run = subprocess.run(
        [sys.executable, "-S", "-c", script],  # -S: no site-packages, only what the zip holds
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["done"] == [["payment", "2026-11-25", "07"]]
    (call,) = result["calls"]
    assert call["PartitionInputList"][0]["StorageDescriptor"]["Location"] == f"s3://lake/{key}"


# --- IAM ------------------------------------------------------------------------------------------


def test_the_registrar_policy_grants_exactly_logs_glue_and_the_failure_queue(deployment: Deployment) -> None:
    d = deployment
    document = json.loads(d.one(ROLE_POLICY, "registrar").inputs["policy"])
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{arn(d, LOG_GROUP, 'registrar')}:*"],
            },
            {
                "Sid": "Partitions",
                "Effect": "Allow",
                "Action": ["glue:GetTable", "glue:BatchCreatePartition"],
                "Resource": [
                    f"arn:aws:glue:eu-west-1:{ACCOUNT_ID}:catalog",
                    arn(d, DATABASE),
                    arn(d, TABLE, "catalog-table"),
                ],
            },
            {
                "Sid": "FailedEvents",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [arn(d, QUEUE, "registrar")],
            },
            {
                "Sid": "FailedEventsKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": [arn(d, KEY)],
                "Condition": {"StringEquals": {"kms:ViaService": ["sqs.eu-west-1.amazonaws.com"]}},
            },
        ],
    }
    assert d.one(ROLE_POLICY, "registrar").inputs["role"] == d.one(ROLE, "registrar").inputs["name"]
    trust = json.loads(d.one(ROLE, "registrar").inputs["assumeRolePolicy"])
    function_arn = arn(d, FUNCTION, "registrar")
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT_ID},
                "ArnLikeIfExists": {"aws:SourceArn": [function_arn, f"{function_arn}:*"]},
            },
        }
    ]


def test_the_rules_catch_a_registrar_off_arm64_or_too_slow(dev: Deployment) -> None:
    inputs = {k: v for k, v in registrar(dev).items() if k != "code"}
    assert check_lambda({**inputs, "architectures": ["x86_64"]}) == ["Lambda architectures must be ['arm64']"]
    assert check_lambda({**inputs, "timeout": 301.0}) != []
