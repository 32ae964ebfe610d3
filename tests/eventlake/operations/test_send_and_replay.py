"""``eventlake send`` and ``eventlake replay`` driven as users drive them: against the embedded AWS through
``--endpoint-url``, with the stream read back shard by shard to see exactly which bytes were put."""

from __future__ import annotations

import io
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from embedded_server import embedded_aws_server

from aws_contract import limits
from eventlake.cli.common import Context
from eventlake.cli.main import main
from eventlake.firehose_formats import backup, prefixes
from eventlake.simulator.embedded.aws import EmbeddedAws, stack_region
from eventlake.traffic import producer
from eventlake.traffic.sample_events import valid_event
from glue import schema
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings

pytestmark = pytest.mark.e2e

STACK = "dev"
Shards = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[EmbeddedAws, str]]:
    settings = Settings.from_stack_file(STACK)
    with embedded_aws_server(
        settings, DeliverySpec.from_settings(settings), region=stack_region(STACK)
    ) as up:
        yield up


class Stream:
    """The stream's records shard by shard; ``new()`` is what arrived since the last look."""

    def __init__(self, aws: EmbeddedAws) -> None:
        self.aws = aws
        self.seen = {shard: len(records) for shard, records in self.read().items()}

    def read(self) -> Shards:
        kinesis, name = self.aws.kinesis, self.aws.stream_name
        out: Shards = {}
        for shard in kinesis.list_shards(StreamName=name)["Shards"]:
            iterator = kinesis.get_shard_iterator(
                StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            records: list[dict[str, Any]] = []
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=limits.GET_RECORDS_MAX_RECORDS)
                records += page["Records"]
                iterator = page.get("NextShardIterator") if page["Records"] else None
            out[shard["ShardId"]] = records
        return out

    def new(self) -> Shards:
        now = self.read()
        fresh = {shard: records[self.seen.get(shard, 0) :] for shard, records in now.items()}
        self.seen = {shard: len(records) for shard, records in now.items()}
        return fresh


@pytest.fixture
def stream(stack: tuple[EmbeddedAws, str]) -> Stream:
    return Stream(stack[0])


def cli(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], *argv: str
) -> tuple[int, Any, str]:
    """Run a command against the embedded AWS with JSON output: exit code, parsed stdout, stderr."""
    code = main([*argv, "--stack", STACK, "--endpoint-url", stack[1], "--output", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def assert_exactly_in_order(shards: Shards, expected: list[bytes]) -> None:
    """Every expected record once and nothing else, and on each shard in the order they were given."""
    position = {data: i for i, data in enumerate(expected)}
    assert len(position) == len(expected), "the test's records must be distinct"
    got = [r["Data"] for records in shards.values() for r in records]
    assert sorted(got) == sorted(expected)
    for records in shards.values():
        order = [position[r["Data"]] for r in records]
        assert order == sorted(order)


def events(rng: random.Random, n: int) -> list[dict[str, Any]]:
    start = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    return [valid_event(rng, start, 24) for _ in range(n)]


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n"


# --- send --------------------------------------------------------------------------------------------------


def test_send_puts_every_line_exactly_as_written(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream, tmp_path: Path
) -> None:
    valid = events(random.Random(1), 20)
    valid[3]["note"] = "Zürich → 東京 ✓"
    # JSON objects the transform will reject or key randomly still go as written (a "\r" of CRLF included).
    odd = [b'{"no_uuid": true}\n', b'{"event_uuid": 5}\n', b'{"event_uuid": "crlf", "x": [1]}\r\n']
    body = (
        b"".join(line(e) for e in valid[:10])
        + b"\n  \n"
        + b"".join(odd)
        + b"".join(line(e) for e in valid[10:])
    )
    file = tmp_path / "events.jsonl"
    file.write_bytes(body.rstrip(b"\n"))  # a last line without its newline gets one
    code, out, _ = cli(capsys, stack, "send", str(file))
    [row] = out["rows"]
    assert code == 0 and (row["records"], row["skipped"], row["accepted"], row["failed"]) == (23, 0, 23, 0)
    assert row["stream"] == stack[0].stream_name
    shards = stream.new()
    expected = [line(e) for e in valid[:10]] + odd + [line(e) for e in valid[10:]]
    assert_exactly_in_order(shards, expected)
    keys = {r["Data"]: r["PartitionKey"] for records in shards.values() for r in records}
    assert all(keys[line(e)] == e["event_uuid"] for e in valid)  # an event's uuid is its partition key


def test_send_reads_stdin(
    capsys: pytest.CaptureFixture[str],
    stack: tuple[EmbeddedAws, str],
    stream: Stream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = [line(e) for e in events(random.Random(2), 7)]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"".join(records))))
    code, out, _ = cli(capsys, stack, "send", "-")
    assert code == 0 and out["rows"][0]["accepted"] == 7 and out["rows"][0]["source"] == "stdin"
    assert_exactly_in_order(stream.new(), records)


