"""The rooms keep their direction (issue 26 item 1): what is deployed never imports the local tooling, and
nothing but the simulator and the command line's entry point imports the simulator.

So the operations toolkit (``eventlake/operations``: what acts on a deployed stack) cannot come to depend on
the embedded AWS or the Firehose model by accident, and a Lambda or the Pulumi program cannot pull in what
only runs on a laptop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from project_sources import python_files

from infra.settings import PROJECT_ROOT

SIMULATOR = "eventlake.simulator"
# The command line registers every command, the demo's among them: the one place that composes the rooms.
SIMULATOR_USERS = {"eventlake/cli/main.py"}
DEPLOYED = ("aws_contract", "glue", "infra", "transform_lambda", "lake_compactor", "partition_registrar")


def imported_modules(source: str) -> set[str]:
    """Every module ``source`` imports, dotted (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def test_imported_modules_sees_every_form() -> None:
    source = "import a.b\nfrom c import d as e\nfrom . import f\ndef g():\n    from h.i import j\n"
    assert imported_modules(source) == {"a.b", "c", "c.d", "h.i", "h.i.j"}


def test_only_the_simulator_and_the_entry_point_import_the_simulator() -> None:
    offenders = {
        relative(path): sorted(m for m in imported_modules(path.read_text()) if within(m, SIMULATOR))
        for path in python_files()
        if relative(path).startswith("eventlake/") and not relative(path).startswith("eventlake/simulator/")
    }
    offenders = {path: mods for path, mods in offenders.items() if mods and path not in SIMULATOR_USERS}
    assert not offenders, f"outside the simulator, only {sorted(SIMULATOR_USERS)} may import it: {offenders}"


def test_the_entry_point_still_needs_its_exemption() -> None:
    """The exemption list only shrinks: an entry no longer importing the simulator is taken out."""
    for path in SIMULATOR_USERS:
        assert any(within(m, SIMULATOR) for m in imported_modules((PROJECT_ROOT / path).read_text())), path


@pytest.mark.parametrize("package", DEPLOYED)
def test_what_is_deployed_imports_no_local_tooling(package: str) -> None:
    offenders = {
        relative(path): sorted(m for m in imported_modules(path.read_text()) if within(m, "eventlake"))
        for path in python_files()
        if relative(path).startswith(package + "/")
    }
    assert not {p: m for p, m in offenders.items() if m}
