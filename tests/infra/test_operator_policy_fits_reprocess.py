"""The operator policy fits ``eventlake reprocess``: every call the command makes against the embedded AWS
(recorded on each client the CLI builds, through botocore's event hooks), with error objects of every type, a
raw backup and claims to release in place, is one ``iam.operator_policy`` allows, rendered with the embedded
AWS's ARNs; and the producer policy, as a control, refuses its S3 and DynamoDB calls.

The ARNs the policy is rendered with are spelled out as AWS documents them (the table's from DynamoDB itself),
not with the recorder's helpers, so a wrong ARN on either side fails."""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from embedded_server import embedded_aws_server

from eventlake.checks.access import ApiCall, CallRecorder, audit
from eventlake.cli.common import Context
from eventlake.cli.main import main
from eventlake.firehose_formats import error_records, prefixes
from eventlake.operations import recovery
from eventlake.simulator.embedded.aws import EmbeddedAws, stack_region
from glue import schema
from glue.claim_items import EXPIRES_ATTRIBUTE, FINGERPRINT_ATTRIBUTE, HOLDER_ATTRIBUTE, KEY_ATTRIBUTE
from glue.errors import ErrorCode, ErrorOutputType
from infra import iam
from infra.delivery_spec import DeliverySpec
from infra.operator_access import OperatorAccessArgs
from infra.settings import Settings
from transform_lambda.events import Lineage, enrich, parse_event, row_bytes

SETTINGS = Settings.from_stack_file("dev")
SPEC = DeliverySpec.from_settings(SETTINGS)
HOUR = datetime(2026, 11, 25, 7, tzinfo=UTC)
ARRIVAL_MS = int((HOUR + timedelta(minutes=10)).timestamp() * 1000)
SHARD = "shardId-000000000002"
LAMBDA_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:eventlake-dev-transform:$LATEST"


def _event(n: int) -> dict[str, Any]:
    return {
        "event_uuid": f"0b6c3f0e-5a43-4c47-9d8e-{n:012d}",
        "event_name": "payment:order:completed",
        "created_at": 1_764_054_000 + n,
        "amount": 12.5,
        "currency": "EUR",
    }


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"


def _row(value: dict[str, Any], sequence: str) -> bytes:
    return row_bytes(enrich(parse_event(value), Lineage(SHARD, sequence, ARRIVAL_MS), is_duplicate=False))


def _times() -> dict[str, int]:
    return {"attempts_made": 1, "arrival_ms": ARRIVAL_MS, "attempt_ending_ms": ARRIVAL_MS + 60_000}


@dataclass
class ReprocessRun:
    """The embedded AWS after ``eventlake reprocess --dry-run`` and ``eventlake reprocess``, every call of
    both recorded."""

    aws: EmbeddedAws
    recorder: CallRecorder
    table_arn: str  # as DynamoDB reports it
    outcomes: list[dict[str, Any]]

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.aws.bucket}"

    @property
    def key_arn(self) -> str:  # a placeholder: the embedded AWS's key is not the deployed one
        return "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"

    def operator_policy(self, *, claims: bool = True) -> iam.Policy:
        return iam.operator_policy(
            stream_arn=self.aws.stream_arn,
            bucket_arn=self.bucket_arn,
            error_root="errors/",
            backup_root="raw/",
            archive_root="errors-archive/",
            claims_table_arn=self.table_arn if claims else None,
            key_arn=self.key_arn,
            s3_host="s3.eu-west-1.amazonaws.com",
            kinesis_host="kinesis.eu-west-1.amazonaws.com",
            dynamodb_host="dynamodb.eu-west-1.amazonaws.com",
            table_prefixes=OperatorAccessArgs.from_settings(SETTINGS).table_prefixes,
        )

    def producer_policy(self) -> iam.Policy:
        return iam.producer_policy(
            stream_arn=self.aws.stream_arn,
            key_arn=self.key_arn,
            kinesis_host="kinesis.eu-west-1.amazonaws.com",
        )