def test_send_generates_sample_events(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream
) -> None:
    code, out, _ = cli(capsys, stack, "send", "--generate", "300", "--seed", "4", "--malformed-share", "0.1")
    assert code == 0 and out["rows"][0]["accepted"] == 300
    data = [r["Data"] for records in stream.new().values() for r in records]
    assert len(data) == 300 and all(d.endswith(b"\n") and d.count(b"\n") == 1 for d in data)
    assert len(set(data)) < 300  # the default share of exact re-sends


# Lines that are not one JSON object in UTF-8, each with what the report says of it.
BAD_LINES = [
    (b'{"event_uuid": "half\n', "not JSON"),
    (b"event_uuid=1 name=x\n", "not JSON"),
    (b"[1, 2]\n", "a JSON array, not an object"),
    (b'"just a string"\n', "a JSON string, not an object"),
    (b'{"a": 1}{"b": 2}\n', "more than one JSON value"),
    (b'{"a": 1} {"b": 2}\n', "more than one JSON value"),
    (b'{"price": NaN}\n', "not JSON (NaN is not JSON)"),
    (b'{"name": "caf\xe9"}\n', "not UTF-8 (byte 14)"),
]


def mixed(rng: random.Random) -> tuple[bytes, list[bytes], list[int]]:
    """Valid lines with each kind of bad line between: the file, its valid lines, the bad ones' numbers."""
    good = [line(e) for e in events(rng, len(BAD_LINES) + 1)]
    body, numbers = b"", []
    for n, (bad, _) in enumerate(BAD_LINES):
        body += good[n] + bad
        numbers.append(2 * n + 2)
    return body + good[-1], good, numbers


def test_lines_that_are_not_one_json_object_are_named_by_number_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream, tmp_path: Path
) -> None:
    body, _, numbers = mixed(random.Random(5))
    file = tmp_path / "mixed.jsonl"
    file.write_bytes(body)
    code, out, err = cli(capsys, stack, "send", str(file))
    assert code == 2 and out is None
    *named, summary = err.strip().splitlines()
    assert len(named) == len(BAD_LINES)  # one line for each bad line, in file order
    for text, n, (_, what) in zip(named, numbers, BAD_LINES, strict=True):
        assert text.startswith(f"eventlake send: error: {file} line {n}: {what}"), text
    assert f"{len(BAD_LINES)} of {2 * len(BAD_LINES) + 1} lines" in summary and "nothing sent" in summary
    assert "--skip-invalid" in summary
    assert all(records == [] for records in stream.new().values())


def test_skip_invalid_sends_the_valid_lines_and_says_how_many_it_skipped(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream, tmp_path: Path
) -> None:
    body, good, numbers = mixed(random.Random(6))
    file = tmp_path / "mixed.jsonl"
    file.write_bytes(body)
    code, out, err = cli(capsys, stack, "send", str(file), "--skip-invalid")
    [row] = out["rows"]
    assert code == 0 and (row["records"], row["accepted"]) == (len(good), len(good))
    assert row["skipped"] == len(BAD_LINES)
    total = len(good) + len(BAD_LINES)
    assert err.strip().splitlines() == [
        f"eventlake send: skipped {len(BAD_LINES)} of {total} lines (not one JSON object in UTF-8, or over "
        f"the record limit): lines {', '.join(map(str, numbers))}"
    ]
    assert_exactly_in_order(stream.new(), good)


