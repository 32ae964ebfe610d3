"""With the Pulumi CLI installed and real AWS as the target, resource names come from
``pulumi stack output --json``; with an endpoint (the embedded AWS) or no Pulumi CLI, from the stack file."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest

from eventlake.cli import common
from eventlake.cli.common import CliError, Context
from infra.settings import PROJECT_ROOT


def context(endpoint: str | None = None) -> Context:
    args = argparse.Namespace(
        stack="dev", region=None, profile=None, endpoint_url=endpoint, output="json", root=PROJECT_ROOT
    )
    return Context.from_args(args)


def fake_pulumi(tmp_path: Path, script: str) -> None:
    path = tmp_path / "pulumi"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "_OUTPUTS", {})


def test_the_deployed_names_win_when_pulumi_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_pulumi(tmp_path, 'echo \'{"stream_name": "deployed-events", "bucket_name": "deployed-lake"}\'\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    ctx = context()
    assert ctx.stream_name == "deployed-events" and ctx.bucket() == "deployed-lake"
    # An endpoint means the embedded AWS: the real stack's outputs must not leak in.
    assert context("http://127.0.0.1:1").stream_name == ctx.settings.stream_name


def test_without_pulumi_the_stack_file_names_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.shutil, "which", lambda _: None)
    ctx = context()
    assert ctx.stack_outputs() == {} and ctx.stream_name == ctx.settings.stream_name


def test_a_failing_pulumi_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pulumi(tmp_path, 'echo "error: no stack named dev found" >&2\nexit 255\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(CliError, match="no stack named dev"):
        _ = context().stream_name