def _put_error_objects(aws: EmbeddedAws) -> tuple[str, str]:
    """One error object of each type (one holding a line reprocess keeps), the raw backup the format
    conversion failure's original is read from, and two claims: one the failed record holds (released), one
    another record holds (left alone). Returns (the released claim's id, the object that is split)."""
    a, c, d, e = (_event(n) for n in (1, 3, 4, 5))
    sequences = [str(49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000 + n) for n in range(4)]
    lambda_failure = {"error_message": "failed", "lambda_arn": LAMBDA_ARN, **_times()}
    by_type: dict[str, list[dict[str, Any]]] = {
        ErrorOutputType.PROCESSING_FAILED.value: [
            error_records.processing_failed(
                _line(a), error_code=ErrorCode.FUNCTION_ERROR.value, **lambda_failure
            ),
            error_records.processing_failed(
                b'{"event_uuid": "not json',
                error_code=ErrorCode.PROCESSING_FAILED_STATUS.value,
                **lambda_failure,
            ),
        ],
        ErrorOutputType.FORMAT_CONVERSION_FAILED.value: [
            error_records.format_conversion_failed(
                _row(c, sequences[0]),
                error_code=ErrorCode.MALFORMED_DATA.value,
                error_message="The created_datetime is not a timestamp",
                sequence_number=sequences[0],
                subsequence_number=0,
                catalog={
                    "catalogId": "123456789012",
                    "databaseName": SPEC.database_name,
                    "tableName": "events",
                },
                **_times(),
            )
        ],
        ErrorOutputType.ACTIVE_PARTITION_EXCEEDED.value: [
            error_records.partitioning_failed(
                _row(d, sequences[1]),
                error_code=ErrorCode.ACTIVE_PARTITION_LIMIT_EXCEEDED.value,
                error_message="failed",
                **_times(),
            )
        ],
        ErrorOutputType.PARTITIONING_FAILED.value: [
            error_records.partitioning_failed(
                _row(e, sequences[2]),
                error_code=ErrorCode.MISSING_PARTITION_KEY.value,
                error_message="failed",
                **_times(),
            )
        ],
    }
    assert set(by_type) == {t.value for t in ErrorOutputType}
    keys = {}
    for serial, (output_type, lines) in enumerate(by_type.items(), start=1):
        name = f"{SPEC.delivery_stream_name}-1-{HOUR:%Y-%m-%d-%H}-12-00-{serial:08d}-aaaa-bbbb-cccc-dddd"
        keys[output_type] = recovery.hour_folder(SPEC, output_type, HOUR) + name
        aws.s3.put_object(Bucket=aws.bucket, Key=keys[output_type], Body=error_records.to_lines(lines))
    backup = prefixes.evaluate(SPEC.backup_prefix, arrival=HOUR, dynamic_partitioning=False)
    aws.s3.put_object(
        Bucket=aws.bucket,
        Key=f"{backup}{SPEC.delivery_stream_name}-1-backup.gz",
        Body=gzip.compress(_line(c)),
    )
    assert aws.claims_table
    for value, holder in ((c, f"{SHARD}:{sequences[0]}:0"), (d, f"{SHARD}:{sequences[3]}:0")):
        aws.dynamodb.put_item(
            TableName=aws.claims_table,
            Item={
                KEY_ATTRIBUTE: {"S": value["event_uuid"]},
                HOLDER_ATTRIBUTE: {"S": holder},
                FINGERPRINT_ATTRIBUTE: {"S": "f"},
                EXPIRES_ATTRIBUTE: {"N": "4102444800"},
            },
        )
    return c["event_uuid"], keys[ErrorOutputType.PROCESSING_FAILED.value]


@pytest.fixture(scope="module")
def reprocessed() -> Iterator[ReprocessRun]:
    with (
        embedded_aws_server(SETTINGS, SPEC, region=stack_region("dev")) as (aws, endpoint),
        pytest.MonkeyPatch.context() as patch,
    ):
        released, split = _put_error_objects(aws)
        assert aws.claims_table
        table_arn = aws.dynamodb.describe_table(TableName=aws.claims_table)["Table"]["TableArn"]
        recorder = CallRecorder(aws.account)
        build = Context.client

        def recorded_client(context: Context, service: str) -> Any:
            client = build(context, service)
            recorder.attach(client)
            return client

        patch.setattr(Context, "client", recorded_client)
        outcomes = []
        for extra in (["--dry-run"], []):
            with redirect_stdout(io.StringIO()) as out:
                assert main(["reprocess", "--endpoint-url", endpoint, "--output", "json", *extra]) == 0
            outcomes.append(json.loads(out.getvalue()))
        # The work was done: the held claim released, the split object archived, its kept line beside it.
        assert "Item" not in aws.dynamodb.get_item(
            TableName=aws.claims_table, Key={KEY_ATTRIBUTE: {"S": released}}
        )
        rows = {row["object"]: row for row in outcomes[-1]["rows"]}
        assert rows[split]["action"] == recovery.SPLIT
        assert rows["(total)"]["claims_released"] == 1
        yield ReprocessRun(aws, recorder, table_arn, outcomes)


def _actions(calls: list[ApiCall]) -> set[tuple[str, str]]:
    return {(c.operation, c.action) for c in calls}