def test_the_report_stops_at_twenty_bad_lines_and_counts_the_rest(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream, tmp_path: Path
) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_bytes(b'{"a": 1}\n' + b"oops\n" * 30)
    code, _, err = cli(capsys, stack, "send", str(file))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 21
    assert lines[0].endswith("line 2: not JSON (Expecting value at column 1)") and "line 21:" in lines[19]
    assert "30 of 31 lines" in lines[20] and "10 more" in lines[20]
    code, _, err = cli(capsys, stack, "send", str(file), "--skip-invalid")
    assert code == 0 and "skipped 30 of 31 lines" in err and "and 10 more" in err
    assert [r["Data"] for rs in stream.new().values() for r in rs] == [b'{"a": 1}\n']
    file.write_bytes(b"oops\n" * 3)
    code, out, err = cli(capsys, stack, "send", str(file), "--skip-invalid")
    assert code == 2 and out is None and "none of its 3 lines is valid: nothing sent" in err


@pytest.mark.parametrize("body", [b"", b"\n", b"  \n\n\t\n"])
def test_an_empty_input_is_an_error(
    capsys: pytest.CaptureFixture[str],
    stack: tuple[EmbeddedAws, str],
    stream: Stream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
) -> None:
    file = tmp_path / "empty.jsonl"
    file.write_bytes(body)
    code, out, err = cli(capsys, stack, "send", str(file))
    assert code == 2 and out is None
    assert err.strip().splitlines() == [
        f"eventlake send: error: {file} has no records (it is empty or only blank lines): nothing sent"
    ]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    code, _, err = cli(capsys, stack, "send", "-")
    assert code == 2 and "stdin has no records" in err and len(err.strip().splitlines()) == 1
    assert all(records == [] for records in stream.new().values())


def test_a_line_over_the_record_limit_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream, tmp_path: Path
) -> None:
    big = json.dumps({"event_uuid": "x", "blob": "a" * limits.KINESIS_RECORD_MAX_BYTES}).encode()
    file = tmp_path / "big.jsonl"
    file.write_bytes(b'{"a": 1}\n\n' + big + b"\n")
    code, out, err = cli(capsys, stack, "send", str(file))
    assert code == 2 and out is None
    assert "line 3" in err and "nothing sent" in err and len(err.strip().splitlines()) == 1
    assert all(records == [] for records in stream.new().values())


