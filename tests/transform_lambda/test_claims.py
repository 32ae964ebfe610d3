"""The DynamoDB claim store: against moto with the project's BatchExecuteStatement INSERT, and against
botocore Stubber responses shaped like AWS's (DuplicateItem with and without the item, throttling)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ReadTimeoutError
from botocore.stub import ANY, Stubber
from hypothesis import given
from hypothesis import strategies as st
from moto_claims import CLAIMS_TABLE, CREDENTIALS, ScriptedTransport, claims_table

from glue.claim_items import EXPIRES_ATTRIBUTE, KEY_ATTRIBUTE
from transform_lambda.claims import (
    NO_ATTEMPT,
    Backoff,
    Claim,
    DynamoClaims,
    StoreFailure,
    cause_of,
    claims_client_config,
    fingerprint,
    retried,
)

TABLE = CLAIMS_TABLE
NOW = 1_764_072_000


@pytest.fixture
def client() -> Iterator[Any]:
    with claims_table() as client:
        yield client


def store(client: Any, now: float = NOW, **kwargs: Any) -> DynamoClaims:
    return DynamoClaims(
        client,
        TABLE,
        ttl_seconds=3600,
        credentials=CREDENTIALS,
        clock=lambda: now,
        sleep=lambda _: None,
        **kwargs,
    )


def c(key: str, holder: str, fp: str = "f1") -> Claim:
    return Claim(key, holder, fp)


def test_first_writer_wins_and_later_holders_see_the_owner(client: Any) -> None:
    assert store(client).claim([c("a", "s0:1:0"), c("b", "s0:2:0")]) == {
        "a": c("a", "s0:1:0"),
        "b": c("b", "s0:2:0"),
    }
    assert store(client).claim([c("a", "s1:9:0", "f2"), c("c", "s1:10:0")]) == {
        "a": c("a", "s0:1:0"),
        "c": c("c", "s1:10:0"),
    }
    item = client.get_item(TableName=TABLE, Key={KEY_ATTRIBUTE: {"S": "a"}})["Item"]
    assert item["holder"]["S"] == "s0:1:0" and item["fingerprint"]["S"] == "f1"
    assert int(item[EXPIRES_ATTRIBUTE]["N"]) == NOW + 3600


def test_a_retried_record_reclaims_its_own_id(client: Any) -> None:
    assert store(client).claim([c("a", "s0:1:0")]) == {"a": c("a", "s0:1:0")}
    assert store(client).claim([c("a", "s0:1:0")]) == {"a": c("a", "s0:1:0")}


def test_an_expired_claim_is_free_even_before_ttl_deletes_it(client: Any) -> None:
    assert store(client, now=1000).claim([c("a", "s0:1:0")])["a"].holder == "s0:1:0"
    assert store(client, now=1000 + 3599).claim([c("a", "s0:2:0")])["a"].holder == "s0:1:0"
    assert store(client, now=1000 + 3601).claim([c("a", "s0:2:0")])["a"].holder == "s0:2:0"


def test_many_ids_go_out_25_per_call_and_each_is_decided(client: Any) -> None:
    calls: list[int] = []
    client.meta.events.register(
        "before-parameter-build.dynamodb.BatchExecuteStatement",
        lambda params, **_: calls.append(len(params["Statements"])),
    )
    claims = [c(f"id-{i}", f"s0:{i}:0") for i in range(130)]
    assert store(client).claim(claims) == {x.key: x for x in claims}
    assert sorted(calls) == [5, 25, 25, 25, 25, 25]
    again = [c(f"id-{i}", f"s1:{i}:0") for i in range(130)]
    owners = store(client).claim(again)
    assert all(owners[x.key].holder == f"s0:{x.key[3:]}:0" for x in again)


def test_concurrent_invocations_let_exactly_one_holder_win_each_id(client: Any) -> None:
    outcomes: list[dict[str, Claim]] = []
    lock = threading.Lock()
    keys = [f"k{i}" for i in range(60)]

    def invoke(shard: int) -> None:
        rng = random.Random(shard)
        mine = [c(k, f"shard-{shard}:{k}:0") for k in rng.sample(keys, 40)]
        owners = store(client).claim(mine)
        with lock:
            outcomes.append(owners)

    threads = [threading.Thread(target=invoke, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key in keys:
        answers = {o[key].holder for o in outcomes if key in o}
        assert len(answers) <= 1, (key, answers)  # every invocation sees the same single owner


def test_a_missing_table_leaves_ids_unchecked_instead_of_raising(client: Any) -> None:
    broken = DynamoClaims(
        client, "no-such-table", ttl_seconds=60, credentials=CREDENTIALS, sleep=lambda _: None
    )
    assert broken.claim([c("a", "h")]) == {}


def test_the_extension_refuses_more_than_25_statements(client: Any) -> None:
    statement = f"INSERT INTO \"{TABLE}\" VALUE {{'{KEY_ATTRIBUTE}': ?}}"
    with pytest.raises(client.exceptions.ClientError, match="25"):
        client.batch_execute_statement(
            Statements=[{"Statement": statement, "Parameters": [{"S": str(i)}]} for i in range(26)]
        )


# --- AWS-shaped responses through botocore's Stubber -----------------------------------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    ddb = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
    )
    with Stubber(ddb) as stubber:
        yield ddb, stubber
        stubber.assert_no_pending_responses()


def owner_item(key: str, holder: str, fp: str = "f1", expires: int = NOW + 10) -> dict[str, Any]:
    return {
        KEY_ATTRIBUTE: {"S": key},
        "holder": {"S": holder},
        "fingerprint": {"S": fp},
        EXPIRES_ATTRIBUTE: {"N": str(expires)},
    }


def test_a_duplicate_item_with_the_old_item_needs_no_read(stubbed: tuple[Any, Stubber]) -> None:
    ddb, stubber = stubbed
    stubber.add_response(
        "batch_execute_statement",
        {
            "Responses": [
                {"TableName": TABLE},
                {
                    "Error": {
                        "Code": "DuplicateItem",
                        "Message": "Duplicate primary key exists in table",
                        "Item": owner_item("b", "s9:1:0", "f2"),
                    }
                },
            ]
        },
        {"Statements": ANY},
    )
    owners = store(ddb).claim([c("a", "s0:1:0"), c("b", "s0:2:0")])
    assert owners == {"a": c("a", "s0:1:0"), "b": c("b", "s9:1:0", "f2")}


def test_a_duplicate_item_without_the_item_is_read_back_consistently(stubbed: tuple[Any, Stubber]) -> None:
    ddb, stubber = stubbed
    stubber.add_response(
        "batch_execute_statement",
        {
            "Responses": [
                {"Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}}
            ]
        },
        {"Statements": ANY},
    )
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [owner_item("a", "s9:1:0")]}, "UnprocessedKeys": {}},
        {"RequestItems": {TABLE: {"Keys": [{KEY_ATTRIBUTE: {"S": "a"}}], "ConsistentRead": True}}},
    )
    assert store(ddb).claim([c("a", "s0:1:0")]) == {"a": c("a", "s9:1:0")}


def test_throttled_statements_are_retried_with_backoff_and_jitter(stubbed: tuple[Any, Stubber]) -> None:
    ddb, stubber = stubbed
    throttled = {"Error": {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}}
    stubber.add_response(
        "batch_execute_statement", {"Responses": [{"TableName": TABLE}, throttled]}, {"Statements": ANY}
    )
    stubber.add_response("batch_execute_statement", {"Responses": [throttled]}, {"Statements": ANY})
    stubber.add_response(
        "batch_execute_statement", {"Responses": [{"TableName": TABLE}]}, {"Statements": ANY}
    )
    slept: list[float] = []
    claims = DynamoClaims(
        ddb,
        TABLE,
        ttl_seconds=60,
        credentials=CREDENTIALS,
        clock=lambda: NOW,
        sleep=slept.append,
        rng=random.Random(3),
        backoff=Backoff(),
    )
    assert claims.claim([c("a", "s0:1:0"), c("b", "s0:2:0")]) == {
        "a": c("a", "s0:1:0"),
        "b": c("b", "s0:2:0"),
    }
    assert len(slept) == 2 and all(0 <= s <= Backoff().cap_s for s in slept)


def test_throttling_past_the_budget_leaves_those_ids_unchecked(stubbed: tuple[Any, Stubber]) -> None:
    ddb, stubber = stubbed
    backoff = Backoff(attempts=3)
    stubber.add_response(
        "batch_execute_statement",
        {
            "Responses": [
                {"TableName": TABLE},
                {"Error": {"Code": "ProvisionedThroughputExceeded", "Message": "slow down"}},
            ]
        },
        {"Statements": ANY},
    )
    for _ in range(backoff.attempts - 1):
        stubber.add_client_error(
            "batch_execute_statement", service_error_code="ThrottlingException", http_status_code=400
        )
    claims = DynamoClaims(
        ddb,
        TABLE,
        ttl_seconds=60,
        credentials=CREDENTIALS,
        clock=lambda: NOW,
        sleep=lambda _: None,
        backoff=backoff,
    )
    assert claims.claim([c("a", "s0:1:0"), c("b", "s0:2:0")]) == {"a": c("a", "s0:1:0")}


def test_an_expired_owner_is_taken_over_with_a_conditional_put(stubbed: tuple[Any, Stubber]) -> None:
    ddb, stubber = stubbed
    stubber.add_response(
        "batch_execute_statement",
        {
            "Responses": [
                {
                    "Error": {
                        "Code": "DuplicateItem",
                        "Message": "x",
                        "Item": owner_item("a", "s9:1:0", expires=NOW - 1),
                    }
                }
            ]
        },
        {"Statements": ANY},
    )
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [owner_item("a", "s9:1:0", expires=NOW - 1)]}, "UnprocessedKeys": {}},
        {"RequestItems": ANY},
    )
    stubber.add_response(
        "put_item",
        {},
        {
            "TableName": TABLE,
            "Item": ANY,
            "ConditionExpression": "attribute_not_exists(#k) OR #e < :now OR #h = :me",
            "ExpressionAttributeNames": ANY,
            "ExpressionAttributeValues": {":now": {"N": str(NOW)}, ":me": {"S": "s0:1:0"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    )
    assert store(ddb).claim([c("a", "s0:1:0")]) == {"a": c("a", "s0:1:0")}


def _fingerprint_as_first_released(values: list[Any]) -> str:
    """The fingerprint as the claims table first stored it: a claim written by an older Lambda must still
    match its repeats after a deploy (else, for one TTL, repeats read as reused ids)."""
    import hashlib
    import json

    scalars = (str, int, float, bool, type(None))
    parts = [
        f"{type(v).__name__}:{v!r}"
        if isinstance(v, scalars)
        else "json:" + json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
        for v in values
    ]
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.lists(JSON_VALUES, max_size=4))
def test_the_fingerprint_is_the_one_the_table_already_holds(values: list[Any]) -> None:
    assert fingerprint(values) == _fingerprint_as_first_released(values)


# --- Why ids went unchecked: each failure carries its cause ------------------------------------------------


# Through dynamodb_json (credentials given) and through the client's methods (none): the same policy.
PATHS = pytest.mark.parametrize("credentials", [CREDENTIALS, None], ids=["direct", "methods"])


@PATHS
@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException"])
def test_a_throttled_store_names_the_throttling_and_its_retries(
    stubbed: tuple[Any, Stubber], code: str, credentials: Credentials | None
) -> None:
    ddb, stubber = stubbed
    backoff = Backoff(attempts=3)
    for _ in range(backoff.attempts):
        stubber.add_client_error(
            "batch_execute_statement",
            service_error_code=code,
            service_message="Rate exceeded",
            http_status_code=400,
        )
    slept: list[float] = []
    claims = DynamoClaims(
        ddb,
        TABLE,
        ttl_seconds=60,
        credentials=credentials,
        clock=lambda: NOW,
        sleep=slept.append,
        backoff=backoff,
    )
    owners = claims.claim([c("a", "s0:1:0"), c("b", "s0:2:0")])
    assert owners == {}
    assert owners.failures == (StoreFailure("BatchExecuteStatement", code, "Rate exceeded", 2, 2),)
    assert len(slept) == backoff.attempts - 1  # retried as before


@PATHS
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/t is not authorized"),
        ("ResourceNotFoundException", "Requested resource not found"),
    ],
)
def test_access_denied_and_a_missing_table_are_not_retried(
    stubbed: tuple[Any, Stubber], code: str, message: str, credentials: Credentials | None
) -> None:
    ddb, stubber = stubbed
    stubber.add_client_error(
        "batch_execute_statement", service_error_code=code, service_message=message, http_status_code=400
    )
    slept: list[float] = []
    claims = DynamoClaims(
        ddb, TABLE, ttl_seconds=60, credentials=credentials, clock=lambda: NOW, sleep=slept.append
    )
    owners = claims.claim([c("a", "s0:1:0")])
    assert owners == {} and slept == []  # one call: a second would find no stubbed answer
    assert owners.failures == (StoreFailure("BatchExecuteStatement", code, message, 0, 1),)


def test_statements_refused_for_good_name_their_code_and_are_not_retried(
    stubbed: tuple[Any, Stubber],
) -> None:
    ddb, stubber = stubbed
    denied = {
        "Error": {"Code": "AccessDenied", "Message": "not authorized to perform: dynamodb:PartiQLInsert"}
    }
    throttled = {"Error": {"Code": "ThrottlingError", "Message": "slow down"}}
    stubber.add_response("batch_execute_statement", {"Responses": [denied, throttled]}, {"Statements": ANY})
    stubber.add_response("batch_execute_statement", {"Responses": [throttled]}, {"Statements": ANY})
    claims = DynamoClaims(
        ddb,
        TABLE,
        ttl_seconds=60,
        credentials=CREDENTIALS,
        clock=lambda: NOW,
        sleep=lambda _: None,
        backoff=Backoff(2),
    )
    owners = claims.claim([c("a", "s0:1:0"), c("b", "s0:2:0")])
    assert owners == {}
    assert set(owners.failures) == {
        StoreFailure("BatchExecuteStatement", "AccessDenied", denied["Error"]["Message"], 0, 1),
        StoreFailure("BatchExecuteStatement", "ThrottlingError", "slow down", 1, 1),
    }


def test_a_failed_read_back_names_its_call_and_cause(stubbed: tuple[Any, Stubber]) -> None:
    ddb, stubber = stubbed
    duplicate = {"Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}}
    stubber.add_response("batch_execute_statement", {"Responses": [duplicate]}, {"Statements": ANY})
    for _ in range(2):
        stubber.add_client_error(
            "batch_get_item", service_error_code="InternalServerError", service_message="oops"
        )
    claims = DynamoClaims(
        ddb,
        TABLE,
        ttl_seconds=60,
        credentials=CREDENTIALS,
        clock=lambda: NOW,
        sleep=lambda _: None,
        backoff=Backoff(2),
    )
    owners = claims.claim([c("a", "s0:1:0")])
    assert owners == {}
    assert owners.failures == (StoreFailure("BatchGetItem", "InternalServerError", "oops", 1, 1),)


def test_a_missing_table_on_moto_names_resource_not_found(client: Any) -> None:
    slept: list[float] = []
    broken = DynamoClaims(
        client, "no-such-table", ttl_seconds=60, credentials=CREDENTIALS, sleep=slept.append
    )
    owners = broken.claim([c("a", "h"), c("b", "h2")])
    assert owners == {} and slept == []
    (failure,) = owners.failures
    assert (failure.operation, failure.code, failure.retries, failure.ids) == (
        "BatchExecuteStatement",
        "ResourceNotFound",
        0,
        2,
    )
    assert failure.message


def test_a_cause_is_the_aws_code_and_message_else_the_exception_type() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    error = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "BatchGetItem"
    )
    assert cause_of(error) == ("ThrottlingException", "Rate exceeded")
    assert cause_of(EndpointConnectionError(endpoint_url="https://dynamodb")) == (
        "EndpointConnectionError",
        'Could not connect to the endpoint URL: "https://dynamodb"',
    )
    assert cause_of(ConnectionError("x" * 1000))[1] == "x" * 300  # bounded in a log line


# --- One retry policy: the only place a call is made again ------------------------------------------------


def _attempts(*outcomes: Any) -> tuple[list[tuple[list[str], int]], Any]:
    """An ``attempt`` for ``retried`` that logs (pending, retry) and plays ``outcomes``: an exception to
    raise, or (still pending, cause) to return."""
    made: list[tuple[list[str], int]] = []
    queue = list(outcomes)

    def attempt(pending: list[str], retry: int) -> tuple[list[str], tuple[str, str]]:
        made.append((list(pending), retry))
        outcome = queue.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return made, attempt


def _retried(attempt: Any, pending: list[str], slept: list[float], attempts: int = 4) -> StoreFailure | None:
    backoff = Backoff(attempts=attempts, base_s=0.5, cap_s=4.0)
    return retried("Op", pending, attempt, backoff=backoff, sleep=slept.append, rng=random.Random(1))


def test_the_retry_helper_retries_what_is_pending_with_jittered_capped_backoff() -> None:
    made, attempt = _attempts((["b"], ("ThrottlingError", "slow")), ([], NO_ATTEMPT))
    slept: list[float] = []
    assert _retried(attempt, ["a", "b"], slept) is None
    assert made == [(["a", "b"], 0), (["b"], 1)]
    assert len(slept) == 1 and 0 <= slept[0] <= min(4.0, 0.5 * 2)


def test_the_retry_helper_retries_an_exception_and_gives_up_with_its_cause_and_retries() -> None:
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")
    made, attempt = _attempts(timeout, timeout, timeout)
    slept: list[float] = []
    failure = _retried(attempt, ["a", "b"], slept, attempts=3)
    assert failure == StoreFailure("Op", "ReadTimeoutError", str(timeout), 2, 2)
    assert [retry for _, retry in made] == [0, 1, 2] and len(slept) == 2


@pytest.mark.parametrize("code", ["AccessDeniedException", "ResourceNotFoundException"])
def test_the_retry_helper_does_not_retry_what_gets_the_same_answer_again(code: str) -> None:
    from botocore.exceptions import ClientError

    made, attempt = _attempts(ClientError({"Error": {"Code": code, "Message": "no"}}, "Op"))
    slept: list[float] = []
    assert _retried(attempt, ["a"], slept) == StoreFailure("Op", code, "no", 0, 1)
    assert len(made) == 1 and slept == []


def test_the_retry_helper_names_the_last_cause_of_what_stayed_pending() -> None:
    made, attempt = _attempts(ConnectionError("reset"), (["b"], ("UnprocessedKeys", "1 left")))
    failure = _retried(attempt, ["a", "b"], [], attempts=2)
    assert failure == StoreFailure("Op", "UnprocessedKeys", "1 left", 1, 1)
    assert made == [(["a", "b"], 0), (["a", "b"], 1)]


def test_a_request_timed_out_after_sending_is_sent_again_only_by_the_retry_policy() -> None:
    """The timeout may come after DynamoDB took the INSERTs: nothing below the store sends them again; its
    retry does (once per backoff attempt), and finds them its own."""
    ddb = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        config=claims_client_config(4),
    )
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")
    # DynamoDB took both INSERTs before the answer was lost: the retry finds them held by their own records.
    duplicates = [
        {
            "Error": {
                "Code": "DuplicateItem",
                "Message": "Duplicate",
                "Item": owner_item(k, h, expires=NOW + 60),
            }
        }
        for k, h in (("a", "s0:1:0"), ("b", "s0:2:0"))
    ]
    transport = ScriptedTransport(timeout, (200, {"Responses": duplicates}))
    slept: list[float] = []
    claims = DynamoClaims(
        ddb,
        TABLE,
        ttl_seconds=60,
        credentials=CREDENTIALS,
        transport=transport,
        clock=lambda: NOW,
        sleep=slept.append,
    )
    assert claims.claim([c("a", "s0:1:0"), c("b", "s0:2:0")]) == {
        "a": c("a", "s0:1:0"),
        "b": c("b", "s0:2:0"),
    }
    assert transport.operations == ["BatchExecuteStatement"] * 2 and len(slept) == 1

    once = ScriptedTransport(timeout)
    claims = DynamoClaims(
        ddb,
        TABLE,
        ttl_seconds=60,
        credentials=CREDENTIALS,
        transport=once,
        clock=lambda: NOW,
        backoff=Backoff(1),
    )
    owners = claims.claim([c("a", "s0:1:0")])
    assert owners == {} and len(once.sent) == 1
    assert owners.failures == (StoreFailure("BatchExecuteStatement", "ReadTimeoutError", str(timeout), 0, 1),)


def test_the_claims_client_leaves_retrying_to_the_store() -> None:
    """botocore's own retries would send again outside the store's policy (on the methods path)."""
    assert claims_client_config(16).retries == {"mode": "standard", "total_max_attempts": 1}
    assert claims_client_config(16).max_pool_connections == 16
