"""Write the first catalog (``glue/event_types/``) from the sample generator's payload shapes.

Run once by hand (``.venv/bin/python tools/event_catalog/from_samples.py``), then review the files and commit
them: they are the contract from then on, edited by people, so an existing file is kept unless ``--force``.
Each name's builder is drawn ``--draws`` times from one seeded ``random.Random``, through the same inference
``eventlake catalog infer`` uses on a lake.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eventlake.catalog.catalog_inference import observe, propose
from eventlake.traffic.sample_events import CATALOGUE
from glue.event_catalog import CATALOG_DIR, document_of, dumps, parse_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CATALOG_DIR)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="overwrite files that exist (reviewed ones too)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in CATALOGUE.items():
        rng = random.Random(f"{args.seed}:{name}")
        entry = propose(name, observe(build(rng) for _ in range(args.draws)))
        parse_document(document_of(entry), entry.file_name)  # what the loader would refuse is never written
        path = args.out / entry.file_name
        if path.exists() and not args.force:
            print(f"kept {path} (exists)")
            continue
        path.write_text(dumps(entry), encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
