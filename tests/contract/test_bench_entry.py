"""One entry point for every bench: ``python -m eventlake.bench`` runs the transform bench or, by a flag, any
other; a bench module run directly runs its bench, and one with nothing to run says so and fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import eventlake
from eventlake import bench
from infra.settings import PROJECT_ROOT

# Modules named like benches that are apparatus for one, with the bench that uses them.
APPARATUS = {"eventlake.bench_dynamodb": "--dedupe"}


def bench_modules() -> list[str]:
    return sorted(f"eventlake.{p.stem}" for p in Path(eventlake.__file__).parent.glob("bench_*.py"))


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
    assert text.startswith(f"usage: python -m eventlake.bench --{name}") and "--write" in text


def test_two_benches_at_once_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        bench.main(["--dedupe", "--pruning"])
    assert done.value.code == 2 and "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize("module", sorted(m for m, _ in bench.BENCHES.values()))
def test_a_bench_module_run_directly_runs_its_bench(module: str) -> None:
    done = python_m(module, "--help")
    assert done.returncode == 0 and "usage: python -m eventlake.bench --" in done.stdout, done.stderr


@pytest.mark.parametrize("module", sorted(APPARATUS))
def test_a_module_with_no_bench_says_so_and_fails(module: str) -> None:
    done = python_m(module)
    assert done.returncode != 0 and done.stdout == ""
    assert "not a bench" in done.stderr and f"python -m eventlake.bench {APPARATUS[module]}" in done.stderr


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