def test_entries_a_throttled_shard_rejects_are_retried_until_all_are_accepted(
    capsys: pytest.CaptureFixture[str],
    stack: tuple[EmbeddedAws, str],
    stream: Stream,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    calls: list[list[bytes]] = []
    real = Context.client

    def throttled(self: Context, service: str) -> Any:
        client = real(self, service)
        if service != "kinesis":
            return client
        put_records = client.put_records

        def partly(**kwargs: Any) -> dict[str, Any]:
            calls.append([r["Data"] for r in kwargs["Records"]])
            if len(calls) > 1:
                return put_records(**kwargs)
            # The first call: every other entry throttled, the rest really put.
            keep = kwargs["Records"][1::2]
            response = put_records(**{**kwargs, "Records": keep})
            accepted = iter(response["Records"])
            results = [
                next(accepted)
                if i % 2
                else {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"}
                for i in range(len(kwargs["Records"]))
            ]
            return {"FailedRecordCount": len(kwargs["Records"]) - len(keep), "Records": results}

        client.put_records = partly
        return client

    monkeypatch.setattr(Context, "client", throttled)
    records = [line(e) for e in events(random.Random(3), 9)]
    file = tmp_path / "e.jsonl"
    file.write_bytes(b"".join(records))
    code, out, _ = cli(capsys, stack, "send", str(file))
    [row] = out["rows"]
    assert code == 0 and (row["accepted"], row["failed"], row["retried"], row["calls"]) == (9, 0, 5, 2)
    assert calls[1] == records[0::2]  # only the rejected entries went again
    got = [r["Data"] for records in stream.new().values() for r in records]
    assert sorted(got) == sorted(records)  # each exactly once


def test_records_still_rejected_after_every_retry_are_counted_and_exit_1(
    capsys: pytest.CaptureFixture[str],
    stack: tuple[EmbeddedAws, str],
    stream: Stream,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    records = [line(e) for e in events(random.Random(5), 4)]
    real = Context.client

    def stuck(self: Context, service: str) -> Any:
        client = real(self, service)
        put_records = client.put_records

        def never_the_first(**kwargs: Any) -> dict[str, Any]:
            rest = [r for r in kwargs["Records"] if r["Data"] != records[0]]
            response = put_records(**{**kwargs, "Records": rest}) if rest else {"Records": []}
            accepted = iter(response["Records"])
            throttled = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"}
            results = [throttled if r["Data"] == records[0] else next(accepted) for r in kwargs["Records"]]
            return {"FailedRecordCount": len(kwargs["Records"]) - len(rest), "Records": results}

        client.put_records = never_the_first
        return client

    monkeypatch.setattr(Context, "client", stuck)
    monkeypatch.setattr(producer, "BASE_BACKOFF_S", 0.0)
    file = tmp_path / "e.jsonl"
    file.write_bytes(b"".join(records))
    code, out, _ = cli(capsys, stack, "send", str(file))
    [row] = out["rows"]
    assert code == 1 and (row["accepted"], row["failed"], row["calls"]) == (3, 1, producer.MAX_ATTEMPTS)
    assert sorted(r["Data"] for rs in stream.new().values() for r in rs) == sorted(records[1:])


def test_a_stream_that_is_not_there_is_one_line_naming_the_flags(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], tmp_path: Path
) -> None:
    file = tmp_path / "e.jsonl"
    file.write_bytes(b'{"a": 1}\n')
    code = main(["send", str(file), "--stack", "prod", "--endpoint-url", stack[1], "--output", "json"])
    err = capsys.readouterr().err
    assert code == 2 and "ResourceNotFoundException" in err and "--stack" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["send", str(tmp_path / "missing.jsonl")]) == 2
    assert "FILE" in capsys.readouterr().err


# --- replay ------------------------------------------------------------------------------------------------


def put_backup(aws: EmbeddedAws, arrival: datetime, records: list[bytes], n: int = 0) -> str:
    """One raw backup object the way Firehose writes it: GZIP of the records as put, under the evaluated
    backup prefix of its arrival hour, named like Firehose names objects."""
    where = prefixes.evaluate(schema.BACKUP_PREFIX, arrival=arrival, dynamic_partitioning=False)
    name = prefixes.object_name(
        delivery_stream_name=aws.spec.delivery_stream_name,
        version=1,
        delivery_time=arrival + timedelta(minutes=5, seconds=n),
        extension=backup.EXTENSIONS[aws.spec.backup_compression],
    )
    key = prefixes.object_key(where, name)
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=backup.encode(records, aws.spec.backup_compression))
    return key


def test_replay_re_sends_exactly_the_records_of_the_hours_asked_for(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream
) -> None:
    aws = stack[0]
    rng = random.Random(6)
    hours = [datetime(2026, 11, 25, h, tzinfo=UTC) for h in (7, 8, 9)]
    by_hour = {h: [[line(e) for e in events(rng, 6)] for _ in range(2)] for h in hours}
    keys = {h: [put_backup(aws, h, records, n) for n, records in enumerate(by_hour[h])] for h in hours}
    assert keys[hours[0]][0].startswith("raw/2026/11/25/07/")

    code, out, _ = cli(capsys, stack, "replay", "--from", "2026-11-25T07", "--to", "2026-11-25T08")
    rows = {row["object"]: row for row in out["rows"]}
    assert code == 0 and set(rows) == {*keys[hours[0]], *keys[hours[1]], "(total)"}
    assert rows["(total)"] == {
        "object": "(total)",
        "records": 24,
        "held_back": 0,
        "accepted": 24,
        "failed": 0,
        "note": "",
    }
    expected = [r for h in hours[:2] for obj in by_hour[h] for r in obj]
    assert_exactly_in_order(stream.new(), expected)


