"""What every ``eventlake`` command shares: the global flags, AWS clients, output and errors.

Conventions users know from the AWS and Pulumi CLIs: ``--stack``, ``--region``, ``--profile``,
``--endpoint-url`` (real AWS by default; the embedded AWS in tests), ``--output table|json``; one-line errors
that name the flag or key and suggest the closest valid one; exit codes 0 (ok), 1 (a check failed),
2 (usage or configuration error).
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from aws_contract import limits
from infra.settings import (
    Settings,
    SettingsError,
    find_stack_file,
    is_example_stack,
    stack_config,
    stack_name,
)

OK, CHECK_FAILED, USAGE = 0, 1, 2
OUTPUTS = ("table", "json")
DEFAULT_REGION = "us-east-1"  # what the AWS provider uses when a stack sets no aws:region

Run = Callable[[argparse.Namespace], int]
_OUTPUTS: dict[tuple[str, str, str], dict[str, Any]] = {}  # pulumi stack outputs, once per process


class CliError(Exception):
    """A problem the user can fix, reported as one line per problem; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


def suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean X?)`` for the closest valid spelling, else nothing (``cutoff`` 0: always one)."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]}?)" if close else ""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors that suggest the closest flag or command, and exit code 2."""

    def error(self, message: str) -> NoReturn:
        hint = ""
        if "invalid choice: " in message:
            word = message.split("invalid choice: ", 1)[1].split(" (choose", 1)[0].strip("'")
            hint = suggest(word, self._choices())
        elif message.startswith("unrecognized arguments: "):
            flag = message.split(": ", 1)[1].split()[0]
            hint = suggest(flag.split("=")[0], self._option_strings())
        self.exit(USAGE, f"{self.prog}: error: {message}{hint}\n")

    def _choices(self) -> list[str]:
        out: list[str] = []
        for action in self._actions:
            if action.choices:
                out.extend(str(c) for c in action.choices)
        return out

    def _option_strings(self) -> list[str]:
        """This parser's flags and its commands' (the root reports a command's unknown flag)."""
        out = [s for action in self._actions for s in action.option_strings]
        for action in self._actions:
            for sub in (action.choices or {}).values() if isinstance(action.choices, dict) else ():
                out.extend(s for a in sub._actions for s in a.option_strings)
        return out


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def global_options() -> argparse.ArgumentParser:
    """The flags every command takes (a parent parser, so each command's --help lists them)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("global options")
    group.add_argument(
        "--stack",
        default="dev",
        action=_StackFlag,
        help="stack whose Pulumi.<stack>.yaml to read: from the working directory (or its Pulumi project), "
        "else eventlake's example stacks (default %(default)s)",
    )
    group.add_argument(
        "--stack-file",
        type=Path,
        metavar="PATH",
        help="read the stack's settings from this file instead (the stack is named by --stack, or by the "
        "file's name Pulumi.<stack>.yaml)",
    )
    group.add_argument("--region", help="AWS region (default: the stack's aws:region)")
    group.add_argument("--profile", help="AWS named profile (default: the environment's credentials)")
    group.add_argument("--endpoint-url", help="send AWS calls here instead of AWS (e.g. an embedded AWS)")
    group.add_argument(
        "--output", choices=OUTPUTS, default="table", help="table or json (default %(default)s)"
    )
    # Tests: the folder whose Pulumi.<stack>.yaml to read, instead of looking in the usual places.
    group.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    return common


class _StackFlag(argparse.Action):
    """``--stack``, remembering that it was given (a ``--stack-file`` alone names the stack by its file)."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None) -> None:
        namespace.stack = values
        namespace.stack_given = True


def locate_stack(args: argparse.Namespace) -> None:
    """Before a command runs: ``--region`` is an AWS region, and ``args.root`` becomes the stack's file
    (``--stack-file``, else ``find_stack_file``'s lookup), so every command reads the same file and a
    misspelt ``--stack`` is one line with the closest stack found."""
    region = getattr(args, "region", None)
    if region is not None and region not in limits.AWS_REGIONS:
        raise CliError(
            f"--region {region} is not an AWS region{suggest(region.lower(), limits.AWS_REGIONS, cutoff=0)}"
        )
    path = getattr(args, "stack_file", None)
    if path is not None:
        if not path.is_file():
            raise CliError(f"--stack-file {path}: no such file")
        if not getattr(args, "stack_given", False):
            named = stack_name(path)
            if named is None:
                raise CliError(
                    f"--stack-file {path} is not named Pulumi.<stack>.yaml: name its stack with --stack"
                )
            args.stack = named
        args.root = path
    elif getattr(args, "stack", None) is not None:  # sizing runs without a stack
        try:
            args.root = find_stack_file(args.stack, getattr(args, "root", None))
        except SettingsError as exc:
            raise CliError(f"--stack {args.stack}: {exc}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


@dataclass(frozen=True)
class Context:
    """The stack a command works on, and how it reaches AWS."""

    settings: Settings
    region: str
    profile: str | None
    endpoint_url: str | None
    output: str
    root: Path  # the stack's file, or the folder holding it

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        try:
            root = args.root if args.root is not None else find_stack_file(args.stack)
            settings = Settings.from_stack_file(args.stack, root)
            region = args.region or str(stack_config(args.stack, root).get("aws:region") or DEFAULT_REGION)
        except SettingsError as exc:
            raise CliError(str(exc)) from None
        if args.endpoint_url is None and root.is_file() and is_example_stack(root):
            # Real AWS, named by a stack file the user may not have meant: say which one.
            sys.stderr.write(
                f"eventlake: note: no Pulumi.{args.stack}.yaml here; using eventlake's example stack {root}\n"
            )
        return cls(settings, region, args.profile, args.endpoint_url, args.output, root)

    def stack_outputs(self) -> dict[str, Any]:
        """The deployed stack's outputs from ``pulumi stack output --json`` when the Pulumi CLI is installed
        and the command talks to real AWS; otherwise none (names then come from the stack's settings)."""
        pulumi = shutil.which("pulumi")
        if pulumi is None or self.endpoint_url is not None:
            return {}
        key = (pulumi, self.settings.stack, str(self.root))
        if key not in _OUTPUTS:
            done = subprocess.run(
                [pulumi, "stack", "output", "--json", "--stack", self.settings.stack],
                cwd=self.root if self.root.is_dir() else self.root.parent,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise CliError(f"pulumi stack output --stack {self.settings.stack} failed: {reason}")
            _OUTPUTS[key] = json.loads(done.stdout or "{}")
        return _OUTPUTS[key]

    @property
    def stream_name(self) -> str:
        return str(self.stack_outputs().get("stream_name") or self.settings.stream_name)

    def bucket(self) -> str:
        """The lake bucket: the stack's output, else the program's name rule (STS tells the account)."""
        deployed = self.stack_outputs().get("bucket_name")
        if deployed:
            return str(deployed)
        from infra.account import Account  # imports pulumi_aws: only when the name must be derived
        from infra.lake_bucket import bucket_name

        try:
            arn = self.client("sts").get_caller_identity()["Arn"]
        except Exception as exc:
            raise CliError(
                f"GetCallerIdentity (to name the stack's bucket) failed: {exc}; or pass --bucket"
            ) from None
        _, partition, _, _, account_id, _ = arn.split(":", 5)
        return bucket_name(self.settings, Account(account_id, self.region, partition, dns_suffix=""))

    def client(self, service: str) -> Any:
        """A boto3 client for this stack's region, profile and endpoint."""
        import boto3

        session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return session.client(service, endpoint_url=self.endpoint_url)


def emit(context_output: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows as a rich table, or as one JSON document ``{"title", "columns", "rows"}`` on stdout."""
    if context_output == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps({"title": title, "rows": records}, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Text, never markup or emoji codes: the cells hold data.
    table = Table(title=Text(title), title_justify="left")
    for column in columns:
        table.add_column(Text(str(column)))
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    Console().print(table)


# AWS error codes that mean the command was pointed at the wrong thing: a usage error, not a failed check.
_CONFIGURATION_ERRORS = {
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "NoSuchBucket",
    "ResourceNotFoundException",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}


@contextmanager
def aws_errors(what: str, hint: str = "") -> Iterator[None]:
    """botocore's exceptions as one line: ``what`` failed, the AWS error code, and ``hint`` for a fix."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    suffix = f" ({hint})" if hint else ""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message") or exc).splitlines()[0]
        raise CliError(
            f"{what}: {code}: {message}{suffix}", USAGE if code in _CONFIGURATION_ERRORS else CHECK_FAILED
        ) from None
    except ProfileNotFound as exc:
        raise CliError(f"--profile: {exc}") from None
    except NoCredentialsError:
        raise CliError(
            f"{what}: no AWS credentials found (pass --profile, or set them in the environment)"
        ) from None
    except BotoCoreError as exc:  # an unreachable --endpoint-url, a bad --region
        raise CliError(f"{what}: {exc}{suffix}") from None