def test_every_call_reprocess_makes_is_allowed_by_the_operator_policy(reprocessed: ReprocessRun) -> None:
    recorder = reprocessed.recorder
    assert recorder.unmapped == []
    # The CLI asks STS for the account to name the bucket: no permission needed.
    assert set(recorder.needing_none) == {("sts", "GetCallerIdentity")}
    assert _actions(recorder.calls) == {
        ("ListObjectsV2", "s3:ListBucket"),
        ("GetObject", "s3:GetObject"),
        ("PutRecords", "kinesis:PutRecords"),
        ("PutObject", "s3:PutObject"),
        ("CopyObject", "s3:GetObject"),
        ("CopyObject", "s3:PutObject"),
        ("DeleteObject", "s3:DeleteObject"),
        ("GetItem", "dynamodb:GetItem"),  # --dry-run: is the claim still held?
        ("DeleteItem", "dynamodb:DeleteItem"),
    }
    bucket = reprocessed.bucket_arn
    copies = [c for c in recorder.calls if c.operation == "CopyObject"]
    assert {c.resources[0].split("/", 1)[1].split("/", 1)[0] for c in copies} == {"errors", "errors-archive"}
    listed = {dict(c.context).get("s3:prefix", "") for c in recorder.calls if c.action == "s3:ListBucket"}
    assert (
        listed
        and all(p.startswith(("errors/", "raw/", "events/", "compacted/")) for p in listed)
        and any(p.startswith("raw/") for p in listed)
    )
    # The table is read only where a failed record's event would sit: its partition's folders.
    table = {p for p in listed if p.startswith(("events/", "compacted/"))}
    folder = re.compile(r"(events|compacted)/event_type=[^/]+/event_date=[^/]+/event_hour=[^/]+/")
    assert table and all(folder.fullmatch(p) for p in table)
    claims = {c.resources for c in recorder.calls if c.service == "dynamodb"}
    assert claims == {(reprocessed.table_arn,)}
    assert all(
        r.startswith(f"{bucket}/")
        for c in recorder.calls
        if c.service == "s3" and c.action != "s3:ListBucket"
        for r in c.resources
    )

    report = recorder.audit(
        reprocessed.operator_policy(), name="operator policy", key_arn=reprocessed.key_arn
    )
    assert report.ok, report.lines()
    # The key calls S3, Kinesis and DynamoDB make for the operator were checked too.
    key_uses = {(c.action, c.via_service) for c in recorder.key_calls(reprocessed.key_arn)}
    assert key_uses == {
        ("kms:Decrypt", "s3.eu-west-1.amazonaws.com"),
        ("kms:GenerateDataKey", "s3.eu-west-1.amazonaws.com"),
        ("kms:GenerateDataKey", "kinesis.eu-west-1.amazonaws.com"),
        ("kms:Decrypt", "dynamodb.eu-west-1.amazonaws.com"),
    }


def test_the_producer_policy_refuses_what_reprocess_does_besides_putting_records(
    reprocessed: ReprocessRun,
) -> None:
    recorder = reprocessed.recorder
    report = recorder.audit(
        reprocessed.producer_policy(), name="producer policy", key_arn=reprocessed.key_arn
    )
    refused = {r.call.action for r in report.refused}
    assert refused == {
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "dynamodb:GetItem",
        "dynamodb:DeleteItem",
        "kms:Decrypt",  # through S3 and DynamoDB
        "kms:GenerateDataKey",  # through S3 only: through Kinesis the producer may
    }
    assert {r.call.via_service for r in report.refused if r.call.action == "kms:GenerateDataKey"} == {
        "s3.eu-west-1.amazonaws.com"
    }
    assert not any(r.call.service == "kinesis" for r in report.refused)


def test_the_operator_policy_refuses_claims_without_dedupe_and_lists_outside_its_prefixes(
    reprocessed: ReprocessRun,
) -> None:
    recorder = reprocessed.recorder
    without_claims = recorder.audit(reprocessed.operator_policy(claims=False), name="operator policy")
    assert {r.call.action for r in without_claims.refused} == {"dynamodb:GetItem", "dynamodb:DeleteItem"}

    outside = CallRecorder(reprocessed.aws.account)
    with outside.recording(reprocessed.aws.s3):
        reprocessed.aws.s3.list_objects_v2(Bucket=reprocessed.aws.bucket, Prefix=schema.DATA_ROOT)
        reprocessed.aws.s3.list_objects_v2(Bucket=reprocessed.aws.bucket)
        reprocessed.aws.s3.list_objects_v2(Bucket=reprocessed.aws.bucket, Prefix=schema.ERROR_ARCHIVE_ROOT)
    report = audit(reprocessed.operator_policy(), outside.calls, name="operator policy")
    assert [r.call.detail for r in report.refused] == [
        "prefix='events/'",
        "prefix=''",
        "prefix='errors-archive/'",
    ]
