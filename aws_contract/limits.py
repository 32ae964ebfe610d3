"""AWS's documented limits and defaults, each written once, with the public page it comes from.

Settings validation, sizing, the rules checker, the Lambda and the local model of Firehose import these
names; none of them keeps a copy. Units are in the name: ``_BYTES``, ``_MIB`` (2**20 bytes), ``_S``,
``_MS``, ``_HOURS``, ``_DAYS``. Firehose's processor parameter ``BufferSizeInMBs`` is read as MiB (the
larger unit is the conservative one), so its range keeps Firehose's own number with an ``_MB`` name.
Stdlib only: the Lambda package ships this module.
"""

from __future__ import annotations

MIB = 1024 * 1024

# --- AWS Lambda --------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
# "Invocation payload (request and response): 6 MB each for synchronous". Firehose invokes synchronously;
# AWS's own Firehose blueprint keeps responses under 6,000,000 bytes, the stricter reading.
LAMBDA_PAYLOAD_LIMIT_BYTES = 6_000_000
LAMBDA_MEMORY_MB_RANGE = (128, 10_240)
LAMBDA_MAX_TIMEOUT_S = 900
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html ("The default timeout value is 3
# seconds"); pulumi-aws sends nothing when unset, so AWS's default applies.
LAMBDA_DEFAULT_TIMEOUT_S = 3
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html (supported, not deprecated, 2026-11)
LAMBDA_PYTHON_RUNTIMES = ("python3.12", "python3.13", "python3.14")
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html: "At 1,769 MB, a function has the
# equivalent of one vCPU"; below that, CPU time scales with memory.
LAMBDA_MB_PER_VCPU = 1_769
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: concurrent executions, 1,000 per
# account and Region by default (a quota that can be raised).
LAMBDA_CONCURRENCY_DEFAULT = 1_000

# --- Amazon Data Firehose: the Lambda processor -----------------------------------------------------------
# https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
# "The buffering size hint ranges between 0.2 MB and 3MB. The default Lambda buffering size hint is 1 MB";
# "The Lambda buffering interval hint ranges between 0 and 900 seconds. The default ... is sixty seconds";
# "Amazon Data Firehose supports a Lambda invocation time of up to 5 minutes."
PROCESSOR_BUFFER_MB_RANGE = (0.2, 3.0)
PROCESSOR_BUFFER_DEFAULT_MB = 1.0
PROCESSOR_INTERVAL_S_RANGE = (0, 900)
PROCESSOR_INTERVAL_DEFAULT_S = 60
FIREHOSE_MAX_INVOCATION_S = 300
# https://docs.aws.amazon.com/firehose/latest/APIReference/API_ProcessorParameter.html ("3 for
# NumberOfRetries"; no maximum is documented).
PROCESSOR_RETRIES_DEFAULT = 3
# https://docs.aws.amazon.com/firehose/latest/dev/limits.html: "When the destination is Amazon S3 ... Firehose
# allows up to 5 outstanding Lambda invocations per shard".
PROCESSOR_INVOCATIONS_PER_SHARD = 5
# Same page: ParameterValue "Length Constraints: Minimum length of 1. Maximum length of 5120."
PROCESSOR_PARAMETER_VALUE_MAX_CHARS = 5120
# Kinesis sequence numbers are up to 128 digits:
# https://docs.aws.amazon.com/kinesis/latest/APIReference/API_Record.html ("Pattern: 0|([1-9]\d{0,128})").
SEQUENCE_NUMBER_MAX_DIGITS = 128

# --- Amazon Data Firehose: S3 destination, dynamic partitioning, format conversion --------------------------
# https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html
# SizeInMBs 1-128 (default 5), IntervalInSeconds 0-900 (default 300).
BUFFERING_SIZE_MIB_RANGE = (1, 128)
BUFFERING_INTERVAL_S_RANGE = (0, 900)
BUFFERING_SIZE_DEFAULT_MIB = 5
BUFFERING_INTERVAL_DEFAULT_S = 300
# https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html: with dynamic partitioning the
# buffer is at least 64 MiB and the interval at least 60 s.
PARTITIONED_MIN_BUFFER_MIB = 64
PARTITIONED_MIN_INTERVAL_S = 60
# https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html: format conversion needs a
# buffer of at least 64 MiB.
CONVERSION_MIN_BUFFER_MIB = 64
# https://docs.aws.amazon.com/firehose/latest/APIReference/API_ParquetSerDe.html
PARQUET_COMPRESSIONS = ("UNCOMPRESSED", "GZIP", "SNAPPY")
PARQUET_MIN_BLOCK_SIZE_BYTES = 64 * MIB
PARQUET_MIN_PAGE_SIZE_BYTES = 64 * 1024
PARQUET_DEFAULT_PAGE_SIZE_BYTES = MIB
# https://docs.aws.amazon.com/firehose/latest/APIReference/API_RetryOptions.html: 0-7200 s, default 300.
PARTITIONING_RETRY_S_RANGE = (0, 7200)
PARTITIONING_RETRY_DEFAULT_S = 300
# https://docs.aws.amazon.com/firehose/latest/dev/buffering.html: "500 active partitions per Firehose
# stream", raisable "to up to 5,000"; records beyond go to the error prefix (activePartitionExceeded).
ACTIVE_PARTITIONS_DEFAULT = 500
ACTIVE_PARTITIONS_MAX = 5_000
# https://docs.aws.amazon.com/firehose/latest/dev/limits.html: with dynamic partitioning "a max throughput of
# 1 GB per second is supported for each active partition". The same page's Direct PUT throughput quota
# (records, requests and MiB per second) "doesn't apply" with a Kinesis Data Streams source: "Firehose scales
# up and down with no limit", so a Kinesis-sourced stream's only volume-bound quota is this per-partition one.
PARTITION_MAX_BYTES_PER_S = 10**9
# Same page: with dynamic partitioning "end-to-end delay of a batch of records might be 1.5 times of the
# configured buffering hint time", so a data-freshness alarm below that would fire on healthy delivery.
PARTITIONED_DELIVERY_DELAY_FACTOR = 1.5
# https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html: "Neither Prefix nor ErrorOutputPrefix
# can be greater than 512 characters after they're evaluated"; random-string is 11 characters.
EVALUATED_PREFIX_MAX_CHARS = 512
RANDOM_STRING_CHARS = 11

# --- Amazon S3 ---------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html: "up to 1,024 bytes" of UTF-8.
S3_OBJECT_KEY_MAX_BYTES = 1024
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html: 3-63 characters.
S3_BUCKET_NAME_MAX_CHARS = 63
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html: "returns some or all (up to 1,000)
# of the objects in a bucket" per request; keys in UTF-8 binary order, ``StartAfter`` any key to begin after.
S3_LIST_MAX_KEYS = 1_000
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-class-intro.html (S3 Glacier Instant
# Retrieval): a 128 KB minimum billable object size and a 90-day minimum storage duration (an object
# deleted or moved sooner is billed the rest); smaller objects are not worth a transition request each.
S3_GLACIER_IR_MIN_BILLABLE_BYTES = 128 * 1024
S3_GLACIER_IR_MIN_STORAGE_DAYS = 90

# --- Amazon Kinesis Data Streams ---------------------------------------------------------------------------
# https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html: "Each PutRecords request can
# support up to 500 records ... up to a limit of 5 MiB for the entire request, including partition keys."
PUT_RECORDS_MAX_RECORDS = 500
PUT_RECORDS_MAX_BYTES = 5 * MIB
# https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html and
# https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsRequestEntry.html: "When the data blob
# (the payload before base64-encoding) is added to the partition key size, the total size must not exceed the
# maximum record size (1 MiB)". A stream's maximum can be raised to 10 MiB (UpdateMaxRecordSize); this
# project's streams keep the default. Partition keys are 1-256 Unicode characters.
KINESIS_RECORD_MAX_BYTES = MIB
PARTITION_KEY_MAX_CHARS = 256
# https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html: Limit, 1-10,000.
GET_RECORDS_MAX_RECORDS = 10_000
# https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html: 24 hours to 365 days.
STREAM_RETENTION_HOURS_RANGE = (24, 8_760)
# https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html (shards per stream are an
# account quota; 10,000 is what this project lets a stack ask for without a quota request).
STREAM_SHARD_COUNT_RANGE = (1, 10_000)
# An on-demand stream opens with 4 shards:
# https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html#ondemandmode
ON_DEMAND_INITIAL_SHARDS = 4
# https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html: a shard takes writes of up to
# 1 MB/s (read here as MiB, the conservative unit) or 1,000 records/s, in both capacity modes.
SHARD_WRITE_RECORDS_PER_S = 1_000
SHARD_WRITE_BYTES_PER_S = MIB
# Same page: the default shard quota per account is 20,000 in us-east-1, us-west-2 and eu-west-1 (more than
# STREAM_SHARD_COUNT_RANGE lets a stack ask for) and "1,000 or 6,000" elsewhere (the smaller assumed);
# on-demand streams start at 4 MB/s of writes (the initial shards above) and scale up to 10 GB/s in those
# three Regions, 200 MB/s elsewhere.
KINESIS_LARGE_QUOTA_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
ACCOUNT_SHARD_QUOTA_OTHER = 1_000
ON_DEMAND_MAX_WRITE_BYTES_PER_S_LARGE = 10 * 10**9
ON_DEMAND_MAX_WRITE_BYTES_PER_S_OTHER = 200 * 10**6
# https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html#ondemandmode: an on-demand stream
# accommodates up to double its previous peak write throughput; a step beyond that throttles while it scales.
ON_DEMAND_PEAK_GROWTH = 2

# --- Amazon DynamoDB --------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html: "up to 25
# PartiQL statements"; https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html:
# "as many as 100 items".
BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS = 25
BATCH_GET_ITEM_MAX_KEYS = 100
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html: on-demand tables start
# with at most 40,000 write request units per second (a default account quota, raisable).
ON_DEMAND_TABLE_MAX_WRITES_PER_S = 40_000

# --- AWS Glue and Amazon Athena ----------------------------------------------------------------------------
# https://docs.aws.amazon.com/glue/latest/webapi/API_BatchCreatePartition.html: at most 100 partitions a call.
GLUE_BATCH_CREATE_PARTITION_MAX = 100
# https://docs.aws.amazon.com/glue/latest/dg/partition-indexes.html: up to 3 partition indexes per table.
GLUE_PARTITION_INDEXES_MAX = 3
# https://docs.aws.amazon.com/athena/latest/APIReference/API_WorkGroupConfiguration.html:
# BytesScannedCutoffPerQuery, minimum 10,000,000 bytes.
ATHENA_MIN_BYTES_SCANNED_CUTOFF = 10_000_000
# https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html: names up to 255
# characters; Glue stores them lower case.
GLUE_NAME_MAX_CHARS = 255
# https://docs.aws.amazon.com/glue/latest/webapi/API_Column.html: a column's Comment, at most 255 characters.
GLUE_COLUMN_COMMENT_MAX_CHARS = 255
# https://docs.aws.amazon.com/athena/latest/APIReference/API_CreateNamedQuery.html: Name 1-128 characters,
# Description 1-1024, QueryString 1-262144.
ATHENA_NAMED_QUERY_NAME_MAX_CHARS = 128
ATHENA_NAMED_QUERY_DESCRIPTION_MAX_CHARS = 1024
ATHENA_NAMED_QUERY_MAX_CHARS = 262_144
# https://docs.aws.amazon.com/athena/latest/ug/unload.html: UNLOAD's Parquet ``compression`` (GZIP, SNAPPY;
# ZSTD with engine v3, whose ``compression_level`` runs 1-22:
# https://docs.aws.amazon.com/athena/latest/ug/compression-support-zstd-levels.html). The query string of
# StartQueryExecution is 1-262144 characters
# (https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html).
ATHENA_UNLOAD_PARQUET_COMPRESSIONS = ("SNAPPY", "GZIP", "ZSTD")
ATHENA_ZSTD_LEVEL_RANGE = (1, 22)
ATHENA_QUERY_MAX_CHARS = 262_144
# https://aws.amazon.com/athena/pricing/: "rounded up to the nearest megabyte, with a 10 MB minimum per
# query" (decimal MB): a query that scans less is billed 10 MB.
ATHENA_MIN_BILLED_BYTES_PER_QUERY = 10_000_000

# --- Amazon EventBridge ------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html: MaximumRetryAttempts
# 0-185, MaximumEventAgeInSeconds 60-86400 (24 hours); the defaults are these maxima.
EVENTBRIDGE_MAX_RETRY_ATTEMPTS = 185
EVENTBRIDGE_MAX_EVENT_AGE_HOURS = 24

# --- AWS Lambda: asynchronous invocation (how EventBridge invokes a function) -------------------------------
# https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html: MaximumRetryAttempts
# 0-2, MaximumEventAgeInSeconds 60-21600 (6 hours).
LAMBDA_ASYNC_MAX_RETRY_ATTEMPTS = 2
LAMBDA_ASYNC_MAX_EVENT_AGE_HOURS = 6

# --- Amazon SQS --------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html:
# MessageRetentionPeriod 60-1,209,600 seconds (14 days).
SQS_MAX_MESSAGE_RETENTION_DAYS = 14

# --- AWS KMS -----------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html: PendingWindowInDays 7-30.
KMS_DELETION_WINDOW_DAYS_RANGE = (7, 30)

# --- Amazon CloudWatch Logs --------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# --- Billing units (the pricing pages' rounding rules; prices themselves live in infra/prices/) -------------
# https://aws.amazon.com/firehose/pricing/ and https://docs.aws.amazon.com/firehose/latest/dev/limits.html:
# ingestion from Direct PUT or a Kinesis Data Streams source, and format conversion, are billed per record
# "rounded up to the nearest 5KB (5120 bytes)".
FIREHOSE_BILLING_RECORD_BYTES = 5 * 1024
# https://aws.amazon.com/kinesis/data-streams/pricing/: provisioned streams bill 25 KB PUT payload units per
# record; on-demand data in is "rounded up to the nearest 1 KB (1,024 bytes)" per record.
KINESIS_PUT_PAYLOAD_UNIT_BYTES = 25 * 1024
KINESIS_ON_DEMAND_BILLING_RECORD_BYTES = 1024

# --- AWS Regions (what --region may name) ------------------------------------------------------------------
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html, every partition
# (commercial, China, GovCloud, the isolated ones); tests/aws_contract/test_regions.py holds it equal to
# botocore's endpoint data.
AWS_REGIONS = (
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
    "us-west-1", "us-west-2",
    "cn-north-1", "cn-northwest-1",
    "us-gov-east-1", "us-gov-west-1",
    "us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "us-isob-west-1", "eu-isoe-west-1",
    "us-isof-east-1", "us-isof-south-1", "eusc-de-east-1",
)  # fmt: skip
