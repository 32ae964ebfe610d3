"""The handler's side of Firehose's data-transformation contract."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from firehose_records import firehose_event, raw_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue import schema
from transform_lambda import handler as handler_module
from transform_lambda.claims import Claim, ClaimStoreError, NoClaims
from transform_lambda.handler import DedupeConfig, process

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"


def run(payloads: list[bytes | str], claims: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    logs: list[dict[str, Any]] = []
    response = process(firehose_event(payloads), claims=claims or NoClaims(), log=logs.append)
    return response, logs


def rows(response: dict[str, Any]) -> list[dict[str, Any] | None]:
    return [
        json.loads(base64.b64decode(r["data"])) if r["result"] == "Ok" else None for r in response["records"]
    ]


def test_ok_records_carry_enriched_json_and_partition_keys() -> None:
    response, _ = run([raw_event(event_uuid=U1, event_name="account:created", plan="pro")])
    (record,) = response["records"]
    assert record["result"] == "Ok"
    assert record["recordId"] == firehose_event([b""])["records"][0]["recordId"]
    decoded = base64.b64decode(record["data"])
    assert decoded.endswith(b"\n")
    row = json.loads(decoded)
    assert set(row) == set(schema.COLUMN_NAMES)
    assert row["source_shard_id"] == "shardId-000000000000"
    assert record["metadata"]["partitionKeys"] == {
        "event_type": "account",
        "event_date": "2025-11-25",
        "event_hour": "12",
    }


def test_failed_records_return_the_original_data_and_one_log_line_each() -> None:
    bad = [b"\xff", b"[]", "%%%", raw_event(event_uuid="nope", secret="s3cr3t-value")]
    response, logs = run([*bad, raw_event(event_uuid=U1)])
    results = [r["result"] for r in response["records"]]
    assert results == ["ProcessingFailed"] * 4 + ["Ok"]
    sent = firehose_event(bad)["records"]
    for out, original in zip(response["records"], sent, strict=False):
        assert out["data"] == original["data"]
        assert "metadata" not in out
    warnings = [entry for entry in logs if entry["level"] == "WARNING"]
    assert [w["reason"] for w in warnings] == ["invalid_utf8", "not_object", "bad_base64", "bad_event_uuid"]
    assert all(w["recordId"] and w["sequenceNumber"] for w in warnings)
    assert "s3cr3t-value" not in json.dumps(logs)  # no payload contents in logs
    (summary,) = [entry for entry in logs if entry["message"] == "batch processed"]
    assert summary["records"] == 5 and summary["ok"] == 1


def test_in_batch_duplicates_are_marked_first_arrival_wins() -> None:
    response, _ = run(
        [
            raw_event(event_uuid=U1, n=1),
            raw_event(event_uuid=U2),
            raw_event(event_uuid=U1.upper(), n=2),  # UUIDs compare case-insensitively
            b"garbage",
            raw_event(event_uuid=U1, n=3),
        ]
    )
    marks = [row["is_duplicate"] if row else None for row in rows(response)]
    assert marks == [False, False, True, None, True]
    # Marked, not dropped: every duplicate keeps its own payload.
    assert [json.loads(row["payload"])["n"] for row in rows(response) if row and "n" in row["payload"]] == [
        1,
        2,
        3,
    ]


class HeldStore:
    """A claim store in which some ids are already held by other records."""

    def __init__(self, held: set[str]) -> None:
        self.held = held
        self.calls: list[list[Claim]] = []

    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        self.calls.append(list(claims))
        return {
            c.key: Claim(c.key, "shardId-000000000009:1:0", c.fingerprint) if c.key in self.held else c
            for c in claims
        }


def test_claim_store_marks_ids_held_by_earlier_batches_once_per_distinct_id() -> None:
    store = HeldStore({U2})
    response, _ = run([raw_event(event_uuid=U1), raw_event(event_uuid=U2), raw_event(event_uuid=U1)], store)
    assert [row["is_duplicate"] for row in rows(response)] == [False, True, True]
    (call,) = store.calls
    assert [c.key for c in call] == [U1, U2]
    # The holder is the source record (shard + sequence), stable across Firehose's retries.
    assert call[0].holder.startswith("shardId-000000000000:4954")


class Broken:
    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        raise RuntimeError("throttled")


def test_claim_store_failure_fails_the_invocation_so_firehose_retries_when_the_stack_says_so() -> None:
    try:
        process(
            firehose_event([raw_event(event_uuid=U1)]),
            claims=Broken(),
            log=lambda _: None,
            dedupe=DedupeConfig(on_store_failure="fail"),
        )
    except ClaimStoreError as exc:
        assert "throttled" in str(exc)
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("a failing claim store must fail the invocation")


def test_empty_and_missing_records_give_an_empty_records_array() -> None:
    assert process({"records": []}, claims=NoClaims(), log=lambda _: None) == {"records": []}
    assert process({}, claims=NoClaims(), log=lambda _: None) == {"records": []}


def test_entry_point_uses_no_claims_without_a_table(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.delenv("CLAIMS_TABLE", raising=False)
    monkeypatch.setattr(handler_module, "_STORE", None)
    response = handler_module.handler(firehose_event([raw_event(event_uuid=U1)]), None)
    assert response["records"][0]["result"] == "Ok"
    assert isinstance(handler_module.claim_store(), NoClaims)
    lines = capsys.readouterr().out.strip().splitlines()
    assert all(json.loads(line) for line in lines)  # structured, one JSON object per line


valid_events = st.builds(
    lambda uuid, name, ts, extra: raw_event(event_uuid=str(uuid), event_name=name, created_at=ts, **extra),
    st.uuids(),
    st.from_regex(r"[a-z]{1,8}(:[a-z]{1,8}){0,2}", fullmatch=True),
    st.integers(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 1),
    st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=10) | st.integers(), max_size=3),
)
any_payload = st.one_of(
    valid_events,
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    st.text(max_size=24),  # not even base64
    st.builds(lambda v: json.dumps(v).encode(), st.none() | st.integers() | st.lists(st.integers())),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(any_payload, max_size=30))
def test_any_batch_returns_every_id_once_in_order_and_failures_keep_their_bytes(payloads: list) -> None:
    event = firehose_event(payloads)
    response = process(event, claims=NoClaims(), log=lambda _: None)
    out = response["records"]
    assert [r["recordId"] for r in out] == [r["recordId"] for r in event["records"]]
    for sent, got in zip(event["records"], out, strict=True):
        assert got["result"] in {"Ok", "ProcessingFailed"}
        if got["result"] == "ProcessingFailed":
            assert got["data"] == sent["data"]
        else:
            assert set(got["metadata"]["partitionKeys"]) == set(schema.PARTITION_KEY_NAMES)
            assert set(json.loads(base64.b64decode(got["data"]))) == set(schema.COLUMN_NAMES)
    json.dumps(response)  # the response must serialise as Firehose reads it


def test_an_unforeseen_failure_fails_that_record_alone(monkeypatch: Any) -> None:
    real_first_arrival = handler_module.first_arrival

    def flaky(record: dict[str, Any], *args: Any) -> Any:
        if U2.encode() in base64.b64decode(record["data"]):
            raise OverflowError("boom")
        return real_first_arrival(record, *args)

    monkeypatch.setattr(handler_module, "first_arrival", flaky)
    response, logs = run([raw_event(event_uuid=U1), raw_event(event_uuid=U2), raw_event(event_uuid=U1)])
    assert [r["result"] for r in response["records"]] == ["Ok", "ProcessingFailed", "Ok"]
    assert [e["reason"] for e in logs if e["level"] == "WARNING"] == ["unprocessable"]
    assert "OverflowError at flaky" in logs[0]["detail"]
    assert "boom" not in logs[0]["detail"]  # exception text may quote the payload: not logged


def test_json_nested_beyond_the_parser_limit_is_rejected_not_crashing() -> None:
    deep = b'{"event_uuid":"' + U1.encode() + b'","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response, logs = run([deep, raw_event(event_uuid=U2)])
    assert [r["result"] for r in response["records"]] == ["ProcessingFailed", "Ok"]
    assert logs[0]["reason"] == "not_json"
