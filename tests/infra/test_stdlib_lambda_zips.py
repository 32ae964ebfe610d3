"""The compactor's and the registrar's zips hold the ``glue`` contract their function reads (its environment,
metric and tag names: ``glue.compactor_contract``, ``glue.registrar_contract``) and import from their own
files on a bare interpreter (no site-packages; boto3 comes from the Lambda runtime, imported at the first
invocation), so moving those names out of the Lambdas' modules left nothing behind the zip lacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import compaction_spec, registration_spec
from infra.transform_function import lambda_contents

FUNCTIONS = [
    (compaction_spec.LAMBDA_PACKAGE, compaction_spec.HANDLER, "glue/compactor_contract.py"),
    (registration_spec.LAMBDA_PACKAGE, registration_spec.HANDLER, "glue/registrar_contract.py"),
]


@pytest.mark.parametrize(("package", "handler", "contract"), FUNCTIONS)
def test_the_zip_holds_its_contract_and_imports_from_its_own_files(
    tmp_path: Path, package: str, handler: str, contract: str
) -> None:
    contents = lambda_contents(package=package)
    assert contract in contents and "glue/schema.py" in contents
    for rel, path in contents.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, tmp_path / rel)
    module, function = handler.rsplit(".", 1)
    script = f"import {module} as m; print(m.__file__); print(callable(m.{function}))"
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
    )
    origin, is_callable = done.stdout.split()
    assert Path(origin).resolve().is_relative_to(tmp_path.resolve()) and is_callable == "True"
