"""Compares driver runs: their responses and their log lines (but for the fields naming the path that
ran and what it wrote) must be byte-identical after ``json.dumps(sort_keys=True)``; a run in compiled mode
must have loaded the compiled path and written records through it; a pure run must not have called it. Exits
1 on any failure, so the check fails.

Usage: python compare.py OUT...   (the driver's OUT names; OUT.logs and OUT.summary.json are read too)
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

# The log fields that must differ between a compiled and a pure run: each batch line says which path ran and
# how many rows it wrote (also as the CompiledRecords metric).
MODE_FIELDS = frozenset({"compiled_path", "compiled_records", "CompiledRecords"})


def digest(path: Path) -> tuple[str, int]:
    value = json.loads(path.read_text())
    if path.name.endswith(".logs"):
        value = [{k: v for k, v in line.items() if k not in MODE_FIELDS} for line in value]
    text = json.dumps(value, sort_keys=True).encode()
    return hashlib.sha256(text).hexdigest(), len(text)


def path_problems(name: str, summary: dict[str, Any]) -> list[str]:
    """Why a run did not exercise the path its mode names, if it did not."""
    if summary["mode"] == "pure":
        return [f"{name}: pure run called the compiled path"] if summary["hot_calls"] else []
    if not summary["compiled_loaded"]:
        return [f"{name}: compiled path did not load: {summary['hotpath_error']}"]
    if not summary["hot_taken"]:
        return [f"{name}: compiled path loaded but wrote no record"]
    return []


def compare(outputs: list[Path]) -> list[str]:
    """Prints each file's digest and each run's summary; returns the failures (none: all identical)."""
    problems: list[str] = []
    for suffix in ("", ".logs"):
        digests = {}
        for out in outputs:
            digests[out] = digest(out.with_name(out.name + suffix))
            print(f"{digests[out][0]}  {digests[out][1]:>9}  {out.name}{suffix}")
        same = len({d for d, _ in digests.values()}) == 1
        print("IDENTICAL" if same else "DIFFERENT")
        if not same:
            problems.append(f"{'log lines' if suffix else 'responses'} differ")
    for out in outputs:
        summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
        print(
            f"{out.name}: {summary['machine']} python {summary['python']} {summary['mode']}: "
            f"{summary['records']} records ({summary['ok']} Ok), compiled path wrote "
            f"{summary['hot_taken']}/{summary['hot_calls']}"
        )
        problems += path_problems(out.name, summary)
        if not summary["records"]:
            problems.append(f"{out.name}: no records: nothing was compared")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = compare([Path(name) for name in argv])
    for problem in problems:
        print(f"FAIL: {problem}")
    print("PASS" if not problems else "FAIL")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
