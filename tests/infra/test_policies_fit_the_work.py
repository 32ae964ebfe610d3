"""The policies fit the work: what the producer and a reader's query path call on the embedded AWS (recorded
through botocore's event hooks) is what the producer and the reader policy allow, and nothing the policies
leave out goes unnoticed (the embedded AWS does not enforce IAM; a real deploy would).

The policy ARNs are spelled out here as AWS documents them, not with the recorder's helpers, so a wrong ARN
on either side fails."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eventlake.checks import lake_contents
from eventlake.checks.access import (
    CallRecorder,
    PolicyNotEvaluable,
    UnmappedCall,
    allowed,
    audit,
)
from eventlake.simulator.demo import register_partitions
from eventlake.simulator.embedded.aws import EmbeddedAws, embedded_aws, stack_region
from eventlake.simulator.firehose.model import FirehoseModel, lambda_invoke
from eventlake.simulator.firehose.s3_destination import DATA
from eventlake.traffic import sample_events
from eventlake.traffic.producer import send
from glue import schema
from infra import athena_spec, iam
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.claims import NoClaims

STACK = "dev"
EVENTS = 300


@dataclass(frozen=True)
class WorkedLake:
    """The embedded AWS after the producer's run (recorded) and one delivery, partitions registered."""

    aws: EmbeddedAws
    settings: Settings
    producer: CallRecorder
    data_keys: frozenset[str]
    other_keys: frozenset[str]  # errors/ and raw/: what Firehose writes besides the table's data

    @property
    def key_arn(self) -> str:  # a placeholder: the embedded AWS's key is not the deployed one
        a = self.aws.account
        return f"arn:{a.partition}:kms:{a.region}:{a.account_id}:key/00000000-0000-0000-0000-000000000000"

    def producer_policy(self) -> iam.Policy:
        return iam.producer_policy(
            stream_arn=self.aws.stream_arn,
            key_arn=self.key_arn,
            kinesis_host=self.aws.account.service_host("kinesis"),
        )

    def reader_policy(self) -> iam.Policy:
        a = self.aws.account
        glue = f"arn:{a.partition}:glue:{a.region}:{a.account_id}"
        database = self.aws.spec.database_name
        view = athena_spec.ViewSpec.from_settings(self.settings).name
        workgroup = athena_spec.WorkgroupSpec.from_settings(self.settings).name
        return iam.analyst_policy(
            workgroup_arn=f"arn:{a.partition}:athena:{a.region}:{a.account_id}:workgroup/{workgroup}",
            glue_catalog_arn=f"{glue}:catalog",
            glue_database_arn=f"{glue}:database/{database}",
            glue_table_arns=[
                f"{glue}:table/{database}/{schema.TABLE_NAME}",
                f"{glue}:table/{database}/{view}",
            ],
            bucket_arn=f"arn:{a.partition}:s3:::{self.aws.bucket}",
            data_root=schema.DATA_ROOT,
            results_root=athena_spec.RESULTS_ROOT,
            key_arn=self.key_arn,
            s3_host=a.service_host("s3"),
        )


@pytest.fixture(scope="module")
def lake() -> Iterator[WorkedLake]:
    settings = Settings.from_stack_file(STACK)
    spec = DeliverySpec.from_settings(settings)
    with embedded_aws(settings, spec, region=stack_region(STACK)) as aws:
        model = FirehoseModel(
            aws, spec, invoke=lambda_invoke(NoClaims(), lambda _: None), rng=random.Random("firehose")
        )
        outgoing = sample_events.generate(
            EVENTS,
            rng=random.Random("events"),
            duplicate_share=0.05,
            malformed_share=0.05,
            start=sample_events.window_start(datetime.now(UTC), 2),
            hours=2,
        )
        producer = CallRecorder(aws.account)
        with producer.recording(aws.kinesis):
            send(aws.kinesis, aws.stream_name, outgoing, rng=random.Random("producer"))
        run = model.run()
        register_partitions(aws, run.written)
        data = frozenset(o.key for o in run.written if o.kind == DATA)
        yield WorkedLake(aws, settings, producer, data, frozenset(o.key for o in run.written) - data)


