"""Who may touch the lake, as the real ``__main__.py`` registers it for dev and prod: every identity policy
passes ``parliament`` (the trust policies too, linted as trust policies), service roles trust only their own
resource, the producer, reader and operator policies are exported with the key's ARN, the key's policy admits
exactly the stack's roles, log groups, alarms, producers, readers and operators, the log groups are encrypted
with the key, and prod protects the stream and the claims table like the bucket."""

from __future__ import annotations

import json
from typing import Any

import parliament
import pytest
from conftest import ACCOUNT_ID, PARTITION, REGION, Deployment

from eventlake.simulator.embedded.aws import DNS_SUFFIX
from infra import iam
from infra.account import Account
from infra.alarm_spec import MonitoringSpec
from infra.keys import LakeKeyArgs
from infra.settings import Settings

KEY = "aws:kms/key:Key"
STREAM = "aws:kinesis/stream:Stream"
BUCKET = "aws:s3/bucket:Bucket"
FUNCTION = "aws:lambda/function:Function"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CLAIMS = "aws:dynamodb/table:Table"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

ACCOUNT = Account(ACCOUNT_ID, REGION, PARTITION, DNS_SUFFIX)  # the mocks' account


def arn(d: Deployment, typ: str, name_part: str = "") -> str:
    return d.one(typ, name_part).state["arn"]


def identity_policies(d: Deployment) -> dict[str, str]:
    """Every identity policy the program creates: the roles' inline policies and the managed policies."""
    documents = {r.name: r.inputs["policy"] for r in d.all(ROLE_POLICY)}
    documents |= {r.name: r.inputs["policy"] for r in d.all(POLICY)}
    return documents


def findings(document: str, *, community: bool = True) -> list[tuple[str, str]]:
    policy = parliament.analyze_policy_string(document, include_community_auditors=community)
    return [(f.issue, str(f.detail)) for f in policy.findings]


def key_statements(d: Deployment) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(d.one(KEY).inputs["policy"])["Statement"]}


# --- every policy is linted -----------------------------------------------------------------------


def test_every_identity_policy_passes_parliament(deployment: Deployment) -> None:
    documents = identity_policies(deployment)
    # Three roles' policies (four with the compactor), the producer, reader and operator policies.
    assert len(documents) == 6 + deployment.settings.compaction_enabled
    assert {name: findings(document) for name, document in documents.items()} == {
        name: [] for name in documents
    }


def test_every_trust_policy_passes_parliament_as_a_trust_policy(deployment: Deployment) -> None:
    """Parliament lints identity and resource policies, whose statements name a ``Resource``; a trust policy
    has none because its resource is the role it is attached to. So each statement is linted with that role
    as its resource: parliament then checks the principal, that ``sts:AssumeRole`` applies to a role, and that
    each condition key exists for it.

    With parliament's own auditors only: the community ``CREDENTIALS_EXPOSURE`` auditor flags any grant of
    ``sts:AssumeRole``, which in an identity policy lets a user obtain credentials, and in a trust policy is
    what the document is for (letting the service assume the role). That it is the only extra finding is
    checked too."""
    roles = deployment.all(ROLE)
    assert len(roles) == 3 + deployment.settings.compaction_enabled
    for role in roles:
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert all("Resource" not in s for s in trust["Statement"])
        as_resource_policy = json.dumps(
            {**trust, "Statement": [{**s, "Resource": role.state["arn"]} for s in trust["Statement"]]}
        )
        assert findings(as_resource_policy, community=False) == [], role.name
        assert findings(as_resource_policy) == [("CREDENTIALS_EXPOSURE", "")], role.name


def test_no_identity_policy_grants_a_star_action_or_resource(deployment: Deployment) -> None:
    """No exception is needed: every action the stack's roles and users call takes a resource ARN."""
    for name, document in identity_policies(deployment).items():
        for statement in json.loads(document)["Statement"]:
            assert statement["Effect"] == "Allow", name
            assert not any("*" in action for action in statement["Action"]), (name, statement)
            assert "*" not in statement["Resource"], (name, statement)
            assert all(r.startswith("arn:aws:") for r in statement["Resource"]), (name, statement)


