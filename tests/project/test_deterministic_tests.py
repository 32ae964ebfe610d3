"""No test fails because the machine is slow: no Hypothesis deadline, no ``too_slow`` health check.

tests/conftest.py loads a profile for the whole suite; a test's own ``@settings(...)`` can still undo it (a
``deadline=``, or a ``suppress_health_check=[...]`` list, which replaces the profile's list rather than adding
to it). These tests read every test file for such calls and check the settings each collected test runs with.
"""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TESTS = PROJECT_ROOT / "tests"


def _hypothesis_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names ``settings`` is imported under, and the names the ``hypothesis`` module is imported under."""
    settings_names: set[str] = set()
    module_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "hypothesis":
            settings_names.update(a.asname or a.name for a in node.names if a.name == "settings")
        elif isinstance(node, ast.Import):
            module_names.update(a.asname or a.name for a in node.names if a.name == "hypothesis")
    return settings_names, module_names


def _is_settings(func: ast.expr, settings_names: set[str], module_names: set[str]) -> bool:
    """``settings``, ``hypothesis.settings`` or ``settings.register_profile``, under any import name."""
    if isinstance(func, ast.Name):
        return func.id in settings_names
    if isinstance(func, ast.Attribute):
        if func.attr == "settings":
            return isinstance(func.value, ast.Name) and func.value.id in module_names
        if func.attr == "register_profile":
            return _is_settings(func.value, settings_names, module_names)
    return False


def _names_too_slow(value: ast.expr) -> bool:
    """The list names ``HealthCheck.too_slow``, or is every health check (``list(HealthCheck)``)."""
    every = (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "list"
        and [ast.unparse(a) for a in value.args] == ["HealthCheck"]
    )
    return every or any(isinstance(n, ast.Attribute) and n.attr == "too_slow" for n in ast.walk(value))


def settings_problems(source: str, filename: str = "<source>") -> list[str]:
    """Each ``settings(...)`` call that would let a slow machine fail a test, as ``file:line: why``."""
    tree = ast.parse(source, filename)
    settings_names, module_names = _hypothesis_names(tree)
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_settings(node.func, settings_names, module_names)):
            continue
        where = f"{filename}:{node.lineno}"
        for keyword in node.keywords:
            if keyword.arg is None:
                problems.append(f"{where}: **{ast.unparse(keyword.value)} cannot be checked")
            elif keyword.arg == "deadline" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is None
            ):
                problems.append(f"{where}: deadline={ast.unparse(keyword.value)} (only None)")
            elif keyword.arg == "suppress_health_check" and not _names_too_slow(keyword.value):
                listed = ast.unparse(keyword.value)
                problems.append(f"{where}: suppress_health_check={listed} drops HealthCheck.too_slow")
    return problems


def test_the_checker_catches_a_deadline_and_a_list_without_too_slow() -> None:
    bad = (
        "import hypothesis as hyp\n"
        "from hypothesis import HealthCheck, settings as s\n"
        "@s(max_examples=5, deadline=500)\n"
        "def a(): ...\n"
        "@hyp.settings(suppress_health_check=[HealthCheck.function_scoped_fixture])\n"
        "def b(): ...\n"
        "@s(**{'deadline': 200})\n"
        "def c(): ...\n"
        "s.register_profile('x', deadline=None, suppress_health_check=())\n"
    )
    assert settings_problems(bad, "bad.py") == [
        "bad.py:3: deadline=500 (only None)",
        "bad.py:5: suppress_health_check=[HealthCheck.function_scoped_fixture] drops HealthCheck.too_slow",
        "bad.py:7: **{'deadline': 200} cannot be checked",
        "bad.py:9: suppress_health_check=() drops HealthCheck.too_slow",
    ]
    good = (
        "from hypothesis import HealthCheck, settings\n"
        "from infra.settings import Settings\n"
        "@settings(max_examples=5, deadline=None)\n"
        "def a(): ...\n"
        "@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])\n"
        "def b(): ...\n"
        "@settings(suppress_health_check=list(HealthCheck))\n"
        "def c(): ...\n"
        "Settings(deadline=3)\n"  # not Hypothesis' settings
    )
    assert settings_problems(good) == []


def test_no_test_sets_a_deadline_or_drops_too_slow() -> None:
    paths = sorted(TESTS.rglob("*.py"))
    assert len(paths) > 50
    problems = [
        problem
        for path in paths
        for problem in settings_problems(path.read_text(), str(path.relative_to(PROJECT_ROOT)))
    ]
    assert problems == []


def test_the_loaded_profile_has_no_deadline_and_no_too_slow_check() -> None:
    loaded = settings.default
    assert loaded.deadline is None
    assert HealthCheck.too_slow in loaded.suppress_health_check
    assert loaded.print_blob is True
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        assert loaded.derandomize is True  # CI runs the same examples every time


def test_every_collected_hypothesis_test_runs_without_a_deadline(request: pytest.FixtureRequest) -> None:
    """What each collected test really runs with (its own settings over the profile), in this session."""
    attribute = "_hypothesis_internal_use_settings"  # where @given keeps the settings a test runs with
    ran_with = {
        item.nodeid: getattr(item.obj, attribute)
        for item in request.session.items
        if hasattr(getattr(item, "obj", None), attribute)
    }
    assert {
        node: (used.deadline, used.suppress_health_check)
        for node, used in ran_with.items()
        if used.deadline is not None or HealthCheck.too_slow not in used.suppress_health_check
    } == {}


def test_a_loaded_machine_does_not_fail_a_slow_example() -> None:
    """The profile in action: examples slower than Hypothesis' default 200 ms deadline pass."""

    @settings(max_examples=2, database=None)
    @given(st.integers())
    def slow(_: int) -> None:
        time.sleep(0.3)

    slow()
