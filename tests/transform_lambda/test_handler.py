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
from transform_lambda.events import Compiled
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
    """Whether the compiled path or the Python paths raise (the handler calls each itself)."""
    real_python = handler_module.python_first_arrival

    def flaky(record: dict[str, Any], *args: Any) -> Any:
        if U2.encode() in base64.b64decode(record["data"]):
            raise OverflowError("boom")
        return real_python(record, *args)

    # the Python paths as the step that fails; then the same through the compiled path's call
    monkeypatch.setattr(handler_module, "compiled_call", lambda: None)
    monkeypatch.setattr(handler_module, "python_first_arrival", flaky)
    response, logs = run([raw_event(event_uuid=U1), raw_event(event_uuid=U2), raw_event(event_uuid=U1)])
    assert [r["result"] for r in response["records"]] == ["Ok", "ProcessingFailed", "Ok"]
    assert [e["reason"] for e in logs if e["level"] == "WARNING"] == ["unprocessable"]
    assert "OverflowError at flaky" in logs[0]["detail"]
    assert "boom" not in logs[0]["detail"]  # exception text may quote the payload: not logged
    monkeypatch.setattr(handler_module, "python_first_arrival", real_python)
    # a stand-in called per record (no batch), as the handler calls any compiled path but the module's own
    monkeypatch.setattr(handler_module, "compiled_call", lambda: Compiled(flaky_compiled, None, {}, {}))

    def flaky_compiled(record: dict[str, Any], *args: Any) -> Any:
        if U2.encode() in base64.b64decode(record["data"]):
            raise OverflowError("boom")
        return None  # handed back: the Python paths write it

    response, logs = run([raw_event(event_uuid=U1), raw_event(event_uuid=U2), raw_event(event_uuid=U1)])
    assert [r["result"] for r in response["records"]] == ["Ok", "ProcessingFailed", "Ok"]
    assert "OverflowError at flaky_compiled" in logs[0]["detail"]


def test_json_nested_beyond_the_parser_limit_is_rejected_not_crashing() -> None:
    deep = b'{"event_uuid":"' + U1.encode() + b'","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response, logs = run([deep, raw_event(event_uuid=U2)])
    assert [r["result"] for r in response["records"]] == ["ProcessingFailed", "Ok"]
    assert logs[0]["reason"] == "not_json"


# --- Malformed entries of ``records`` --------------------------------------------------------------------


def test_malformed_entries_fail_alone_each_with_its_reason() -> None:
    good = firehose_event([raw_event(event_uuid=U1), raw_event(event_uuid=U2)])["records"]
    no_id = {k: v for k, v in good[0].items() if k != "recordId"}
    no_data = {k: v for k, v in good[1].items() if k != "data"} | {"recordId": "no-data"}
    not_base64 = good[1] | {"recordId": "not-base64", "data": "%%%"}
    numeric_data = good[1] | {"recordId": "numeric-data", "data": 7}
    entries = [None, good[0], "a string", no_id, no_data, 42, not_base64, [], numeric_data, good[1]]
    logs: list[dict[str, Any]] = []
    response = process({"invocationId": "inv-1", "records": entries}, claims=NoClaims(), log=logs.append)
    answered = [(r["recordId"], r["result"]) for r in response["records"]]
    assert answered == [
        (good[0]["recordId"], "Ok"),
        ("no-data", "ProcessingFailed"),
        ("not-base64", "ProcessingFailed"),
        ("numeric-data", "ProcessingFailed"),
        (good[1]["recordId"], "Ok"),
    ]
    assert [r["data"] for r in response["records"][1:4]] == [None, "%%%", 7]  # what was sent, as sent
    warnings = {entry["index"]: entry for entry in logs if entry["level"] == "WARNING"}
    assert sorted(warnings) == [0, 2, 3, 4, 5, 6, 7, 8]
    assert "null, not an object" in warnings[0]["detail"]
    assert "a string, not an object" in warnings[2]["detail"]
    assert (
        "no recordId" in warnings[3]["detail"]
        and warnings[3]["sequenceNumber"] == no_id["kinesisRecordMetadata"]["sequenceNumber"]
    )
    assert (
        "a number, not an object" in warnings[5]["detail"]
        and "an array, not an object" in warnings[7]["detail"]
    )
    assert all("missing recordId" in warnings[i]["detail"] for i in (0, 2, 3, 5, 7))
    assert [warnings[i]["reason"] for i in (4, 6, 8)] == ["bad_base64"] * 3
    assert "the record has no data" in warnings[4]["detail"] and "is a number," in warnings[8]["detail"]
    (summary,) = [entry for entry in logs if entry["message"] == "batch processed"]
    assert (summary["records"], summary["ok"]) == (10, 2)
    assert summary["rejected"] == {"unprocessable": 5, "bad_base64": 3}


