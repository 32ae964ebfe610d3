"""IAM documents as plain dicts, built from exact ARNs so each grant names what it touches.

Pure functions: the program renders them with ``json.dumps`` and the tests read them back.
No statement grants a ``*`` action or a ``*`` resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Policy = dict[str, Any]

VERSION = "2012-10-17"

FIREHOSE_S3_ACTIONS = [
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:PutObject",
]
FIREHOSE_KINESIS_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:GetShardIterator",
    "kinesis:GetRecords",
    "kinesis:ListShards",
]
FIREHOSE_LAMBDA_ACTIONS = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
FIREHOSE_GLUE_ACTIONS = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
KMS_DATA_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
# What DynamoClaims calls: PartiQL INSERTs (BatchExecuteStatement), BatchGetItem to read the losers back, and
# a conditional PutItem to take over an expired claim (https://docs.aws.amazon.com/amazondynamodb/latest/
# developerguide/ql-iam.html names dynamodb:PartiQLInsert for INSERT statements).
CLAIMS_ACTIONS = ["dynamodb:PartiQLInsert", "dynamodb:BatchGetItem", "dynamodb:PutItem"]


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str], **extra: Any) -> Policy:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources), **extra}


def assume_role_policy(service: str, external_id: str | None = None) -> Policy:
    """Trust one AWS service; with ``external_id`` only on behalf of this account (confused deputy)."""
    statement: Policy = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": VERSION, "Statement": [statement]}


def processor_policy(
    log_group_arn: str, claims_table_arn: str | None, *, key_arn: str, dynamodb_host: str
) -> Policy:
    """The transform Lambda writes its own log group and, with dedupe on, claims in its table, whose items
    the lake key encrypts (KMS use only through DynamoDB, ``kms:ViaService``)."""
    statements = [
        _statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
    ]
    if claims_table_arn is not None:
        statements.append(_statement("Claims", CLAIMS_ACTIONS, [claims_table_arn]))
        statements.append(
            _statement(
                "ClaimsKey",
                KMS_DATA_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": [dynamodb_host]}},
            )
        )
    return {"Version": VERSION, "Statement": statements}


def firehose_policy(
    *,
    bucket_arn: str,
    stream_arn: str,
    function_arn: str,
    log_stream_arns: Sequence[str],
    glue_catalog_arn: str,
    glue_database_arn: str,
    glue_table_arn: str,
    key_arn: str,
    kms_via_services: Sequence[str],
) -> Policy:
    """What Firehose needs to read the stream, call the processor, read the schema and write S3.

    The processor is invoked by its qualified ARN (``fn:$LATEST``), hence ``fn`` and ``fn:*``.
    KMS use is limited to calls S3 and Kinesis make for this role (``kms:ViaService``).
    """
    return {
        "Version": VERSION,
        "Statement": [
            _statement("LakeBucket", FIREHOSE_S3_ACTIONS, [bucket_arn, f"{bucket_arn}/*"]),
            _statement("SourceStream", FIREHOSE_KINESIS_ACTIONS, [stream_arn]),
            _statement("Processor", FIREHOSE_LAMBDA_ACTIONS, [function_arn, f"{function_arn}:*"]),
            _statement("DeliveryLogs", ["logs:PutLogEvents"], list(log_stream_arns)),
            _statement(
                "Schema", FIREHOSE_GLUE_ACTIONS, [glue_catalog_arn, glue_database_arn, glue_table_arn]
            ),
            _statement(
                "LakeKey",
                KMS_DATA_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": list(kms_via_services)}},
            ),
        ],
    }


def tls_only_bucket_policy(bucket_arn: str) -> Policy:
    """Refuse every request to the lake that does not arrive over TLS.

    A Deny: ``s3:*`` and the ``*`` principal are what make it cover everything.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
