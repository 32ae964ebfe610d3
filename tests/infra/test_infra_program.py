"""What the real ``__main__.py`` registers for the dev and prod stacks, read from the mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ACCOUNT_ID, Deployment

from aws_contract import limits
from glue import schema
from infra import catalog, iam
from infra.athena_spec import RESULTS_ROOT
from infra.rules import check_catalog_table, check_firehose, check_lambda

KEY = "aws:kms/key:Key"
STREAM = "aws:kinesis/stream:Stream"
BUCKET = "aws:s3/bucket:Bucket"
TABLE = "aws:glue/catalogTable:CatalogTable"
FUNCTION = "aws:lambda/function:Function"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_STREAM = "aws:cloudwatch/logStream:LogStream"
CLAIMS = "aws:dynamodb/table:Table"

EXPORTS = {
    "stream_name",
    "stream_arn",
    "delivery_stream_name",
    "bucket_name",
    "glue_database",
    "glue_table",
    "lambda_name",
    "registrar_function",
    "athena_workgroup",
    "athena_analyst_policy_arn",
    "producer_policy_arn",
    "reader_policy_arn",
    "operator_policy_arn",
    "lake_key_arn",
    "alarm_topic_arn",
    "dashboard_name",
}


def arn(d: Deployment, typ: str, name_part: str = "") -> str:
    return d.one(typ, name_part).state["arn"]


def policy(d: Deployment, name_part: str) -> dict[str, Any]:
    return json.loads(d.one(ROLE_POLICY, name_part).inputs["policy"])


def statements(d: Deployment, name_part: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy(d, name_part)["Statement"]}


# --- stream and key -------------------------------------------------------------------------


def test_dev_stream_is_on_demand_without_shard_count(dev: Deployment) -> None:
    stream = dev.one(STREAM).inputs
    assert stream["streamModeDetails"] == {"streamMode": "ON_DEMAND"}
    assert "shardCount" not in stream
    assert stream["retentionPeriod"] == 24


def test_prod_stream_is_provisioned_with_shards(prod: Deployment) -> None:
    stream = prod.one(STREAM).inputs
    assert stream["streamModeDetails"] == {"streamMode": "PROVISIONED"}
    assert stream["shardCount"] == prod.settings.stream_shard_count == 1  # what `sizing` sizes for 1M/h
    assert stream["retentionPeriod"] == 168


def test_stream_is_encrypted_with_the_lake_key(deployment: Deployment) -> None:
    stream = deployment.one(STREAM).inputs
    assert stream["encryptionType"] == "KMS"
    assert stream["kmsKeyId"] == arn(deployment, KEY)
    key = deployment.one(KEY).inputs
    assert key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == deployment.settings.kms_deletion_window_days


# --- lake bucket ----------------------------------------------------------------------------


def test_bucket_is_private_encrypted_versioned_and_owner_enforced(deployment: Deployment) -> None:
    d = deployment
    name = d.outputs["bucket_name"]
    assert d.one(BUCKET, "-lake").inputs["bucket"] == name
    assert not d.all("aws:s3/bucketV2:BucketV2")
    block = d.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-lake").inputs
    assert block["bucket"] == name
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[flag] is True, flag
    sse = d.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-lake"
    )
    (rule,) = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": arn(d, KEY),
    }
    assert rule["bucketKeyEnabled"] is True
    versioning = d.one("aws:s3/bucketVersioning:BucketVersioning", "-lake").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    ownership = d.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "-lake").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_bucket_policy_denies_insecure_transport(deployment: Deployment) -> None:
    bucket_arn, key_arn = arn(deployment, BUCKET, "-lake"), arn(deployment, KEY)
    document = json.loads(deployment.one("aws:s3/bucketPolicy:BucketPolicy", "-lake").inputs["policy"])
    assert document == iam.lake_bucket_policy(bucket_arn, key_arn)
    transport, tls, encryption, key = document["Statement"]
    for statement in (transport, tls):
        assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
        assert statement["Resource"] == [bucket_arn, f"{bucket_arn}/*"]
    assert transport["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": 1.2}}
    for statement in (encryption, key):
        denied = (statement["Effect"], statement["Principal"], statement["Action"])
        assert denied == ("Deny", "*", "s3:PutObject")
        assert statement["Resource"] == [f"{bucket_arn}/*"]
    # A put may name no encryption (the bucket's default, the lake key applies) but no other.
    assert encryption["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }
    assert key["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}
    }


def test_lifecycle_expires_errors_backups_and_old_versions(deployment: Deployment) -> None:
    s = deployment.settings
    lifecycle = deployment.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-lake")
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    assert all(r["status"] == "Enabled" for r in rules.values())
    assert rules["expire-errors"]["filter"] == {"prefix": schema.ERROR_ROOT}
    assert rules["expire-errors"]["expiration"]["days"] == s.error_retention_days
    assert rules["expire-errors-archive"]["filter"] == {"prefix": schema.ERROR_ARCHIVE_ROOT}
    assert rules["expire-errors-archive"]["expiration"]["days"] == s.error_retention_days
    assert rules["expire-raw-backup"]["filter"] == {"prefix": schema.BACKUP_ROOT}
    assert rules["expire-raw-backup"]["expiration"]["days"] == s.backup_retention_days
    assert ("archive-raw-backup" in rules) == bool(s.backup_archive_days)
    noncurrent = rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]
    assert noncurrent["noncurrentDays"] == s.noncurrent_version_days
    assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0
    versioning = deployment.one("aws:s3/bucketVersioning:BucketVersioning", "-lake")
    assert versioning.urn in lifecycle.dependencies


def test_prod_archives_its_raw_backup_to_glacier_instant_retrieval(prod: Deployment) -> None:
    """Only raw/ objects above Instant Retrieval's 128 KB minimum move, after backupArchiveDays; the expiry
    rule still removes them all after backupRetentionDays."""
    s = prod.settings
    lifecycle = prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-lake")
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    archive = rules["archive-raw-backup"]
    assert archive["filter"] == {
        "and": {
            "prefix": schema.BACKUP_ROOT,
            "objectSizeGreaterThan": limits.S3_GLACIER_IR_MIN_BILLABLE_BYTES,
        }
    }
    assert archive["transitions"] == [{"days": s.backup_archive_days, "storageClass": "GLACIER_IR"}]
    assert 0 < s.backup_archive_days < s.backup_retention_days
    assert rules["expire-raw-backup"]["expiration"]["days"] == s.backup_retention_days


def test_prod_protects_and_retains_the_bucket_and_key(prod: Deployment) -> None:
    # The lake, its access logs (the record of who touched it) and the key.
    for typ, name in ((BUCKET, "-lake"), (BUCKET, "-logs"), (KEY, "")):
        resource = prod.one(typ, name)
        assert (resource.protect, resource.retain_on_delete) == (True, True), (typ, name)
        if typ == BUCKET:
            assert resource.inputs["forceDestroy"] is False, name


def test_dev_bucket_is_disposable(dev: Deployment) -> None:
    bucket = dev.one(BUCKET, "-lake")
    assert (bucket.protect, bucket.retain_on_delete) == (False, False)
    assert bucket.inputs["forceDestroy"] is True


# --- Glue -----------------------------------------------------------------------------------


def test_glue_table_matches_the_schema(deployment: Deployment) -> None:
    d = deployment
    table = d.one(TABLE, "catalog-table").inputs
    assert check_catalog_table(table) == []
    database = d.settings.glue_database
    assert database == f"eventlake_{d.settings.stack}"  # per stack: dev and prod can share an account
    assert d.one("aws:glue/catalogDatabase:CatalogDatabase").inputs["name"] == database
    assert (table["name"], table["databaseName"]) == (schema.TABLE_NAME, database)
    assert table["tableType"] == "EXTERNAL_TABLE"
    assert table["parameters"]["classification"] == "parquet"
    storage = table["storageDescriptor"]
    assert storage["location"] == f"s3://{d.outputs['bucket_name']}/{schema.DATA_ROOT}"
    assert storage["inputFormat"] == catalog.PARQUET_INPUT_FORMAT
    assert storage["outputFormat"] == catalog.PARQUET_OUTPUT_FORMAT
    assert storage["serDeInfo"]["serializationLibrary"] == catalog.PARQUET_SERDE
    assert [c["comment"] for c in storage["columns"]] == [c.comment for c in schema.COLUMNS]


# --- Lambda ---------------------------------------------------------------------------------


def test_lambda_configuration(deployment: Deployment) -> None:
    d, s = deployment, deployment.settings
    fn = d.one(FUNCTION, "processor").inputs
    assert check_lambda(fn) == []
    assert fn["runtime"] == s.lambda_runtime
    assert fn["architectures"] == ["arm64"]
    assert fn["handler"] == "transform_lambda.handler.handler"
    assert fn["memorySize"] == s.lambda_memory_mb
    assert fn["timeout"] == s.lambda_timeout_seconds
    assert fn["role"] == arn(d, ROLE, "processor")
    assert fn["environment"]["variables"] == {
        "DEDUPE_MODE": "claims",  # dev, prod and small claim ids in DynamoDB
        "CLAIMS_TABLE": s.claims_table_name,
        "CLAIMS_TTL_SECONDS": str(s.dedupe_ttl_days * 86400),
        "CLAIMS_FINGERPRINT_FIELDS": s.dedupe_fingerprint_fields,
        "CLAIMS_ON_STORE_FAILURE": s.dedupe_on_store_failure,
    }


def test_lambda_archive_ships_the_transform_and_its_shared_modules_only(dev: Deployment) -> None:
    files = set(dev.one(FUNCTION, "processor").inputs["code"].assets)
    assert {
        "transform_lambda/__init__.py",
        "transform_lambda/handler.py",
        "transform_lambda/events.py",
        "transform_lambda/claims.py",
        "glue/__init__.py",
        "glue/schema.py",
        "glue/errors.py",
        "glue/marks.py",
        "aws_contract/__init__.py",
        "aws_contract/limits.py",
        "aws_contract/firehose_records.py",
    } <= files
    shipped = {"transform_lambda", "glue", "aws_contract"}
    ours = {f for f in files if f.split("/")[0] in shipped}
    # The sources, and the transform's C hot path built for arm64 once it has one (infra.native_build).
    assert all(f.endswith(".py") for f in ours - {"transform_lambda/_hotpath.abi3.so"})
    assert not any("sql" in f or "test" in f or "__pycache__" in f for f in files)
    # Beside the sources, only orjson's wheel (tests/infra/test_lambda_package.py checks its platform).
    assert {f.split("/")[0] for f in files - ours} == {"orjson", "orjson-3.13.0.dist-info"}
    assert "orjson/orjson.cpython-313-aarch64-linux-gnu.so" in files


def test_lambda_logs_to_its_own_group_and_waits_for_it(deployment: Deployment) -> None:
    d, s = deployment, deployment.settings
    fn = d.one(FUNCTION, "processor")
    group = d.one(LOG_GROUP, "processor")
    assert group.inputs["name"] == f"/aws/lambda/{fn.inputs['name']}"
    assert group.inputs["retentionInDays"] == s.log_retention_days
    assert fn.inputs["loggingConfig"]["logGroup"] == group.inputs["name"]
    assert {group.urn, d.one(ROLE_POLICY, "processor").urn} <= set(fn.dependencies)


def test_claims_table_is_on_demand_with_ttl(deployment: Deployment) -> None:
    table = deployment.one(CLAIMS).inputs
    assert table["name"] == deployment.settings.claims_table_name
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["hashKey"] == "event_uuid"
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}


def test_claims_table_is_encrypted_with_the_lake_key_and_protected_like_the_data(
    deployment: Deployment,
) -> None:
    d, s = deployment, deployment.settings
    claims = d.one(CLAIMS)
    assert claims.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": arn(d, KEY)}
    assert claims.inputs["pointInTimeRecovery"] == {"enabled": s.dedupe_point_in_time_recovery}
    assert claims.inputs["deletionProtectionEnabled"] is s.protect_data
    assert claims.protect is s.protect_data and claims.retain_on_delete is s.protect_data
    if d.stack == "prod":
        assert s.dedupe_point_in_time_recovery and s.protect_data


# --- Firehose -------------------------------------------------------------------------------


def test_firehose_passes_the_rules_and_follows_settings(deployment: Deployment) -> None:
    d, s = deployment, deployment.settings
    firehose = d.one(FIREHOSE).inputs
    assert check_firehose(firehose) == []
    assert firehose["destination"] == "extended_s3"
    s3 = firehose["extendedS3Configuration"]
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (
        s.buffering_size_mib,
        s.buffering_interval_seconds,
    )
    assert (s3["prefix"], s3["errorOutputPrefix"]) == (schema.DATA_PREFIX, schema.ERROR_PREFIX)
    assert s3["compressionFormat"] == "UNCOMPRESSED"
    assert s3["fileExtension"] == ".parquet"
    assert s3["dynamicPartitioningConfiguration"] == {
        "enabled": True,
        "retryDuration": s.delivery_retry_seconds,
    }
    conversion = s3["dataFormatConversionConfiguration"]
    deserializer = conversion["inputFormatConfiguration"]["deserializer"]
    assert deserializer == {"openXJsonSerDe": {"caseInsensitive": True}}
    parquet = conversion["outputFormatConfiguration"]["serializer"]["parquetSerDe"]
    assert parquet == {"compression": s.parquet_compression}


def test_firehose_references_the_right_resources(deployment: Deployment) -> None:
    d = deployment
    firehose = d.one(FIREHOSE)
    role_arn = arn(d, ROLE, "delivery")
    s3 = firehose.inputs["extendedS3Configuration"]
    assert firehose.inputs["kinesisSourceConfiguration"] == {
        "kinesisStreamArn": arn(d, STREAM),
        "roleArn": role_arn,
    }
    assert d.outputs["stream_arn"] == arn(d, STREAM)
    assert s3["bucketArn"] == arn(d, BUCKET, "-lake")
    assert s3["roleArn"] == role_arn
    (processor,) = s3["processingConfiguration"]["processors"]
    params = {p["parameterName"]: p["parameterValue"] for p in processor["parameters"]}
    assert params["LambdaArn"] == f"{arn(d, FUNCTION, 'processor')}:$LATEST"
    schema_config = s3["dataFormatConversionConfiguration"]["schemaConfiguration"]
    assert schema_config == {
        "databaseName": d.settings.glue_database,
        "tableName": schema.TABLE_NAME,
        "roleArn": role_arn,
        "region": "eu-west-1",
        "versionId": "LATEST",
    }
    group = d.one(LOG_GROUP, "delivery").inputs["name"]
    assert s3["cloudwatchLoggingOptions"] == {
        "enabled": True,
        "logGroupName": group,
        "logStreamName": "DestinationDelivery",
    }
    backup = s3["s3BackupConfiguration"]
    assert s3["s3BackupMode"] == "Enabled"
    assert backup["bucketArn"] == arn(d, BUCKET, "-lake")
    assert backup["prefix"] == schema.BACKUP_PREFIX
    assert backup["errorOutputPrefix"].startswith(schema.ERROR_ROOT)
    assert "!{firehose:error-output-type}" in backup["errorOutputPrefix"]
    assert backup["compressionFormat"] == "GZIP"
    assert backup["cloudwatchLoggingOptions"]["logStreamName"] == "BackupDelivery"


def test_firehose_waits_for_its_role_policy_and_the_locked_down_bucket(deployment: Deployment) -> None:
    d = deployment
    dependencies = set(d.one(FIREHOSE).dependencies)
    assert d.one(ROLE_POLICY, "delivery").urn in dependencies
    sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    assert d.one(sse, "-lake").urn in dependencies
    assert d.one("aws:s3/bucketPolicy:BucketPolicy", "-lake").urn in dependencies


# --- IAM ------------------------------------------------------------------------------------


def all_policy_documents(d: Deployment) -> list[dict[str, Any]]:
    documents = [json.loads(r.inputs["policy"]) for r in d.all(ROLE_POLICY)]
    documents += [json.loads(r.inputs["policy"]) for r in d.all("aws:s3/bucketPolicy:BucketPolicy")]
    documents += [json.loads(r.inputs["assumeRolePolicy"]) for r in d.all(ROLE)]
    documents += [json.loads(r.inputs["policy"]) for r in d.all("aws:sqs/queuePolicy:QueuePolicy")]
    documents += [json.loads(r.inputs["policy"]) for r in d.all("aws:iam/policy:Policy")]
    assert len(documents) >= 9
    return documents


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_no_policy_grants_star(deployment: Deployment) -> None:
    for document in all_policy_documents(deployment):
        for statement in document["Statement"]:
            actions = as_list(statement["Action"])
            assert "*" not in actions
            assert "*" not in as_list(statement.get("Resource", []))
            if statement["Effect"] == "Allow":
                assert not any("*" in a for a in actions), statement


def test_every_allow_names_exact_arns(deployment: Deployment) -> None:
    d = deployment
    known = {r.state["arn"] for r in d.resources if "arn" in r.state}
    known.add(f"arn:aws:glue:eu-west-1:{ACCOUNT_ID}:catalog")
    for r in d.all(ROLE_POLICY):
        for statement in json.loads(r.inputs["policy"])["Statement"]:
            for resource in statement["Resource"]:
                base = resource.removesuffix("/*").removesuffix(":*")
                # A grant on one of the lake's prefixes names the bucket's exact ARN before it.
                for root in (
                    schema.DATA_ROOT,
                    schema.COMPACTED_ROOT,
                    schema.COMPACTION_STAGING_ROOT,
                    RESULTS_ROOT,
                    schema.ERROR_ROOT,
                    schema.BACKUP_ROOT,
                ):
                    if base.startswith("arn:aws:s3:::"):
                        base = base.removesuffix("/" + root.removesuffix("/"))
                assert base in known, (r.name, resource)


def test_firehose_role_trust_is_bound_to_the_account(deployment: Deployment) -> None:
    trust = json.loads(deployment.one(ROLE, "delivery").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    # The delivery stream's ARN as the deployed stream has it (built from its name before it exists).
    assert statement["Condition"] == {
        "StringEquals": {"sts:ExternalId": ACCOUNT_ID},
        "StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnLikeIfExists": {"aws:SourceArn": [arn(deployment, FIREHOSE)]},
    }


def test_firehose_policy_grants_each_service_on_its_exact_arn(deployment: Deployment) -> None:
    d = deployment
    bucket, fn = arn(d, BUCKET, "-lake"), arn(d, FUNCTION, "processor")
    grants = statements(d, "delivery")
    expected = {
        # Bucket-level actions on the bucket; objects only under the roots Firehose writes (not compacted/).
        "LakeBucket": (iam.FIREHOSE_BUCKET_ACTIONS, [bucket]),
        "LakeObjects": (
            iam.FIREHOSE_OBJECT_ACTIONS,
            [f"{bucket}/{root}*" for root in (schema.DATA_ROOT, schema.ERROR_ROOT, schema.BACKUP_ROOT)],
        ),
        "SourceStream": (iam.FIREHOSE_KINESIS_ACTIONS, [arn(d, STREAM)]),
        "Processor": (["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], [fn, f"{fn}:*"]),
        "DeliveryLogs": (["logs:PutLogEvents"], sorted(r.state["arn"] for r in d.all(LOG_STREAM))),
        "Schema": (
            iam.FIREHOSE_GLUE_ACTIONS,
            [
                f"arn:aws:glue:eu-west-1:{ACCOUNT_ID}:catalog",
                arn(d, "aws:glue/catalogDatabase:CatalogDatabase"),
                arn(d, TABLE, "catalog-table"),
            ],
        ),
        "LakeKey": (["kms:Decrypt", "kms:GenerateDataKey"], [arn(d, KEY)]),
    }
    assert set(grants) == set(expected)
    for sid, (actions, resources) in expected.items():
        assert grants[sid]["Action"] == actions, sid
        assert sorted(grants[sid]["Resource"]) == sorted(resources), sid
    assert grants["LakeKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com", "kinesis.eu-west-1.amazonaws.com"]}
    }


def test_lambda_policy_only_writes_its_logs_and_claims(deployment: Deployment) -> None:
    d = deployment
    grants = statements(d, "processor")
    assert grants["Logs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert grants["Logs"]["Resource"] == [f"{arn(d, LOG_GROUP, 'processor')}:*"]
    assert grants["Claims"] == {
        "Sid": "Claims",
        "Effect": "Allow",
        "Action": ["dynamodb:PartiQLInsert", "dynamodb:BatchGetItem", "dynamodb:PutItem"],
        "Resource": [arn(d, CLAIMS)],
    }
    assert grants["ClaimsKey"] == {
        "Sid": "ClaimsKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": [arn(d, KEY)],
        "Condition": {"StringEquals": {"kms:ViaService": ["dynamodb.eu-west-1.amazonaws.com"]}},
    }
    assert set(grants) == {"Logs", "Claims", "ClaimsKey"}
    trust = json.loads(d.one(ROLE, "processor").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


# --- structure and outputs ------------------------------------------------------------------


def test_everything_lives_under_the_event_lake_component(deployment: Deployment) -> None:
    (lake,) = deployment.all("eventlake:index:EventLake")
    for r in deployment.resources:
        ancestor = r
        while ancestor.parent and ancestor is not lake:
            ancestor = deployment.by_urn(ancestor.parent)
        assert ancestor is lake, r.urn


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_outputs_are_exported(stack: str, request: pytest.FixtureRequest) -> None:
    d: Deployment = request.getfixturevalue(stack)
    assert set(d.outputs) == EXPORTS
    assert d.outputs["stream_name"] == d.one(STREAM).inputs["name"]
    assert d.outputs["delivery_stream_name"] == d.one(FIREHOSE).inputs["name"]
    assert d.outputs["lambda_name"] == d.one(FUNCTION, "processor").inputs["name"]
    assert d.outputs["registrar_function"] == d.one(FUNCTION, "registrar").inputs["name"]
    assert d.outputs["athena_workgroup"] == d.one("aws:athena/workgroup:Workgroup").inputs["name"]
    assert d.outputs["athena_analyst_policy_arn"] == arn(d, "aws:iam/policy:Policy", "analyst")
    assert (d.outputs["glue_database"], d.outputs["glue_table"]) == (
        d.settings.glue_database,
        schema.TABLE_NAME,
    )
    assert d.outputs["bucket_name"].startswith(f"eventlake-{stack}-lake-{ACCOUNT_ID}")
