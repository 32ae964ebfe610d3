"""``eventlake replay`` re-sends what was sent (issue 30 item 3): an aggregating producer's records reach the
raw backup as put, KPL aggregates whole beside plain JSON lines, and replay puts exactly those Kinesis records
on the stream again, each aggregate byte for byte with its first user record's partition key, not its user
records one by one."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from embedded_server import embedded_aws_server, stream_records

from aws_contract import kpl_aggregation
from eventlake.cli.main import main
from eventlake.simulator.embedded.aws import EmbeddedAws, stack_region
from eventlake.simulator.firehose.model import FirehoseModel, lambda_invoke
from eventlake.simulator.firehose.s3_destination import BACKUP
from eventlake.traffic import record_framing
from eventlake.traffic.sample_events import valid_event
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.claims import NoClaims

pytestmark = pytest.mark.e2e
STACK = "dev"


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[EmbeddedAws, str]]:
    settings = Settings.from_stack_file(STACK)
    with embedded_aws_server(
        settings, DeliverySpec.from_settings(settings), region=stack_region(STACK)
    ) as up:
        yield up


def cli(capsys: pytest.CaptureFixture[str], endpoint: str, *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--stack", STACK, "--endpoint-url", endpoint, "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_replay_re_sends_each_aggregate_as_it_was_put(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], tmp_path: Path
) -> None:
    aws, endpoint = stack
    model = FirehoseModel(
        aws, aws.spec, invoke=lambda_invoke(NoClaims(), lambda _: None), rng=random.Random(30)
    )  # registers at LATEST: it reads what is sent from here on
    rng = random.Random(30)
    start = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    lines = [json.dumps(valid_event(rng, start, 24)).encode() + b"\n" for _ in range(600)]
    (tmp_path / "aggregated.jsonl").write_bytes(b"".join(lines[:580]))
    (tmp_path / "plain.jsonl").write_bytes(b"".join(lines[580:]))
    assert cli(capsys, endpoint, "send", str(tmp_path / "aggregated.jsonl"), "--aggregate")[0] == 0
    assert cli(capsys, endpoint, "send", str(tmp_path / "plain.jsonl"))[0] == 0
    put = stream_records(aws)
    aggregates = [r for r in put if kpl_aggregation.deaggregate(r["Data"]) is not None]
    assert len(aggregates) >= 2 and len(put) == len(aggregates) + 20

    run = model.run()
    assert run.stats.records_read == 600  # Firehose read 600 user records; raw/ holds the records as put
    hours = sorted({re.search(r"raw/(\d{4})/(\d{2})/(\d{2})/(\d{2})/", w.key).groups() for w in run.written
                    if w.kind == BACKUP})  # fmt: skip
    first, last = (f"{y}-{m}-{d}T{h}" for y, m, d, h in (hours[0], hours[-1]))

    code, out = cli(capsys, endpoint, "replay", "--from", first, "--to", last)
    total = out["rows"][-1]
    assert code == 0 and (total["records"], total["accepted"], total["held_back"]) == (len(put), len(put), 0)
    notes = " ".join(row["note"] for row in out["rows"][:-1])
    assert sum(int(n) for n in re.findall(r"KPL aggregates of (\d+) events", notes)) == 580
    sent = Counter((r["Data"], r["PartitionKey"]) for r in put)
    now = Counter((r["Data"], r["PartitionKey"]) for r in stream_records(aws))
    # Exactly the Kinesis records sent, once more, byte for byte, each with the partition key it was put with.
    assert now - sent == sent


def test_a_backup_of_aggregates_and_lines_splits_back_into_the_records_put() -> None:
    rng = random.Random(31)
    start = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    lines = [json.dumps(valid_event(rng, start, 24)).encode() + b"\n" for _ in range(300)]
    users = [kpl_aggregation.UserRecord(f"k{i}", line) for i, line in enumerate(lines[:250])]
    entries = [e.data for e in kpl_aggregation.pack(users, 8_000)]
    records = [entries[0], lines[250], entries[1], *entries[2:], *lines[251:]]
    split = record_framing.split_backup(b"".join(records))
    assert split.records == records and not split.held_back
    assert (split.aggregates, split.aggregated_events) == (len(entries), 250)
    assert [record_framing.partition_key(r, "event_uuid") for r in entries] == [
        kpl_aggregation.deaggregate(r)[0].partition_key
        for r in entries  # type: ignore[index]
    ]
