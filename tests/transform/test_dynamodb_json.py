"""``dynamodb_json`` speaks DynamoDB's JSON protocol as botocore does: the same signed request on the wire,
the same parsed answers and errors, the same events for whatever hooks the client (Stubber, moto, the access
check, the local runner's in-process answers)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from unittest import mock

import boto3
import orjson
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials
from botocore.exceptions import ChecksumError, ClientError
from botocore.stub import ANY, Stubber
from moto_claims import CLAIMS_TABLE, claims_table

from eventlake.checks.access import CallRecorder
from infra.account import Account
from transform_lambda import dynamodb_json
from transform_lambda.claims import KEY_ATTRIBUTE, Claim, DynamoClaims

FIXED = datetime(2026, 3, 4, 5, 6, 7)
STAMP = "20260304T050607Z"
REGION = "eu-west-1"
STATEMENT = f"INSERT INTO \"{CLAIMS_TABLE}\" VALUE {{'{KEY_ATTRIBUTE}': ?, 'holder': ?}}"
BATCH = {
    "Statements": [
        {
            "Statement": STATEMENT,
            "Parameters": [{"S": f"id-{i}"}, {"S": f"s0:{i}:0"}],
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        for i in range(3)
    ]
}
PUT = {
    "TableName": CLAIMS_TABLE,
    "Item": {KEY_ATTRIBUTE: {"S": "a"}, "holder": {"S": "s0:1:0"}, "expires_at": {"N": "12"}},
    "ConditionExpression": "attribute_not_exists(#k)",
    "ExpressionAttributeNames": {"#k": KEY_ATTRIBUTE},
    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
}


def client(token: str | None = None, account_id: str | None = None, **config: Any) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        aws_session_token=token,
        aws_account_id=account_id,
        region_name=REGION,
    )
    return session.client("dynamodb", **config)


def answering(ddb: Any, status: int, body: bytes, seen: list[Any]) -> None:
    """``ddb``'s requests answered at ``before-send`` with ``body``, each request kept in ``seen``."""

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield body

    def send(request: Any, **_: Any) -> AWSResponse:
        seen.append(request)
        headers = {"x-amzn-RequestId": "req-1", "x-amz-crc32": str(zlib.crc32(body))}
        return AWSResponse(request.url, status, headers, Raw())

    ddb.meta.events.register("before-send.dynamodb", send)


def both(
    status: int, body: bytes, operation: str, params: dict[str, Any], **kw: Any
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(botocore's (request, outcome), dynamodb_json's (request, outcome)) for the same call and answer at
    the same time; an outcome is the parsed response, or ("raised", the error's class name, its response)."""
    out = []
    for lean in (False, True):
        ddb, seen = client(**kw), []
        answering(ddb, status, body, seen)
        call = _lean(ddb, operation, params) if lean else _botocore(ddb, operation, params)
        with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED):
            try:
                outcome = call()
            except ClientError as error:
                outcome = ("raised", type(error).__name__, error.response)
        out.append((seen[0], outcome))
    return out[0], out[1]


def _lean(ddb: Any, operation: str, params: dict[str, Any]) -> Callable[[], Any]:
    return lambda: dynamodb_json.JsonCalls(ddb, timestamp=lambda: STAMP).call(operation, params)


def _botocore(ddb: Any, operation: str, params: dict[str, Any]) -> Callable[[], Any]:
    method = {"BatchExecuteStatement": "batch_execute_statement", "PutItem": "put_item"}[operation]
    return lambda: getattr(ddb, method)(**params)


def signed_by_botocore(request: Any, token: str | None) -> str:
    """The Authorization botocore's SigV4Auth gives the request as it went on the wire."""
    unsigned = {"authorization", "x-amz-date", "x-amz-security-token", "content-length"}
    headers = {k: v for k, v in wire(request)[2].items() if k not in unsigned}
    again = AWSRequest(method=request.method, url=request.url, headers=headers, data=request.body)
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED):
        SigV4Auth(credentials, "dynamodb", REGION).add_auth(again)
    return again.headers["Authorization"]


def wire(request: Any) -> tuple[str, str, dict[str, Any], bytes]:
    """What goes over the wire, less what botocore adds for its retries and its user agent's feature list."""
    skip = {"amz-sdk-invocation-id", "amz-sdk-request", "user-agent"}
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    return request.method, request.url, {k: v for k, v in headers.items() if k not in skip}, request.body


