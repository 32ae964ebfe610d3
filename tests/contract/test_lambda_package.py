"""The Lambda zip is self-contained: its files alone, on a bare interpreter (no site-packages),
import the handler and process a batch, as the Lambda runtime will."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from firehose_records import firehose_event, raw_event

from infra.settings import PROJECT_ROOT
from infra.transform_function import HANDLER, lambda_files


def test_the_shipped_files_run_the_handler_on_the_standard_library_alone(tmp_path: Path) -> None:
    for rel in lambda_files():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / rel, tmp_path / rel)
    module, function = HANDLER.rsplit(".", 1)
    event = firehose_event([raw_event(plan="pro"), b"not json"])
    script = (
        "import json, sys; sys.path.insert(0, '.');"
        f"from {module} import {function};"
        f"print(json.dumps({function}(json.loads(sys.stdin.read()), None)))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],  # -S: no site-packages, only what the zip holds
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
    )
    response = json.loads(done.stdout.strip().splitlines()[-1])
    assert [r["result"] for r in response["records"]] == ["Ok", "ProcessingFailed"]
