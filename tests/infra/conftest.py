"""Run the real ``__main__.py`` under Pulumi mocks, once per stack per session.

The mock monitor records every registration with its inputs, resource options and dependencies,
and the stack's exported outputs, so the tests assert on what a ``pulumi up`` would send.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings

from infra.settings import PROJECT_ROOT, Settings, stack_config

PROJECT = "eventlake"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"
# What a team sets with `pulumi config set eventlake:alarmEmail` before deploying a stack that protects its
# data (its stack file names no address, and the program refuses one in a reserved domain).
ONCALL_EMAIL = "lake-oncall@acme.com"


def pytest_configure(config: pytest.Config) -> None:
    # pulumi_aws deprecates its own V2 classes when its modules load; this program uses none of them.
    config.addinivalue_line(
        "filterwarnings", r"ignore:.*deprecated in favor of:DeprecationWarning:pulumi_aws\..*"
    )


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    urn: str = ""
    parent: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    dependencies: list[str] = field(default_factory=list)


@dataclass
class Deployment:
    stack: str
    settings: Settings
    resources: list[Registered]
    outputs: dict[str, Any]
    invokes: list[str]

    def all(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name_part: str = "") -> Registered:
        found = [r for r in self.all(typ) if name_part in r.name]
        assert len(found) == 1, f"expected one {typ} named *{name_part}*, got {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)


def arn_for(typ: str, name: str, inputs: dict[str, Any]) -> str | None:
    """Realistic ARNs, so the tests can check that policies name exactly these."""
    prefix = f"arn:{PARTITION}"
    account = f"{REGION}:{ACCOUNT_ID}"
    return {
        "aws:kms/key:Key": f"{prefix}:kms:{account}:key/{name}-key-id",
        "aws:kinesis/stream:Stream": f"{prefix}:kinesis:{account}:stream/{name}",
        "aws:s3/bucket:Bucket": f"{prefix}:s3:::{name}",
        "aws:glue/catalogDatabase:CatalogDatabase": f"{prefix}:glue:{account}:database/{name}",
        "aws:glue/catalogTable:CatalogTable": (
            f"{prefix}:glue:{account}:table/{inputs.get('databaseName')}/{name}"
        ),
        "aws:lambda/function:Function": f"{prefix}:lambda:{account}:function:{name}",
        "aws:cloudwatch/logGroup:LogGroup": f"{prefix}:logs:{account}:log-group:{name}",
        "aws:cloudwatch/logStream:LogStream": (
            f"{prefix}:logs:{account}:log-group:{inputs.get('logGroupName')}:log-stream:{name}"
        ),
        "aws:iam/role:Role": f"{prefix}:iam::{ACCOUNT_ID}:role/{name}",
        "aws:dynamodb/table:Table": f"{prefix}:dynamodb:{account}:table/{name}",
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
            f"{prefix}:firehose:{account}:deliverystream/{name}"
        ),
        "aws:sqs/queue:Queue": f"{prefix}:sqs:{account}:{name}",
        "aws:cloudwatch/eventRule:EventRule": f"{prefix}:events:{account}:rule/{name}",
        "aws:athena/workgroup:Workgroup": f"{prefix}:athena:{account}:workgroup/{name}",
        "aws:iam/policy:Policy": f"{prefix}:iam::{ACCOUNT_ID}:policy/{name}",
        "aws:sns/topic:Topic": f"{prefix}:sns:{account}:{name}",
        "aws:cloudwatch/metricAlarm:MetricAlarm": f"{prefix}:cloudwatch:{account}:alarm:{name}",
        "aws:cloudwatch/dashboard:Dashboard": f"{prefix}:cloudwatch::{ACCOUNT_ID}:dashboard/{name}",
    }.get(typ)


def queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Registered] = []
        self.invokes: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        physical = inputs.get("bucket") or inputs.get("name") or inputs.get("dashboardName") or args.name
        state = {**inputs, "name": physical}
        arn = arn_for(args.typ, physical, inputs)
        if arn:
            state["arn"] = arn
        if args.typ == "aws:kms/key:Key":
            state["keyId"] = f"{physical}-key-id"
        if args.typ == "aws:sqs/queue:Queue":
            state["url"] = queue_url(physical)
        self.resources.append(Registered(args.typ, args.name, inputs, state))
        return f"{physical}", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.invokes.append(args.token)
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/test",
                "userId": "AIDTEST",
                "id": ACCOUNT_ID,
            },
            "aws:index/getRegion:getRegion": {"region": REGION, "name": REGION, "id": REGION},
            "aws:index/getPartition:getPartition": {
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": PARTITION,
            },
        }
        if args.token not in answers:
            raise NotImplementedError(f"unexpected invoke {args.token}")
        return answers[args.token]


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Also keeps what ``Mocks.new_resource`` is not shown: resource options and dependencies."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        # Registrations run concurrently on executor threads: find this one by type and name.
        for registered in self.recording.resources:
            if registered.typ != request.type or registered.name != request.name:
                continue
            registered.urn = response.urn
            registered.parent = request.parent
            registered.protect = bool(request.protect)
            registered.retain_on_delete = bool(request.retainOnDelete)
            registered.dependencies = list(request.dependencies)
        return response


def cli_config(stack: str) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a program: every value a string, booleans lower case; a stack that
    protects its data gets the on-call address a team sets before its first deploy."""
    config = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in stack_config(stack).items()
    }
    if config.get("eventlake:protectData") == "true":
        config.setdefault("eventlake:alarmEmail", ONCALL_EMAIL)
    return config


def deploy(stack: str, config: dict[str, str] | None = None) -> Deployment:
    """Run the program for ``stack`` with its CLI config (``cli_config``), or with ``config`` instead."""
    mocks = RecordingMocks()
    outputs: dict[str, Any] = {}
    pulumi_settings.ROOT.set(None)  # a fresh Stack resource for this run
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )
    pulumi.runtime.set_all_config(cli_config(stack) if config is None else config)

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        exported = getattr(root, "outputs", {})
        return (
            pulumi.Output.all(**exported).apply(outputs.update)
            if exported
            else pulumi.Output.from_input(None)
        )

    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    try:
        program()
    finally:
        os.chdir(cwd)
        sys.path.remove(str(PROJECT_ROOT))
    return Deployment(stack, Settings.from_stack_file(stack), mocks.resources, outputs, mocks.invokes)


@pytest.fixture(scope="session")
def dev() -> Iterator[Deployment]:
    yield deploy("dev")


@pytest.fixture(scope="session")
def prod() -> Iterator[Deployment]:
    yield deploy("prod")


@pytest.fixture(scope="session")
def small() -> Iterator[Deployment]:
    yield deploy("small")  # 1/1000x of prod's load (Pulumi.small.yaml)


@pytest.fixture(scope="session")
def huge() -> Iterator[Deployment]:
    yield deploy(
        "huge"
    )  # 1000x prod's load, dedupe by compaction (Pulumi.huge.yaml; test_sized_stacks_program.py)


@pytest.fixture(scope="session", params=["dev", "prod", "small"])
def deployment(request: pytest.FixtureRequest) -> Deployment:
    return request.getfixturevalue(request.param)
