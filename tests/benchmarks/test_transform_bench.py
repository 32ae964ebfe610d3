"""The benchmark runs end to end and reports ratios against its own baseline (smoke, not timed)."""

from __future__ import annotations

from aws_contract import limits
from benchmarks import transform as bench


def test_bench_reports_every_step_against_the_same_run_baseline() -> None:
    results = bench.run(count=300, repeats=1)
    assert results[0].name.startswith("baseline")
    assert [r.records for r in results] == [300] * len(results)
    text = bench.table(results)
    assert text.count("\n") == len(results) + 1 and "| 1.00x |" in text


def test_bench_batches_respect_the_processor_buffer() -> None:
    limit = bench.sizing.processor_buffer_mb() * limits.MIB
    for event in bench.batches(3000, seed=1):
        raw = sum(len(bench.base64.b64decode(r["data"])) for r in event["records"])
        assert raw <= limit


def test_each_bench_rewrites_only_its_own_section(tmp_path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    bench.write_section("Transform", "old transform", path)
    bench.write_section("Dedupe", "dedupe v1", path)
    bench.write_section("Transform", "new transform\n\n| a |", path)
    assert (
        path.read_text()
        == "# Benchmarks\n\n## Transform\n\nnew transform\n\n| a |\n\n## Dedupe\n\ndedupe v1\n"
    )


def test_the_python_only_step_runs_without_the_compiled_path_and_restores_it() -> None:
    compiled = bench.events.hot_first_arrival
    seen = []
    step = bench.python_only(lambda event: seen.append(bench.events.hot_first_arrival))
    step({})
    assert seen == [None] and bench.events.hot_first_arrival is compiled
