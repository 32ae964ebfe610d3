"""What the model assumes and measured: calibration constants, each with where it comes from."""

from __future__ import annotations

from pathlib import Path

from infra.claims_spec import (
    TARGET_UTILIZATION_PERCENT,
)

HOURS_PER_MONTH = 730  # AWS's pricing month
BILLING_GB = 2**30  # AWS bills "GB" of data as 2^30 bytes
PRICES_DIR = Path(__file__).resolve().parent.parent / "prices"
FALLBACK_PRICE_REGION = "us-east-1"
TIME_STEPS = 120

# --- Measured on this repository's sample events (the demo's generator), 2026-11-29 ------------------------
# tests/infra/test_capacity.py re-measures each of these and fails if one drifts by more than its tolerance.
# The transform's output (what Firehose's S3 buffer counts, before conversion) per raw event byte: enrichment
# adds columns and re-serialises the payload as a JSON string (2.21 until rows named their KPL subsequence
# number, source_subsequence_number: re-measured 2.35 on 2026-12-07).
TRANSFORMED_BYTES_PER_RAW_BYTE = 2.35
# One partition's Parquet object (one event type, Firehose's serializer settings): a fixed part (footer,
# schema, page headers) plus bytes per raw event byte. SNAPPY and GZIP: least relative squares over objects of
# 10 to 1,500 rows of each of the sample's 17 types; UNCOMPRESSED: the slope from 100 to 1,000 rows. One
# type's object is within ~10 % on average (25 % at worst: payloads compress differently); the total over
# all types within 10 % (tests/infra/test_capacity.py).
PARQUET_OBJECT_OVERHEAD_BYTES = {"SNAPPY": 3_900, "GZIP": 4_150, "UNCOMPRESSED": 4_000}
PARQUET_BYTES_PER_RAW_BYTE = {"SNAPPY": 0.40, "GZIP": 0.26, "UNCOMPRESSED": 0.80}
# The raw source backup (GZIP) per raw byte.
BACKUP_BYTES_PER_RAW_BYTE = 0.27
# processor jq: data objects are the records as sent, GZIP, like the raw backup (its measured ratio; a small
# object of one type compresses a little worse).
AS_SENT_BYTES_PER_RAW_BYTE = BACKUP_BYTES_PER_RAW_BYTE
# processor jq: Firehose bills the hours its JQ query runs; AWS publishes neither a per-record time nor how it
# meters them. Assumed: libjq's time through the jq bindings on this machine, ~230 us a record (the deployed
# query, one core, 2026-11-29), rounded up. The deployed stream's JQProcessing.Duration gives the real figure.
JQ_SECONDS_PER_RECORD = 0.25e-3
# BENCHMARKS.md (2026-11-29, one core of the 2-core machine, the compiled path built): the handler at 172,390
# records/s without a claim store, 77,449 with one that answers at once (its fingerprints, holders and marks);
# and the claim store's own time in the handler through a DynamoDB double answering in 5 ms: 0.25 s for
# 10,000 records. Claims cost both per record; the marks within a batch (dedupe: compaction) only the first,
# an upper bound (they need fingerprints and marks, not holders; not measured apart).
TRANSFORM_SECONDS_PER_RECORD = 1 / 172_390
MARKS_SECONDS_PER_RECORD = 1 / 77_449 - 1 / 172_390
CLAIM_SECONDS_PER_RECORD = 0.25 / 10_000 + MARKS_SECONDS_PER_RECORD
# Claims write one unit per event (infra.claims_spec: the bench measured 0.986, every INSERT won or lost).
# A claim: key, holder (shard, sequence, subsequence), fingerprint and expiry, ~120 bytes, plus the 100 bytes
# DynamoDB adds to every item for billing (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
# CapacityUnitCalculations.html).
CLAIM_ITEM_BYTES = 220
# Producers key each record by its event_uuid (36 characters), which counts toward a shard's bytes.
PARTITION_KEY_BYTES = 36
# Shards are sized so the mean load uses at most this share of a shard: hash keys never spread perfectly.
SHARD_UTILIZATION = 0.8
# A provisioned claims table with auto scaling keeps its capacity this far above use (infra.claims_spec).
PROVISIONED_TARGET_USE = TARGET_UTILIZATION_PERCENT / 100
# Log volume per transform invocation (START, END, REPORT and the "batch processed" line with its embedded
# metrics) and per registrar invocation; an estimate from the demo's log lines, not a measurement of AWS.
LOG_BYTES_PER_INVOCATION = 1_500
REGISTRAR_LOG_BYTES = 600
# The registrar's work per object (one Glue call); assumed, its cost is a rounding error either way.
REGISTRAR_SECONDS_PER_OBJECT = 0.1
# Services re-use a KMS data key for minutes, not per request (S3 bucket keys, Kinesis, DynamoDB): assumed
# one request per reader or writer every five minutes.
KMS_REQUESTS_PER_CLIENT_HOUR = 12
# S3 server access logs: one record a request to the lake bucket, assumed ~500 bytes (AWS publishes no size;
# a record is ~20 space-separated fields: bucket, time, requester, key, operation, status, sizes, agent, ...).
ACCESS_LOG_BYTES_PER_REQUEST = 500
DAYS_PER_MONTH = 730 / 24

