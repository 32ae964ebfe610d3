"""``eventlake catalog infer|check --bucket``: a demo lake of each processor mode served by an embedded AWS
behind an endpoint, its partitions registered as deployed (S3 -> EventBridge -> the registrar), read through
the stack's Glue catalog: the same report as over the local mirror, only the selected dates' objects fetched,
and a drift injected into the bucket found with its count."""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from client_calls import object_reads
from embedded_server import embedded_aws_server, upload_lake

from eventlake.catalog import catalog_drift
from eventlake.cli.main import main
from eventlake.simulator.embedded.aws import EmbeddedAws
from glue import schema
from infra.delivery_spec import DeliverySpec
from infra.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REGION = "eu-west-1"
DRIFTED_NAME, DRIFTED_FIELD = "support:ticket:opened", "ticket_id"


@dataclass(frozen=True)
class Served:
    lake: Path
    aws: EmbeddedAws
    endpoint: str
    stack_file: Path  # the dev stack, in this lake's processor mode

    def remote(self) -> list[str]:
        return [
            "--stack-file",
            str(self.stack_file),
            "--endpoint-url",
            self.endpoint,
            "--region",
            REGION,
            "--bucket",
            self.aws.bucket,
        ]


@pytest.fixture(scope="module", params=["lambda", "jq"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    processor = request.param
    root = tmp_path_factory.mktemp(f"catalog-bucket-{processor}")
    lake = root / "lake"
    # Two days of event times, so a date range can select part of the lake.
    argv = ["demo", "--events", "1200", "--hours", "48", "--seed", "8", "--processor", processor]
    assert main([*argv, "--out", str(lake)]) == 0
    stack_file = root / "Pulumi.dev.yaml"
    text = (PROJECT_ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    stack_file.write_text(text.rstrip("\n") + f"\n  eventlake:processor: {processor}\n", encoding="utf-8")
    settings = dataclasses.replace(Settings.from_stack_file("dev"), processor=processor)
    with embedded_aws_server(settings, DeliverySpec.from_settings(settings), region=REGION) as (aws, url):
        upload_lake(aws, lake)
        yield Served(lake, aws, url, stack_file)


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main([*argv, "--output", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def test_check_and_infer_over_the_bucket_report_what_they_report_over_the_mirror(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    for action in ("check", "infer"):
        local_code, local, _ = _json(capsys, "catalog", action, "--lake", str(served.lake))
        code, remote, err = _json(capsys, "catalog", action, *served.remote())
        assert code == local_code, err
        assert remote["rows"] == local["rows"] and remote.get("events") == local.get("events")
        assert remote["rows"] if action == "infer" else remote["events"], remote  # read something
        assert served.aws.bucket in err and "partitions from" in err  # said on stderr, maybe wrapped


def test_query_over_the_bucket_reads_the_table_its_stacks_processor_wrote(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """A jq stack's bucket holds the records as sent (GZIP JSON lines, one ``record`` column), not the
    transform's Parquet: ``query --bucket`` reads it as the stack's processor wrote it, and answers what the
    same query answers over the mirror the demo recorded."""
    sql = "SELECT event_type, count(*) AS n FROM unique_events GROUP BY event_type ORDER BY event_type"
    local_code, local, _ = _json(capsys, "query", "--lake", str(served.lake), sql)
    code, remote, err = _json(capsys, "query", *served.remote(), sql)
    assert code == local_code == 0, err
    assert remote["rows"] == local["rows"] != []


def test_a_date_range_fetches_only_its_partitions_objects(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = sorted({p.parent for p in (served.lake / schema.DATA_ROOT).glob("*/*/*/*") if p.is_file()})
    days = sorted({f.parent.name.removeprefix("event_date=") for f in folders})
    assert len(days) >= 2, days
    day = days[1]
    mine = {
        p.relative_to(served.lake).as_posix()
        for f in folders
        if f.parent.name == f"event_date={day}"
        for p in f.iterdir()
        if p.is_file()
    }
    read = object_reads(monkeypatch)
    code, remote, err = _json(capsys, "catalog", "infer", *served.remote(), "--from", day, "--to", day)
    assert code == 0, err
    assert set(read) == mine and len(read) == len(mine)  # each object of that day once, nothing else
    assert f"reading {len(mine):,} objects" in err
    _, local, _ = _json(capsys, "catalog", "infer", "--lake", str(served.lake), "--from", day, "--to", day)
    assert remote["rows"] == local["rows"]
    # Dates holding nothing: one line and exit 2, not an empty report that reads as "no drift".
    read.clear()
    code, out, err = _json(
        capsys, "catalog", "check", *served.remote(), "--from", "2001-01-01", "--to", "2001-01-02"
    )
    assert code == 2 and out is None and len(err.strip().splitlines()) == 1, err
    assert "lists no partition with an event date from 2001-01-01 to 2001-01-02" in err and read == []


def _objects(aws: EmbeddedAws, lake: Path) -> list[tuple[str, bytes]]:
    """(key, body) of the bucket's objects of the drifted name's event type."""
    folder = lake / schema.DATA_ROOT / f"event_type={DRIFTED_NAME.split(':')[0]}"
    keys = sorted(p.relative_to(lake).as_posix() for p in folder.rglob("*") if p.is_file())
    return [(k, aws.s3.get_object(Bucket=aws.bucket, Key=k)["Body"].read()) for k in keys]


def _records(body: bytes, processor: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(event uuid, event name, payload) of each row of an object."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if processor == "jq":
        out = []
        for line in gzip.decompress(body).decode().splitlines():
            record = json.loads(line)
            out.append((str(record.get("event_uuid")), str(record.get("event_name")), record))
        return out
    table = pq.read_table(pa.BufferReader(body)).to_pydict()
    return [
        (u, n, json.loads(t))
        for u, n, t in zip(table["event_uuid"], table["event_name"], table["payload"], strict=True)
    ]


def _drift_one_percent(aws: EmbeddedAws, lake: Path, processor: str) -> int:
    """``ticket_id`` sent as a string instead of an integer in 1 % of that name's events (every copy of each
    chosen event), rewritten in the bucket's objects in place, which the catalog still lists: returns how
    many events were changed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    objects = _objects(aws, lake)
    ids = sorted({u for _, body in objects for u, n, _ in _records(body, processor) if n == DRIFTED_NAME})
    chosen = set(random.Random(3).sample(ids, k=max(1, len(ids) // 100)))
    for key, body in objects:
        rows = _records(body, processor)
        for event_uuid, name, payload in rows:
            if name == DRIFTED_NAME and event_uuid in chosen:
                payload[DRIFTED_FIELD] = str(payload[DRIFTED_FIELD])
        if processor == "jq":
            text = "".join(json.dumps(payload) + "\n" for _, _, payload in rows)
            body = gzip.compress(text.encode())
        else:
            table = pq.read_table(pa.BufferReader(body))
            payloads = pa.array([json.dumps(p) for _, _, p in rows], type=pa.string())
            table = table.set_column(table.schema.get_field_index("payload"), "payload", payloads)
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            body = sink.getvalue().to_pybytes()
        aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=body)
    return len(chosen)


def test_a_drift_injected_into_the_bucket_is_found_with_its_count(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """Last in this module: it changes the served bucket."""
    processor = "jq" if served.stack_file.read_text().rstrip().endswith("jq") else "lambda"
    changed = _drift_one_percent(served.aws, served.lake, processor)
    assert changed > 0
    code, report, err = _json(capsys, "catalog", "check", *served.remote())
    assert code == 1, err
    rows = [r for r in report["rows"] if r["drift"] != catalog_drift.UNDECLARED_NAME]
    # jq mode also stores what the Lambda rejects, under names no catalog file can declare: left out here.
    assert [(r["event name"], r["drift"], r["path"]) for r in rows] == [
        (DRIFTED_NAME, catalog_drift.WRONG_TYPE, DRIFTED_FIELD)
    ]
    (row,) = rows
    assert row["events"] == changed and row["example"].startswith('"')  # the integer sent as a string
