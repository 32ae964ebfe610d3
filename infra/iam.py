"""IAM documents as plain dicts, built from exact ARNs so each grant names what it touches.

Pure functions: the program renders them with ``json.dumps`` and the tests read them back.
No identity policy grants a ``*`` action or a ``*`` resource. Resource policies use ``*`` only where AWS
requires it: the bucket policy's Deny statements (``Principal: "*"`` is what makes a Deny cover every
caller) and the key policy, where ``Resource: "*"`` means the key itself
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from glue.compactor_contract import SUPERSEDED_TAG
from glue.schema import COMPACTED_ROOT, COMPACTION_STAGING_ROOT, PARTITION_KEY_NAMES

Policy = dict[str, Any]

VERSION = "2012-10-17"

# Firehose's S3 destination (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html
# #using-iam-s3): the bucket-level actions on the bucket, the object-level ones only under the roots it
# writes (its data, error and backup prefixes).
FIREHOSE_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
FIREHOSE_OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
FIREHOSE_S3_ACTIONS = sorted([*FIREHOSE_BUCKET_ACTIONS, *FIREHOSE_OBJECT_ACTIONS])
# ``ListObjectsV2`` sends its ``Prefix`` as ``s3:prefix`` (https://docs.aws.amazon.com/AmazonS3/latest/
# userguide/amazon-s3-policy-keys.html): a listing grant names the prefixes its caller lists.
S3_PREFIX = "s3:prefix"
LIST_ACTIONS = ["s3:ListBucket"]
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
# What is granted on the bucket without a prefix condition (s3:ListBucket is granted by prefix apart).
ATHENA_BUCKET_LOCATION_ACTIONS = [a for a in ATHENA_BUCKET_ACTIONS if a not in LIST_ACTIONS]
ATHENA_RESULTS_ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
# What a producer calls (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html: a
# producer to a stream encrypted with a customer managed key needs kms:GenerateDataKey on it).
PRODUCER_STREAM_ACTIONS = ["kinesis:PutRecord", "kinesis:PutRecords"]
PRODUCER_KEY_ACTIONS = ["kms:GenerateDataKey"]
# What ``eventlake reprocess`` (eventlake.operations.recovery) calls besides putting records: it lists and
# reads the error objects and the raw backup, writes an object's kept lines beside it, archives it
# (CopyObject: s3:GetObject on the source, s3:PutObject on the target) and deletes it; with dedupe it reads
# (--dry-run) and deletes the claims its failed records still hold
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html,
# .../list_amazondynamodb.html).
OPERATOR_LIST_ACTIONS = ["s3:ListBucket"]
OPERATOR_READ_ACTIONS = ["s3:GetObject"]
OPERATOR_ERROR_WRITE_ACTIONS = ["s3:PutObject", "s3:DeleteObject"]
OPERATOR_ARCHIVE_ACTIONS = ["s3:PutObject"]
OPERATOR_CLAIMS_ACTIONS = ["dynamodb:GetItem", "dynamodb:DeleteItem"]
# To tell byte-identical records of one millisecond apart, reprocess reads the stream back at that instant
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesis.html); the records
# are encrypted with the lake key, so it decrypts through Kinesis too.
OPERATOR_STREAM_READ_ACTIONS = ["kinesis:ListShards", "kinesis:GetShardIterator", "kinesis:GetRecords"]
OPERATOR_STREAM_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
# The bucket policy: requests over TLS older than 1.2 are refused; objects are written with the lake key only.
MIN_TLS_VERSION = 1.2
SSE_KMS = "aws:kms"

# --- the lake key's policy -----------------------------------------------------------------------------
# Key administration, delegated to the account's IAM (whoever its IAM policies make a key administrator, the
# deployer included): every management action and none that encrypts, decrypts or grants
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators).
KEY_ADMIN_ACTIONS = [
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
]
# A DynamoDB table encrypted with a customer managed key: what principals of the account use through DynamoDB
# (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html, with its wildcards spelled
# out); the grant DynamoDB creates for the table is allowed apart, only for an AWS resource.
DYNAMODB_KEY_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
DYNAMODB_GRANT_ACTIONS = ["kms:CreateGrant"]
# CloudWatch Logs encrypting a log group with the key: the documented ``kms:Encrypt*``, ``kms:Decrypt*``,
# ``kms:ReEncrypt*``, ``kms:GenerateDataKey*`` and ``kms:Describe*`` spelled out
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
LOGS_KEY_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
LOGS_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:logs:arn"
# CloudWatch publishing an alarm to a topic encrypted with the key
# (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
ALARMS_SERVICE = "cloudwatch.amazonaws.com"
ALARMS_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
ALARMS_TOPIC_ACTIONS = ["sns:Publish"]
# Kinesis passes the stream's ARN as encryption context in every KMS call
# (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html).
KINESIS_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:kinesis:arn"


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str], **extra: Any) -> Policy:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources), **extra}


def _list_statement(sid: str, bucket_arn: str, prefixes: Sequence[str]) -> Policy:
    """``s3:ListBucket`` on the bucket for listings under ``prefixes`` only (each may end in a pattern)."""
    patterns = [p if p.endswith("*") else f"{p}*" for p in prefixes]
    return _statement(sid, LIST_ACTIONS, [bucket_arn], Condition={"StringLike": {S3_PREFIX: patterns}})


def partition_folders(root: str) -> str:
    """``<root>event_type=*``: a root's partition folders (what the compactor and operators list)."""
    return f"{root}{PARTITION_KEY_NAMES[0]}=*"


