"""A claims table in moto's DynamoDB, with the project's BatchExecuteStatement INSERT (AWS's semantics)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from eventlake.embedded import dynamodb_partiql
from transform_lambda.claims import KEY_ATTRIBUTE

CLAIMS_TABLE = "eventlake-test-claims"
_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}


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
