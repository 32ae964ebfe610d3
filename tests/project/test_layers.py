"""The rooms keep their direction (issue 26 item 1).

- The Pulumi program (``infra``) imports no Lambda it deploys but the transform. What the program and the
  compactor or the registrar must agree on (environment variables, metric names, the landing table, the
  superseded tag, the compactor's defaults) lives in ``glue`` (``glue.compactor_contract``,
  ``glue.registrar_contract``), which both import; the capacity model sizes the compactor's batches from
  calibrated constants (``infra.capacity.calibration``), not from its code. So the program's inputs never
  depend on a Lambda's internals, and a Lambda's code can change without the program importing it.
- What is deployed (``aws_contract``, ``glue``, ``infra``, the three Lambdas) imports nothing of
  ``eventlake``: a Lambda or the program never pulls in what only runs on a laptop.
- Outside ``eventlake/simulator`` only the CLI's entry point (which registers every command, the demo's among
  them) imports the simulator: the operations toolkit (what acts on a deployed stack) cannot come to depend on
  the embedded AWS or the Firehose model by accident.

Any import counts: at the top of a module or inside a function, ``import``, ``from ... import``,
``importlib`` or ``__import__`` with a literal name."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest
from project_sources import python_files

from infra.settings import PROJECT_ROOT

PROGRAM = "infra"
NOT_IMPORTED = ("lake_compactor", "partition_registrar")
DYNAMIC_IMPORTS = {"import_module", "__import__"}


def imports(source: str) -> Iterator[tuple[int, str]]:
    """(line, dotted module) for each module ``source`` imports, however and wherever it does."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in DYNAMIC_IMPORTS and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value


def forbidden(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in NOT_IMPORTED)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import lake_compactor.compactor", {"lake_compactor.compactor"}),
        (
            "from partition_registrar import registrar_handler",
            {"partition_registrar", "partition_registrar.registrar_handler"},
        ),
        (
            "def f():\n    from lake_compactor import compactor",
            {"lake_compactor", "lake_compactor.compactor"},
        ),
        ("import importlib\nimportlib.import_module('lake_compactor')", {"lake_compactor"}),
        ("__import__('partition_registrar.registrar_handler')", {"partition_registrar.registrar_handler"}),
        ("from glue import compactor_contract\nimport lake_compactor_notes", set()),
        ("from . import lake_compactor", set()),  # a module of the program's own, were there one
    ],
)
def test_the_scan_sees_every_way_of_importing(source: str, expected: set[str]) -> None:
    assert {module for _, module in imports(source) if forbidden(module)} == expected


def test_the_program_imports_no_compactor_or_registrar_code() -> None:
    program = PROJECT_ROOT / PROGRAM
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}"
        for path in python_files()
        if path.is_relative_to(program)
        for line, module in imports(path.read_text(encoding="utf-8"))
        if forbidden(module)
    ]
    assert offenders == [], "read the name from glue (compactor_contract, registrar_contract) instead"


def test_the_scan_reads_the_program() -> None:
    """The program is where the guard looks: it has modules, and they import glue."""
    modules = [path for path in python_files() if path.is_relative_to(PROJECT_ROOT / PROGRAM)]
    assert PROJECT_ROOT / PROGRAM / "compaction_spec.py" in modules
    assert any(m == "glue.compactor_contract" for p in modules for _, m in imports(p.read_text()))


SIMULATOR = "eventlake.simulator"
# The command line registers every command, the demo's among them: the one place that composes the rooms.
SIMULATOR_USERS = {"eventlake/cli/main.py"}
DEPLOYED = ("aws_contract", "glue", "infra", "transform_lambda", "lake_compactor", "partition_registrar")


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def imports_of(package: str) -> dict[str, set[str]]:
    """Each module under ``package`` (a project-relative folder) and the modules it imports."""
    return {
        path.relative_to(PROJECT_ROOT).as_posix(): {m for _, m in imports(path.read_text(encoding="utf-8"))}
        for path in python_files()
        if path.is_relative_to(PROJECT_ROOT / package)
    }


def test_only_the_simulator_and_the_entry_point_import_the_simulator() -> None:
    offenders = {
        path: sorted(m for m in modules if within(m, SIMULATOR))
        for path, modules in imports_of("eventlake").items()
        if not path.startswith("eventlake/simulator/") and path not in SIMULATOR_USERS
    }
    assert not {p: m for p, m in offenders.items() if m}, f"only {sorted(SIMULATOR_USERS)} may import it"


def test_the_entry_point_still_needs_its_exemption() -> None:
    """The exemption list only shrinks: an entry no longer importing the simulator is taken out."""
    for path in SIMULATOR_USERS:
        assert any(within(m, SIMULATOR) for m in imports_of(path)[path]), path


@pytest.mark.parametrize("package", DEPLOYED)
def test_what_is_deployed_imports_no_local_tooling(package: str) -> None:
    modules = imports_of(package)
    assert modules, f"{package} has no modules: the guard would read nothing"
    offenders = {path: sorted(m for m in found if within(m, "eventlake")) for path, found in modules.items()}
    assert not {p: m for p, m in offenders.items() if m}


# The one module of the program that runs the transform: to measure the processor buffer's worst case with the
# real code (infra/sizing.py). Every name the program and the transform share is in glue.transform_contract.
MEASURES_THE_TRANSFORM = {"infra/sizing.py"}


def test_the_program_runs_the_transform_only_to_measure_it() -> None:
    users = {
        path
        for path, modules in imports_of(PROGRAM).items()
        if any(within(m, "transform_lambda") for m in modules)
    }
    assert users == MEASURES_THE_TRANSFORM