def assume_role_policy(
    service: str, *, source_account: str, source_arns: Sequence[str], external_id: str | None = None
) -> Policy:
    """Trust one AWS service, and only on behalf of this account's one resource (confused deputy:
    ``aws:SourceAccount`` and ``aws:SourceArn``, https://docs.aws.amazon.com/IAM/latest/UserGuide/
    confused-deputy.html); with ``external_id`` also, and required, the ``sts:ExternalId`` the service sends
    (Firehose sends the account ID; the stack's Firehose role has required it from the start).

    The source keys use the ``...IfExists`` operators: they bind whenever the service puts them in its
    ``AssumeRole`` request, and AWS does not document that Lambda or Firehose do for a function's or delivery
    stream's role; a strict condition on a key the service leaves out would stop Lambda from assuming the role
    (no invocation) and Firehose from delivering. Once a stack shows them in CloudTrail's ``AssumeRole``
    events, ``StringEquals``/``ArnLike`` make them required.

    The source ARNs are built from the resource's known name, not read from the resource, which would be a
    cycle (the resource needs the role first)."""
    condition: dict[str, dict[str, Any]] = {}
    if external_id is not None:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    condition["StringEqualsIfExists"] = {"aws:SourceAccount": source_account}
    condition["ArnLikeIfExists"] = {"aws:SourceArn": list(source_arns)}
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }


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
    function_arn: str | None,
    log_stream_arns: Sequence[str],
    glue_catalog_arn: str,
    glue_database_arn: str,
    glue_table_arn: str,
    key_arn: str,
    kms_via_services: Sequence[str],
    reads_schema: bool = True,
    written_roots: Sequence[str] = (),
) -> Policy:
    """What Firehose needs to read the stream, call the processor, read the schema and write S3: objects
    only under ``written_roots`` (the data, error and backup roots its prefixes start with), never elsewhere
    in the bucket (not ``compacted/``, whose copies the compactor alone writes).

    The processor is invoked by its qualified ARN (``fn:$LATEST``), hence ``fn`` and ``fn:*``; without a
    Lambda (``function_arn`` None: JQ partitioning) there is no Processor statement, and without format
    conversion (``reads_schema`` False) no Schema statement.
    KMS use is limited to calls S3 and Kinesis make for this role (``kms:ViaService``).
    """
    processor = (
        [_statement("Processor", FIREHOSE_LAMBDA_ACTIONS, [function_arn, f"{function_arn}:*"])]
        if function_arn is not None
        else []
    )
    schema_reads = (
        [_statement("Schema", FIREHOSE_GLUE_ACTIONS, [glue_catalog_arn, glue_database_arn, glue_table_arn])]
        if reads_schema
        else []
    )
    return {
        "Version": VERSION,
        "Statement": [
            _statement("LakeBucket", FIREHOSE_BUCKET_ACTIONS, [bucket_arn]),
            _statement("LakeObjects", FIREHOSE_OBJECT_ACTIONS, [f"{bucket_arn}/{r}*" for r in written_roots]),
            _statement("SourceStream", FIREHOSE_KINESIS_ACTIONS, [stream_arn]),
            *processor,
            _statement("DeliveryLogs", ["logs:PutLogEvents"], list(log_stream_arns)),
            *schema_reads,
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


@dataclass(frozen=True)
class KeyServiceHosts:
    """The values ``kms:ViaService`` compares against, and CloudWatch Logs' regional service principal."""

    s3: str
    kinesis: str
    sqs: str
    dynamodb: str
    logs: str


def lake_key_policy(
    *,
    account_id: str,
    account_root_arn: str,
    firehose_role_arn: str,
    registrar_role_arn: str,
    stream_arn: str,
    log_group_arns: Sequence[str],
    alarm_arns: Sequence[str],
    claims_table: bool,
    hosts: KeyServiceHosts,
    dead_letter_rule_arns: Sequence[str] = (),
    compactor_role_arn: str | None = None,
) -> Policy:
    """The lake key's own policy: exactly who may do what with it, instead of AWS's default "the account's
    IAM decides everything" (``kms:*`` for the account).

    A statement whose principal is the account (``:root``) lets IAM policies of the account grant what it
    names, and only under its conditions (https://docs.aws.amazon.com/kms/latest/developerguide/
    key-policy-default.html#key-policy-default-allow-root-enable-iam): that is how the two managed policies
    users attach (producers, readers), the deployer and the key administrators are let in, since a key policy
    cannot name a managed policy. The stack's own roles are named by ``aws:PrincipalArn`` (a condition,
    built from their known names: no cycle with the roles, whose policies name the key).

    - administration: the account's key administrators, no cryptographic use;
    - Firehose's role: decrypt the stream's and write the lake's records, through Kinesis and S3 only;
    - the partition registrar's role and, with compaction, the compactor's: send failed events or runs to
      their queues (SQS) only;
    - EventBridge: encrypt what it puts in the rules' dead-letter queues (as a service principal it can only
      be allowed here), for this account's rules only: ``aws:SourceAccount`` and ``aws:SourceArn``, as AWS's
      EventBridge key-policy page recommends (https://docs.aws.amazon.com/eventbridge/latest/userguide/
      eb-encryption-key-policy.html);
    - CloudWatch Logs: the stack's log groups, named in the encryption context;
    - CloudWatch alarms: publish to the encrypted alarm topic, for the stack's alarms only;
    - with dedupe, the claims table: through DynamoDB only (the transform's role, and whoever creates the
      table, which makes DynamoDB create a grant for it);
    - producers (the producer policy): data keys for the stream, through Kinesis only;
    - readers (the reader policy): decrypt the lake's objects and encrypt query results, through S3 only.

    Operators (the operator policy, ``eventlake reprocess``) need no statement of their own: what they use
    the key for is what the statements for the account already allow, each through one service: data keys
    for the stream through Kinesis (``Producers``), reading and writing objects through S3 (``Readers``),
    the claims table through DynamoDB (``ClaimsTable``).
    """
    root = {"AWS": account_root_arn}
    own_account = {"kms:CallerAccount": account_id}

    def allow(sid: str, principal: dict[str, str], actions: Sequence[str], **condition: Any) -> Policy:
        statement: Policy = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": list(actions),
            # In a key policy "*" is the key the policy is attached to.
            "Resource": "*",
        }
        if condition:
            statement["Condition"] = condition
        return statement

    statements = [
        allow("KeyAdministration", root, KEY_ADMIN_ACTIONS),
        allow(
            "FirehoseDelivery",
            root,
            KMS_DATA_ACTIONS,
            ArnEquals={"aws:PrincipalArn": firehose_role_arn},
            StringEquals={"kms:ViaService": [hosts.s3, hosts.kinesis]},
        ),
        allow(
            "RegistrarFailedEvents",
            root,
            SQS_SENDER_KEY_ACTIONS,
            ArnEquals={"aws:PrincipalArn": registrar_role_arn},
            StringEquals={"kms:ViaService": [hosts.sqs]},
        ),
        *(
            [
                allow(
                    "CompactorFailedRuns",
                    root,
                    SQS_SENDER_KEY_ACTIONS,
                    ArnEquals={"aws:PrincipalArn": compactor_role_arn},
                    StringEquals={"kms:ViaService": [hosts.sqs]},
                )
            ]
            if compactor_role_arn is not None
            else []
        ),
        allow(
            "EventBridgeDeadLetters",
            {"Service": EVENTS_SERVICE},
            SQS_SENDER_KEY_ACTIONS,
            StringEquals={"aws:SourceAccount": account_id},
            ArnEquals={"aws:SourceArn": list(dead_letter_rule_arns)},
        ),
        allow(
            "CloudWatchLogs",
            {"Service": hosts.logs},
            LOGS_KEY_ACTIONS,
            ArnEquals={LOGS_ENCRYPTION_CONTEXT: list(log_group_arns)},
        ),
        allow(
            "CloudWatchAlarms",
            {"Service": ALARMS_SERVICE},
            ALARMS_KEY_ACTIONS,
            StringEquals={"aws:SourceAccount": account_id},
            ArnLike={"aws:SourceArn": list(alarm_arns)},
        ),
    ]
    if claims_table:
        statements += [
            allow(
                "ClaimsTable",
                root,
                DYNAMODB_KEY_ACTIONS,
                StringEquals={**own_account, "kms:ViaService": [hosts.dynamodb]},
            ),
            allow(
                "ClaimsTableGrant",
                root,
                DYNAMODB_GRANT_ACTIONS,
                StringEquals={**own_account, "kms:ViaService": [hosts.dynamodb]},
                Bool={"kms:GrantIsForAWSResource": "true"},
            ),
        ]
    statements += [
        allow(
            "Producers",
            root,
            PRODUCER_KEY_ACTIONS,
            StringEquals={
                **own_account,
                "kms:ViaService": [hosts.kinesis],
                KINESIS_ENCRYPTION_CONTEXT: stream_arn,
            },
        ),
        allow("Readers", root, KMS_DATA_ACTIONS, StringEquals={**own_account, "kms:ViaService": [hosts.s3]}),
    ]
    return {"Version": VERSION, "Statement": statements}


def producer_policy(*, stream_arn: str, key_arn: str, kinesis_host: str) -> Policy:
    """What a producer needs to write to the stream: put records, and data keys from the lake key, which
    Kinesis asks for on the producer's behalf (through Kinesis only)."""
    return {
        "Version": VERSION,
        "Statement": [
            _statement("PutRecords", PRODUCER_STREAM_ACTIONS, [stream_arn]),
            _statement(
                "StreamKey",
                PRODUCER_KEY_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": [kinesis_host]}},
            ),
        ],
    }


def operator_policy(
    *,
    stream_arn: str,
    bucket_arn: str,
    error_root: str,
    backup_root: str,
    archive_root: str,
    claims_table_arn: str | None,
    key_arn: str,
    s3_host: str,
    kinesis_host: str,
    dynamodb_host: str,
    table_prefixes: Sequence[str] = (),
) -> Policy:
    """The operator policy: what ``eventlake reprocess`` needs, and no more. Put the recovered records back
    on the stream; list and read the error objects (``error_root``) and the raw backup (``backup_root``);
    write an object's kept lines beside it, copy it to ``archive_root`` and delete it; with dedupe
    (``claims_table_arn``), read and delete the claims its failed records hold. The lake key: data keys for
    the stream through Kinesis (as a producer), decrypt and encrypt objects through S3, and, with dedupe,
    the claims table's items through DynamoDB.

    The bucket listing is limited to the two prefixes it reads (``s3:prefix``, which ``ListObjectsV2`` sends
    as its ``Prefix``): the rest of the lake's keys stay unlisted. With ``table_prefixes`` (the table's
    original and compacted partition folders, ``events/event_type=``), it also lists and reads the table's
    partitions, to leave records already stored unsent; the roots themselves stay unlisted."""
    objects = f"{bucket_arn}/"
    key_services = [s3_host]
    statements = [
        _statement("PutRecords", PRODUCER_STREAM_ACTIONS, [stream_arn]),
        _statement(
            "ListErrorsAndBackup",
            OPERATOR_LIST_ACTIONS,
            [bucket_arn],
            Condition={"StringLike": {"s3:prefix": [f"{error_root}*", f"{backup_root}*"]}},
        ),
        _statement(
            "ReadErrorsAndBackup",
            OPERATOR_READ_ACTIONS,
            [f"{objects}{error_root}*", f"{objects}{backup_root}*"],
        ),
        _statement("RewriteErrors", OPERATOR_ERROR_WRITE_ACTIONS, [f"{objects}{error_root}*"]),
        _statement("ArchiveErrors", OPERATOR_ARCHIVE_ACTIONS, [f"{objects}{archive_root}*"]),
    ]
    if table_prefixes:
        statements += [
            _statement("ReadStream", OPERATOR_STREAM_READ_ACTIONS, [stream_arn]),
            _statement(
                "ListTable",
                OPERATOR_LIST_ACTIONS,
                [bucket_arn],
                Condition={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in table_prefixes]}},
            ),
            _statement("ReadTable", OPERATOR_READ_ACTIONS, [f"{objects}{p}*" for p in table_prefixes]),
        ]
    if claims_table_arn is not None:
        statements.append(_statement("ReleaseClaims", OPERATOR_CLAIMS_ACTIONS, [claims_table_arn]))
        key_services.append(dynamodb_host)
    statements += [
        _statement(
            "StreamKey",
            OPERATOR_STREAM_KEY_ACTIONS if table_prefixes else PRODUCER_KEY_ACTIONS,
            [key_arn],
            Condition={"StringEquals": {"kms:ViaService": [kinesis_host]}},
        ),
        _statement(
            "LakeKey",
            KMS_DATA_ACTIONS,
            [key_arn],
            Condition={"StringEquals": {"kms:ViaService": key_services}},
        ),
    ]
    return {"Version": VERSION, "Statement": statements}


