"""``dynamodb_json`` speaks DynamoDB's JSON protocol as botocore does: the same signed request on the wire
(its own signer held to botocore's public ``SigV4Auth``), the same parsed answers and errors, the same events
for whatever hooks the client (Stubber, moto, the access check, the local runner's in-process answers), over
botocore's public APIs only and an HTTP session of its own that sends each request once."""

from __future__ import annotations

import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import boto3
import botocore
import orjson
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ChecksumError, ClientError, ReadTimeoutError
from botocore.stub import ANY, Stubber
from moto_claims import CLAIMS_TABLE, CREDENTIALS, ScriptedTransport, claims_table

from eventlake.checks.access import CallRecorder
from glue.claim_items import KEY_ATTRIBUTE
from infra.account import Account
from transform_lambda import dynamodb_json
from transform_lambda.claims import Claim, DynamoClaims

ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
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
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        aws_account_id=account_id,
        region_name=REGION,
    )
    return session.client("dynamodb", **config)


def credentials(token: str | None = None) -> Credentials:
    """What ``client(token)`` signs with, handed in as the Lambda hands in its session's."""
    return Credentials(ACCESS_KEY, SECRET_KEY, token)


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
    status: int,
    body: bytes,
    operation: str,
    params: dict[str, Any],
    via: str = "before-send",
    token: str | None = None,
    **kw: Any,
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(botocore's (request, outcome), dynamodb_json's (request, outcome)) for the same call and answer at
    the same time; an outcome is the parsed response, or ("raised", the error's class name, its response).
    ``via``: dynamodb_json's request answered by a ``before-send`` hook, or by its transport (the tests'
    stand-in for its HTTP session)."""
    out = []
    for lean in (False, True):
        ddb, seen = client(token, **kw), []
        if lean and via == "transport":
            transport = ScriptedTransport(
                answer=lambda request, seen=seen: _scripted(status, body, request, seen)
            )
            call = _lean(ddb, operation, params, token, transport)
        else:
            answering(ddb, status, body, seen)
            call = _lean(ddb, operation, params, token) if lean else _botocore(ddb, operation, params)
        with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED):
            try:
                outcome = call()
            except ClientError as error:
                outcome = ("raised", type(error).__name__, error.response)
        out.append((seen[0], outcome))
    return out[0], out[1]


def _scripted(status: int, body: bytes, request: Any, seen: list[Any]) -> tuple[int, bytes]:
    seen.append(request)
    return status, body


def _lean(
    ddb: Any, operation: str, params: dict[str, Any], token: str | None, transport: Any = None
) -> Callable[[], Any]:
    calls = dynamodb_json.JsonCalls(ddb, credentials(token), transport=transport, timestamp=lambda: STAMP)
    return lambda: calls.call(operation, params)


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


@pytest.mark.parametrize("via", ["before-send", "transport"])
@pytest.mark.parametrize("token", [None, "session-token"])
def test_the_request_on_the_wire_is_botocore_s(token: str | None, via: str) -> None:
    body = orjson.dumps({"Responses": [{"TableName": CLAIMS_TABLE}] * 3})
    (theirs, their_answer), (ours, our_answer) = both(
        200, body, "BatchExecuteStatement", BATCH, via=via, token=token
    )
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


def test_the_endpoint_is_the_client_s_endpoint_url_not_an_account_endpoint() -> None:
    """With the account known, botocore's ruleset picks DynamoDB's account-based endpoint, which only its
    private resolver can name; the regional endpoint serves every account, signed the same."""
    (theirs, _), (ours, answer) = both(200, b"{}", "PutItem", PUT, account_id="123456789012")
    assert theirs.url == "https://123456789012.ddb.eu-west-1.amazonaws.com/"
    assert ours.url == client(account_id="123456789012").meta.endpoint_url + "/"
    assert ours.url == "https://dynamodb.eu-west-1.amazonaws.com/"
    assert wire(ours)[2]["authorization"] == signed_by_botocore(ours, None)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    transport = ScriptedTransport((200, {}))
    dynamodb_json.calls(client(endpoint_url="http://localhost:8000"), credentials(), transport=transport)(
        "PutItem", PUT
    )
    assert transport.sent[0].url == "http://localhost:8000/"


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


@pytest.mark.parametrize("via", ["before-send", "transport"])
@pytest.mark.parametrize(
    "status, body",
    [
        (400, b'{"__type":"com.amazon.coral.availability#ThrottlingException","Message":"Rate exceeded"}'),
        (500, b"<html>Internal error</html>"),
        (503, b""),
    ],
)
def test_other_errors_are_botocore_s(status: int, body: bytes, via: str) -> None:
    (_, theirs), (_, ours) = both(status, body, "BatchExecuteStatement", BATCH, via=via, config=_no_retries())
    assert ours[0] == "raised" and ours[2]["Error"] == theirs[2]["Error"]
    assert ours[1] == theirs[1]


def _no_retries() -> Any:
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
        dynamodb_json.calls(ddb, credentials())("BatchExecuteStatement", BATCH)


# --- what hooks the client -------------------------------------------------------------------------------


def test_stubber_answers_and_checks_the_parameters() -> None:
    ddb = client()
    with Stubber(ddb) as stubber:
        stubber.add_response("batch_execute_statement", {"Responses": []}, {"Statements": ANY})
        stubber.add_client_error(
            "put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400
        )
        stubber.add_response("put_item", {}, {"TableName": "other"})
        calls = dynamodb_json.calls(ddb, credentials(), transport=ScriptedTransport())
        assert isinstance(calls, dynamodb_json.JsonCalls)
        assert calls("BatchExecuteStatement", BATCH)["Responses"] == []
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            calls("PutItem", PUT)
        with pytest.raises(Exception, match="Expected parameters"):
            calls("PutItem", PUT)  # the stub expects another table


def test_moto_answers_and_the_access_check_sees_every_claim_call() -> None:
    with claims_table() as ddb:
        recorder = CallRecorder(Account("123456789012", REGION, "aws", "amazonaws.com"))
        unsent = ScriptedTransport()  # moto answers at before-send: nothing reaches the transport
        with recorder.recording(ddb):
            store = DynamoClaims(
                ddb,
                CLAIMS_TABLE,
                ttl_seconds=60,
                credentials=CREDENTIALS,
                transport=unsent,
                clock=lambda: 100,
                sleep=lambda _: None,
            )
            first = [Claim(f"id-{i}", f"s0:{i}:0", "f") for i in range(30)]
            assert store.claim(first) == {c.key: c for c in first}
            again = [Claim("id-1", "s1:1:0", "f")]
            assert store.claim(again) == {"id-1": first[1]}  # lost: read back with BatchGetItem
            late = DynamoClaims(
                ddb,
                CLAIMS_TABLE,
                ttl_seconds=60,
                credentials=CREDENTIALS,
                transport=unsent,
                clock=lambda: 10_000,
                sleep=lambda _: None,
            )
            assert late.claim(again) == {"id-1": again[0]}  # expired: taken over with a conditional PutItem
        # The access check maps none of these (the Lambda's policy is checked elsewhere): it saw each one.
        assert [u.operation for u in recorder.unmapped] == [
            *["BatchExecuteStatement"] * 3,
            "BatchGetItem",
            "BatchExecuteStatement",
            "BatchGetItem",
            "PutItem",
        ]
        assert unsent.sent == []
        held = ddb.get_item(TableName=CLAIMS_TABLE, Key={KEY_ATTRIBUTE: {"S": "id-1"}}, ConsistentRead=True)
        assert held["Item"]["holder"] == {"S": "s1:1:0"}


# --- public APIs only, and one send per call ---------------------------------------------------------------


class PublicOnly:
    """A client as far as its public surface goes: ``meta``, ``exceptions`` and its methods. Any other
    attribute read is an error, so nothing private of the client can be reached through it."""

    def __init__(self, client: Any) -> None:
        self.meta = client.meta
        self.exceptions = client.exceptions
        self.put_item = client.put_item


def test_only_the_client_s_public_surface_is_read() -> None:
    ddb = client()
    transport = ScriptedTransport((200, {"Attributes": {}}))
    calls = dynamodb_json.calls(PublicOnly(ddb), credentials(), transport=transport)
    assert isinstance(calls, dynamodb_json.JsonCalls)
    assert calls("PutItem", PUT)["Attributes"] == {}
    assert transport.operations == ["PutItem"]
    assert wire(transport.sent[0])[2]["authorization"] == signed_by_botocore_now(transport.sent[0])


def signed_by_botocore_now(request: Any) -> str:
    """``signed_by_botocore`` at the request's own ``X-Amz-Date`` (signed at the real time)."""
    stamp = request.headers["X-Amz-Date"]
    stamp = stamp.decode() if isinstance(stamp, bytes) else stamp
    with mock.patch(f"{__name__}.FIXED", datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")):
        return signed_by_botocore(request, None)


@pytest.mark.parametrize(
    "failure",
    [
        ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"),
        TypeError("a transport that no longer fits"),
    ],
    ids=["timeout", "type-error"],
)
def test_a_call_that_fails_after_sending_raises_and_is_never_sent_again(failure: Exception) -> None:
    """No path change or second send below the store's retry policy: the old fallback re-sent through the
    client's methods on a ``TypeError``, even after the request had gone."""
    ddb = client()
    built: list[str] = []
    ddb.meta.events.register("before-parameter-build.dynamodb", lambda model, **_: built.append(model.name))
    transport = ScriptedTransport(failure)
    calls = dynamodb_json.calls(ddb, credentials(), transport=transport)
    with pytest.raises(type(failure)):
        calls("PutItem", PUT)
    assert transport.operations == ["PutItem"] and built == ["PutItem"]
    # And the next call is made the same way: once, through the transport.
    transport.answers.append((200, {}))
    assert calls("PutItem", PUT)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert transport.operations == ["PutItem"] * 2 and built == ["PutItem"] * 2


def test_a_client_it_cannot_speak_for_is_called_through_its_methods() -> None:
    class Fake:
        def put_item(self, **params: Any) -> dict[str, Any]:
            return {"called": params}

    assert dynamodb_json.calls(Fake(), credentials())("PutItem", {"TableName": "t"}) == {
        "called": {"TableName": "t"}
    }
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    unsigned = client(config=Config(signature_version=botocore.UNSIGNED))
    account_only = client(account_id="123456789012", config=Config(account_id_endpoint_mode="required"))
    for other in (s3, unsigned, account_only):
        assert not dynamodb_json.speaks_for(other)
        assert not isinstance(dynamodb_json.calls(other, credentials()), dynamodb_json.JsonCalls)
    assert dynamodb_json.speaks_for(client())


def test_without_credentials_the_calls_go_through_the_client_s_methods() -> None:
    """Only the caller knows what the client signs with; without it, botocore signs (slower, never wrong)."""
    ddb = client()
    with Stubber(ddb) as stubber:
        stubber.add_response("put_item", {"Attributes": {KEY_ATTRIBUTE: {"S": "a"}}}, PUT)
        calls = dynamodb_json.calls(ddb)
        assert not isinstance(calls, dynamodb_json.JsonCalls)
        assert calls("PutItem", PUT)["Attributes"] == {KEY_ATTRIBUTE: {"S": "a"}}
        stubber.assert_no_pending_responses()


def test_credentials_are_read_at_each_call() -> None:
    """Refreshable credentials (a role's) rotate: each request is signed with the current ones."""
    ddb = client()
    keys = iter([("AKIDFIRST", "s1", "t1"), ("AKIDSECOND", "s2", "t2")])

    class Rotating:
        def get_frozen_credentials(self) -> Any:
            access, secret, token = next(keys)
            return Credentials(access, secret, token).get_frozen_credentials()

    transport = ScriptedTransport((200, {}), (200, {}))
    calls = dynamodb_json.calls(ddb, Rotating(), transport=transport)  # type: ignore[arg-type]
    calls("PutItem", PUT)
    calls("PutItem", PUT)
    signed = [wire(r)[2] for r in transport.sent]
    assert [h["authorization"].split("/")[0] for h in signed] == [
        "AWS4-HMAC-SHA256 Credential=AKIDFIRST",
        "AWS4-HMAC-SHA256 Credential=AKIDSECOND",
    ]
    assert [h["x-amz-security-token"] for h in signed] == ["t1", "t2"]


# --- the HTTP session it owns ------------------------------------------------------------------------------


def test_the_http_session_is_built_from_the_client_s_config(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []

    class Recorded:
        def __init__(self, **kwargs: Any) -> None:
            built.append(kwargs)

    monkeypatch.setattr("botocore.httpsession.URLLib3Session", Recorded)
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/ca.pem")
    config = Config(
        connect_timeout=3,
        read_timeout=7,
        max_pool_connections=16,
        tcp_keepalive=True,
        proxies={"https": "http://proxy:3128"},
        client_cert="/etc/client.pem",
    )
    dynamodb_json.JsonCalls(client(config=config), credentials())
    (kwargs,) = built
    assert kwargs["timeout"] == (3, 7) and kwargs["max_pool_connections"] == 16
    assert kwargs["verify"] == "/etc/ca.pem" and kwargs["client_cert"] == "/etc/client.pem"
    assert kwargs["proxies"] == {"https": "http://proxy:3128"}
    assert (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in kwargs["socket_options"]
    assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in kwargs["socket_options"]


class _DynamoOverHttp(BaseHTTPRequestHandler):
    """A DynamoDB endpoint on localhost: keeps each request, answers ``PutItem`` with ``{}`` after
    ``server.delay`` seconds."""

    def do_POST(self) -> None:
        server: Any = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server.received.append((self.path, dict(self.headers), body))
        server.pause.wait(server.delay)
        data = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amz-crc32", str(zlib.crc32(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _DynamoOverHttp)
    server.received, server.delay, server.pause = [], 0.0, threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.pause.set()
        server.shutdown()
        server.server_close()


def test_its_own_http_session_sends_the_signed_request_once(endpoint: Any) -> None:
    url = f"http://127.0.0.1:{endpoint.server_address[1]}"
    ddb = client(endpoint_url=url)
    answer = dynamodb_json.calls(ddb, credentials())("PutItem", PUT)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    ((path, headers, body),) = endpoint.received
    assert path == "/" and orjson.loads(body) == PUT
    # Verified as DynamoDB verifies it: the headers the signature names, as received, signed again.
    named = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert set(named) == {"content-type", "host", "x-amz-date", "x-amz-target"}
    signed = {k: v for k, v in headers.items() if k.lower() in named}
    sent = AWSRequest(method="POST", url=url + "/", headers=signed, data=body)
    assert headers["Authorization"] == signed_by_botocore_now(sent)


def test_a_timeout_raises_without_a_second_send(endpoint: Any) -> None:
    endpoint.delay = 30.0  # released when the test ends
    url = f"http://127.0.0.1:{endpoint.server_address[1]}"
    ddb = client(endpoint_url=url, config=Config(read_timeout=0.2, connect_timeout=1))
    with pytest.raises(ReadTimeoutError):
        dynamodb_json.calls(ddb, credentials())("PutItem", PUT)
    assert len(endpoint.received) == 1
