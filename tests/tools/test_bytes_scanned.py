"""The bytes-scanned measurement of the typed views (``tools/event_catalog/bytes_scanned.py``, whose numbers
README's Query section quotes) on a small demo lake: what it measures is what its numbers claim (the columns
each scan reads, the objects it opens, the bytes from the Parquet footers)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pyarrow.parquet as pq
import pytest

from infra.settings import PROJECT_ROOT


def _script() -> ModuleType:
    path = PROJECT_ROOT / "tools" / "event_catalog" / "bytes_scanned.py"
    spec = importlib.util.spec_from_file_location("bytes_scanned", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.e2e
def test_the_view_reads_its_types_payloads_and_the_typed_table_one_column(tmp_path: Path) -> None:
    typed_views = _script()
    result = typed_views.run(1500, 2, 5, tmp_path / "lake")
    whole, partitions, payload, view, typed = result["scans"]
    assert whole.files == result["partitions"] and set(whole.columns) >= {"payload", "event_uuid"}
    # The view reads its type's objects of one day only, and through them the payload: never one column.
    assert view.files == payload.files < whole.files
    assert "payload" in view.columns and {"payload", "event_name"} == set(payload.columns)
    assert typed.columns == (typed_views.FIELD,)
    assert 0 < typed.bytes < payload.bytes < view.bytes < partitions.bytes < whole.bytes
    assert partitions.files == view.files and set(partitions.columns) == set(whole.columns)
    # Whole-table bytes are every column chunk of every object: the files' data, without their footers.
    files = list((tmp_path / "lake").rglob("compacted/**/*.parquet"))
    chunks = 0
    for path in files:
        meta = pq.ParquetFile(path).metadata
        chunks += sum(
            meta.row_group(g).column(c).total_compressed_size
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
        )
    assert whole.bytes == chunks
    text = typed_views.table(result)
    assert f"| typed view | {view.files} |" in text and f"{view.bytes:,}" in text
