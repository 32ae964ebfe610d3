"""The stacks sized for 1/1000x, 1x and 1000x (``Pulumi.small|prod|huge.yaml``) under Pulumi mocks: each
deploys the stream and the dedupe mode ``eventlake sizing`` recommends for its declared load, and 1000x's
design change (``dedupe: compaction``, no claims table: ~278,000 claims/s would be 7x DynamoDB's default table
quota) leaves nothing that needs one.

``small`` and ``prod`` also run every test of the shared ``deployment`` fixture; ``huge`` (dedupe compaction)
runs here, with the checks that hold for any stack plus the ones its configuration changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Deployment

from glue.transform_contract import ENV_TABLE
from infra.capacity import Load, plan
from infra.rules import check_firehose, check_lambda
from infra.settings import stack_config

STREAM = "aws:kinesis/stream:Stream"
CLAIMS = "aws:dynamodb/table:Table"
CLAIMS_COMPONENT = "eventlake:index:ClaimsTable"
FUNCTION = "aws:lambda/function:Function"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
SIZED = ("small", "prod", "huge")


def declared_plan(d: Deployment) -> Any:
    return plan(Load.declared(d.settings, stack_config(d.stack)["aws:region"]), d.settings)


@pytest.mark.parametrize("stack", SIZED)
def test_each_sized_stack_deploys_the_stream_sizing_recommends(
    stack: str, request: pytest.FixtureRequest
) -> None:
    d: Deployment = request.getfixturevalue(stack)
    recommended = declared_plan(d).recommended
    stream = d.one(STREAM).inputs
    assert stream["streamModeDetails"] == {"streamMode": recommended["streamMode"]}
    assert stream.get("shardCount") == recommended.get("streamShardCount")
    assert recommended["dedupe"] == d.settings.dedupe
    assert bool(d.all(CLAIMS)) is (recommended["dedupe"] == "claims")


def test_huge_runs_hundreds_of_provisioned_shards(huge: Deployment) -> None:
    shards = huge.one(STREAM).inputs["shardCount"]
    # 1B events/hour in aggregates of 95 (issue 30) is 74.6 MB/s: at least 72 shards by 1 MiB/s alone.
    assert shards >= 72 and shards == huge.settings.stream_shard_count


def test_huge_has_no_claims_table_and_nothing_that_expects_one(huge: Deployment, prod: Deployment) -> None:
    assert huge.all(CLAIMS) == [] and len(prod.all(CLAIMS)) == 1
    transform = huge.one(FUNCTION, "processor").inputs
    assert ENV_TABLE not in (transform.get("environment") or {}).get("variables", {})
    assert check_lambda(transform) == []
    for typ in POLICY_TYPES:
        for resource in huge.all(typ):
            assert "dynamodb" not in resource.inputs["policy"], resource.name
    watched = {json.dumps(r.inputs) for r in huge.all(ALARM)}
    assert not any("AWS/DynamoDB" in w for w in watched)
    assert any("AWS/DynamoDB" in json.dumps(r.inputs) for r in prod.all(ALARM))


def test_huge_differs_from_prod_only_by_the_claims_table(huge: Deployment, prod: Deployment) -> None:
    """Same resource types (the table and nothing else missing), the same Firehose rules passed, and the same
    outputs: the 1000x design change is configuration, not a different program."""
    assert {r.typ for r in huge.resources} == {r.typ for r in prod.resources} - {CLAIMS, CLAIMS_COMPONENT}
    assert check_firehose(huge.one(FIREHOSE).inputs) == []
    assert set(huge.outputs) == set(prod.outputs)
    transform = huge.one(FUNCTION, "processor").inputs
    s = huge.settings
    assert (transform["memorySize"], transform["timeout"]) == (s.lambda_memory_mb, s.lambda_timeout_seconds)