def test_records_that_is_not_an_array_is_logged_and_answered_with_nothing() -> None:
    logs: list[dict[str, Any]] = []
    assert process({"records": "oops"}, claims=NoClaims(), log=logs.append) == {"records": []}
    assert "records is not an array" in logs[0]["detail"]


def test_a_record_without_an_id_holds_no_claim() -> None:
    store = HeldStore(set())
    good = firehose_event([raw_event(event_uuid=U1), raw_event(event_uuid=U2)])["records"]
    del good[0]["recordId"]
    response = process({"records": good}, claims=store, log=lambda _: None)
    assert [r["recordId"] for r in response["records"]] == [good[1]["recordId"]]
    assert [[c.key for c in call] for call in store.calls] == [[U2]]


def _without(field: str) -> Any:
    return lambda record: {k: v for k, v in record.items() if k != field}


# Ways an entry is malformed: (how, whether Firehose's recordId survives it).
MALFORMED = st.sampled_from(
    [
        (lambda record: None, False),
        (lambda record: "a string", False),
        (lambda record: 7, False),
        (lambda record: [record], False),
        (_without("recordId"), False),
        (lambda record: record | {"recordId": None}, False),
        (_without("data"), True),
        (lambda record: record | {"data": None}, True),
        (lambda record: record | {"data": 12}, True),
        (lambda record: record | {"data": "not base64!"}, True),
        (lambda record: record | {"data": "YQ"}, True),  # unpadded
    ]
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.tuples(valid_events, st.none() | MALFORMED), max_size=20), st.sampled_from([NoClaims(), None])
)
def test_any_mix_of_good_and_malformed_entries_answers_every_good_one_as_alone(
    entries: list[tuple[bytes, Any]], store: Any
) -> None:
    """Every good entry gets the answer it gets in a batch of the good entries alone; a malformed entry with
    a recordId fails alone (ProcessingFailed, its data as sent), one without is left out; nothing raises."""
    claims = store if store is not None else HeldStore(set())
    records = firehose_event([payload for payload, _ in entries])["records"]
    sent: list[Any] = []
    good: list[dict[str, Any]] = []
    failing_ids: set[str] = set()
    for record, (_, malformed) in zip(records, entries, strict=True):
        if malformed is None:
            sent.append(record)
            good.append(record)
        else:
            how, keeps_id = malformed
            sent.append(how(dict(record)))
            if keeps_id:
                failing_ids.add(record["recordId"])
    alone = process({"records": good}, claims=claims, log=lambda _: None)["records"]
    logs: list[dict[str, Any]] = []
    mixed = process({"records": sent}, claims=claims, log=logs.append)["records"]
    answered = [r["recordId"] for r in mixed]
    expected = [r["recordId"] for r in records if r["recordId"] in failing_ids or any(g is r for g in good)]
    assert answered == expected  # each answerable id exactly once, in order
    assert [r for r in mixed if r["recordId"] not in failing_ids] == alone
    assert all(r["result"] == "ProcessingFailed" for r in mixed if r["recordId"] in failing_ids)
    warnings = [e for e in logs if e["level"] == "WARNING"]
    assert len(warnings) == len(sent) - len(good)
    assert all(e["detail"] for e in warnings)
