"""tools/arm64_check's own parts, natively and offline: its build step makes this machine's Lambda package,
its driver runs the handler from that package alone with the compiled path and with the pure-Python one, and
its compare step passes them only when the outputs are identical and each run took the path its mode names.
The arm64 half (Debian's interpreter under qemu) is the tool's end-to-end run, not a test: it downloads."""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from infra.settings import PROJECT_ROOT

TOOL = PROJECT_ROOT / "tools" / "arm64_check"
HOST_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = [
    pytest.mark.skipif(platform.machine() != "x86_64", reason="the tool's native half is x86_64"),
    pytest.mark.slow,
]


def tool_module(name: str) -> ModuleType:
    """A script of the tool, imported from its file (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"arm64_check_{name}", TOOL / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prepare, compare = tool_module("prepare"), tool_module("compare")


def drive(pkg: Path, events: Path, out: Path, *pure: str) -> dict[str, Any]:
    """The driver as run.sh runs it on x86_64: a separate interpreter without site-packages."""
    done = subprocess.run(
        [sys.executable, "-S", str(TOOL / "driver.py"), str(pkg), str(events), str(out), *pure],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("arm64-check")
    pkg, events = folder / "pkg-x86_64", folder / "events.json"
    contents = prepare.build_package(pkg, runtime=HOST_RUNTIME, architecture="x86_64")
    assert "transform_lambda/_hotpath.abi3.so" in contents
    assert prepare.write_events(events, count=300, seed=7) >= 1
    return pkg, events


def test_compiled_and_pure_runs_compare_identical(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    pkg, events = inputs
    compiled = drive(pkg, events, tmp_path / "compiled.json")
    pure = drive(pkg, events, tmp_path / "pure.json", "--pure")
    assert compiled["compiled_loaded"] and compiled["hotpath"].startswith(str(pkg))
    assert compiled["hot_taken"] > 0 and pure["hot_calls"] == 0
    assert compiled["records"] == pure["records"] == 300
    assert compare.main([str(tmp_path / "compiled.json"), str(tmp_path / "pure.json")]) == 0


def test_compare_fails_on_a_differing_response(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    pkg, events = inputs
    drive(pkg, events, tmp_path / "a.json", "--pure")
    drive(pkg, events, tmp_path / "b.json", "--pure")
    responses = json.loads((tmp_path / "b.json").read_text())
    responses[0]["records"][0]["result"] = "Dropped"
    (tmp_path / "b.json").write_text(json.dumps(responses))
    assert compare.main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1


def test_compare_fails_when_the_compiled_path_did_not_load(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """Without its .so the package answers the same (the pure path) but proves nothing of the compiled one."""
    pkg, events = inputs
    stripped = tmp_path / "pkg"
    shutil.copytree(pkg, stripped)
    (stripped / "transform_lambda" / "_hotpath.abi3.so").unlink()
    summary = drive(stripped, events, tmp_path / "compiled.json")
    drive(pkg, events, tmp_path / "pure.json", "--pure")
    assert not summary["compiled_loaded"] and summary["hotpath_error"]
    assert compare.main([str(tmp_path / "compiled.json"), str(tmp_path / "pure.json")]) == 1
