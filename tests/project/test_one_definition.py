"""Each name means one thing and each AWS limit is written once (in ``aws_contract.limits``)."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from project_sources import python_files

from aws_contract import limits
from infra.settings import PROJECT_ROOT

# Fake payload values of the sample events (durations, ids, counts), not limits.
NOT_LIMITS = {Path("eventlake/traffic/sample_events.py")}


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in python_files():
        yield path.relative_to(PROJECT_ROOT), ast.parse(path.read_text(), str(path))


def test_no_two_classes_share_a_name() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for path, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(str(path))
    assert {name: paths for name, paths in where.items() if len(paths) > 1} == {}


def test_no_two_modules_share_a_name() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for path, _ in sources():
        if path.name not in ("__init__.py", "__main__.py"):
            where[path.stem].append(str(path))
    assert {name: paths for name, paths in where.items() if len(paths) > 1} == {}


def _limit_values() -> dict[float, list[str]]:
    """The values only an AWS limit would have: not round numbers a setting or a sample might use."""
    values: dict[float, list[str]] = defaultdict(list)
    for name, value in vars(limits).items():
        if not name.isupper():
            continue
        for item in value if isinstance(value, tuple) else (value,):
            if (isinstance(item, float) and not item.is_integer()) or (
                isinstance(item, int)
                and item > 1024
                and (item % 1000 or item > 10_000)
                and not _power_of_ten(item)
            ):
                values[item].append(name)
    return values


def _power_of_ten(value: int) -> bool:
    """10_000_000 is a limit (Athena's least scan cutoff) but also just 1e7: too common to claim."""
    return str(value).lstrip("1") == "0" * (len(str(value)) - 1)


def _numbers(tree: ast.Module) -> Iterator[tuple[int, float]]:
    """Every numeric literal, and every constant expression (``5 * 1024 * 1024``), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            try:
                value = eval(compile(ast.Expression(node), "<limit>", "eval"), {"__builtins__": {}})
            except Exception:  # not a constant expression
                continue
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            value = node.value
        else:
            continue
        yield node.lineno, value


def test_no_aws_limit_is_written_outside_the_limits_module() -> None:
    values = _limit_values()
    assert 6_000_000 in values and 0.2 in values  # the scan sees the limits it is meant to see
    copies = [
        f"{path}:{line} writes {value} ({', '.join(values[value])})"
        for path, tree in sources()
        if path.parts[0] != "aws_contract" and path not in NOT_LIMITS
        for line, value in _numbers(tree)
        if value in values
    ]
    assert copies == []