def test_every_service_role_trusts_its_service_for_its_own_resource_only(deployment: Deployment) -> None:
    d = deployment
    expected = {
        "delivery": ("firehose.amazonaws.com", [arn(d, FIREHOSE)]),
        "processor": ("lambda.amazonaws.com", [arn(d, FUNCTION, "processor")]),
        "registrar": ("lambda.amazonaws.com", [arn(d, FUNCTION, "registrar")]),
    }
    for part, (service, resources) in expected.items():
        (statement,) = json.loads(d.one(ROLE, part).inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": service}, part
        # ...IfExists: see iam.assume_role_policy (AWS does not document that these services send the keys).
        assert statement["Condition"]["StringEqualsIfExists"] == {"aws:SourceAccount": ACCOUNT_ID}, part
        source_arns = statement["Condition"]["ArnLikeIfExists"]["aws:SourceArn"]
        # Lambda: the function and its qualified ARNs; Firehose: the delivery stream.
        allowed = resources + ([f"{resources[0]}:*"] if service.startswith("lambda") else [])
        assert source_arns == allowed, part
        # Firehose sends the account ID as external ID: that one is required.
        expected_equals = {"sts:ExternalId": ACCOUNT_ID} if service.startswith("firehose") else None
        assert statement["Condition"].get("StringEquals") == expected_equals, part


# --- the policies users attach, and the key's ARN ------------------------------------------------


def test_the_producer_policy_puts_records_to_the_stream_with_data_keys_from_the_lake_key(
    deployment: Deployment,
) -> None:
    d = deployment
    policy = d.one(POLICY, "producer")
    assert policy.inputs["name"] == f"eventlake-{d.stack}-producers"
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PutRecords",
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                "Resource": [arn(d, STREAM)],
            },
            {
                "Sid": "StreamKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey"],
                "Resource": [arn(d, KEY)],
                "Condition": {"StringEquals": {"kms:ViaService": ["kinesis.eu-west-1.amazonaws.com"]}},
            },
        ],
    }
    assert d.outputs["producer_policy_arn"] == policy.state["arn"]


def test_the_reader_policy_is_the_analyst_policy_and_decrypts_with_the_lake_key(
    deployment: Deployment,
) -> None:
    d = deployment
    reader = d.one(POLICY, "analyst")
    assert d.outputs["reader_policy_arn"] == reader.state["arn"] == d.outputs["athena_analyst_policy_arn"]
    grants = {s["Sid"]: s for s in json.loads(reader.inputs["policy"])["Statement"]}
    assert "kms:Decrypt" in grants["LakeKey"]["Action"]
    assert grants["LakeKey"]["Resource"] == [arn(d, KEY)]
    assert d.outputs["lake_key_arn"] == arn(d, KEY)


