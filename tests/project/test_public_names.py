"""A module uses another module's public names only (issue 26): a leading underscore says "this module's
own", so a name reached from elsewhere is renamed public, or the need for it goes away. And botocore's
private names are used nowhere: the claim store speaks to DynamoDB through public APIs.

Every package of the project and ``__main__.py`` are read; what counts is ``from x import _y``, ``import
x._y`` and ``x._y`` (or ``x.y._z``) on a name an import bound, whether the module is this project's or a
dependency's. One exception: a package's own C accelerator module (``transform_lambda/_hotpath.c``) imported
by a module of that package, private to its package by CPython's convention (``json`` importing ``_json``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from project_sources import python_files

from infra.settings import PROJECT_ROOT


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path, source: str | None = None) -> Iterator[tuple[str, str]]:
    """(module, name) for each private name ``path`` imports from another module or reads off one."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                for depth, part in enumerate(parts):
                    parent = ".".join(parts[:depth])
                    if _private(part) and not _own_accelerator(path, parent, part):
                        yield parent, part
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            parts = (node.module or "").split(".")
            for depth, part in enumerate(parts):
                parent = "." * node.level + ".".join(parts[:depth])
                if _private(part) and not _own_accelerator(path, parent, part):
                    yield parent, part
            for alias in node.names:
                if _private(alias.name) and not _own_accelerator(path, module, alias.name):
                    yield module, alias.name
                bound.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                yield ast.unparse(node.value), node.attr


def _own_accelerator(path: Path, module: str, name: str) -> bool:
    """``from package import _module`` (or ``import package._module``) inside that package, of a C extension
    module (``_hotpath.c``): private to its package by CPython's convention (``_json``, ``_pickle``)."""
    if not module or module.startswith("."):
        folder = path.parent if module in (".", "") else None
    else:
        folder = PROJECT_ROOT / module.replace(".", "/")
    return folder is not None and path.parent == folder and (folder / f"{name}.c").is_file()


def project_and_test_files() -> list[Path]:
    """Every source file and every test file: botocore's private names are used nowhere, tests included."""
    return [*python_files(), *sorted((PROJECT_ROOT / "tests").rglob("*.py"))]


def found() -> set[tuple[str, str, str]]:
    """Every private name reached from another module, in the project's code and in its tests."""
    return {
        (path.relative_to(PROJECT_ROOT).as_posix(), module, name)
        for path in project_and_test_files()
        for module, name in private_uses(path)
    }


def test_no_module_reaches_into_another_modules_private_names() -> None:
    assert found() == set(), "a private name used from another module: make it public"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from eventlake.athena.engine import _TYPES", {("eventlake.athena.engine", "_TYPES")}),
        ("from .model import _Buffer", {(".model", "_Buffer")}),
        ("from eventlake.athena import engine as athena\nathena._TYPES", {("athena", "_TYPES")}),
        (
            "import eventlake.athena.engine\neventlake.athena.engine._TYPES",
            {("eventlake.athena.engine", "_TYPES")},
        ),
        ("import transform_lambda._hotpath", {("transform_lambda", "_hotpath")}),
        ("import os\nos._exit(0)", {("os", "_exit")}),
        ("from transform_lambda import _hotpath", {("transform_lambda", "_hotpath")}),
        ("import os\nself._private, os.__file__, local._name", set()),
    ],
)
def test_the_scan_sees_each_way_of_reaching_in(source: str, expected: set[tuple[str, str]]) -> None:
    """Read as a module of ``tools/`` (not ``transform_lambda``, whose own accelerator is allowed)."""
    assert set(private_uses(PROJECT_ROOT / "tools" / "probe.py", source)) == expected


def test_a_package_may_import_its_own_accelerator() -> None:
    events = PROJECT_ROOT / "transform_lambda" / "events.py"
    for source in (
        "from transform_lambda._hotpath import first_arrival",
        "from transform_lambda import _hotpath",
        "import transform_lambda._hotpath",
        "from . import _hotpath",
    ):
        assert set(private_uses(events, source)) == set()


def test_no_private_botocore_name_is_used() -> None:
    """botocore's ``_``-names change without notice and the Lambda runtime's botocore is not pinned: neither
    the code nor its tests use one (a test that must see every call registers a public event handler,
    ``tests/client_calls.py``). This file names them only as strings."""
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}: {module}.{name}"
        for path in project_and_test_files()
        for module, name in private_uses(path)
        if module.split(".")[0] in ("botocore", "boto3")
    ]
    for path in project_and_test_files():
        text = path.read_text(encoding="utf-8")
        if "botocore" not in text and "boto3" not in text:
            continue
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr in BOTOCORE_PRIVATE
            ):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.attr}")
    assert offenders == []


# The private botocore attributes issue 26 names, read off a client or its parts.
BOTOCORE_PRIVATE = {
    "_request_signer",
    "_endpoint",
    "_user_agent_creator",
    "_resolve_endpoint_ruleset",
    "_credentials",
    "_client_config",
    "_serializer",
    "_response_parser",
    "_make_api_call",
    "_emit_api_params",
}
