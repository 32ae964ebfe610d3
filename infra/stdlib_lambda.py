"""A small Lambda function of the project's own code (standard library and the runtime's boto3 only): its log
group encrypted with the lake key, a role only Lambda may assume for that function, the role's one inline
policy, and the function logging to that group. The partition registrar and the lake compactor are built so;
each component adds its own triggers around it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.account import Account
from infra.log_groups import lambda_log_group
from infra.settings import LAMBDA_ARCHITECTURE
from infra.transform_function import lambda_archive, lambda_trust_policy


@dataclass(frozen=True)
class StdlibLambdaArgs:
    function_name: str
    package: str  # the project folder the zip holds
    handler: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    reserved_concurrency: int | None = None  # None: the account's unreserved pool


class FunctionSpec(Protocol):
    """What a component's spec says of its function (``RegistrationSpec``, ``CompactionSpec``)."""

    @property
    def function_name(self) -> str: ...
    @property
    def runtime(self) -> str: ...
    @property
    def memory_mb(self) -> int: ...
    @property
    def timeout_seconds(self) -> int: ...
    @property
    def log_retention_days(self) -> int: ...


def args_of(
    spec: FunctionSpec, *, package: str, handler: str, reserved_concurrency: int | None = None
) -> StdlibLambdaArgs:
    return StdlibLambdaArgs(
        function_name=spec.function_name,
        package=package,
        handler=handler,
        runtime=spec.runtime,
        memory_mb=spec.memory_mb,
        timeout_seconds=spec.timeout_seconds,
        log_retention_days=spec.log_retention_days,
        reserved_concurrency=reserved_concurrency,
    )


@dataclass(frozen=True)
class StdlibLambda:
    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    function: aws.lambda_.Function


def stdlib_lambda(
    name: str,
    args: StdlibLambdaArgs,
    account: Account,
    *,
    parent: pulumi.Resource,
    key_arn: pulumi.Input[str],
    policy: Callable[[pulumi.Output[str]], pulumi.Input[str]],
    environment: pulumi.Input[dict[str, str]],
) -> StdlibLambda:
    """The four resources, children of ``parent``, named ``name``-logs/-role/-policy and ``name`` (the names
    the components gave them before this was shared: their URNs are unchanged). ``policy`` builds the
    role's policy document (JSON) from the log group's ARN."""
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        aws.cloudwatch.LogGroupArgs(
            name=lambda_log_group(args.function_name),
            retention_in_days=args.log_retention_days,
            kms_key_id=key_arn,
        ),
        opts=child,
    )
    role = aws.iam.Role(
        f"{name}-role",
        aws.iam.RoleArgs(
            name=args.function_name,
            assume_role_policy=json.dumps(lambda_trust_policy(account, args.function_name)),
        ),
        opts=child,
    )
    role_policy = aws.iam.RolePolicy(
        f"{name}-policy",
        aws.iam.RolePolicyArgs(role=role.id, policy=policy(log_group.arn)),
        opts=child,
    )
    function = aws.lambda_.Function(
        name,
        aws.lambda_.FunctionArgs(
            name=args.function_name,
            role=role.arn,
            runtime=args.runtime,
            architectures=[LAMBDA_ARCHITECTURE],
            handler=args.handler,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            code=lambda_archive(package=args.package),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group.name),
            reserved_concurrent_executions=args.reserved_concurrency,
        ),
        # Without the policy and the group, the first invocations could neither log nor do their work.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy, log_group]),
    )
    return StdlibLambda(log_group, role, role_policy, function)


def events_may_invoke(
    name: str, function: aws.lambda_.Function, rule: aws.cloudwatch.EventRule, *, parent: pulumi.Resource
) -> aws.lambda_.Permission:
    """EventBridge may invoke ``function`` for this one rule (``name``-invoke, a child of ``parent``); the
    rule's target should depend on it, or events matched before it exists are lost."""
    return aws.lambda_.Permission(
        f"{name}-invoke",
        aws.lambda_.PermissionArgs(
            action="lambda:InvokeFunction",
            function=function.name,
            principal=iam.EVENTS_SERVICE,
            source_arn=rule.arn,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
