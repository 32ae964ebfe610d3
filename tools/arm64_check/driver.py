"""Runs the transform handler from a Lambda package folder alone over a JSON file of Firehose events.

Usage: python -S driver.py PKG EVENTS OUT [--pure]
Only PKG and the standard library are importable (-S, and sys.path is reset), as on Lambda. Writes the
responses to OUT, the log lines of a second pass (fixed clock, so they compare too) to OUT.logs, and what
ran (interpreter, machine, whether the compiled path loaded and how many records it wrote) to
OUT.summary.json, also printed. --pure disables the compiled path: the pure-Python reference.
Stdlib only, Python 3.11+: it runs on the arm64 interpreter under qemu too.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable
from typing import Any


def isolate(pkg: str) -> None:
    """sys.path = the package folder and the standard library: nothing from the repo or a venv leaks in."""
    stdlib = [p for p in sys.path[1:] if p.startswith(sys.base_prefix) and "-packages" not in p]
    sys.path[:] = [pkg, *stdlib]


def run(pkg: str, events_path: str, out_path: str, *, pure: bool) -> dict[str, Any]:
    """``pkg``: an absolute path ending in os.sep, so a module's file under it starts with it."""
    isolate(pkg)
    import orjson

    from transform_lambda import events as ev
    from transform_lambda.claims import NoClaims
    from transform_lambda.handler import process

    for name, module in (("transform_lambda.events", ev), ("orjson", orjson)):
        if not str(module.__file__).startswith(pkg):
            raise SystemExit(f"{name} loaded from outside {pkg}: {module.__file__}")
    loaded = ev.hot_first_arrival is not None
    hot_file = ev.COMPILED_FILE  # None exactly when the compiled path does not serve
    if hot_file is not None and not hot_file.startswith(pkg):
        raise SystemExit(f"_hotpath loaded from outside {pkg}: {hot_file}")
    counts = {"calls": 0, "taken": 0}  # records offered to the compiled path, and those it wrote
    if pure:
        ev.hot_first_arrival = None
    elif loaded:
        hot: Callable[..., Any] = ev.hot_first_arrival

        def counted(*args: Any) -> Any:
            counts["calls"] += 1
            result = hot(*args)
            counts["taken"] += result is not None
            return result

        ev.hot_first_arrival = counted

    with open(events_path) as f:
        batches: list[dict[str, Any]] = json.load(f)
    responses = [process(event, claims=NoClaims(), log=lambda _: None) for event in batches]
    logs: list[Any] = []
    for event in batches:
        process(event, claims=NoClaims(), log=logs.append, clock=lambda: 0.0)
    with open(out_path, "w") as f:
        json.dump(responses, f, sort_keys=True)
    with open(out_path + ".logs", "w") as f:
        json.dump(logs, f, sort_keys=True)

    records = [record for response in responses for record in response["records"]]
    summary = {
        "mode": "pure" if pure else "compiled",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "compiled_loaded": loaded,
        "hotpath": hot_file,
        "hotpath_error": None if loaded else ev.COMPILED_IMPORT_ERROR,
        "orjson": orjson.__version__,
        "batches": len(responses),
        "records": len(records),
        "ok": sum(record["result"] == "Ok" for record in records),
        "log_lines": len(logs),
        "hot_calls": counts["calls"],
        "hot_taken": counts["taken"],
    }
    with open(out_path + ".summary.json", "w") as f:
        json.dump(summary, f, sort_keys=True)
    return summary


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4) or argv[3:] not in ([], ["--pure"]):
        print(__doc__, file=sys.stderr)
        return 2
    pkg, events_path, out_path = os.path.join(os.path.abspath(argv[0]), ""), argv[1], argv[2]
    print(json.dumps(run(pkg, events_path, out_path, pure=argv[3:] == ["--pure"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
