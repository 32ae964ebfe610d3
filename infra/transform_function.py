"""The transform Lambda Firehose calls on every batch, shipped from the repository's own sources.

The zip holds ``transform_lambda/*.py``, ``glue/*.py`` and ``aws_contract/*.py`` from the working tree, so
the code the tests exercise is exactly the code that ships, and orjson's wheel for the function's runtime and
architecture (``transform_lambda/requirements.txt``, installed by ``infra.lambda_bundle``), and, once the
package has one, its C extension cross-compiled for that architecture (``infra.native_build``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from glue.transform_contract import (
    ENV_DEDUPE_MODE,
    ENV_FINGERPRINT_FIELDS,
    ENV_ON_STORE_FAILURE,
    ENV_TABLE,
    ENV_TTL_SECONDS,
)
from infra import iam, lambda_bundle, native_build
from infra.account import Account
from infra.claims_table import ClaimsTable
from infra.log_groups import lambda_log_group
from infra.processors import processor_for
from infra.protection import renamed_from
from infra.settings import LAMBDA_ARCHITECTURE, PROJECT_ROOT, Settings, reads, settings_args

HANDLER = "transform_lambda.handler.handler"
LAMBDA_SERVICE = "lambda.amazonaws.com"
LAMBDA_PACKAGE = "transform_lambda"
# The lake contract and AWS's documented limits and record shapes the transform reads (stdlib only).
SHARED_PACKAGES = ("glue", "aws_contract")


def lambda_files(root: Path = PROJECT_ROOT, package: str = LAMBDA_PACKAGE) -> list[str]:
    """Relative paths of every file a Lambda zip needs, in a stable order: the function's package (the
    transform by default) and the shared packages it reads (``*.py`` only, stdlib only by design;
    ``glue/sql`` stays out)."""
    return sorted(
        p.relative_to(root).as_posix()
        for directory in (package, *SHARED_PACKAGES)
        for p in (root / directory).glob("*.py")
    )


def lambda_contents(
    root: Path = PROJECT_ROOT,
    package: str = LAMBDA_PACKAGE,
    *,
    runtime: str | None = None,
    architecture: str = LAMBDA_ARCHITECTURE,
) -> dict[str, Path]:
    """Zip path -> file: ``lambda_files``, the package's C extensions compiled for ``architecture``
    (``infra.native_build``; none until it has a ``*.c``) and, when the package lists any in its
    ``requirements.txt``, its third-party wheels installed for ``runtime`` on ``architecture``
    (``infra.lambda_bundle``)."""
    contents = {rel: root / rel for rel in lambda_files(root, package)}
    requirements = lambda_bundle.requirements_of(root / package)
    if requirements is not None:
        if runtime is None:
            raise lambda_bundle.BundleError(f"{package} has third-party requirements: name its runtime")
        folder = lambda_bundle.installed(requirements, runtime=runtime, architecture=architecture)
        contents.update(lambda_bundle.bundled_files(folder))
    contents.update(native_build.native_files(root / package, architecture=architecture))
    return contents


def lambda_archive(
    root: Path = PROJECT_ROOT,
    package: str = LAMBDA_PACKAGE,
    *,
    runtime: str | None = None,
    architecture: str = LAMBDA_ARCHITECTURE,
) -> pulumi.AssetArchive:
    contents = lambda_contents(root, package, runtime=runtime, architecture=architecture)
    return pulumi.AssetArchive({rel: pulumi.FileAsset(str(path)) for rel, path in contents.items()})


def lambda_trust_policy(account: Account, function_name: str) -> iam.Policy:
    """Lambda may assume a function's role only for that function (its ARN, built from its name, and any
    qualified ARN of it), in this account."""
    function_arn = account.lambda_function_arn(function_name)
    return iam.assume_role_policy(
        LAMBDA_SERVICE, source_account=account.account_id, source_arns=[function_arn, f"{function_arn}:*"]
    )


@dataclass(frozen=True)
class TransformFunctionArgs:
    function_name: str = reads("function_name")
    runtime: str = reads("lambda_runtime")
    memory_mb: int = reads("lambda_memory_mb")
    timeout_seconds: int = reads("lambda_timeout_seconds")
    log_retention_days: int = reads("log_retention_days")
    dedupe: str = reads("dedupe")  # glue.marks: who marks duplicates
    fingerprint_fields: str = reads("dedupe_fingerprint_fields")
    # Handed to the Lambda only when it has a claims table:
    claims_ttl_seconds: int = reads("dedupe_ttl_seconds")
    on_store_failure: str = reads("dedupe_on_store_failure")

    @classmethod
    def for_processor(cls, settings: Settings) -> TransformFunctionArgs | None:
        """The transform Lambda when the stack's processor runs one (``infra.processors``), else None."""
        if processor_for(settings).function_name(settings) is None:
            return None
        return cls.from_settings(settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> TransformFunctionArgs:
        return settings_args(cls, settings)


class TransformFunction(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: TransformFunctionArgs,
        claims: ClaimsTable | None,
        key_arn: pulumi.Input[str],
        account: Account,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "eventlake:index:TransformFunction", name, None, renamed_from("eventlake:index:Processor", opts)
        )
        child = pulumi.ResourceOptions(parent=self)
        function_name = args.function_name
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=lambda_log_group(function_name),
                retention_in_days=args.log_retention_days,
                # Rejected records are logged with their reason: encrypted with the lake key.
                kms_key_id=key_arn,
            ),
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                name=function_name,
                assume_role_policy=json.dumps(lambda_trust_policy(account, function_name)),
            ),
            opts=child,
        )
        claims_arn = claims.arn if claims is not None else None
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            aws.iam.RolePolicyArgs(
                role=self.role.id,
                policy=pulumi.Output.all(self.log_group.arn, claims_arn, key_arn).apply(
                    lambda a: json.dumps(
                        iam.processor_policy(
                            a[0], a[1], key_arn=a[2], dynamodb_host=account.service_host("dynamodb")
                        )
                    )
                ),
            ),
            opts=child,
        )
        variables: dict[str, pulumi.Input[str]] = {
            ENV_DEDUPE_MODE: args.dedupe,
            ENV_FINGERPRINT_FIELDS: args.fingerprint_fields,
        }
        if claims is not None:
            variables |= {
                ENV_TABLE: claims.name,
                ENV_TTL_SECONDS: str(args.claims_ttl_seconds),
                ENV_ON_STORE_FAILURE: args.on_store_failure,
            }
        self.function = aws.lambda_.Function(
            name,
            aws.lambda_.FunctionArgs(
                name=function_name,
                role=self.role.arn,
                runtime=args.runtime,
                architectures=[LAMBDA_ARCHITECTURE],
                handler=HANDLER,
                memory_size=args.memory_mb,
                # Lambda's default is 3 s; Firehose allows an invocation up to 5 minutes.
                timeout=args.timeout_seconds,
                code=lambda_archive(runtime=args.runtime),
                environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
                logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                    log_format="Text", log_group=self.log_group.name
                ),
            ),
            # Without the policy and the group, the first invocations cannot log.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy, self.log_group]),
        )
        self.name: pulumi.Output[str] = self.function.name
        self.arn: pulumi.Output[str] = self.function.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
