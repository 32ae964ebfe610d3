"""The security controls of issue 31, each asserted by name on what ``__main__.py`` registers for prod.

An independent scan found a quiet delete path, alarms that reached nobody, failures nobody saw and key and
bucket grants wider than the work. Each control below closes one of those; README's Security controls section
lists the same names (a test checks both agree), so a control cannot be dropped from either without the other
noticing, and a scan can be answered with the name of the check that proves it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import parliament
import pytest
from conftest import ACCOUNT_ID, Deployment

from glue import schema
from glue.compactor_contract import SUPERSEDED_TAG
from infra import iam
from infra.alarm_spec import (
    COMPACTION_PARTITION_TAGGED,
    COMPACTION_TAGS_OUTSIDE_MANIFESTS,
    QUEUE_VISIBLE,
    RULE_FAILED_INVOCATIONS,
)
from infra.compaction_spec import STAGING_EXPIRY_RULE, CompactionSpec
from infra.lake_bucket import ACCESS_LOG_ENCRYPTION, access_log_prefix
from infra.registration_spec import RegistrationSpec
from infra.settings import PROJECT_ROOT, Settings, SettingsError, placeholder_email, stack_config

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
QUEUE = "aws:sqs/queue:Queue"
RULE = "aws:cloudwatch/eventRule:EventRule"
FUNCTION = "aws:lambda/function:Function"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
README = PROJECT_ROOT / "README.md"
SECTION = "### Security controls"

Control = Callable[[Deployment], None]
CONTROLS: dict[str, Control] = {}


def control(name: str) -> Callable[[Control], Control]:
    def register(check: Control) -> Control:
        CONTROLS[name] = check
        return check

    return register


# --- reading the recorded resources ------------------------------------------------------------------------


def arn(d: Deployment, typ: str, name_part: str = "") -> str:
    return d.one(typ, name_part).state["arn"]


def identity_policies(d: Deployment) -> dict[str, dict[str, Any]]:
    return {r.name: json.loads(r.inputs["policy"]) for r in (*d.all(ROLE_POLICY), *d.all(POLICY))}


def statements(d: Deployment) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, document in identity_policies(d).items():
        for statement in document["Statement"]:
            yield name, statement


def alarm(d: Deployment, slug: str) -> dict[str, Any]:
    return d.one(ALARM, f"-{slug}").inputs


def assert_alarm(d: Deployment, slug: str, metric: Any, dimensions: dict[str, str], threshold: float) -> None:
    """On the documented metric and dimensions, above ``threshold``, paging the alarm topic."""
    inputs = alarm(d, slug)
    assert (inputs["namespace"], inputs["metricName"]) == (metric.namespace, metric.name), slug
    assert inputs["dimensions"] == dimensions, slug
    assert inputs["threshold"] == threshold, slug
    assert inputs["alarmActions"] == [arn(d, TOPIC)], slug


# --- the controls ------------------------------------------------------------------------------------------


@control("superseded-versions-kept")
def _superseded_versions_kept(d: Deployment) -> None:
    """A tag never shortens how long a version is kept: no rule expires noncurrent versions sooner than the
    bucket-wide ``noncurrentVersionDays`` (it was one day: about eight days to empty the lake)."""
    rules = d.one(LIFECYCLE, "-lake").inputs["rules"]
    # The compactor's staging folder holds only files it copied into copy folders (never read): its own day.
    staging = [r for r in rules if r["id"] == STAGING_EXPIRY_RULE["ID"]]
    assert [r["filter"] for r in staging] == [{"prefix": schema.COMPACTION_STAGING_ROOT}]
    kept = [
        r["noncurrentVersionExpiration"]["noncurrentDays"]
        for r in rules
        if "noncurrentVersionExpiration" in r and r not in staging
    ]
    superseded = [r for r in rules if r["id"].startswith("expire-superseded-")]
    assert len(superseded) == 2 and all("noncurrentVersionExpiration" in r for r in superseded)
    assert set(kept) == {d.settings.noncurrent_version_days}


@control("tagging-only-the-superseded-tag")
def _tagging_only_the_superseded_tag(d: Deployment) -> None:
    """Only the compactor may tag, only under the two table roots, only ``eventlake-compacted=superseded``
    and no other key in the tag set; nobody may delete there (the compactor's TagScope narrows which objects:
    tests/lake_compactor/test_compactor_tag_scope.py)."""
    key, value = SUPERSEDED_TAG
    tagging = [(n, s) for n, s in statements(d) if any("Tagging" in a or a == "s3:*" for a in s["Action"])]
    ((policy, statement),) = tagging
    assert "compactor" in policy and statement["Action"] == ["s3:PutObjectTagging"]
    bucket = arn(d, BUCKET, "-lake")
    assert statement["Resource"] == [f"{bucket}/{schema.DATA_ROOT}*", f"{bucket}/{schema.COMPACTED_ROOT}*"]
    assert statement["Condition"] == {
        "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": [key]},
        "StringEquals": {f"s3:RequestObjectTag/{key}": value},
    }
    for name, s in statements(d):
        if any(a.startswith("s3:Delete") for a in s["Action"]):
            roots = (schema.DATA_ROOT, schema.COMPACTED_ROOT)
            assert not any(r.startswith(f"{bucket}/{root}") for r in s["Resource"] for root in roots), name


@control("tagging-watched")
def _tagging_watched(d: Deployment) -> None:
    """A run that tags outside its manifests, or this share of one partition, pages."""
    compactor = {"FunctionName": d.one(FUNCTION, "compactor").inputs["name"]}
    assert_alarm(d, "compaction-tags-outside-manifests", COMPACTION_TAGS_OUTSIDE_MANIFESTS, compactor, 0)
    threshold = d.settings.alarm_compaction_tagged_percent
    assert_alarm(d, "compaction-partition-tagged", COMPACTION_PARTITION_TAGGED, compactor, threshold)


@control("lake-access-logged")
def _lake_access_logged(d: Deployment) -> None:
    """Every request to the lake bucket is logged (S3 server access logs; Security Hub S3.9, checkov
    CKV_AWS_18) into a bucket of its own: private, SSE-S3, versioned, kept ``accessLogRetentionDays``,
    protected, and writable only by S3's log delivery for this lake bucket and account, over TLS."""
    assert d.settings.access_logging
    lake, logs = d.one(BUCKET, "-lake"), d.one(BUCKET, "-logs")
    logging = d.one("aws:s3/bucketLogging:BucketLogging").inputs
    assert (logging["bucket"], logging["targetBucket"]) == (lake.inputs["bucket"], logs.inputs["bucket"])
    assert logging["targetPrefix"] == access_log_prefix(lake.inputs["bucket"])
    assert (logs.protect, logs.retain_on_delete, logs.inputs["forceDestroy"]) == (True, True, False)
    block = d.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-logs").inputs
    assert all(
        block[f]
        for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    ownership = d.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "-logs").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    sse = d.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-logs"
    )
    assert sse.inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": ACCESS_LOG_ENCRYPTION}}
    ]
    versioning = d.one("aws:s3/bucketVersioning:BucketVersioning", "-logs").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = d.one(LIFECYCLE, "-logs").inputs["rules"]
    assert rule["expiration"] == {"days": d.settings.access_log_retention_days}
    policy = json.loads(d.one("aws:s3/bucketPolicy:BucketPolicy", "-logs").inputs["policy"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": iam.LOGGING_SERVICE},
            "Action": "s3:PutObject",
            "Resource": f"{logs.state['arn']}/{access_log_prefix(lake.inputs['bucket'])}*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": lake.state["arn"]},
                "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
            },
        }
    ]
    assert {s["Sid"] for s in policy["Statement"] if s["Effect"] == "Deny"} == {
        s["Sid"] for s in iam.lake_bucket_policy(logs.state["arn"], "")["Statement"][:2]
    }


