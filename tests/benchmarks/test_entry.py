"""One entry point for every bench: ``python -m benchmarks`` runs the transform bench or, by a flag, any
other; a bench module run directly runs its bench, and one with nothing to run says so and fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks
from benchmarks import transform as bench
from infra.settings import PROJECT_ROOT

# Modules of the benchmarks package that are apparatus for a bench, with the bench that uses them; the
# transform bench is the entry point itself.
APPARATUS = {"benchmarks.dynamodb_double": "--dedupe"}
ENTRY = {"benchmarks.__init__", "benchmarks.__main__", "benchmarks.transform"}


def bench_modules() -> list[str]:
    found = (f"benchmarks.{p.stem}" for p in Path(benchmarks.__file__).parent.glob("*.py"))
    return sorted(set(found) - ENTRY)


def python_m(module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *argv], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )


def test_every_bench_module_is_a_bench_of_the_entry_point_or_apparatus() -> None:
    benches = {module for module, _ in bench.BENCHES.values()}
    assert benches | set(APPARATUS) == set(bench_modules())
    assert not benches & set(APPARATUS)


def test_the_entry_point_s_help_lists_every_bench(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        bench.main(["--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    assert all(f"--{name}" in text and module in text for name, (module, _) in bench.BENCHES.items())


@pytest.mark.parametrize("name", sorted(bench.BENCHES))
def test_each_bench_takes_its_own_flags_through_the_entry_point(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    with pytest.raises(SystemExit) as done:
        bench.main([f"--{name}", "--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    assert text.startswith(f"usage: python -m benchmarks --{name}") and "--write" in text


def test_two_benches_at_once_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        bench.main(["--dedupe", "--pruning"])
    assert done.value.code == 2 and "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize("module", sorted(m for m, _ in bench.BENCHES.values()))
def test_a_bench_module_run_directly_runs_its_bench(module: str) -> None:
    done = python_m(module, "--help")
    assert done.returncode == 0 and "usage: python -m benchmarks --" in done.stdout, done.stderr


@pytest.mark.parametrize("module", sorted(APPARATUS))
def test_a_module_with_no_bench_says_so_and_fails(module: str) -> None:
    done = python_m(module)
    assert done.returncode != 0 and done.stdout == ""
    assert "not a bench" in done.stderr and f"python -m benchmarks {APPARATUS[module]}" in done.stderr


def test_the_entry_point_runs_the_bench_it_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = tmp_path / "lake"
    assert bench.main(["--pruning", "--types", "2", "--days", "1", "--dir", str(lake)]) == 0
    out = capsys.readouterr().out
    assert "| query | files opened |" in out and lake.is_dir()


@pytest.mark.slow
def test_the_entry_point_runs_the_dedupe_bench(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--dedupe", "--events", "200", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("| (") == 3 and "200 records" in out


def test_the_package_runs_the_entry_point() -> None:
    done = python_m("benchmarks", "--help")
    assert done.returncode == 0 and all(f"--{name}" in done.stdout for name in bench.BENCHES), done.stderr