def read_as_athena(aws: EmbeddedAws) -> list[bytes]:
    """A reader's query path: the table and its partitions from Glue, then each partition's location listed
    and its objects read."""
    database, table = aws.spec.database_name, aws.spec.table_name
    aws.glue.get_table(DatabaseName=database, Name=table)
    pages = aws.glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    locations = [p["StorageDescriptor"]["Location"] for page in pages for p in page["Partitions"]]
    bodies = []
    for location in locations:
        bucket, prefix = location.removeprefix("s3://").split("/", 1)
        for page in aws.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                bodies.append(aws.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    return bodies


@pytest.fixture(scope="module")
def reader(lake: WorkedLake) -> CallRecorder:
    recorder = CallRecorder(lake.aws.account)
    with recorder.recording(lake.aws.glue, lake.aws.s3):
        assert len(read_as_athena(lake.aws)) == len(lake.data_keys)
    return recorder


# --- (a) the producer --------------------------------------------------------------------------------------


def test_every_call_the_producer_makes_is_allowed_by_the_producer_policy(lake: WorkedLake) -> None:
    calls = lake.producer.calls
    assert calls and not lake.producer.unmapped
    # The stream ARN moto reports, not one the recorder built alone.
    assert {(c.action, c.resources) for c in calls} == {("kinesis:PutRecords", (lake.aws.stream_arn,))}
    report = lake.producer.audit(lake.producer_policy(), name="producer policy", key_arn=lake.key_arn)
    assert report.ok, report.lines()
    # The data keys Kinesis asks for on the producer's behalf were checked too (StreamKey, via Kinesis).
    assert report.checked == 2


# --- (b) the reader ----------------------------------------------------------------------------------------


def test_every_call_of_a_readers_query_path_is_allowed_by_the_reader_policy(
    lake: WorkedLake, reader: CallRecorder
) -> None:
    assert not reader.unmapped
    actions = {c.action for c in reader.calls}
    assert actions == {"glue:GetTable", "glue:GetPartitions", "s3:ListBucket", "s3:GetObject"}
    bucket_arn = f"arn:aws:s3:::{lake.aws.bucket}"
    read = {c.resources[0].removeprefix(f"{bucket_arn}/") for c in reader.calls if c.action == "s3:GetObject"}
    assert read == lake.data_keys and all(k.startswith(schema.DATA_ROOT) for k in read)
    glue = next(c for c in reader.calls if c.action == "glue:GetPartitions")
    assert len(glue.resources) == 3  # catalog, database and table, each checked
    report = reader.audit(lake.reader_policy(), name="reader policy", key_arn=lake.key_arn)
    assert report.ok, report.lines()


# --- (c) what the policies leave out shows --------------------------------------------------------------


def test_a_producer_call_outside_the_policy_is_refused_and_an_unmapped_one_reported(lake: WorkedLake) -> None:
    recorder = CallRecorder(lake.aws.account)
    with recorder.recording(lake.aws.kinesis):
        lake.aws.kinesis.describe_stream(StreamName=lake.aws.stream_name)
        lake.aws.kinesis.list_streams()
    report = recorder.audit(lake.producer_policy(), name="producer policy")
    assert not report.ok
    (refusal,) = report.refused
    assert (refusal.call.action, refusal.refused) == ("kinesis:DescribeStream", (lake.aws.stream_arn,))
    assert report.unmapped == (
        UnmappedCall("kinesis", "ListStreams", "no IAM action mapped for this operation"),
    )
    assert report.lines() == [
        f"producer policy: refused: kinesis:DescribeStream on {lake.aws.stream_arn} [kinesis DescribeStream]",
        "producer policy: unmapped: kinesis ListStreams: no IAM action mapped for this operation",
    ]


def test_the_whole_bucket_mirror_reads_errors_the_reader_policy_does_not_grant(
    lake: WorkedLake, tmp_path: Path
) -> None:
    """``lake_contents.mirror`` (the local runner's copy of the bucket) is more than a reader does: listing
    the whole bucket (no ``s3:prefix`` the reader may list) and every object outside the data prefix are
    refused, each reported with its ARN."""
    recorder = CallRecorder(lake.aws.account)
    with recorder.recording(lake.aws.s3):
        lake_contents.mirror(lake.aws.s3, lake.aws.bucket, tmp_path / "mirror")
    report = recorder.audit(lake.reader_policy(), name="reader policy")
    bucket_arn = f"arn:aws:s3:::{lake.aws.bucket}"
    assert any(k.startswith(schema.ERROR_ROOT) for k in lake.other_keys)
    assert {r.refused for r in report.refused} == {
        (bucket_arn,),
        *((f"{bucket_arn}/{k}",) for k in lake.other_keys),
    }
    assert {r.call.action for r in report.refused} == {"s3:GetObject", "s3:ListBucket"}
    error_key = min(k for k in lake.other_keys if k.startswith(schema.ERROR_ROOT))
    assert (
        f"reader policy: refused: s3:GetObject on {bucket_arn}/{error_key} [s3 GetObject]" in report.lines()
    )


def test_a_grant_taken_out_of_the_reader_policy_shows_on_the_recorded_calls(
    lake: WorkedLake, reader: CallRecorder
) -> None:
    policy = lake.reader_policy()
    for statement in policy["Statement"]:
        if statement["Sid"] == "Catalog":
            statement["Action"].remove("glue:GetPartitions")
        if statement["Sid"] == "LakeKey":
            statement["Condition"]["StringEquals"]["kms:ViaService"] = ["kinesis.eu-west-1.amazonaws.com"]
    report = reader.audit(policy, name="reader policy", key_arn=lake.key_arn)
    assert {r.call.action for r in report.refused} == {"glue:GetPartitions", "kms:Decrypt"}
    partitions = next(r for r in report.refused if r.call.action == "glue:GetPartitions")
    assert partitions.refused == partitions.call.resources  # catalog, database and table all refused


# --- the evaluator ----------------------------------------------------------------------------------------

STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/s"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": iam.VERSION, "Statement": list(statements)}


def statement(effect: str, actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resources, **extra}


