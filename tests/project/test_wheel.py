"""A wheel works anywhere: what the code reads beside itself at run time (prices, saved queries, the example
stacks) is inside the installed packages, and the CLI, installed from the wheel into a fresh venv outside the
repository, runs from a directory outside it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import pytest

from infra.settings import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
PACKAGES = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
# Built or cached next to the sources, never shipped as data.
NOT_DATA = ("*.py", "*.pyc", "*.so", "*.pyd")


def data_files() -> list[str]:
    """Every file of a package that is not Python source or a build product, relative to the repository."""
    found = []
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not any(map(path.match, NOT_DATA)):
                found.append(path.relative_to(PROJECT_ROOT).as_posix())
    return found


def test_every_data_file_of_a_package_is_declared_package_data() -> None:
    """A file the code reads (a new price table, a saved query, a schema) left out of package-data would be
    missing from a wheel, and only there."""
    declared = PYPROJECT["tool"]["setuptools"]["package-data"]
    undeclared = [
        name
        for name in data_files()
        if not any(
            fnmatch(name, f"{package}/{pattern}")
            for package, patterns in declared.items()
            for pattern in patterns
        )
    ]
    assert data_files() and undeclared == []


def test_the_installed_packages_hold_no_bench() -> None:
    """What measures lives in ``benchmarks/`` beside ``tests/``: ``pip install .`` finds neither."""
    from setuptools import find_namespace_packages

    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    shipped = find_namespace_packages(where=str(PROJECT_ROOT / find["where"][0]), include=find["include"])
    assert "eventlake" in shipped and not [p for p in shipped if p.split(".")[0] in {"benchmarks", "tests"}]
    modules = [m for p in PACKAGES for m in (PROJECT_ROOT / p).rglob("*.py") if "bench" in m.name]
    assert modules == []


def source_copy(dest: Path) -> Path:
    """What a build reads, copied out of the checkout (a build in place would leave build/ behind)."""
    dest.mkdir()
    for name in (
        "pyproject.toml",
        "setup.py",
        "MANIFEST.in",
        *(p.name for p in PROJECT_ROOT.glob("Pulumi.*")),
    ):
        if (PROJECT_ROOT / name).is_file():
            shutil.copy2(PROJECT_ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", *NOT_DATA[1:], "*.egg-info")
    for package in PACKAGES:
        shutil.copytree(PROJECT_ROOT / package, dest / package, ignore=ignore)
    return dest


def fresh_venv(where: Path) -> Path:
    """A venv with no packages of its own; the project's installed dependencies reach it through a .pth
    file (offline and fast). Only a site directory's .pth files run, so the project venv's editable
    install of eventlake stays inactive there."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()
    Path(purelib, "eventlake-test-dependencies.pth").write_text(f"{ours['purelib']}\n{ours['platlib']}\n")
    return python


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_repository(tmp_path: Path) -> None:
    # pip's build isolation takes setuptools from the configured index, as the Makefile's install does.
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(wheels),
            str(source_copy(tmp_path / "src")),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("eventlake-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in data_files() if name not in shipped]
    stacks = [f"infra/stacks/{p.name}" for p in PROJECT_ROOT.glob("Pulumi.*.yaml")]
    assert missing == [] and stacks and set(stacks) <= shipped
    assert not any(name.startswith("tests/") for name in shipped)
    assert not [name for name in shipped if name.endswith(".py") and "bench" in name], "benches stay out"

    python = fresh_venv(tmp_path / "venv")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(home)}

    def eventlake(*argv: str, cwd: Path = home) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["eventlake", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )

    where = subprocess.run(
        [
            python,
            "-c",
            "import eventlake, glue, infra; print(eventlake.__file__, glue.__file__, infra.__file__)",
        ],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(f).is_relative_to(tmp_path / "venv") for f in where), where

    done = eventlake("--help")
    assert done.returncode == 0 and "sizing" in done.stdout, done.stderr

    # A stack file in the working directory, as `pulumi` reads it: the prod stack, and one only here.
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(PROJECT_ROOT / "Pulumi.prod.yaml", work / "Pulumi.prod.yaml")
    shutil.copy(PROJECT_ROOT / "Pulumi.prod.yaml", work / "Pulumi.mine.yaml")
    done = eventlake("sizing", "--stack", "prod", cwd=work)
    assert done.returncode == 0 and done.stderr == "" and "Kinesis" in done.stdout, done.stderr
    done = eventlake("sizing", "--stack", "mine", "--output", "json", cwd=work)
    assert done.returncode == 0 and json.loads(done.stdout)["stack"] == "mine", done.stderr

    # No stack file here: the demo runs on the example dev stack the wheel carries (prices, SQL, stacks).
    done = eventlake("demo", "--events", "200", cwd=home)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (home / "out" / "dev" / "lake").is_dir()  # exit 0: the invariant holds
