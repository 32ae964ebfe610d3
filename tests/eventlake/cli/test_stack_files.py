"""Where the CLI finds a stack's file, as ``pulumi`` does: the working directory first (or the Pulumi project
it is in), ``--stack-file PATH`` when given, eventlake's example stacks last; a misspelt ``--stack`` or an
unknown ``--region`` is one line with the closest valid one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from aws_contract import limits
from eventlake.cli.common import Context
from eventlake.cli.main import main
from infra.settings import PROJECT_ROOT


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sized(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "sizing", "--output", "json", *argv)
    assert code in (0, 1) and err == "", err  # 1: the stack's verdict against its load, not an error
    return json.loads(out)


def prod_with(folder: Path, events_per_hour: int, name: str = "Pulumi.prod.yaml") -> Path:
    """The example prod stack, declaring another load (so the test can tell which file was read)."""
    text = (PROJECT_ROOT / "Pulumi.prod.yaml").read_text()
    changed = text.replace("expectedEventsPerHour: 1000000", f"expectedEventsPerHour: {events_per_hour}")
    assert changed != text
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(changed)
    return folder / name


def test_the_working_directory_s_stack_file_comes_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod_with(tmp_path, 2_000_000)
    monkeypatch.chdir(tmp_path)
    doc = sized(capsys, "--stack", "prod")
    assert doc["stack"] == "prod" and doc["load"]["events_per_hour"] == 2_000_000


def test_a_stack_only_the_working_directory_has(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod_with(tmp_path, 3_000_000, "Pulumi.mine.yaml")
    monkeypatch.chdir(tmp_path)
    doc = sized(capsys, "--stack", "mine")
    assert doc["stack"] == "mine" and doc["load"]["events_per_hour"] == 3_000_000


def test_the_pulumi_project_above_the_working_directory_and_its_stack_config_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: lake\nruntime: python\nstackConfigDir: stacks\n")
    prod_with(tmp_path / "stacks", 4_000_000, "Pulumi.mine.yaml")
    (tmp_path / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "deep")
    assert sized(capsys, "--stack", "mine")["load"]["events_per_hour"] == 4_000_000


def test_stack_file_names_the_file_and_its_stack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod_with(tmp_path, 2_000_000)  # in the working directory, but --stack-file wins
    elsewhere = prod_with(tmp_path / "elsewhere", 5_000_000, "Pulumi.staging.yaml")
    monkeypatch.chdir(tmp_path)
    doc = sized(capsys, "--stack-file", str(elsewhere))
    assert doc["stack"] == "staging" and doc["load"]["events_per_hour"] == 5_000_000
    other = prod_with(tmp_path / "elsewhere", 6_000_000, "lake-settings.yaml")
    doc = sized(capsys, "--stack-file", str(other), "--stack", "prod")
    assert doc["stack"] == "prod" and doc["load"]["events_per_hour"] == 6_000_000
    code, out, err = run(capsys, "sizing", "--stack-file", str(other))
    assert code == 2 and out == "" and "--stack" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "sizing", "--stack-file", str(tmp_path / "nowhere.yaml"))
    assert code == 2 and "--stack-file" in err and "no such file" in err and len(err.splitlines()) == 1


def test_without_a_stack_file_here_the_example_stacks_serve(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``eventlake sizing --stack prod`` and the demo run from any directory (README: the example stacks)."""
    monkeypatch.chdir(tmp_path)
    doc = sized(capsys, "--stack", "prod")
    assert doc["stack"] == "prod" and doc["load"]["events_per_hour"] == 1_000_000


def test_a_real_aws_command_on_an_example_stack_says_which_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(
        stack="prod", region=None, profile=None, endpoint_url=None, output="json", root=None
    )
    context = Context.from_args(args)
    assert context.settings.stack == "prod"
    assert "example stack" in capsys.readouterr().err
    Context.from_args(argparse.Namespace(**{**vars(args), "endpoint_url": "http://localhost:1"}))
    assert capsys.readouterr().err == ""  # an embedded AWS: nothing to warn about
    prod_with(tmp_path, 2_000_000)
    Context.from_args(args)
    assert capsys.readouterr().err == ""  # the user's own file


@pytest.mark.parametrize("command", [["sizing"], ["send", "--generate", "1"], ["demo"], ["check"]])
def test_a_misspelt_stack_gets_the_closest_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    prod_with(tmp_path, 2_000_000, "Pulumi.staging.yaml")
    code, out, err = run(capsys, *command, "--stack", "prd")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"eventlake {command[0]}: error: --stack prd: no stack file Pulumi.prd.yaml in {tmp_path.resolve()} "
        "or eventlake's example stacks (did you mean prod?)"
    ]
    code, _, err = run(capsys, *command, "--stack", "stagin")
    assert code == 2 and "did you mean staging?" in err


@pytest.mark.parametrize(
    ("region", "closest"), [("mars-1", None), ("eu-west1", "eu-west-1"), ("US-EAST-1", "us-east-1")]
)
@pytest.mark.parametrize("command", [["sizing"], ["send", "--generate", "1"], ["demo"]])
def test_a_region_aws_does_not_have_is_refused_with_the_closest(
    capsys: pytest.CaptureFixture[str], command: list[str], region: str, closest: str | None
) -> None:
    code, out, err = run(capsys, *command, "--region", region)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert f"--region {region} is not an AWS region (did you mean " in err
    suggested = err.split("did you mean ")[1].split("?")[0]
    assert suggested in limits.AWS_REGIONS
    if closest:
        assert suggested == closest