def test_actions_match_case_insensitively_with_wildcards_and_resources_by_segment() -> None:
    p = policy(statement("Allow", ["Kinesis:Put*", "s3:GetObjec?"], [STREAM, "arn:aws:s3:::b/events/*"]))
    assert allowed(p, "kinesis:PutRecords", STREAM)
    assert allowed(p, "KINESIS:putrecord", STREAM)
    assert not allowed(p, "kinesis:DescribeStream", STREAM)
    assert allowed(p, "s3:GetObject", "arn:aws:s3:::b/events/x/y.parquet")
    assert not allowed(p, "s3:GetObject", "arn:aws:s3:::b/errors/x")
    assert not allowed(p, "kinesis:PutRecords", STREAM.replace("stream/s", "stream/S"))  # ARNs: case counts
    assert not allowed(p, "kinesis:PutRecords", STREAM.replace("eu-west-1", "us-east-1"))
    region_wildcard = policy(statement("Allow", ["kinesis:PutRecords"], ["arn:aws:kinesis:*:123456789012:*"]))
    assert allowed(region_wildcard, "kinesis:PutRecords", STREAM)
    assert not allowed(policy(), "kinesis:PutRecords", STREAM)  # nothing matching: implicit deny


def test_a_deny_wins_over_any_allow() -> None:
    p = policy(
        statement("Allow", ["s3:*"], ["*"]),
        statement("Deny", ["s3:GetObject"], ["arn:aws:s3:::b/errors/*"]),
    )
    assert allowed(p, "s3:GetObject", "arn:aws:s3:::b/events/k")
    assert not allowed(p, "s3:GetObject", "arn:aws:s3:::b/errors/k")


def test_a_via_service_statement_applies_only_to_calls_through_that_service() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/k"
    host = "kinesis.eu-west-1.amazonaws.com"
    p = iam.producer_policy(stream_arn=STREAM, key_arn=key, kinesis_host=host)
    assert allowed(p, "kms:GenerateDataKey", key, via_service=host)
    assert not allowed(p, "kms:GenerateDataKey", key)  # the client itself: no
    assert not allowed(p, "kms:GenerateDataKey", key, via_service="s3.eu-west-1.amazonaws.com")
    assert not allowed(p, "kms:Decrypt", key, via_service=host)


def test_an_s3_prefix_condition_applies_only_to_lists_of_those_prefixes() -> None:
    p = policy(
        statement(
            "Allow", ["s3:ListBucket"], ["arn:aws:s3:::b"], Condition={"StringLike": {"s3:prefix": "x/*"}}
        )
    )
    assert allowed(p, "s3:ListBucket", "arn:aws:s3:::b", context={"s3:prefix": "x/"})
    assert allowed(p, "s3:ListBucket", "arn:aws:s3:::b", context={"s3:prefix": "x/2026/"})
    assert not allowed(p, "s3:ListBucket", "arn:aws:s3:::b", context={"s3:prefix": "y/"})
    assert not allowed(p, "s3:ListBucket", "arn:aws:s3:::b")  # no prefix: the whole bucket, refused
    exact = policy(
        statement(
            "Allow", ["s3:ListBucket"], ["arn:aws:s3:::b"], Condition={"StringEquals": {"s3:prefix": "x*"}}
        )
    )
    assert not allowed(exact, "s3:ListBucket", "arn:aws:s3:::b", context={"s3:prefix": "x/"})


def test_what_the_evaluator_does_not_model_is_refused_loudly() -> None:
    other_condition = statement(
        "Allow", ["s3:ListBucket"], ["*"], Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    )
    with pytest.raises(PolicyNotEvaluable, match="aws:SourceIp"):
        allowed(policy(other_condition), "s3:ListBucket", "arn:aws:s3:::b")
    other_key = statement("Allow", ["s3:ListBucket"], ["*"], Condition={"StringLike": {"s3:delimiter": "/"}})
    with pytest.raises(PolicyNotEvaluable, match="s3:delimiter"):
        allowed(policy(other_key), "s3:ListBucket", "arn:aws:s3:::b")
    with pytest.raises(PolicyNotEvaluable, match="NotAction"):
        allowed(policy({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": ["*"]}), "s3:ListBucket", "*")


def test_a_call_whose_resource_is_not_in_the_request_is_a_finding(lake: WorkedLake) -> None:
    kinesis = lake.aws.kinesis
    shard = kinesis.list_shards(StreamName=lake.aws.stream_name)["Shards"][0]["ShardId"]
    recorder = CallRecorder(lake.aws.account)
    with recorder.recording(kinesis):
        iterator = kinesis.get_shard_iterator(
            StreamName=lake.aws.stream_name, ShardId=shard, ShardIteratorType="LATEST"
        )["ShardIterator"]
        kinesis.get_records(ShardIterator=iterator, Limit=1)  # names no stream: AWS knows it, we do not
    assert [c.action for c in recorder.calls] == ["kinesis:GetShardIterator"]
    (finding,) = recorder.unmapped
    assert finding.operation == "GetRecords" and "StreamARN" in finding.reason
    call = recorder.calls[0]
    assert audit(lake.producer_policy(), [call, call], recorder.unmapped).checked == 1