# --- The compactor (lake_compactor.compactor), per run -----------------------------------------------------
# Athena bills a query's bytes scanned in decimal TB, at least 10 MB a query (https://aws.amazon.com/athena/
# pricing/). An UNLOAD of a partition reads its current copy and its new objects: counted as all its bytes.
ATHENA_MIN_SCAN_BYTES = 10_000_000
ATHENA_BYTES_PER_TB = 10**12
# Every run looks at every closed partition in the lookback (Compactor.run: _settle, then plan), listing
# each type's original and compacted folders once for all its days and hours, from the first day of its
# lookback to now (Compactor._list: StartAfter), a page of 1,000 keys per request; it GETs a copy's
# manifest only when an object is newer than the copy (a late arrival), so once per re-compaction.
HOURS_PER_DAY = 24
# A compacted type-hour holds its copy's file, manifest and .retired marker (a re-compaction adds the next).
COPY_OBJECTS = 3
# Per UNLOAD: PUT-class requests for the run's manifest, its .retired marker, UNLOAD's file and Athena's own
# result manifest and metadata, plus a tag per object the switch supersedes (each original once; a
# re-compaction also the copy before it: file, manifest, marker); GET-class: the marker's HEAD, the manifest's
# GET, and Athena's reads of each object (assumed: its footer, then its data).
STATEMENT_PUTS = 2
ATHENA_PUTS = 3
# A batched partition: its file lands in the staging folder (Athena's PUT), then one CopyObject (PUT-class)
# into its copy folder; the batch's UNLOAD adds Athena's manifest and metadata once. Staged files are kept a
# day, and their versions a day more (infra.compaction_spec.STAGING_EXPIRY_RULE): ~3 days of them stored.
ATHENA_RESULT_PUTS = 2
STAGING_STORED_DAYS = 3
# A batched UNLOAD's query text (lake_compactor.compaction_plan.BatchStatement.athena_sql), in characters:
# a fixed part (the outer SELECT, ORDER BY, target and WITH), plus per member (its marked and ordered SELECT
# over the current copy and the landing table, its partition's literals), plus per source object each member
# reads (one quoted URI in its "$path" list). Measured 2026-12-07 on the compactor's own text (the lengths of
# batches of 1 and 2 members, of 1 and 2 sources each): database eventlake_prod, a 10-character event type,
# every source s3://bucket/events/<partition>/<80 characters>.parquet. Exact up to 10 members; from the 11th,
# a member's alias number adds 2 characters a digit past the first, left out (under 0.1 % of a member).
# tests/infra/test_batch_calibration.py holds the three to the compactor's text.
BATCH_QUERY_CHARS = 876
MEMBER_QUERY_CHARS = 2_395
SOURCE_QUERY_CHARS = 169
PREVIOUS_COPY_OBJECTS = 3
STATEMENT_GETS = 2
ATHENA_GETS_PER_OBJECT = 2
# Glue calls per UNLOAD (the source partition, the switch's read and update, the retirement's read).
STATEMENT_GLUE_CALLS = 4
# Assumed, not measured on AWS: one S3 or Glue call from the Lambda takes 20 ms; an UNLOAD 5 s (queue, plan,
# commit) plus its scan at 100 MB/s. The compactor waits on DEFAULT_PARALLEL statements at once.
COMPACTOR_CALL_SECONDS = 0.02
UNLOAD_SECONDS = 5.0
UNLOAD_BYTES_PER_SECOND = 100e6
