"""Coverage-guided fuzzing of the compiled path against the Python paths (atheris, libFuzzer), seeded with
the producer corpora (``tests/transform_lambda/corpora.py``) and the demo's samples.

Each input is one record's bytes. Whenever the compiled path writes a row, it must be the Python paths'
bytes, metadata and dedupe key, and the handler's compiled loop (``first_arrivals``) must answer the record
as the single call does; a difference raises (libFuzzer then prints the input and writes it as
``crash-*``), and a sanitizer report stops the process with the input beside it. Coverage: the lane builds
the module with gcc's ``-fsanitize-coverage=trace-pc`` and ``-DHOTPATH_FUZZ_COVERAGE``, whose counters are
registered with atheris's libFuzzer here (atheris instruments Python; the C module needs its own counters).

Run by ``tools/sanitize/run``: ``python fuzz.py SEEDS_DIR [libFuzzer flags]`` with ``HOTPATH_SANITIZED`` set.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "transform_lambda"), str(Path(__file__).parent)]

import atheris  # noqa: E402
import sanitized_hotpath  # noqa: E402, F401  (the lane's build as transform_lambda._hotpath)

with atheris.instrument_imports(include=["transform_lambda"]):
    from transform_lambda import events

import corpora  # noqa: E402
from differential import firehose_record, general  # noqa: E402

from benchmarks.transform import batches  # noqa: E402

assert events.compiled_path(), "the lane's build did not load"


def write_seeds(directory: Path) -> None:
    """The corpora's records as libFuzzer's seed files; the Python paths learn their names and partitions
    (as a warm container has), so the fuzzed variants reach the compiled path's writing."""
    directory.mkdir(parents=True, exist_ok=True)
    seeds = [raw for name in corpora.CORPORA for raw in corpora.generate(name, 25, seed=5)]
    seeds += [base64.b64decode(r["data"]) for e in batches(150, seed=5) for r in e["records"]]
    for index, raw in enumerate(seeds):
        (directory / f"seed-{index:04d}").write_bytes(raw)


def learn(directory: Path) -> None:
    for path in sorted(directory.iterdir()):
        record = firehose_record(path.read_bytes())
        for _ in range(2):  # the general path learns the name, the inline path then the partition
            with contextlib.suppress(Exception):
                events.first_arrival(record)


def one_input(data: bytes) -> None:
    record = firehose_record(data)
    unmarked = bool(len(data) & 2)  # FLAG_UNMARKED on some inputs
    answer = events.compiled_answer(record, unmarked << 1)
    if answer is not None:
        expected = general(record, unmarked)
        if answer[:3] != expected:
            raise AssertionError(f"the paths differ on {data!r}: compiled {answer[:3]}, Python {expected}")
    in_batch(record, answer, unmarked, data)


def in_batch(record: dict[str, Any], answer: Any, unmarked: bool, data: bytes) -> None:
    """The handler's compiled loop (``first_arrivals``) on the record twice: both answered as the single call
    answered it, the second a repeat with its common fields; or both handed back."""
    compiled = events.compiled_call()
    assert compiled is not None and compiled.batch is not None
    flags = events.FLAG_REPEAT_FIELDS | events.FLAG_UNMARKED * unmarked
    records = [record, dict(record)]
    out: list[Any] = [None, None]
    first: dict[str, int] = {}
    repeats: list[Any] = []
    sents: dict[int, Any] = {}
    stopped = compiled.batch(
        records, 0, compiled.names, compiled.metadatas, flags, "Ok", out, first, repeats, sents
    )
    if answer is None:
        ok = stopped == 0 and out == [None, None] and not first and not repeats and not sents
    else:
        entry = {"recordId": record["recordId"], "result": "Ok", "data": answer[0], "metadata": answer[1]}
        fields = events.compiled_answer(record, events.FLAG_FIELDS)
        ok = (
            stopped == 2 and out == [entry, entry] and first == {answer[2]: 0} and repeats == [(1, answer[2])]
        )
        ok = ok and fields is not None and sents == {1: fields[3]}
    if not ok:
        raise AssertionError(f"the compiled loop differs from the single call on {data!r}: {out}, {stopped}")


def main() -> None:
    seeds = Path(sys.argv[1])
    write_seeds(seeds)
    learn(seeds)
    atheris.Setup(sys.argv, one_input)
    module = sys.modules["transform_lambda._hotpath"]
    if hasattr(module, "fuzz_coverage"):
        core = next(Path(atheris.__file__).parent.glob("core_with_libfuzzer*.so"))
        fuzzer = ctypes.CDLL(str(core))
        address = lambda name: ctypes.cast(getattr(fuzzer, name), ctypes.c_void_p).value  # noqa: E731
        module.fuzz_coverage(
            address("__sanitizer_cov_8bit_counters_init"), address("__sanitizer_cov_pcs_init")
        )
    print(f"fuzzing {os.environ['HOTPATH_SANITIZED']} seeded with {len(list(seeds.iterdir()))} records")
    atheris.Fuzz()


if __name__ == "__main__":
    main()