# --- the signer --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "IQoJb3JpZ2luX2VjEXAMPLE//token="])
@pytest.mark.parametrize(
    "url", ["https://dynamodb.eu-west-1.amazonaws.com/", "http://localhost:8000/a/../b?x=1&a=2"]
)
def test_the_signer_signs_as_botocore_s_sigv4(token: str | None, url: str) -> None:
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        "Content-Type": "application/x-amz-json-1.0",
        "User-Agent": "not signed",
        "X-Amzn-Trace-Id": "Root=1-not-signed",
        "X-Extra": "  spaced   value ",
    }
    body = orjson.dumps({"TableName": "t", "Item": {"k": {"S": "x" * 3000}}})  # past hashlib's GIL size
    request = AWSRequest(method="POST", url=url, headers=dict(headers), data=body)
    request.context["timestamp"] = STAMP
    credentials = Credentials("AKIDEXAMPLE", "secret", token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED):
        SigV4Auth(credentials, "dynamodb", REGION).add_auth(request)
    added = dynamodb_json.SigV4().headers(
        "POST",
        url,
        headers,
        body,
        access_key="AKIDEXAMPLE",
        secret_key="secret",
        token=token,
        region=REGION,
        service="dynamodb",
        timestamp=STAMP,
    )
    expected = {
        k: request.headers[k]
        for k in ("X-Amz-Date", "Authorization", "X-Amz-Security-Token")
        if k in request.headers
    }
    assert added == expected
    assert ("X-Amz-Security-Token" in added) == (token is not None)


# --- the same request and answer as botocore's ----------------------------------------------------------


@pytest.mark.parametrize("token", [None, "session-token"])
def test_the_request_on_the_wire_is_botocore_s(token: str | None) -> None:
    body = orjson.dumps({"Responses": [{"TableName": CLAIMS_TABLE}] * 3})
    (theirs, their_answer), (ours, our_answer) = both(200, body, "BatchExecuteStatement", BATCH, token=token)
    # The same method, URL and headers but for what depends on the body's bytes (botocore writes JSON with
    # spaces): the signature, checked against botocore's signer on the request as sent, and the length.
    ours_wire, theirs_wire = wire(ours), wire(theirs)
    assert ours_wire[:2] == theirs_wire[:2]
    differ = {"authorization", "content-length"}
    assert {k: v for k, v in ours_wire[2].items() if k not in differ} == {
        k: v for k, v in theirs_wire[2].items() if k not in differ
    }
    assert ours_wire[2]["authorization"] == signed_by_botocore(ours, token)
    assert ours_wire[2]["content-length"] == str(len(ours.body))
    assert orjson.loads(ours.body) == orjson.loads(theirs.body)
    assert our_answer == their_answer
    assert our_answer["ResponseMetadata"]["RequestId"] == "req-1"


def test_an_account_based_endpoint_is_the_client_s_own() -> None:
    body = b"{}"
    (theirs, _), (ours, _) = both(200, body, "PutItem", PUT, account_id="123456789012")
    assert ours.url == theirs.url == "https://123456789012.ddb.eu-west-1.amazonaws.com/"
    assert wire(ours)[2]["authorization"] == signed_by_botocore(ours, None)


def test_an_answer_s_values_are_parsed_as_botocore_parses_them() -> None:
    answer = {
        "Responses": [
            {"TableName": CLAIMS_TABLE},
            {
                "Error": {
                    "Code": "DuplicateItem",
                    "Message": "Duplicate primary key exists in table",
                    "Item": {KEY_ATTRIBUTE: {"S": "id-1"}, "expires_at": {"N": "17"}},
                }
            },
        ]
    }
    (_, theirs), (_, ours) = both(200, orjson.dumps(answer), "BatchExecuteStatement", BATCH)
    assert ours == theirs and ours["Responses"] == answer["Responses"]


def test_a_condition_failure_raises_botocore_s_error_with_the_item_at_the_top() -> None:
    item = {KEY_ATTRIBUTE: {"S": "a"}, "holder": {"S": "s9:1:0"}}
    body = orjson.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": item,
        }
    )
    (_, theirs), (_, ours) = both(400, body, "PutItem", PUT)
    assert ours == theirs
    assert ours[1] == "ConditionalCheckFailedException" and ours[2]["Item"] == item
    assert ours[2]["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }


@pytest.mark.parametrize(
    "status, body",
    [
        (400, b'{"__type":"com.amazon.coral.availability#ThrottlingException","Message":"Rate exceeded"}'),
        (500, b"<html>Internal error</html>"),
        (503, b""),
    ],
)
def test_other_errors_are_botocore_s(status: int, body: bytes) -> None:
    (_, theirs), (_, ours) = both(status, body, "BatchExecuteStatement", BATCH, config=_no_retries())
    assert ours[0] == "raised" and ours[2]["Error"] == theirs[2]["Error"]
    assert ours[1] == theirs[1]


def _no_retries() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 1})


