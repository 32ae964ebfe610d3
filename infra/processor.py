"""The transform Lambda Firehose calls on every batch, shipped from the repository's own sources.

The zip holds ``transform_lambda/*.py`` and the ``glue`` modules they import, found by reading their
imports, so the code the tests exercise is exactly the code that ships.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.claims import ClaimsTable
from infra.settings import PROJECT_ROOT, Settings
from transform_lambda.claims import ENV_TABLE, ENV_TTL_SECONDS

HANDLER = "transform_lambda.handler.handler"
ARCHITECTURE = "arm64"
LAMBDA_PACKAGE = "transform_lambda"
SHARED_PACKAGE = "glue"


def lambda_files(root: Path = PROJECT_ROOT) -> list[str]:
    """Relative paths of every file the Lambda zip needs, in a stable order."""
    files = sorted(p.relative_to(root).as_posix() for p in (root / LAMBDA_PACKAGE).glob("*.py"))
    shared = {f"{SHARED_PACKAGE}/__init__.py"}
    pending = list(files)
    while pending:
        for module in _shared_imports(root / pending.pop(), root):
            if module not in shared:
                shared.add(module)
                pending.append(module)
    return files + sorted(shared)


def _shared_imports(path: Path, root: Path) -> set[str]:
    """Files of ``glue`` modules imported by ``path`` (``from glue import schema``, ``glue.errors``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    files = set()
    for name in names:
        head, _, rest = name.partition(".")
        if head == SHARED_PACKAGE and rest:
            candidate = f"{SHARED_PACKAGE}/{rest.replace('.', '/')}.py"
            if (root / candidate).is_file():
                files.add(candidate)
    return files


def lambda_archive(root: Path = PROJECT_ROOT) -> pulumi.AssetArchive:
    return pulumi.AssetArchive({rel: pulumi.FileAsset(str(root / rel)) for rel in lambda_files(root)})


class Processor(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        claims: ClaimsTable | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:Processor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        function_name = settings.function_name
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/lambda/{function_name}", retention_in_days=settings.log_retention_days
            ),
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                name=function_name,
                assume_role_policy=json.dumps(iam.assume_role_policy("lambda.amazonaws.com")),
            ),
            opts=child,
        )
        claims_arn = claims.arn if claims is not None else None
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            aws.iam.RolePolicyArgs(
                role=self.role.id,
                policy=pulumi.Output.all(self.log_group.arn, claims_arn).apply(
                    lambda a: json.dumps(iam.processor_policy(a[0], a[1]))
                ),
            ),
            opts=child,
        )
        variables: dict[str, pulumi.Input[str]] = {}
        if claims is not None:
            variables = {ENV_TABLE: claims.name, ENV_TTL_SECONDS: str(settings.dedupe_ttl_seconds)}
        self.function = aws.lambda_.Function(
            name,
            aws.lambda_.FunctionArgs(
                name=function_name,
                role=self.role.arn,
                runtime=settings.lambda_runtime,
                architectures=[ARCHITECTURE],
                handler=HANDLER,
                memory_size=settings.lambda_memory_mb,
                # Lambda's default is 3 s; Firehose allows an invocation up to 5 minutes.
                timeout=settings.lambda_timeout_seconds,
                code=lambda_archive(),
                environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables) if variables else None,
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