@control("alarms-reach-someone")
def _alarms_reach_someone(d: Deployment) -> None:
    """Prod names no address; it does not deploy without a real one; the one set is subscribed."""
    assert "eventlake:alarmEmail" not in stack_config(d.stack)
    stack = Settings.from_stack_file(d.stack)
    assert stack.protect_data
    for email in ("", "eventlake-oncall@example.com"):
        with pytest.raises(SettingsError, match="alarmEmail"):
            dataclasses.replace(stack, alarm_email=email).check_deployable()
    subscription = d.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert subscription["protocol"] == "email" and subscription["topic"] == arn(d, TOPIC)
    assert subscription["endpoint"] and not placeholder_email(subscription["endpoint"])


@control("compactor-single-flight")
def _compactor_single_flight(d: Deployment) -> None:
    """At most one compactor at a time (reserved concurrency)."""
    spec = CompactionSpec.from_settings(d.settings)
    assert spec is not None
    assert (
        d.one(FUNCTION, "compactor").inputs["reservedConcurrentExecutions"] == spec.reserved_concurrency == 1
    )


@control("failures-kept")
def _failures_kept(d: Deployment) -> None:
    """A failed registrar event or compactor run, and an invocation EventBridge gave up on, is kept in that
    function's queue (encrypted with the lake key), never dropped."""
    key = arn(d, KEY)
    for part in ("registrar", "compactor"):
        queue = d.one(QUEUE, part)
        assert queue.inputs["kmsMasterKeyId"] == key, part
        invoke = d.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", part).inputs
        assert invoke["destinationConfig"] == {"onFailure": {"destination": queue.state["arn"]}}, part
        target = d.one("aws:cloudwatch/eventTarget:EventTarget", part).inputs
        assert target["deadLetterConfig"] == {"arn": queue.state["arn"]}, part


