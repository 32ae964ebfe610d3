"""The Lambda zip is self-contained: its files alone, on a bare interpreter (no site-packages), import the
handler and process a batch, as the Lambda runtime will; its third-party wheel and its C hot path are built
for Lambda's arm64 machines; and the handler's cold import stays small beside boto3's (measured in the bench,
not here)."""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from firehose_records import firehose_event, raw_event

from infra import lambda_bundle
from infra.settings import LAMBDA_ARCHITECTURE, PROJECT_ROOT, Settings
from infra.transform_function import HANDLER, LAMBDA_PACKAGE, lambda_contents, lambda_files

HOST_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
HOST_ARCHITECTURE = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), "")
ELF_MACHINES = {"aarch64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64


def unpack(contents: dict[str, Path], into: Path) -> None:
    for rel, path in contents.items():
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, into / rel)


def run_handler(folder: Path, event: dict) -> tuple[dict, str]:
    """The handler from ``folder`` alone: -S (no site-packages), an empty environment; also where orjson
    was imported from."""
    module, function = HANDLER.rsplit(".", 1)
    script = (
        "import json, sys; sys.path.insert(0, '.');"
        f"from {module} import {function}; import orjson;"
        f"print(orjson.__file__); print(json.dumps({function}(json.loads(sys.stdin.read()), None)))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
    )
    lines = done.stdout.strip().splitlines()  # the origin, the handler's log lines, the response
    return json.loads(lines[-1]), lines[0]


@pytest.mark.skipif(not HOST_ARCHITECTURE, reason="no Lambda architecture matches this machine")
def test_the_package_built_for_this_machine_runs_the_handler_from_its_own_files(tmp_path: Path) -> None:
    """The same builder as the deploy's, aimed at this interpreter and machine: the zip's files run."""
    unpack(lambda_contents(runtime=HOST_RUNTIME, architecture=HOST_ARCHITECTURE), tmp_path)
    response, origin = run_handler(tmp_path, firehose_event([raw_event(plan="pro"), b"not json"]))
    assert [r["result"] for r in response["records"]] == ["Ok", "ProcessingFailed"]
    assert Path(origin).resolve().is_relative_to(tmp_path.resolve())  # the bundled orjson, not the venv's


@pytest.mark.skipif(not HOST_ARCHITECTURE, reason="no Lambda architecture matches this machine")
def test_the_package_built_for_this_machine_imports_its_hot_path_from_its_own_files(tmp_path: Path) -> None:
    """The handler imports the extension optionally: here its absence or a failed load is an error."""
    unpack(lambda_contents(runtime=HOST_RUNTIME, architecture=HOST_ARCHITECTURE), tmp_path)
    module = f"{LAMBDA_PACKAGE}._hotpath"
    script = f"import sys; sys.path.insert(0, '.'); import {module} as m; print(m.__file__)"
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, check=True,
    )  # fmt: skip
    assert Path(done.stdout.strip()).resolve() == (tmp_path / LAMBDA_PACKAGE / "_hotpath.abi3.so").resolve()


@pytest.mark.slow
def test_the_deployed_package_carries_orjson_built_for_lambdas_arm64_runtime() -> None:
    runtime = Settings(stack="dev").lambda_runtime
    contents = lambda_contents(runtime=runtime, architecture=LAMBDA_ARCHITECTURE)
    version = runtime.removeprefix("python").replace(".", "")
    extensions = sorted(rel for rel in contents if rel.endswith(".so"))
    # orjson's wheel and the transform's own C hot path (infra.native_build).
    hot_path = f"{LAMBDA_PACKAGE}/_hotpath.abi3.so"
    assert extensions == [f"orjson/orjson.cpython-{version}-aarch64-linux-gnu.so", hot_path]
    for rel in extensions:
        header = contents[rel].read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == ELF_MACHINES["aarch64"]
    assert set(lambda_files()) <= set(contents)
    assert not any("__pycache__" in rel or rel.startswith("bin/") for rel in contents)


def test_the_bundled_version_is_the_one_the_tests_run() -> None:
    bundled = (PROJECT_ROOT / LAMBDA_PACKAGE / lambda_bundle.REQUIREMENTS_FILE).read_text()
    locked = (PROJECT_ROOT / "requirements.lock").read_text()
    pins = re.findall(r"(?m)^([A-Za-z0-9_.-]+)==(\S+)", bundled)
    assert pins and all(f"{name}=={version}" in locked.splitlines() for name, version in pins)
    assert all(f"{name}=={version}" for name, version in pins)
    assert bundled.count("--hash=sha256:") >= 8  # CPython 3.11-3.14, arm64 and x86_64


def test_a_package_without_requirements_ships_its_sources_only() -> None:
    assert lambda_contents(package="partition_registrar") == {
        rel: PROJECT_ROOT / rel for rel in lambda_files(package="partition_registrar")
    }


def test_the_builder_names_what_it_cannot_build() -> None:
    with pytest.raises(lambda_bundle.BundleError, match="not a Python Lambda runtime"):
        lambda_bundle.python_version("nodejs22.x")
    with pytest.raises(lambda_bundle.BundleError, match="no wheel platform"):
        lambda_bundle.platform_tag("sparc")
    with pytest.raises(lambda_bundle.BundleError, match="name its runtime"):
        lambda_contents()