def test_a_corrupted_answer_fails_its_checksum() -> None:
    ddb = client()

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b'{"Responses": []}'

    ddb.meta.events.register(
        "before-send.dynamodb",
        lambda request, **_: AWSResponse(request.url, 200, {"x-amz-crc32": "1"}, Raw()),
    )
    with pytest.raises(ChecksumError):
        dynamodb_json.calls(ddb)("BatchExecuteStatement", BATCH)


# --- what hooks the client -------------------------------------------------------------------------------


def test_stubber_answers_and_checks_the_parameters() -> None:
    ddb = client()
    with Stubber(ddb) as stubber:
        stubber.add_response("batch_execute_statement", {"Responses": []}, {"Statements": ANY})
        stubber.add_client_error(
            "put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400
        )
        stubber.add_response("put_item", {}, {"TableName": "other"})
        calls = dynamodb_json.calls(ddb)
        assert calls("BatchExecuteStatement", BATCH)["Responses"] == []
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            calls("PutItem", PUT)
        with pytest.raises(Exception, match="Expected parameters"):
            calls("PutItem", PUT)  # the stub expects another table


def test_moto_answers_and_the_access_check_sees_every_claim_call() -> None:
    with claims_table() as ddb:
        recorder = CallRecorder(Account("123456789012", REGION, "aws", "amazonaws.com"))
        with recorder.recording(ddb):
            store = DynamoClaims(ddb, CLAIMS_TABLE, ttl_seconds=60, clock=lambda: 100, sleep=lambda _: None)
            first = [Claim(f"id-{i}", f"s0:{i}:0", "f") for i in range(30)]
            assert store.claim(first) == {c.key: c for c in first}
            again = [Claim("id-1", "s1:1:0", "f")]
            assert store.claim(again) == {"id-1": first[1]}  # lost: read back with BatchGetItem
            late = DynamoClaims(ddb, CLAIMS_TABLE, ttl_seconds=60, clock=lambda: 10_000, sleep=lambda _: None)
            assert late.claim(again) == {"id-1": again[0]}  # expired: taken over with a conditional PutItem
        # The access check maps none of these (the Lambda's policy is checked elsewhere): it saw each one.
        assert [u.operation for u in recorder.unmapped] == [
            *["BatchExecuteStatement"] * 3,
            "BatchGetItem",
            "BatchExecuteStatement",
            "BatchGetItem",
            "PutItem",
        ]
        held = ddb.get_item(TableName=CLAIMS_TABLE, Key={KEY_ATTRIBUTE: {"S": "id-1"}}, ConsistentRead=True)
        assert held["Item"]["holder"] == {"S": "s1:1:0"}


def test_a_client_it_cannot_speak_for_is_called_through_its_methods() -> None:
    class Fake:
        def put_item(self, **params: Any) -> dict[str, Any]:
            return {"called": params}

    assert dynamodb_json.calls(Fake())("PutItem", {"TableName": "t"}) == {"called": {"TableName": "t"}}
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    assert not isinstance(dynamodb_json.calls(s3), dynamodb_json.JsonCalls)


def test_a_botocore_whose_internals_differ_falls_back_to_the_methods_for_good() -> None:
    """The Lambda runtime ships its own botocore: where an internal read here is gone or changed, the calls
    go through the client's methods (slower, same answers), from the first failure on."""
    ddb = client()
    with Stubber(ddb) as stubber:
        old = {"Attributes": {KEY_ATTRIBUTE: {"S": "a"}}}
        stubber.add_response("put_item", old, PUT)
        stubber.add_response("put_item", old, PUT)
        calls = dynamodb_json.calls(ddb)
        changed = TypeError("a new signature")
        with mock.patch.object(dynamodb_json.JsonCalls, "call", side_effect=changed) as direct:
            assert calls("PutItem", PUT)["Attributes"] == old["Attributes"]
            assert calls("PutItem", PUT)["Attributes"] == old["Attributes"]
        assert direct.call_count == 1  # tried once, then the methods only
        stubber.assert_no_pending_responses()
    missing = client()
    del missing._request_signer
    assert not isinstance(dynamodb_json.calls(missing), dynamodb_json.JsonCalls)
