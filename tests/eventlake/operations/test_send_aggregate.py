"""``eventlake send --aggregate`` against the embedded AWS: what lands on the stream are KPL aggregated
records of at most 25 KB that awslabs' de-aggregator (``aws-kinesis-agg``) reads back as exactly the lines
sent, each line with its own partition key; as the KPL aggregates, an aggregate holds only lines bound for the
shard it lands on (each line's own key picks it), a run of that shard's lines in the order sent; a lone line
goes as itself."""

from __future__ import annotations

import base64
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from embedded_server import embedded_aws_server, stream_records

from aws_contract import kpl_aggregation
from eventlake.cli.main import main
from eventlake.simulator.embedded.aws import EmbeddedAws, stack_region
from eventlake.traffic import producer
from eventlake.traffic.sample_events import valid_event
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings

_saved_path = list(sys.path)
try:
    from aws_kinesis_agg import deaggregator
finally:
    sys.path[:] = _saved_path

pytestmark = pytest.mark.e2e
STACK = "dev"


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[EmbeddedAws, str]]:
    settings = Settings.from_stack_file(STACK)
    with embedded_aws_server(
        settings, DeliverySpec.from_settings(settings), region=stack_region(STACK)
    ) as up:
        yield up


def test_send_aggregate_puts_aggregates_that_awslabs_reads_back_as_sent(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], tmp_path: Path
) -> None:
    aws, endpoint = stack
    rng = random.Random(30)
    start = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    lines = [json.dumps(valid_event(rng, start, 24)).encode() + b"\n" for _ in range(700)]
    lines.append(b'{"note": "' + b"z" * 30_000 + b'", "event_uuid": "big"}\n')  # too large to share
    lines.append(b'{"event_uuid": "last"}\n')  # the last of its shard's aggregate
    before = {(r["ShardId"], r["SequenceNumber"]) for r in stream_records(aws)}
    file = tmp_path / "events.jsonl"
    file.write_bytes(b"".join(lines))
    code = main(["send", str(file), "--aggregate", "--stack", STACK, "--endpoint-url", endpoint,
                 "--output", "json"])  # fmt: skip
    [row] = json.loads(capsys.readouterr().out)["rows"]
    put = [r for r in stream_records(aws) if (r["ShardId"], r["SequenceNumber"]) not in before]
    assert code == 0 and row["events"] == len(lines) and row["records"] == row["accepted"] == len(put)
    assert row["failed"] == 0 and len(put) < len(lines) / 50
    keys = [json.loads(line).get("event_uuid") for line in lines]
    shards = producer.stream_shards(aws.kinesis, aws.stream_name)
    by_shard: dict[str, list[tuple[str, bytes]]] = {}
    for key, line in zip(keys, lines, strict=True):
        by_shard.setdefault(kpl_aggregation.shard_of(key, shards), []).append((key, line))
    taken = dict.fromkeys(by_shard, 0)
    for record in put:  # each shard's records in the order they were put
        size = len(record["Data"]) + len(record["PartitionKey"].encode())
        users = []
        for user in deaggregator.iter_deaggregate_records([record], data_format="Boto3"):
            k = user["kinesis"]
            data = base64.b64decode(k["data"]) if k.get("aggregated") else bytes(k["data"])
            users.append((k["partitionKey"], data))
        assert size <= kpl_aggregation.AGGREGATE_MAX_BYTES or len(users) == 1
        shard, first = record["ShardId"], taken[record["ShardId"]]
        # The next lines bound for this shard, in the order sent, each with its own key.
        assert users == by_shard[shard][first : first + len(users)]
        assert record["PartitionKey"] == users[0][0]
        taken[shard] += len(users)
    assert taken == {shard: len(bound) for shard, bound in by_shard.items()}  # every line exactly once
    assert len(by_shard) > 1  # the stack's shards all took lines
    by_data = {r["Data"]: r for r in put}
    assert lines[-2] in by_data  # too large to share: as written
