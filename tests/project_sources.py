"""The project's own source files, listed once for the contract tests that scan them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from infra.settings import PROJECT_ROOT

# Every package of the project, and the Pulumi program's own entry point.
PACKAGES = (
    "aws_contract",
    "eventlake",
    "glue",
    "infra",
    "transform_lambda",
    "lake_compactor",
    "partition_registrar",
    "benchmarks",
    "tools",
    "__main__.py",
)


def python_files() -> Iterator[Path]:
    """Every Python file of ``PACKAGES`` (absolute paths), in a fixed order."""
    for package in PACKAGES:
        top = PROJECT_ROOT / package
        yield from [top] if top.is_file() else sorted(top.rglob("*.py"))