def alarm_topic_policy(*, topic_arn: str, account_id: str, alarm_arns: Sequence[str]) -> Policy:
    """Only CloudWatch, and only for the stack's alarms, may publish to the alarm topic; principals of the
    account keep what their IAM policies grant."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "StackAlarms",
                "Effect": "Allow",
                "Principal": {"Service": ALARMS_SERVICE},
                "Action": ALARMS_TOPIC_ACTIONS,
                "Resource": [topic_arn],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": list(alarm_arns)},
                },
            }
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
    """The reader policy: what a person or tool needs to query the lake through the stack's workgroup, and no
    more: run and read queries in that workgroup, read the table's (and view's) metadata, read the data
    prefix, and write and read its own results (``kms:Decrypt`` to read, and ``kms:GenerateDataKey`` because
    the workgroup encrypts results with the lake key; through S3 only)."""
    return {
        "Version": VERSION,
        "Statement": [
            _statement("Workgroup", ATHENA_QUERY_ACTIONS, [workgroup_arn]),
            _statement(
                "Catalog", ATHENA_GLUE_ACTIONS, [glue_catalog_arn, glue_database_arn, *glue_table_arns]
            ),
            _statement("LakeBucket", ATHENA_BUCKET_LOCATION_ACTIONS, [bucket_arn]),
            # Athena lists the table's partition folders and the workgroup's results, nothing else.
            _list_statement("ListTable", bucket_arn, [data_root, COMPACTED_ROOT, results_root]),
            # Compacted partitions read their copy under the compacted root (lake_compactor).
            _statement(
                "ReadData",
                ["s3:GetObject"],
                [f"{bucket_arn}/{data_root}*", f"{bucket_arn}/{COMPACTED_ROOT}*"],
            ),
            _statement("Results", ATHENA_RESULTS_ACTIONS, [f"{bucket_arn}/{results_root}*"]),
            _statement(
                "LakeKey",
                KMS_DATA_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": [s3_host]}},
            ),
        ],
    }


# What lake_compactor calls, and what Athena calls with its credentials for the UNLOAD: read both tables'
# partitions, read the objects a copy is made of, write the copy and the manifest under the compacted root,
# and write UNLOAD's metadata and manifest to the workgroup's results (https://docs.aws.amazon.com/athena/
# latest/ug/unload.html); switch a partition (UpdatePartition) and register the source table's partitions.
COMPACTOR_ATHENA_ACTIONS = ["athena:StartQueryExecution", "athena:GetQueryExecution"]
COMPACTOR_GLUE_READ_ACTIONS = [*ATHENA_GLUE_ACTIONS]  # the compactor reads partitions as Athena does
COMPACTOR_SWITCH_ACTIONS = ["glue:UpdatePartition"]
COMPACTOR_SOURCE_ACTIONS = ["glue:BatchCreatePartition"]
COMPACTOR_WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
# Retiring what a switch superseded: tag it for the lake's lifecycle rule to expire (never a delete). Only
# the one tag, and nothing else in the tag set (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
# tagging-and-policies.html: s3:RequestObjectTagKeys and s3:RequestObjectTag/<key> apply to PutObjectTagging
# and to a PutObject that tags). Which objects is not a condition IAM has: lake_compactor.compaction_handler's
# TagScope lets through only what a manifest of the compactor's names.
COMPACTOR_TAG_ACTIONS = ["s3:PutObjectTagging"]
COMPACTOR_TAG_CONDITION = {
    "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": [SUPERSEDED_TAG[0]]},
    "StringEquals": {f"s3:RequestObjectTag/{SUPERSEDED_TAG[0]}": SUPERSEDED_TAG[1]},
}


def compactor_policy(
    *,
    log_group_arn: str,
    workgroup_arn: str,
    glue_catalog_arn: str,
    glue_database_arn: str,
    glue_table_arn: str,
    source_table_arn: str,
    bucket_arn: str,
    data_root: str,
    compacted_root: str,
    results_root: str,
    key_arn: str,
    s3_host: str,
    failure_queue_arn: str | None = None,
    sqs_host: str = "",
) -> Policy:
    """The compactor: queries in the stack's workgroup only, reads of the two tables, UpdatePartition on the
    events table only, BatchCreatePartition on its source table only, listings and reads of the two roots'
    partition folders, writes under the compacted root and the results prefix (never under the data root: it
    deletes nothing), the superseded tag alone under the two roots (what a switch superseded,
    for the lifecycle rule), and the lake key through S3; with ``failure_queue_arn``, a failed run's event
    sent to its failure queue (Lambda's on-failure destination sends with the function's role), whose
    messages the lake key encrypts (through SQS only)."""
    catalog = [glue_catalog_arn, glue_database_arn]
    folders = [partition_folders(data_root), partition_folders(compacted_root)]
    failures = (
        [
            _statement("FailedRuns", SQS_SEND_ACTIONS, [failure_queue_arn]),
            _statement(
                "FailedRunsKey",
                SQS_SENDER_KEY_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": [sqs_host]}},
            ),
        ]
        if failure_queue_arn is not None
        else []
    )
    return {
        "Version": VERSION,
        "Statement": [
            _statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
            _statement("Workgroup", COMPACTOR_ATHENA_ACTIONS, [workgroup_arn]),
            _statement(
                "ReadCatalog", COMPACTOR_GLUE_READ_ACTIONS, [*catalog, glue_table_arn, source_table_arn]
            ),
            _statement("SwitchPartitions", COMPACTOR_SWITCH_ACTIONS, [*catalog, glue_table_arn]),
            _statement("SourcePartitions", COMPACTOR_SOURCE_ACTIONS, [*catalog, source_table_arn]),
            _statement("LakeBucket", ATHENA_BUCKET_LOCATION_ACTIONS, [bucket_arn]),
            # Its own listings, and Athena's for its UNLOADs (sources, the target folder, the results); a
            # batch's staging folder, which its UNLOAD writes and it copies each partition's files from.
            _list_statement("ListPartitions", bucket_arn, [*folders, COMPACTION_STAGING_ROOT, results_root]),
            _statement(
                "ReadData",
                ["s3:GetObject"],
                [
                    f"{bucket_arn}/{data_root}*",
                    f"{bucket_arn}/{compacted_root}*",
                    f"{bucket_arn}/{COMPACTION_STAGING_ROOT}*",
                ],
            ),
            _statement(
                "WriteCompacted",
                COMPACTOR_WRITE_ACTIONS,
                [f"{bucket_arn}/{compacted_root}*", f"{bucket_arn}/{COMPACTION_STAGING_ROOT}*"],
            ),
            _statement(
                "TagSuperseded",
                COMPACTOR_TAG_ACTIONS,
                [f"{bucket_arn}/{data_root}*", f"{bucket_arn}/{compacted_root}*"],
                Condition=COMPACTOR_TAG_CONDITION,
            ),
            _statement("Results", ATHENA_RESULTS_ACTIONS, [f"{bucket_arn}/{results_root}*"]),
            *failures,
            _statement(
                "LakeKey",
                KMS_DATA_ACTIONS,
                [key_arn],
                Condition={"StringEquals": {"kms:ViaService": [s3_host]}},
            ),
        ],
    }


# S3 server access log delivery (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
# enable-server-access-logging.html#grant-log-delivery-permissions-general).
LOGGING_SERVICE = "logging.s3.amazonaws.com"


def access_log_bucket_policy(
    *, log_bucket_arn: str, source_bucket_arn: str, prefix: str, account_id: str
) -> Policy:
    """The access log bucket: only S3's logging service may put objects, only under the lake bucket's prefix,
    only for that bucket of this account (``aws:SourceArn``, ``aws:SourceAccount``: confused deputy); and, as
    the lake bucket, nothing below TLS 1.2."""
    tls = lake_bucket_policy(log_bucket_arn, "")["Statement"][:2]
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": LOGGING_SERVICE},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/{prefix}*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
            *tls,
        ],
    }


def lake_bucket_policy(bucket_arn: str, key_arn: str) -> Policy:
    """Refuse, for every caller, requests to the lake that do not arrive over TLS 1.2 or later, and object
    writes that ask for any encryption but the lake key (a put without encryption headers gets the bucket's
    default, the lake key). https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html

    Deny statements: ``s3:*`` and the ``*`` principal are what make them cover everything; ``...IfExists``
    lets a put that names no encryption through to the bucket default.
    """
    resources = [bucket_arn, f"{bucket_arn}/*"]
    objects = [f"{bucket_arn}/*"]
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DenyTlsBelow12",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"NumericLessThan": {"s3:TlsVersion": MIN_TLS_VERSION}},
            },
            {
                "Sid": "DenyOtherEncryption",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": SSE_KMS}},
            },
            {
                "Sid": "DenyOtherKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}
                },
            },
        ],
    }
