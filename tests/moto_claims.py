"""A claims table in moto's DynamoDB, with the project's BatchExecuteStatement INSERT (AWS's semantics), and a
scripted ``Transport`` for the claim store's HTTP session."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import orjson
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.credentials import Credentials
from moto import mock_aws

from eventlake.simulator.embedded import dynamodb_partiql
from glue.claim_items import KEY_ATTRIBUTE

CLAIMS_TABLE = "eventlake-test-claims"
_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
# What claims_table()'s client signs with, handed to DynamoClaims as the Lambda hands its session's.
CREDENTIALS = Credentials(_ENV["AWS_ACCESS_KEY_ID"], _ENV["AWS_SECRET_ACCESS_KEY"])


@contextmanager
def claims_table() -> Iterator[Any]:
    """A DynamoDB client with ``CLAIMS_TABLE`` created as the program creates the claims table."""
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)
    try:
        with mock_aws(), dynamodb_partiql.installed():
            client = boto3.client("dynamodb", region_name="eu-west-1")
            client.create_table(
                TableName=CLAIMS_TABLE,
                KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            yield client
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


Answer = tuple[int, dict[str, Any] | bytes] | BaseException


class ScriptedTransport:
    """A ``dynamodb_json.Transport`` that keeps every request it is given and answers each with the next of
    ``answers``: ``(status, body)`` (JSON written from a dict, or the bytes as they are), or an exception to
    raise after taking the request (a timeout once the request may have reached DynamoDB). ``answer``
    computes the answer instead, from the request."""

    def __init__(
        self, *answers: Answer, answer: Callable[[AWSPreparedRequest], Answer] | None = None
    ) -> None:
        self.answers = list(answers)
        self.answer = answer
        self.sent: list[AWSPreparedRequest] = []

    def send(self, request: AWSPreparedRequest) -> AWSResponse:
        self.sent.append(request)
        outcome = self.answer(request) if self.answer is not None else self.answers.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        status, body = outcome
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = {"x-amzn-RequestId": f"req-{len(self.sent)}", "x-amz-crc32": str(zlib.crc32(data))}
        return AWSResponse(request.url, status, headers, _Body(data))

    @property
    def operations(self) -> list[str]:
        """The operation of each request sent, in order (from its ``X-Amz-Target``)."""
        return [bytes(r.headers["X-Amz-Target"]).decode().rsplit(".", 1)[-1] for r in self.sent]
