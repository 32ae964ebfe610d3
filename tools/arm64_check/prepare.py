"""The check's inputs from the repo: a Lambda package folder holding exactly the zip's files
(``infra.transform_function.lambda_contents``, so the same cross-compiled ``_hotpath`` and orjson wheel the
deploy ships), and a JSON file of Firehose events (``benchmarks.transform.batches``).

Usage: python prepare.py package RUNTIME ARCHITECTURE DEST
       python prepare.py events COUNT SEED DEST
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _importable_repo() -> None:
    """The repo's packages, also when run as a script from another folder (sys.path[0] is this folder)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def build_package(dest: Path, *, runtime: str, architecture: str) -> dict[str, Path]:
    """Replaces ``dest`` with the zip's files for ``runtime`` on ``architecture``; returns rel -> source."""
    _importable_repo()
    from infra.transform_function import lambda_contents

    contents = lambda_contents(runtime=runtime, architecture=architecture)
    if dest.exists():
        shutil.rmtree(dest)
    for rel, source in sorted(contents.items()):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest / rel)
    return contents


def write_events(dest: Path, *, count: int, seed: int) -> int:
    """Writes ``count`` sample records as Firehose events; returns the number of events."""
    _importable_repo()
    from benchmarks import transform as bench

    events = bench.batches(count, seed)
    dest.write_text(json.dumps(events))
    return len(events)


def main(argv: list[str]) -> int:
    match argv:
        case ["package", runtime, architecture, dest]:
            contents = build_package(Path(dest), runtime=runtime, architecture=architecture)
            print(f"{architecture} {runtime}: {len(contents)} files -> {dest}")
            for rel, source in sorted(contents.items()):
                if rel.endswith(".so"):
                    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
                    print(f"  {rel}  sha256={digest}  <- {source}")
        case ["events", count, seed, dest]:
            made = write_events(Path(dest), count=int(count), seed=int(seed))
            print(f"{made} events ({count} records, seed {seed}) -> {dest}")
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