@control("failures-alarmed")
def _failures_alarmed(d: Deployment) -> None:
    """A message in either failure queue, or an invocation either rule gave up on, pages."""
    registration, compaction = (
        RegistrationSpec.from_settings(d.settings),
        CompactionSpec.from_settings(d.settings),
    )
    assert compaction is not None
    for slug, queue in (
        ("registrar-failed-events", registration.queue_name),
        ("compactor-failed-runs", compaction.queue_name),
    ):
        assert_alarm(d, slug, QUEUE_VISIBLE, {"QueueName": queue}, 0)
    for slug, rule in (
        ("registrar-rule-failed", registration.rule_name),
        ("compaction-schedule-failed", compaction.rule_name),
    ):
        assert_alarm(d, slug, RULE_FAILED_INVOCATIONS, {"RuleName": rule}, 0)


@control("key-service-statements-scoped")
def _key_service_statements_scoped(d: Deployment) -> None:
    """The key's service principals act for this account's resources only: EventBridge for the stack's two
    rules, CloudWatch for its alarms (``aws:SourceAccount`` and ``aws:SourceArn``), CloudWatch Logs for its
    log groups (the encryption context names each group's ARN)."""
    account = ACCOUNT_ID
    key = {s["Sid"]: s for s in json.loads(d.one(KEY).inputs["policy"])["Statement"]}
    events = key["EventBridgeDeadLetters"]["Condition"]
    assert events["StringEquals"] == {"aws:SourceAccount": account}
    assert sorted(events["ArnEquals"]["aws:SourceArn"]) == sorted(r.state["arn"] for r in d.all(RULE))
    alarms = key["CloudWatchAlarms"]["Condition"]
    assert alarms["StringEquals"] == {"aws:SourceAccount": account}
    assert sorted(alarms["ArnLike"]["aws:SourceArn"]) == sorted(a.state["arn"] for a in d.all(ALARM))
    groups = key["CloudWatchLogs"]["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sorted(groups) == sorted(g.state["arn"] for g in d.all("aws:cloudwatch/logGroup:LogGroup"))


@control("firehose-writes-its-roots")
def _firehose_writes_its_roots(d: Deployment) -> None:
    """Firehose's role writes objects only under the roots it delivers to, never ``compacted/``."""
    bucket = arn(d, BUCKET, "-lake")
    document = identity_policies(d)[d.one(ROLE_POLICY, "delivery").name]
    objects = [s for s in document["Statement"] if any(r.startswith(f"{bucket}/") for r in s["Resource"])]
    assert objects and all(
        r in {f"{bucket}/{root}*" for root in (schema.DATA_ROOT, schema.ERROR_ROOT, schema.BACKUP_ROOT)}
        for s in objects
        for r in s["Resource"]
    )


@control("listing-by-prefix")
def _listing_by_prefix(d: Deployment) -> None:
    """Readers, operators and the compactor list only the prefixes they read (``s3:prefix``); Firehose's
    delivery role keeps AWS's documented bucket-level grant (it lists nothing of the table)."""
    delivery = d.one(ROLE_POLICY, "delivery").name
    listing = [(n, s) for n, s in statements(d) if "s3:ListBucket" in s["Action"] and n != delivery]
    for who in ("analyst", "operator", "compactor"):
        assert any(who in name for name, _ in listing), who
    for name, statement in listing:
        assert statement["Action"] == ["s3:ListBucket"], name
        prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
        assert prefixes and all(p.endswith("*") and p != "*" for p in prefixes), name


@control("identity-policies-lint-clean")
def _identity_policies_lint_clean(d: Deployment) -> None:
    """Every identity policy passes parliament, community auditors included, with zero findings (the same
    check runs for dev and small in tests/infra/test_access_program.py)."""
    for name, document in identity_policies(d).items():
        policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
        assert [(f.issue, str(f.detail)) for f in policy.findings] == [], name


# --- the tests ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONTROLS))
def test_each_control_holds_in_prod(prod: Deployment, name: str) -> None:
    CONTROLS[name](prod)


def readme_controls() -> list[str]:
    text = README.read_text()
    section = text[text.index(SECTION) + len(SECTION) :]
    section = section[: section.index("\n#")]
    return re.findall(r"^- `([a-z-]+)`", section, flags=re.MULTILINE)


def test_readme_lists_exactly_these_controls_in_order() -> None:
    assert readme_controls() == list(CONTROLS)