def test_the_operator_policy_grants_exactly_what_reprocess_calls(deployment: Deployment) -> None:
    d = deployment
    policy = d.one(POLICY, "operator")
    assert policy.inputs["name"] == f"eventlake-{d.stack}-operators"
    assert d.outputs["operator_policy_arn"] == policy.state["arn"]
    bucket, key = arn(d, BUCKET, "-lake"), arn(d, KEY)
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PutRecords",
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                "Resource": [arn(d, STREAM)],
            },
            {
                "Sid": "ListErrorsAndBackup",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket],
                "Condition": {"StringLike": {"s3:prefix": ["errors/*", "raw/*"]}},
            },
            {
                "Sid": "ReadErrorsAndBackup",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{bucket}/errors/*", f"{bucket}/raw/*"],
            },
            {
                "Sid": "RewriteErrors",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"{bucket}/errors/*"],
            },
            {
                "Sid": "ArchiveErrors",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"{bucket}/errors-archive/*"],
            },
            {  # the stream read back at one instant, to tell byte-identical records apart
                "Sid": "ReadStream",
                "Effect": "Allow",
                "Action": ["kinesis:ListShards", "kinesis:GetShardIterator", "kinesis:GetRecords"],
                "Resource": [arn(d, STREAM)],
            },
            {  # the table's partitions, read so that records already stored are not sent again
                "Sid": "ListTable",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket],
                "Condition": {"StringLike": {"s3:prefix": ["events/event_type=*", "compacted/event_type=*"]}},
            },
            {
                "Sid": "ReadTable",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{bucket}/events/event_type=*", f"{bucket}/compacted/event_type=*"],
            },
            {
                "Sid": "ReleaseClaims",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:DeleteItem"],
                "Resource": [arn(d, CLAIMS)],
            },
            {
                "Sid": "StreamKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],  # reads the stream back, too
                "Resource": [key],
                "Condition": {"StringEquals": {"kms:ViaService": ["kinesis.eu-west-1.amazonaws.com"]}},
            },
            {
                "Sid": "LakeKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [key],
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": ["s3.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com"]
                    }
                },
            },
        ],
    }


def test_without_dedupe_the_operator_policy_names_no_claims_table() -> None:
    hosts = {f"{s}_host": ACCOUNT.service_host(s) for s in ("s3", "kinesis", "dynamodb")}
    common = dict(
        stream_arn="arn:aws:kinesis:eu-west-1:123456789012:stream/s",
        bucket_arn="arn:aws:s3:::b",
        error_root="errors/",
        backup_root="raw/",
        archive_root="errors-archive/",
        key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
        **hosts,
    )
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/t"
    with_table = {s["Sid"]: s for s in iam.operator_policy(claims_table_arn=table, **common)["Statement"]}
    without = {s["Sid"]: s for s in iam.operator_policy(claims_table_arn=None, **common)["Statement"]}
    assert set(with_table) - set(without) == {"ReleaseClaims"}
    assert without["LakeKey"]["Condition"]["StringEquals"]["kms:ViaService"] == [hosts["s3_host"]]
    assert findings(json.dumps(iam.operator_policy(claims_table_arn=None, **common))) == []


def test_the_key_policy_admits_every_key_use_the_operator_policy_grants(deployment: Deployment) -> None:
    """The key policy names the account, not the managed policies: each (action, service) the operator
    policy grants on the key must be one some statement for the account allows, else the grant is dead."""
    d = deployment
    admitted = {
        (action, host)
        for statement in key_statements(d).values()
        if statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
        for action in statement["Action"]
        for host in statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService", [])
    }
    operator = json.loads(d.one(POLICY, "operator").inputs["policy"])["Statement"]
    granted = {
        (action, host)
        for statement in operator
        if statement["Resource"] == [arn(d, KEY)]
        for action in statement["Action"]
        for host in statement["Condition"]["StringEquals"]["kms:ViaService"]
    }
    assert len(granted) == 6 and granted <= admitted  # Decrypt through Kinesis: it reads the stream back


# --- the key's policy -----------------------------------------------------------------------------


def test_the_key_policy_names_what_exists_and_nothing_else(deployment: Deployment) -> None:
    d = deployment
    statements = key_statements(d)
    assert statements["FirehoseDelivery"]["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": arn(d, ROLE, "delivery")
    }
    assert statements["RegistrarFailedEvents"]["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": arn(d, ROLE, "registrar")
    }
    logs = statements["CloudWatchLogs"]["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sorted(logs) == sorted(r.state["arn"] for r in d.all(LOG_GROUP))
    alarms = statements["CloudWatchAlarms"]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sorted(alarms) == sorted(r.state["arn"] for r in d.all(ALARM))
    context = statements["Producers"]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:kinesis:arn"]
    assert context == arn(d, STREAM)


def test_the_key_policy_grants_no_wildcard_action_and_only_the_account_or_services(
    deployment: Deployment,
) -> None:
    for sid, statement in key_statements(deployment).items():
        assert statement["Effect"] == "Allow", sid
        assert not any("*" in action for action in statement["Action"]), sid
        # In a key policy the resource "*" is the key itself: AWS requires it
        # (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
        assert statement["Resource"] == "*", sid
        principal = statement["Principal"]
        assert principal == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"} or set(principal) == {"Service"}, sid
        # The account as principal only lets IAM policies grant: every such statement but administration is
        # bound to a role, or to this account's callers through one service.
        if "AWS" in principal and sid != "KeyAdministration":
            condition = statement["Condition"]
            assert "kms:ViaService" in condition["StringEquals"], sid
            assert "aws:PrincipalArn" in condition.get("ArnEquals", {}) or (
                condition["StringEquals"]["kms:CallerAccount"] == ACCOUNT_ID
            ), sid
    administration = key_statements(deployment)["KeyAdministration"]["Action"]
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant"} & set(administration)


def test_without_dedupe_the_key_admits_no_table_and_no_claims_alarm() -> None:
    with_table = LakeKeyArgs.from_settings(Settings(stack="dev")).policy(ACCOUNT)
    without = LakeKeyArgs.from_settings(Settings(stack="dev", dedupe="off")).policy(ACCOUNT)
    sids = [s["Sid"] for s in without["Statement"]]
    assert {"ClaimsTable", "ClaimsTableGrant"} <= {s["Sid"] for s in with_table["Statement"]}
    assert "ClaimsTable" not in sids and "ClaimsTableGrant" not in sids
    alarms = MonitoringSpec.from_settings(Settings(stack="dev", dedupe="off")).alarm_names
    assert not any("claims" in a or "dedupe" in a for a in alarms)


# --- encryption and protection --------------------------------------------------------------------


def test_every_log_group_is_encrypted_with_the_lake_key(deployment: Deployment) -> None:
    groups = deployment.all(LOG_GROUP)
    assert len(groups) == 3 + deployment.settings.compaction_enabled
    assert {g.inputs["kmsKeyId"] for g in groups} == {arn(deployment, KEY)}
    # The key exists (with its policy admitting CloudWatch Logs) before any group asks to use it.
    key_urn = deployment.one(KEY).urn
    assert all(key_urn in g.dependencies for g in groups)


def test_prod_protects_and_retains_the_stream_and_the_claims_table(prod: Deployment) -> None:
    for typ in (STREAM, CLAIMS):
        resource = prod.one(typ)
        assert (resource.protect, resource.retain_on_delete) == (True, True), typ


def test_dev_stream_is_disposable(dev: Deployment) -> None:
    stream = dev.one(STREAM)
    assert (stream.protect, stream.retain_on_delete) == (False, False)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_key_and_the_user_policies_are_outputs(stack: str, request: pytest.FixtureRequest) -> None:
    d: Deployment = request.getfixturevalue(stack)
    users = {"producer_policy_arn", "reader_policy_arn", "operator_policy_arn"}
    assert users | {"lake_key_arn"} <= set(d.outputs)
    assert d.outputs["lake_key_arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/")