def test_a_dry_run_reads_and_counts_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream
) -> None:
    hour = datetime(2026, 11, 26, 3, tzinfo=UTC)
    key = put_backup(stack[0], hour, [line(e) for e in events(random.Random(7), 5)])
    code, out, _ = cli(capsys, stack, "replay", "--from", "2026-11-26T03:00Z", "--dry-run")
    rows = {row["object"]: row for row in out["rows"]}
    assert code == 0 and "dry run" in out["title"]
    assert (rows[key]["records"], rows[key]["accepted"]) == (5, 0)
    assert all(records == [] for records in stream.new().values())


def test_records_put_without_their_terminator_are_replayed_exactly_as_put(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str], stream: Stream
) -> None:
    aws = stack[0]
    hour = datetime(2026, 11, 27, 12, tzinfo=UTC)
    a, b, c, d, e = (line(x) for x in events(random.Random(8), 5))
    unterminated_b, unterminated_e = b.rstrip(b"\n"), e.rstrip(b"\n")
    key = put_backup(aws, hour, [a, unterminated_b, c, d, unterminated_e])
    broken = f"{prefixes.evaluate(schema.BACKUP_PREFIX, arrival=hour, dynamic_partitioning=False)}broken.gz"
    aws.s3.put_object(Bucket=aws.bucket, Key=broken, Body=b"\x1f\x8b not gzip")

    code, out, err = cli(capsys, stack, "replay", "--from", "2026-11-27T12")
    rows = {row["object"]: row for row in out["rows"]}
    assert code == 1 and err == ""
    row = rows[key]
    assert (row["records"], row["held_back"], row["accepted"]) == (5, 0, 5)
    assert "1 records put without a newline" in row["note"] and "last record has no newline" in row["note"]
    assert rows[broken]["note"].startswith("unreadable") and rows["(total)"]["held_back"] == 0
    # Every record exactly as put: b without its newline cut back out of b+c, e as the object ends.
    assert_exactly_in_order(stream.new(), [a, unterminated_b, c, d, unterminated_e])


def test_replay_flags_are_checked(capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str]) -> None:
    code, _, err = cli(capsys, stack, "replay", "--from", "2026-11-25T09", "--to", "2026-11-25T08")
    assert code == 2 and "--to 2026-11-25T08 is before --from" in err
    code, _, err = cli(capsys, stack, "replay", "--from", "yesterday")
    assert code == 2 and "--from" in err and "2026-11-25T07" in err
    code, _, err = cli(capsys, stack, "replay", "--from", "2026-11-25T07", "--bucket", "no-such-bucket")
    assert code == 2 and "NoSuchBucket" in err and "--bucket" in err


def test_replay_of_a_date_is_its_whole_day_and_says_which_hours(
    capsys: pytest.CaptureFixture[str], stack: tuple[EmbeddedAws, str]
) -> None:
    aws, rng = stack[0], random.Random(9)
    day = datetime(2026, 11, 28, tzinfo=UTC)
    keys = [put_backup(aws, h, [line(e) for e in events(rng, 2)]) for h in (day, day.replace(hour=23))]
    put_backup(aws, day + timedelta(days=1), [line(e) for e in events(rng, 2)])  # the next day: left alone
    put_backup(aws, day - timedelta(hours=1), [line(e) for e in events(rng, 2)])  # the day before
    code, out, _ = cli(capsys, stack, "replay", "--from", "2026-11-28", "--dry-run")
    assert code == 0 and [row["object"] for row in out["rows"][:-1]] == keys
    assert out["hours"]["from"] == "2026-11-28T00" and out["hours"]["to"] == "2026-11-28T23"
    assert "2026-11-28T00..2026-11-28T23" in out["title"]
    code, out, _ = cli(capsys, stack, "replay", "--from", "2026-11-27T23", "--to", "2026-11-28", "--dry-run")
    assert code == 0 and len(out["rows"]) == 4 and out["hours"]["from"] == "2026-11-27T23"
