"""The project installs as a package: its console script and its packages are what pyproject declares."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra.settings import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def test_the_console_script_names_the_cli_entry_point() -> None:
    module, function = PYPROJECT["project"]["scripts"]["eventlake"].split(":")
    assert callable(getattr(importlib.import_module(module), function))


# Top-level packages that stay out of an installed copy on purpose: what measures (issue 26).
NOT_INSTALLED = {"benchmarks"}


def test_every_top_level_package_is_declared() -> None:
    """A new top-level package left out of ``packages.find`` would be missing from an installed copy."""
    declared = {p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    found = {p.parent.name for p in PROJECT_ROOT.glob("*/__init__.py")}
    assert found - NOT_INSTALLED == declared and not declared & NOT_INSTALLED


@pytest.mark.slow
def test_python_m_eventlake_runs_from_another_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventlake", "demo", "--help"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--events" in done.stdout


def test_moto_s_server_is_a_test_dependency_only() -> None:
    """The installed packages run moto in process; its HTTP server (Flask, Werkzeug) serves only the tests
    that drive commands through ``--endpoint-url`` (tests/embedded_server.py)."""
    runtime = PYPROJECT["project"]["dependencies"]
    assert any(d.startswith("moto") for d in runtime) and not [d for d in runtime if "[server]" in d]
    assert any("moto[server]" in d for d in PYPROJECT["project"]["optional-dependencies"]["dev"])
    packages = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
    importers = [
        str(path.relative_to(PROJECT_ROOT))
        for package in packages
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if "moto.server" in path.read_text() or "ThreadedMotoServer" in path.read_text()
    ]
    assert importers == []
