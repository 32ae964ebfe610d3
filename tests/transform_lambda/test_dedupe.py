"""Duplicate marks through the handler, with the DynamoDB claim store on moto (plus the project's
BatchExecuteStatement INSERT): what ``is_duplicate`` and ``uuid_reused`` say in each case the design names."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from firehose_records import firehose_event, firehose_record, raw_event
from hypothesis import given
from hypothesis import strategies as st
from moto_claims import CLAIMS_TABLE, claims_table

from glue import schema
from glue.claim_items import KEY_ATTRIBUTE
from transform_lambda.claims import Backoff, Claim, ClaimStoreError, DynamoClaims
from transform_lambda.events import Event, Lineage, enrich, mark, row_bytes
from transform_lambda.handler import DedupeConfig, process

TABLE = CLAIMS_TABLE
U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
NIL = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def ddb() -> Iterator[Any]:
    with claims_table() as client:
        yield client


def store(ddb: Any, now: float = 1_764_072_000) -> DynamoClaims:
    return DynamoClaims(ddb, TABLE, ttl_seconds=3600, clock=lambda: now, sleep=lambda _: None)


def batch(payloads: list[bytes], first_index: int = 0, shard: str = "shardId-000000000000") -> dict[str, Any]:
    """A Firehose event whose records have sequence numbers first_index, first_index + 1, ..."""
    event = firehose_event([])
    event["records"] = [firehose_record(p, first_index + i, shard) for i, p in enumerate(payloads)]
    return event


def marks(response: dict[str, Any]) -> list[tuple[Any, Any] | str]:
    out: list[tuple[Any, Any] | str] = []
    for record in response["records"]:
        if record["result"] != "Ok":
            out.append(record["result"])
            continue
        row = json.loads(base64.b64decode(record["data"]))
        out.append((row["is_duplicate"], row["uuid_reused"]))
    return out


def run(event: dict[str, Any], claims: Any, **dedupe: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    logs: list[dict[str, Any]] = []
    return process(event, claims=claims, log=logs.append, dedupe=DedupeConfig(**dedupe)), logs


FIRST, REPEAT, REUSED, UNCHECKED = (False, False), (True, False), (False, True), (None, None)


def test_first_arrival_wins_a_later_repeat_is_marked_and_a_retry_is_not(ddb: Any) -> None:
    first = batch([raw_event(event_uuid=U1, n=1)])
    assert marks(run(first, store(ddb))[0]) == [FIRST]
    assert marks(run(first, store(ddb))[0]) == [FIRST]  # Firehose retried the same record
    resent = batch([raw_event(event_uuid=U1, n=2)], first_index=7)  # the producer re-sent it
    assert marks(run(resent, store(ddb))[0]) == [REPEAT]


def test_in_batch_repeats_and_reuses_are_settled_in_memory_with_one_claim_per_id(ddb: Any) -> None:
    sent: list[list[str]] = []
    ddb.meta.events.register(
        "before-parameter-build.dynamodb.BatchExecuteStatement",
        lambda params, **_: sent.append([s["Parameters"][0]["S"] for s in params["Statements"]]),
    )
    event = batch(
        [
            raw_event(event_uuid=U1),
            raw_event(event_uuid=U1.upper()),  # ids compare case-insensitively
            raw_event(event_uuid=U1, event_name="account:deleted"),  # another event, same id
            raw_event(event_uuid=U2),
        ]
    )
    assert marks(run(event, store(ddb))[0]) == [FIRST, REPEAT, REUSED, FIRST]
    assert sent == [[U1, U2]]


def test_kpl_user_records_sharing_a_sequence_number_are_distinct_arrivals(ddb: Any) -> None:
    first, second = (batch([raw_event(event_uuid=U1)]) for _ in range(2))
    second["records"][0]["kinesisRecordMetadata"]["subsequenceNumber"] = 1
    assert marks(run(first, store(ddb))[0]) == [FIRST]
    assert marks(run(second, store(ddb))[0]) == [REPEAT]
    assert marks(run(first, store(ddb))[0]) == [FIRST]  # subsequence 0, retried: still its own


def test_a_reused_id_across_batches_is_not_a_duplicate_but_is_flagged(ddb: Any) -> None:
    run(batch([raw_event(event_uuid=U1, created_at=1_764_072_000)]), store(ddb))
    other = batch([raw_event(event_uuid=U1, created_at=1_764_075_600)], first_index=5)
    assert marks(run(other, store(ddb))[0]) == [REUSED]


def test_the_fingerprint_fields_are_configurable(ddb: Any) -> None:
    run(batch([raw_event(event_uuid=U1, order="o-1")]), store(ddb), fingerprint_fields=("order",))
    later = batch([raw_event(event_uuid=U1, order="o-2")], first_index=3)
    assert marks(run(later, store(ddb), fingerprint_fields=("order",))[0]) == [REUSED]


def test_the_nil_uuid_is_rejected_with_its_own_reason(ddb: Any) -> None:
    response, logs = run(batch([raw_event(event_uuid=NIL)]), store(ddb))
    assert marks(response) == ["ProcessingFailed"]
    assert [e["reason"] for e in logs if e["level"] == "WARNING"] == ["nil_event_uuid"]


def test_a_record_rejected_while_its_row_is_built_holds_no_claim(ddb: Any) -> None:
    poisoned = (
        b'{"event_uuid":"' + U1.encode() + b'","event_name":"a:b","created_at":1764072000,"x":"\\ud800"}'
    )
    response, logs = run(batch([poisoned]), store(ddb))
    assert marks(response) == ["ProcessingFailed"]
    assert [e["reason"] for e in logs if e["level"] == "WARNING"] == ["unprocessable"]
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={KEY_ATTRIBUTE: {"S": U1}})
    fixed = batch([raw_event(event_uuid=U1, event_name="a:b", x="ok")], first_index=1)
    assert marks(run(fixed, store(ddb))[0]) == [FIRST]


def test_an_expired_claim_makes_a_late_repeat_a_first_arrival(ddb: Any) -> None:
    run(batch([raw_event(event_uuid=U1)]), store(ddb, now=1_000_000))
    late = batch([raw_event(event_uuid=U1)], first_index=9)
    assert marks(run(late, store(ddb, now=1_000_000 + 3599))[0]) == [REPEAT]
    assert marks(run(late, store(ddb, now=1_000_000 + 3601))[0]) == [FIRST]


def test_concurrent_invocations_store_exactly_one_first_arrival_per_id(ddb: Any) -> None:
    ids = [f"{i:08x}-1111-4111-8111-111111111111" for i in range(40)]
    results: list[list[tuple[str, Any]]] = []
    lock = threading.Lock()

    def invocation(shard: int) -> None:
        payloads = [raw_event(event_uuid=u) for u in ids[shard * 5 :] + ids[: shard * 5]]
        event = batch(payloads, shard=f"shardId-{shard:012d}")
        response, _ = run(event, store(ddb))
        with lock:
            results.append(list(zip(ids[shard * 5 :] + ids[: shard * 5], marks(response), strict=True)))

    threads = [threading.Thread(target=invocation, args=(s,)) for s in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for uuid in ids:
        seen = [m for result in results for u, m in result if u == uuid]
        assert sorted(seen, key=str) == sorted([FIRST] + [REPEAT] * 4, key=str), uuid


class Outage:
    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        raise ConnectionError("claims table unreachable")


class HalfAnswered:
    """A store that answers for every other id (the rest were throttled past the retry budget)."""

    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        return {c.key: c for c in claims[::2]}


def test_a_store_outage_delivers_every_record_marked_not_checked(ddb: Any) -> None:
    event = batch([raw_event(event_uuid=U1), raw_event(event_uuid=U2), raw_event(event_uuid=U1)])
    response, logs = run(event, Outage())
    assert marks(response) == [UNCHECKED, UNCHECKED, REPEAT]  # the in-batch repeat is still exact
    (error,) = [e for e in logs if e["level"] == "ERROR"]
    assert error["not_checked"] == 2 and "unreachable" in error["error"]
    (summary,) = [e for e in logs if e["level"] == "INFO"]
    assert summary["not_checked"] == 2 and summary["ok"] == 3


def _throttled(ddb: Any, stubber: Stubber, code: str) -> DynamoClaims:
    for _ in range(Backoff().attempts):
        stubber.add_client_error(
            "batch_execute_statement",
            service_error_code=code,
            service_message="Rate exceeded",
            http_status_code=400,
        )
    return DynamoClaims(ddb, TABLE, ttl_seconds=60, sleep=lambda _: None)


def _denied(ddb: Any, stubber: Stubber, code: str) -> DynamoClaims:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/transform is not authorized to perform: PartiQLInsert"
    )
    stubber.add_client_error(
        "batch_execute_statement", service_error_code=code, service_message=message, http_status_code=400
    )
    return DynamoClaims(ddb, TABLE, ttl_seconds=60, sleep=lambda _: None)


# (how the store fails, its error code, the retries it gets): throttling is retried to the budget, the
# others are not.
STORE_FAILURES = [
    (_throttled, "ProvisionedThroughputExceededException", Backoff().attempts - 1),
    (_throttled, "ThrottlingException", Backoff().attempts - 1),
    (_denied, "AccessDeniedException", 0),
    (_denied, "ResourceNotFoundException", 0),
]


def test_each_store_failure_logs_its_own_cause_retries_and_the_batchs_counts() -> None:
    """Throttling, AccessDenied and a missing table each say so: the cause, not ``"error": null``."""
    lines = []
    for build, code, retries in STORE_FAILURES:
        ddb = boto3.client(
            "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        with Stubber(ddb) as stubber:
            event = batch(
                [raw_event(event_uuid=U1), raw_event(event_uuid=U2), raw_event(event_uuid=U1), b"[]"]
            )
            response, logs = run(event, build(ddb, stubber, code))
            stubber.assert_no_pending_responses()
        assert marks(response) == [UNCHECKED, UNCHECKED, REPEAT, "ProcessingFailed"]
        (line,) = [e for e in logs if e["level"] == "ERROR"]
        assert line["message"] == "dedupe store unavailable"
        assert (line["error_code"], line["operation"], line["retries"]) == (
            code,
            "BatchExecuteStatement",
            retries,
        )
        assert line["error"].startswith(f"{code}: ") and line["error_message"]
        assert (line["records"], line["rejected"], line["ids"], line["not_checked"]) == (4, 1, 2, 2)
        assert line["causes"] == [
            {
                "operation": "BatchExecuteStatement",
                "code": code,
                "message": line["error_message"],
                "retries": retries,
                "ids": 2,
            }
        ]
        lines.append(line)
    assert len({line["error"] for line in lines}) == len(STORE_FAILURES)


def test_a_missing_table_logs_resource_not_found_from_the_statements(ddb: Any) -> None:
    """On moto with the project's PartiQL INSERT, a table that is not there answers each statement with
    ``ResourceNotFound`` (DynamoDB's BatchStatementError code): logged as such, not retried."""
    missing = DynamoClaims(ddb, "no-such-table", ttl_seconds=60, sleep=lambda _: None)
    _, logs = run(batch([raw_event(event_uuid=U1)]), missing)
    (line,) = [e for e in logs if e["level"] == "ERROR"]
    assert (line["error_code"], line["retries"], line["not_checked"], line["ids"]) == (
        "ResourceNotFound",
        0,
        1,
        1,
    )
    assert "not found" in line["error"]


def test_a_store_that_gives_no_cause_is_logged_as_saying_none() -> None:
    _, logs = run(batch([raw_event(event_uuid=U1), raw_event(event_uuid=U2)]), HalfAnswered())
    (line,) = [e for e in logs if e["level"] == "ERROR"]
    assert line["error_code"] == "NoCause" and "HalfAnswered left 1 ids unanswered" in line["error"]


def test_the_fail_setting_names_the_cause_in_its_error(ddb: Any) -> None:
    missing = DynamoClaims(ddb, "no-such-table", ttl_seconds=60, sleep=lambda _: None)
    with pytest.raises(
        ClaimStoreError, match=r"could not check 1 of 1 ids \(ResourceNotFound: .*, 0 retries\)"
    ):
        run(batch([raw_event(event_uuid=U1)]), missing, on_store_failure="fail")


def test_partially_answered_claims_mark_only_the_unanswered_not_checked() -> None:
    event = batch([raw_event(event_uuid=U1), raw_event(event_uuid=U2)])
    assert marks(run(event, HalfAnswered())[0]) == [FIRST, UNCHECKED]


def test_the_fail_setting_fails_the_invocation_so_firehose_retries() -> None:
    with pytest.raises(ClaimStoreError, match="unreachable"):
        run(batch([raw_event(event_uuid=U1)]), Outage(), on_store_failure="fail")


def test_dedupe_config_reads_the_lambda_environment() -> None:
    config = DedupeConfig.from_env(
        {"CLAIMS_FINGERPRINT_FIELDS": "event_name,order", "CLAIMS_ON_STORE_FAILURE": "fail"}
    )
    assert config == DedupeConfig(fingerprint_fields=("event_name", "order"), on_store_failure="fail")
    assert DedupeConfig.from_env({}) == DedupeConfig()
    with pytest.raises(ValueError, match="deliver or fail"):
        DedupeConfig.from_env({"CLAIMS_ON_STORE_FAILURE": "drop"})


@given(
    st.text(max_size=20),
    st.dictionaries(st.text(max_size=8), st.text(max_size=12) | st.integers(), max_size=4),
    st.sampled_from([FIRST, REPEAT, REUSED, UNCHECKED]),
)
def test_marking_an_encoded_row_equals_encoding_the_marked_row(
    name: str, payload: dict, marked: tuple
) -> None:
    event = Event(U1, f"t:{name}" if name else "t", "t", name or None, 1_764_072_000.5, payload)
    lineage = Lineage("shardId-0", "1", 1_764_072_001_000, 0)
    unmarked = row_bytes(enrich(event, lineage))
    expected = {**enrich(event, lineage), "is_duplicate": marked[0], "uuid_reused": marked[1]}
    decoded = base64.b64decode(mark(unmarked, is_duplicate=marked[0], uuid_reused=marked[1]))
    assert json.loads(decoded) == expected
    assert list(json.loads(decoded)) == list(schema.COLUMN_NAMES)


def test_fingerprints_tell_types_and_values_apart_and_ignore_key_order() -> None:
    from transform_lambda.claims import fingerprint

    assert fingerprint(["a:b", 1_764_072_000]) == fingerprint(["a:b", 1_764_072_000])
    assert fingerprint(["a:b", 1]) != fingerprint(["a:b", 1.0])  # a re-send keeps the bytes it was sent with
    assert fingerprint(["a", None]) != fingerprint(["a", "None"])
    assert fingerprint(["a", True]) != fingerprint(["a", 1])
    assert fingerprint([{"x": 1, "y": [2]}]) == fingerprint([{"y": [2], "x": 1}])
    assert fingerprint(["a|b", "c"]) != fingerprint(["a", "b|c"])
