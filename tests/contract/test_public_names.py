"""A module uses another module's public names only (issue 26): a leading underscore says "this module's
own", so a name reached from elsewhere is renamed public, or the need for it goes away. And botocore's
private names are used nowhere: the claim store speaks to DynamoDB through public APIs.

What still reaches across is listed in ``KNOWN``, each with the module that owns the fix; the list only
shrinks (a test fails when an entry is no longer needed)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from infra.settings import PROJECT_ROOT

SOURCE = (
    "eventlake",
    "infra",
    "transform_lambda",
    "glue",
    "aws_contract",
    "partition_registrar",
    "lake_compactor",
    "benchmarks",
    "tools",
)
# (file, module alias or imported module, name): still to go.
KNOWN = {
    ("eventlake/local_compaction.py", "athena", "_DUCKDB_TYPES"),
    ("benchmarks/transform.py", "events", "_hot_first_arrival"),
    ("tools/arm64_check/driver.py", "ev", "_hot_first_arrival"),
}


def private_uses(path: Path) -> Iterator[tuple[str, str]]:
    """(module, name) for each private name ``path`` imports from another module or reads off one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (
                    alias.name.startswith("_")
                    and not alias.name.startswith("__")
                    and not _own_accelerator(path, node.module, alias.name)
                ):
                    yield node.module or ".", alias.name
                modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            yield node.value.id, node.attr


def _own_accelerator(path: Path, module: str | None, name: str) -> bool:
    """``from package import _module`` inside that package, of a C extension module (``_hotpath.c``): private
    to its package by CPython's convention (``_json``, ``_pickle``), not another module's private name."""
    folder = PROJECT_ROOT / (module or "").replace(".", "/")
    return bool(module) and path.parent == folder and (folder / f"{name}.c").is_file()


def found() -> set[tuple[str, str, str]]:
    return {
        (path.relative_to(PROJECT_ROOT).as_posix(), module, name)
        for root in SOURCE
        for path in sorted((PROJECT_ROOT / root).rglob("*.py"))
        for module, name in private_uses(path)
    }


def test_no_module_reaches_into_another_modules_private_names() -> None:
    uses = found()
    assert uses - KNOWN == set(), "a private name used from another module: make it public"
    assert KNOWN - uses == set(), "fixed: drop it from KNOWN"


def test_no_private_botocore_name_is_used() -> None:
    """botocore's ``_``-names change without notice and the Lambda runtime's botocore is not pinned."""
    offenders = []
    for root in SOURCE:
        for path in (PROJECT_ROOT / root).rglob("*.py"):
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
