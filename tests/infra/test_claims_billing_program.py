"""``claimsBillingMode`` and ``dedupe`` under Pulumi mocks: the real program with a stack file's config plus
overrides. ``claims`` + ``PROVISIONED`` deploys a provisioned claims table (capacity changes by auto scaling
ignored) with an Application Auto Scaling target and target-tracking policy for reads and for writes;
``PAY_PER_REQUEST`` deploys none; ``compaction`` deploys no claims table and grants no DynamoDB action."""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any

import pulumi
import pytest
from conftest import PROJECT, Deployment, RecordingMocks, RecordingMonitor, cli_config
from drift_compare import canonical
from pulumi.runtime import settings as pulumi_settings

from glue.transform_contract import ENV_DEDUPE_MODE, ENV_TABLE
from infra.claims_spec import ClaimsCapacity, ClaimsTableSpec
from infra.settings import PROJECT_ROOT, Settings, stack_config

TABLE = "aws:dynamodb/table:Table"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
FUNCTION = "aws:lambda/function:Function"
POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")


class OptionsMonitor(RecordingMonitor):
    """Also keeps each registration's ``ignoreChanges`` (``conftest.Registered`` does not)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.ignore_changes: dict[tuple[str, str], list[str]] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.ignore_changes[(request.type, request.name)] = list(request.ignoreChanges)
        return super().RegisterResource(request)


def _deploy(stack: str, **overrides: str) -> tuple[Deployment, OptionsMonitor]:
    """``conftest.deploy`` with ``eventlake:<key>`` overrides on top of the stack file's config."""
    extra = {f"eventlake:{key}": value for key, value in overrides.items()}
    mocks = RecordingMocks()
    monitor = OptionsMonitor(mocks)
    outputs: dict[str, Any] = {}
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config({**cli_config(stack), **extra})

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__main__")
        exported = getattr(pulumi.runtime.get_root_resource(), "outputs", {})
        if not exported:
            return pulumi.Output.from_input(None)
        return pulumi.Output.all(**exported).apply(outputs.update)

    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    try:
        program()
    finally:
        os.chdir(cwd)
        sys.path.remove(str(PROJECT_ROOT))
    config = {**stack_config(stack), **extra}
    settings = Settings.from_lookup(stack, lambda key: config.get(f"eventlake:{key}"))
    return Deployment(stack, settings, mocks.resources, outputs, mocks.invokes), monitor


@pytest.fixture(scope="module")
def provisioned() -> tuple[Deployment, OptionsMonitor]:
    return _deploy("prod", claimsBillingMode="PROVISIONED")


@pytest.fixture(scope="module")
def compaction() -> Deployment:
    return _deploy("prod", dedupe="compaction")[0]


def test_provisioned_claims_scale_reads_and_writes_by_target_tracking(
    provisioned: tuple[Deployment, OptionsMonitor],
) -> None:
    d, _ = provisioned
    table = d.one(TABLE).inputs
    bounds = ClaimsCapacity.from_settings(d.settings)
    # prod declares 1M events an hour: 278 writes/s at 70 % use is 397 units (4x that at most), reads for
    # the 2 % losers 8.
    assert (bounds.writes.min_units, bounds.writes.max_units) == (397, 1588)
    assert (bounds.reads.min_units, bounds.reads.max_units) == (8, 1588)
    assert table["billingMode"] == "PROVISIONED"
    assert (table["writeCapacity"], table["readCapacity"]) == (397, 8)
    resource_id = f"table/{d.settings.claims_table_name}"
    targets = {t.inputs["scalableDimension"]: t.inputs for t in d.all(TARGET)}
    assert targets == {
        "dynamodb:table:WriteCapacityUnits": {
            "serviceNamespace": "dynamodb",
            "resourceId": resource_id,
            "scalableDimension": "dynamodb:table:WriteCapacityUnits",
            "minCapacity": 397,
            "maxCapacity": 1588,
        },
        "dynamodb:table:ReadCapacityUnits": {
            "serviceNamespace": "dynamodb",
            "resourceId": resource_id,
            "scalableDimension": "dynamodb:table:ReadCapacityUnits",
            "minCapacity": 8,
            "maxCapacity": 1588,
        },
    }
    policies = {p.inputs["scalableDimension"]: p.inputs for p in d.all(POLICY)}
    assert set(policies) == set(targets)
    for dimension, metric in (
        ("dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
        ("dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
    ):
        policy = policies[dimension]
        assert policy["policyType"] == "TargetTrackingScaling"
        assert (policy["serviceNamespace"], policy["resourceId"]) == ("dynamodb", resource_id)
        assert policy["name"] == f"{metric}:{resource_id}"
        assert policy["targetTrackingScalingPolicyConfiguration"] == {
            "targetValue": 70,
            "predefinedMetricSpecification": {"predefinedMetricType": metric},
        }


def test_a_pulumi_up_leaves_the_auto_scaled_capacity_alone(
    provisioned: tuple[Deployment, OptionsMonitor],
) -> None:
    d, monitor = provisioned
    table = d.one(TABLE)
    assert set(monitor.ignore_changes[(TABLE, table.name)]) == {"readCapacity", "writeCapacity"}
    # Still protected and retained like the data (prod's protectData), and the targets follow the table.
    assert table.protect and table.retain_on_delete
    for target in d.all(TARGET):
        assert table.urn in target.dependencies, target.name


def test_on_demand_claims_deploy_no_auto_scaling(prod: Deployment, dev: Deployment) -> None:
    for d in (prod, dev):
        table = d.one(TABLE).inputs
        assert table["billingMode"] == "PAY_PER_REQUEST"
        assert "readCapacity" not in table and "writeCapacity" not in table
        assert d.all(TARGET) == [] and d.all(POLICY) == []


def test_compaction_mode_deploys_no_table_and_grants_no_dynamodb_action(compaction: Deployment) -> None:
    d = compaction
    assert d.settings.dedupe == "compaction" and not d.settings.uses_claims
    assert d.all(TABLE) == [] and d.all(TARGET) == [] and d.all(POLICY) == []
    variables = (d.one(FUNCTION, "processor").inputs.get("environment") or {}).get("variables", {})
    assert ENV_TABLE not in variables and variables[ENV_DEDUPE_MODE] == "compaction"
    for typ in POLICY_TYPES:
        for resource in d.all(typ):
            assert "dynamodb" not in resource.inputs["policy"], resource.name
    key_policy = json.loads(d.one("aws:kms/key:Key").inputs["policy"])
    assert not any("dynamodb" in json.dumps(s) for s in key_policy["Statement"])


def test_provisioned_without_a_declared_load_gets_small_bounds() -> None:
    d, _ = _deploy("dev", claimsBillingMode="PROVISIONED")
    assert d.settings.expected_events_per_hour == 0
    assert sorted((t.inputs["minCapacity"], t.inputs["maxCapacity"]) for t in d.all(TARGET)) == [(5, 100)] * 2
    assert len(d.all(POLICY)) == 2


def test_the_embedded_aws_creates_the_provisioned_table_the_program_deploys(
    provisioned: tuple[Deployment, OptionsMonitor],
) -> None:
    """The local runner's table (``claims_table_request``) starts at the capacity Pulumi gives it."""
    from test_table_drift import embedded_claims, lake_key, pulumi_claims_as_api

    d, _ = provisioned
    deployed = pulumi_claims_as_api(d.one(TABLE).inputs)
    local = embedded_claims(ClaimsTableSpec.from_settings(d.settings), lake_key(d))
    assert canonical(deployed) == canonical(local)
    assert local["create_table"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 8,
        "WriteCapacityUnits": 397,
    }
