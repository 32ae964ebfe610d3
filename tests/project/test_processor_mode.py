"""The processor mode is chosen in one module (issue 26 item 3): ``infra/processors.py`` picks the stack's
processor object, and everything else asks that object for what differs instead of testing the mode.

A condition on the mode is an ``if``/``else``/``while`` test, a comprehension's ``if``, an ``and``/``or``/
``not`` or an ``==``/``!=`` that names ``uses_lambda``, ``PROCESSOR_JQ``/``PROCESSOR_LAMBDA``, compares a
``processor``, reads a flag the processor object once had (``records_as_sent``, ``converts_format``: it
answers what they decided now) or a local name that carries one (``as_sent``, ``via_lambda``).
What still tests it would be listed in ``KNOWN`` (file -> how many), each with why it is left; it is empty
(reprocess asks the processor which error records carry its row and where its lineage is), and it only
shrinks (a test fails when an entry is no longer needed, or its count drops)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest
from project_sources import python_files

from infra.settings import PROJECT_ROOT

CHOOSER = "infra/processors.py"
MODE_NAMES = {"uses_lambda", "PROCESSOR_JQ", "PROCESSOR_LAMBDA"}
PROCESSOR_FLAGS = {"records_as_sent", "converts_format"}
CARRIERS = {"as_sent", "via_lambda"}  # a local or a parameter holding the mode
KNOWN: dict[str, int] = {}


def _names_mode(node: ast.AST) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and inner.id in MODE_NAMES | CARRIERS:
            return True
        if isinstance(inner, ast.Attribute) and inner.attr in MODE_NAMES | PROCESSOR_FLAGS:
            return True
        if isinstance(inner, ast.Compare) and all(isinstance(op, (ast.Eq, ast.NotEq)) for op in inner.ops):
            operands = [inner.left, *inner.comparators]
            if any(isinstance(o, ast.Attribute) and o.attr == "processor" for o in operands):
                return True
    return False


def mode_conditions(source: str) -> list[int]:
    """The lines of each condition on the processor mode in ``source`` (one per line)."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        tests: list[ast.expr] = []
        if isinstance(node, (ast.If, ast.IfExp, ast.While)):
            tests = [node.test]
        elif isinstance(node, ast.comprehension):
            tests = list(node.ifs)
        elif isinstance(node, (ast.BoolOp, ast.Compare)) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
        ):
            tests = [node]
        lines.update(test.lineno for test in tests if _names_mode(test))
    return sorted(lines)


def found() -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in python_files():
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        if rel != CHOOSER:
            counts.update({rel: len(mode_conditions(path.read_text(encoding="utf-8")))})
    return +counts


def test_the_processor_mode_is_tested_only_where_the_processor_is_chosen() -> None:
    counts = found()
    grown = {path: n for path, n in counts.items() if n > KNOWN.get(path, 0)}
    assert grown == {}, "ask the processor object (infra/processors.py) instead of testing the mode"
    shrunk = {path: (KNOWN[path], counts.get(path, 0)) for path in KNOWN if counts.get(path, 0) < KNOWN[path]}
    assert shrunk == {}, "fewer conditions than KNOWN says: lower or drop its entry"


@pytest.mark.parametrize(
    ("source", "count"),
    [
        ("x = a if settings.uses_lambda else b", 1),
        ("if not spec.uses_lambda:\n    pass", 1),
        ("as_sent = record.processor == PROCESSOR_JQ", 1),
        ("ok = settings.processor != 'jq'", 1),
        ("if processing.records_as_sent and x:\n    pass", 1),
        ("rows = [r for r in rows if spec.processing.converts_format]", 1),
        ("table = None if as_sent else reader()", 1),
        ("connect(root, as_sent=processor.records_as_sent)", 0),
        ("table = processor_for(settings).table", 0),
        ("if args.processor is not None:\n    pass", 0),
        ("settings = replace(settings, processor=args.processor)", 0),
    ],
)
def test_the_scan_sees_each_kind_of_condition(source: str, count: int) -> None:
    assert len(mode_conditions(source)) == count


def test_the_chooser_exists() -> None:
    assert (PROJECT_ROOT / CHOOSER).is_file() and Path(CHOOSER).stem == "processors"


def test_every_table_keyed_by_mode_names_exactly_the_chosen_processors() -> None:
    """What the chooser cannot own (the simulator's model of each mode, the invariant each mode's lake is held
    to, the setting's valid values) is looked up by the processor's name: a mode added to the chooser and
    missing from one of them fails here, not in a run."""
    from eventlake.checks.mode_invariants import INVARIANTS
    from eventlake.simulator.firehose.model import LOCAL_MODELS
    from infra import processors
    from infra.settings import PROCESSORS

    chosen = set(processors.PROCESSORS)
    assert set(LOCAL_MODELS) == chosen
    assert set(INVARIANTS) == chosen
    assert set(PROCESSORS) == chosen
