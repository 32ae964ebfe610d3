"""IAM documents as plain dicts, built from exact ARNs so each grant names what it touches.

Pure functions: the program renders them with ``json.dumps`` and the tests read them back.
No identity policy grants a ``*`` action or a ``*`` resource. Two resource policies must use ``*``: the
bucket's TLS-only Deny, and the key policy, where ``Resource: "*"`` means the key itself.
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
# What partition_registrar calls: the table's storage descriptor once, then the new partitions.
REGISTRAR_GLUE_ACTIONS = ["glue:GetTable", "glue:BatchCreatePartition"]
SQS_SEND_ACTIONS = ["sqs:SendMessage"]
# A sender to a queue encrypted with a customer managed key needs a data key from it and to verify it
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
SQS_SENDER_KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
EVENTS_SERVICE = "events.amazonaws.com"
# Running queries in the workgroup and reading its saved queries
# (https://docs.aws.amazon.com/athena/latest/ug/workgroups-iam-policy.html).
ATHENA_QUERY_ACTIONS = [
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
]
# What Athena reads from Glue for a query: the database, the table or view, and the matching partitions.
ATHENA_GLUE_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
]
ATHENA_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
ATHENA_RESULTS_ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]


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


def registrar_policy(
    *,
    log_group_arn: str,
    glue_catalog_arn: str,
    glue_database_arn: str,
    glue_table_arn: str,
    failure_queue_arn: str,
    key_arn: str,
    sqs_host: str,
) -> Policy:
    """The partition registrar writes its log group, reads the table and adds its partitions (Glue checks
    the catalog, the database and the table for each call), and, when an invocation fails past Lambda's
    retries, sends the event to the failure queue, which the lake key encrypts (only through SQS)."""
    return {
        "Version": VERSION,
        "Statement": [
            _statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
            _statement(
                "Partitions", REGISTRAR_GLUE_ACTIONS, [glue_catalog_arn, glue_database_arn, glue_table_arn]
            ),
            _statement("FailedEvents", SQS_SEND_ACTIONS, [failure_queue_arn]),
            _statement(
                "FailedEventsKey",
                SQS_SENDER_KEY_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": [sqs_host]}},
            ),
        ],
    }


def dead_letter_queue_policy(queue_arn: str, rule_arn: str) -> Policy:
    """Only EventBridge, and only for this rule, may send to the rule's dead-letter queue
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "RuleDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_SERVICE},
                "Action": SQS_SEND_ACTIONS,
                "Resource": [queue_arn],
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


def lake_key_policy(account_root_arn: str) -> Policy:
    """The lake key's policy: AWS's default statement (the account's IAM policies decide who uses the key,
    as every role here is granted by its own policy), plus EventBridge, which as a service principal can
    only be allowed here, to encrypt what it puts in the dead-letter queue the key encrypts
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html,
    "Configure KMS permissions for AWS services")."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AccountIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": account_root_arn},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "EventBridgeDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_SERVICE},
                "Action": SQS_SENDER_KEY_ACTIONS,
                "Resource": "*",
            },
        ],
    }


def analyst_policy(
    *,
    workgroup_arn: str,
    glue_catalog_arn: str,
    glue_database_arn: str,
    glue_table_arns: Sequence[str],
    bucket_arn: str,
    data_root: str,
    results_root: str,
    key_arn: str,
    s3_host: str,
) -> Policy:
    """What a person or tool needs to query the lake through the stack's workgroup, and no more: run and
    read queries in that workgroup, read the table's (and view's) metadata, read the data prefix, and
    write and read its own results (encrypted with the lake key, through S3 only)."""
    return {
        "Version": VERSION,
        "Statement": [
            _statement("Workgroup", ATHENA_QUERY_ACTIONS, [workgroup_arn]),
            _statement(
                "Catalog", ATHENA_GLUE_ACTIONS, [glue_catalog_arn, glue_database_arn, *glue_table_arns]
            ),
            _statement("LakeBucket", ATHENA_BUCKET_ACTIONS, [bucket_arn]),
            _statement("ReadData", ["s3:GetObject"], [f"{bucket_arn}/{data_root}*"]),
            _statement("Results", ATHENA_RESULTS_ACTIONS, [f"{bucket_arn}/{results_root}*"]),
            _statement(
                "LakeKey",
                KMS_DATA_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": [s3_host]}},
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
